import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './index.js';

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
    await session.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
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
        await session.exec('BEGIN');
        try {
          await session.exec(migration.sql);
          await session.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), now(), 1)`,
            [randomUUID(), migration.checksum, migration.name],
          );
          await session.exec('COMMIT');
        } catch (error) {
          await session.exec('ROLLBACK');
          throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
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

/**
 * Refreshes the planner's statistics of every table. After a bulk load: until autovacuum gets to the
 * new rows, PostgreSQL plans with none, and a nested read that takes milliseconds can take seconds.
 */
export async function analyze(db: Pick<Database, 'session'>): Promise<void> {
  const session = await db.session();
  try {
    await session.exec('ANALYZE');
  } finally {
    await session.release();
  }
}
