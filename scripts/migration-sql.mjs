#!/usr/bin/env node
// Prints the SQL that takes the database from one schema.prisma to another, in Prisma Migrate's
// format. Prisma 7's `migrate diff` needs a native engine that cannot be downloaded here, so this
// runs Prisma 6.19's WASM engine on a copy of the schema and adds the partial unique indexes
// (`@@unique`/`@@index` with `where: raw(...)`, a Prisma 7 preview that 6.19 cannot parse) itself.
//
//   node scripts/migration-sql.mjs [--from OLD_SCHEMA] > prisma/migrations/<ts>_<name>/migration.sql
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PRISMA6 = '6.19.3';
const work = join(tmpdir(), 'customer-graph-prisma6');
const fromIdx = process.argv.indexOf('--from');
const fromPath = fromIdx > 0 ? resolve(process.argv[fromIdx + 1]) : null;

function split(schemaText) {
  const partial = [];
  let model = null;
  let table = null;
  const columns = new Map();
  const lines = [];
  for (const line of schemaText.split('\n')) {
    const start = line.match(/^model (\w+) \{/);
    if (start) {
      model = start[1];
      table = model;
      columns.clear();
    }
    const field = line.match(/^\s+(\w+)\s+\w+.*@map\("(\w+)"\)/);
    if (model && field) columns.set(field[1], field[2]);
    const mapped = line.match(/^\s+@@map\("(\w+)"\)/);
    if (mapped) table = mapped[1];
    const index = line.match(/^\s+@@(unique|index)\(\[([^\]]+)\], map: "(\w+)", where: raw\("(.+)"\)\)/);
    if (index) {
      const [, kind, fields, name, where] = index;
      partial.push({ unique: kind === 'unique', fields: fields.split(',').map((f) => f.trim()), name, where, model });
      continue;
    }
    if (line.startsWith('}') && model) {
      for (const p of partial.filter((x) => x.model === model && !x.table)) {
        p.table = table;
        p.columns = p.fields.map((f) => columns.get(f) ?? f);
      }
      model = null;
    }
    lines.push(line);
  }
  const v6 = lines
    .join('\n')
    .replace(/generator \w+ \{[^}]*\}\n/g, '')
    .replace(
      /datasource db \{[^}]*\}/,
      'datasource db {\n  provider = "postgresql"\n  url      = "postgresql://unused"\n}',
    );
  const sql = partial.map(
    (p) =>
      `-- CreateIndex\nCREATE ${p.unique ? 'UNIQUE ' : ''}INDEX "${p.name}" ON "${p.table}"(${p.columns.map((c) => `"${c}"`).join(', ')}) WHERE ${p.where};\n`,
  );
  return { v6, sql };
}

mkdirSync(work, { recursive: true });
if (!existsSync(join(work, 'node_modules/pglite-prisma-adapter'))) {
  writeFileSync(join(work, 'package.json'), '{"private":true}');
  execFileSync(
    'npm',
    [
      'install',
      '--silent',
      `prisma@${PRISMA6}`,
      `@prisma/client@${PRISMA6}`,
      'pglite-prisma-adapter@0.6.1',
      '@electric-sql/pglite@0.4',
    ],
    {
      cwd: work,
      stdio: 'inherit',
    },
  );
}
// The adapter switches Prisma 6.19 to its WASM schema engine, which wants a database to talk to:
// an in-memory PGlite, so this needs no server.
writeFileSync(
  join(work, 'prisma.config.ts'),
  `import { defineConfig } from 'prisma/config';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'to.prisma',
  adapter: async () => new PrismaPGlite(new PGlite()),
});
`,
);
const to = split(readFileSync('prisma/schema.prisma', 'utf8'));
writeFileSync(join(work, 'to.prisma'), to.v6);
const args = ['migrate', 'diff', '--to-schema-datamodel', 'to.prisma', '--script'];
let from = { sql: [] };
if (fromPath) {
  from = split(readFileSync(fromPath, 'utf8'));
  writeFileSync(join(work, 'from.prisma'), from.v6);
  args.push('--from-schema-datamodel', 'from.prisma');
} else {
  args.push('--from-empty');
}
const base = execFileSync(join(work, 'node_modules/.bin/prisma'), args, {
  cwd: work,
  encoding: 'utf8',
  // The CLI checks for native engines it never runs on this path; any existing file satisfies it.
  env: {
    ...process.env,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    PRISMA_QUERY_ENGINE_LIBRARY: join(work, 'package.json'),
    PRISMA_SCHEMA_ENGINE_BINARY: join(work, 'package.json'),
  },
});
const added = to.sql.filter((s) => !from.sql.includes(s));
const dropped = from.sql
  .filter((s) => !to.sql.includes(s))
  .map((s) => `-- DropIndex\nDROP INDEX "${s.match(/INDEX "(\w+)"/)[1]}";\n`);
process.stdout.write(`${[base.trimEnd(), ...dropped, ...added].join('\n\n')}\n`);
