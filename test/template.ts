// Migrated template databases for the test suite. Starting PGlite means running initdb in WASM
// (most of a test file's start-up, and ~1 GB), so the suite migrates one database per run and every
// test starts from a copy of it: a data folder tarball on PGlite, `CREATE DATABASE … TEMPLATE` on
// PostgreSQL. The copies are real, migrated databases; test/migrate.test.ts still migrates from empty.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { createScratchDatabase } from '../scripts/throwaway-database.js';
import { openDatabase, PGLITE_EXTENSIONS } from '../src/db/index.js';
import { migrate, readMigrations } from '../src/db/migrate.js';

/** Set by scripts/test.ts: the migrated PGlite tarball, and the migrated PostgreSQL database, of this run. */
export const PGLITE_TEMPLATE_ENV = 'CG_TEST_PGLITE_TEMPLATE';
export const POSTGRES_TEMPLATE_ENV = 'CG_TEST_TEMPLATE_DATABASE';

const CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/customer-graph', import.meta.url));
const PGLITE_PACKAGE = fileURLToPath(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url));

/** An initdb'ed database with nothing in it (for the migration tests), or one with every migration applied. */
export type PgliteTemplate = 'empty' | 'migrated';

/** Names what a template holds: the PGlite release that wrote it and, when migrated, the migrations (by checksum). */
function templateFile(kind: PgliteTemplate): string {
  const pgliteVersion = (JSON.parse(readFileSync(PGLITE_PACKAGE, 'utf8')) as { version: string }).version;
  const hash = createHash('sha256').update(pgliteVersion);
  if (kind === 'migrated')
    for (const migration of readMigrations()) hash.update(`${migration.name}:${migration.checksum}\n`);
  return join(CACHE_DIR, `pglite-${kind}-${hash.digest('hex').slice(0, 16)}.tar`);
}

async function buildPgliteTemplates(): Promise<Record<PgliteTemplate, Blob>> {
  const pglite = new PGlite('memory://', { extensions: PGLITE_EXTENSIONS });
  await pglite.waitReady;
  try {
    const empty = await pglite.dumpDataDir('none');
    await migrate({
      session: async () => ({
        query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
        exec: async (sql: string) => void (await pglite.exec(sql)),
        release: async () => {},
      }),
    });
    return { empty, migrated: await pglite.dumpDataDir('none') };
  } finally {
    await pglite.close();
  }
}

/**
 * A PGlite template tarball's path: this run's migrated one (from scripts/test.ts), or the one
 * cached under node_modules/.cache for this PGlite release and these migrations, both built when
 * either is missing (so a single file run directly also starts fast from the second time on).
 */
export async function pgliteTemplateFile(kind: PgliteTemplate = 'migrated'): Promise<string> {
  const given = kind === 'migrated' ? process.env[PGLITE_TEMPLATE_ENV] : undefined;
  if (given && existsSync(given)) return given;
  const file = templateFile(kind);
  if (!existsSync(file)) {
    const built = await buildPgliteTemplates();
    mkdirSync(CACHE_DIR, { recursive: true });
    for (const [builtKind, tarball] of Object.entries(built)) {
      // Written aside and renamed: a concurrent reader sees the whole file or none.
      const target = templateFile(builtKind as PgliteTemplate);
      const partial = `${target}.${process.pid}.partial`;
      writeFileSync(partial, new Uint8Array(await tarball.arrayBuffer()));
      renameSync(partial, target);
    }
  }
  return file;
}

const pgliteTemplates = new Map<PgliteTemplate, Promise<Blob>>();
/** A template tarball, read once per process. */
export function pgliteTemplateData(kind: PgliteTemplate = 'migrated'): Promise<Blob> {
  let data = pgliteTemplates.get(kind);
  if (!data) {
    data = pgliteTemplateFile(kind).then((file) => new Blob([readFileSync(file)]));
    pgliteTemplates.set(kind, data);
  }
  return data;
}

/**
 * A template written out as a PGlite data folder at `dataDir`, for a server or script under test
 * to open: a copy instead of the initdb a new folder costs (about 5 s of CPU).
 */
export async function writePgliteDataFolder(dataDir: string, kind: PgliteTemplate = 'migrated'): Promise<void> {
  const db = await openDatabase({ dataDir, initialData: await pgliteTemplateData(kind) });
  await db.close();
}

/** A migrated database on `server` to copy from; nobody stays connected to it (CREATE DATABASE … TEMPLATE needs that). */
export async function createPostgresTemplate(server: string) {
  const scratch = await createScratchDatabase(server, 'cg_template');
  try {
    const db = await openDatabase({ url: scratch.url, poolSize: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  } catch (error) {
    await scratch.drop();
    throw error;
  }
  return { name: new URL(scratch.url).pathname.slice(1), drop: scratch.drop };
}
