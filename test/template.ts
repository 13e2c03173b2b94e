// Migrated template databases for the test suite. Starting PGlite means running initdb in WASM
// (most of a test file's start-up, and ~1 GB), so the suite migrates one database per run and every
// test starts from a copy of it: a data folder tarball on PGlite, `CREATE DATABASE … TEMPLATE` on
// PostgreSQL. The copies are real, migrated databases; test/migrate.test.ts still migrates from empty.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../src/db/index.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { createScratchDatabase } from '../scripts/throwaway-database.js';

/** Set by scripts/test.ts: the migrated PGlite tarball, and the migrated PostgreSQL database, of this run. */
export const PGLITE_TEMPLATE_ENV = 'CG_TEST_PGLITE_TEMPLATE';
export const POSTGRES_TEMPLATE_ENV = 'CG_TEST_TEMPLATE_DATABASE';

const CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/customer-graph', import.meta.url));
const PGLITE_PACKAGE = fileURLToPath(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url));

/** Names what a template holds: the migrations (by checksum) and the PGlite release that wrote it. */
function fingerprint(): string {
  const pgliteVersion = (JSON.parse(readFileSync(PGLITE_PACKAGE, 'utf8')) as { version: string }).version;
  const hash = createHash('sha256').update(pgliteVersion);
  for (const migration of readMigrations()) hash.update(`${migration.name}:${migration.checksum}\n`);
  return hash.digest('hex').slice(0, 16);
}

async function buildPgliteTemplate(): Promise<Blob> {
  const pglite = new PGlite('memory://');
  await pglite.waitReady;
  try {
    await migrate({
      session: async () => ({
        query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
        exec: async (sql: string) => void (await pglite.exec(sql)),
        release: async () => {},
      }),
    });
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}

/**
 * The migrated PGlite tarball's path: this run's (from scripts/test.ts), or one cached under
 * node_modules/.cache for these migrations, built when missing (so a single file run directly
 * also starts fast from the second time on).
 */
export async function pgliteTemplateFile(): Promise<string> {
  const given = process.env[PGLITE_TEMPLATE_ENV];
  if (given && existsSync(given)) return given;
  const file = join(CACHE_DIR, `pglite-template-${fingerprint()}.tar`);
  if (!existsSync(file)) {
    const tarball = await buildPgliteTemplate();
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed: a concurrent reader sees the whole file or none.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, new Uint8Array(await tarball.arrayBuffer()));
    renameSync(partial, file);
  }
  return file;
}

let pgliteTemplate: Promise<Blob> | undefined;
/** The migrated tarball, read once per process. */
export function pgliteTemplateData(): Promise<Blob> {
  return (pgliteTemplate ??= pgliteTemplateFile().then((file) => new Blob([readFileSync(file)])));
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
