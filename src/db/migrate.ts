import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Database, quoteIdent, type SqlSession } from './index.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Prisma Migrate's own advisory lock key: this runner and `prisma migrate deploy` exclude each other,
// and two instances starting at once apply each migration once.
const PRISMA_MIGRATE_LOCK = 72707369;

// Prisma Migrate's ledger, column for column, so `prisma migrate status` agrees with this runner.
const LEDGER = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Waits for the migration lock by trying it, not by blocking in pg_advisory_lock: a statement
 * waiting there keeps a snapshot, and CREATE INDEX CONCURRENTLY in the instance holding the lock
 * waits for every transaction with an older snapshot, so the two would deadlock.
 */
async function takeLock(session: SqlSession): Promise<void> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    const [row] = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      PRISMA_MIGRATE_LOCK,
    ]);
    if (row?.locked) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(`${dir}/${name}/migration.sql`, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export interface MigrateResult {
  applied: string[];
  /** Applied earlier, but the file has changed since. */
  modified: string[];
}

/** Applies pending migrations, each in its own transaction, recording them in Prisma's ledger. */
export async function migrate(db: Pick<Database, 'session'>, migrations = readMigrations()): Promise<MigrateResult> {
  const session = await db.session();
  try {
    await takeLock(session);
    try {
      await session.exec(LEDGER);
      const rows = await session.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      );
      const failed = rows.find((row) => row.finished_at === null);
      if (failed) {
        throw new Error(
          `Migration ${failed.migration_name} failed earlier and is marked unfinished in _prisma_migrations; ` +
            'fix the database, then mark it rolled back (prisma migrate resolve --rolled-back).',
        );
      }
      const done = new Map(rows.map((row) => [row.migration_name, row.checksum]));
      const result: MigrateResult = { applied: [], modified: [] };
      for (const migration of migrations) {
        const checksum = done.get(migration.name);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) result.modified.push(migration.name);
          continue;
        }
        const index = concurrentIndex(migration.sql);
        if (index) await applyConcurrently(session, migration, index);
        else await applyInTransaction(session, migration);
        result.applied.push(migration.name);
      }
      // A migration may add indexes or change what tables hold: the planner needs statistics to use them.
      if (result.applied.length) await session.exec('ANALYZE');
      return result;
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]);
    }
  } finally {
    await session.release();
  }
}

const record = (session: SqlSession, migration: Migration) =>
  session.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), now(), 1)`,
    [randomUUID(), migration.checksum, migration.name],
  );

async function applyInTransaction(session: SqlSession, migration: Migration): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await record(session, migration);
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The index a migration builds with CREATE INDEX CONCURRENTLY, if that is what it is. Such a
 * migration is that one statement (PostgreSQL refuses it in a transaction block, and
 * `prisma migrate deploy` sends a file as one script).
 */
export function concurrentIndex(sql: string): string | null {
  const statements = sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .filter((part) => part.trim());
  const match = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?/i.exec(
    statements[0] ?? '',
  );
  if (!match) {
    if (/\bCONCURRENTLY\b/i.test(sql))
      throw new Error('CREATE INDEX CONCURRENTLY must be the only statement of its migration');
    return null;
  }
  if (statements.length > 1)
    throw new Error(`CREATE INDEX CONCURRENTLY ${match[1]} must be the only statement of its migration`);
  return match[1]!;
}

/**
 * Builds an index while the table keeps taking writes: outside a transaction, so the migration and
 * its ledger row are two steps. A build that failed (or was killed) leaves an invalid index, which
 * IF NOT EXISTS would take as done: it is dropped, before a try and after a failed one, and the
 * migration is recorded only once its index is valid, so the next start tries again.
 */
async function applyConcurrently(session: SqlSession, migration: Migration, index: string): Promise<void> {
  const dropInvalid = async () => {
    const [invalid] = await session.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid`,
      [index],
    );
    if (invalid) await session.exec(`DROP INDEX IF EXISTS ${quoteIdent(index)}`);
  };
  try {
    await dropInvalid();
    await session.exec(migration.sql);
  } catch (error) {
    await dropInvalid().catch(() => {});
    throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
  await record(session, migration);
}

/**
 * Refreshes the planner's statistics of every table and, with `vacuum`, their visibility maps. After
 * a bulk load: until autovacuum gets to the new rows, PostgreSQL plans with no statistics (a nested
 * read that takes milliseconds took seconds), and a count reads every row from the table instead of
 * from an index (index-only scans need the visibility map: at 200,000 customers an orders count took
 * 94 ms before a VACUUM and 49 ms after).
 */
export async function analyze(db: Pick<Database, 'session'>, { vacuum = false } = {}): Promise<void> {
  const session = await db.session();
  try {
    await session.exec(vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE');
  } finally {
    await session.release();
  }
}
