import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDatabase } from '../src/db/index.js';
import { concurrentIndex, MIGRATIONS_DIR, migrate, readMigrations } from '../src/db/migrate.js';
import { DATABASE_KIND, emptyDatabase } from './helpers.js';

async function fresh() {
  const source = await emptyDatabase();
  const open = () => openDatabase({ ...source, dataDir: 'memory://', poolSize: 2 });
  return { open };
}

test('applies every migration once and records it in Prisma’s ledger with a sha256 checksum', async () => {
  const { open } = await fresh();
  const db = await open();
  after(() => db.close());
  const files = readMigrations();
  assert.deepEqual(
    (await migrate(db)).applied,
    files.map((m) => m.name),
  );
  assert.deepEqual((await migrate(db)).applied, [], 'a second run applies nothing');
  const rows = await db.prisma.$queryRaw<
    { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
  >`
    SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`;
  assert.equal(rows.length, files.length);
  for (const [i, row] of rows.entries()) {
    const sql = readFileSync(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
    assert.equal(row.checksum, createHash('sha256').update(sql).digest('hex'));
    assert.equal(row.migration_name, files[i]!.name);
    assert.ok(row.finished_at);
    assert.equal(row.applied_steps_count, 1);
  }
});

test('two instances migrating at once apply each migration exactly once', async () => {
  const { open } = await fresh();
  // On PostgreSQL these are two pools (two "instances"); PGlite is one process's own database.
  const a = await open();
  const b = DATABASE_KIND === 'postgres' ? await open() : a;
  after(async () => {
    await a.close();
    if (b !== a) await b.close();
  });
  const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
  assert.equal(ra.applied.length + rb.applied.length, readMigrations().length);
  const rows = await a.prisma.$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM "_prisma_migrations"`;
  assert.equal(rows.length, readMigrations().length);
});

test('a failing migration leaves nothing behind and is not recorded', async () => {
  const { open } = await fresh();
  const db = await open();
  after(() => db.close());
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  mkdirSync(join(dir, '1_ok'));
  writeFileSync(join(dir, '1_ok', 'migration.sql'), 'CREATE TABLE ok_table (id int);');
  mkdirSync(join(dir, '2_bad'));
  writeFileSync(join(dir, '2_bad', 'migration.sql'), 'CREATE TABLE half_table (id int);\nSELECT * FROM no_such_table;');
  await assert.rejects(migrate(db, readMigrations(dir)), /2_bad failed/);
  const tables = await db.prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_name IN ('ok_table', 'half_table')`;
  assert.deepEqual(
    tables.map((r) => r.table_name),
    ['ok_table'],
  );
  const names = await db.prisma.$queryRaw<
    { migration_name: string }[]
  >`SELECT migration_name FROM "_prisma_migrations"`;
  assert.deepEqual(
    names.map((r) => r.migration_name),
    ['1_ok'],
  );
});

test('a changed migration file is reported, not re-applied', async () => {
  const { open } = await fresh();
  const db = await open();
  after(() => db.close());
  await migrate(db);
  const changed = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'x'.repeat(64) } : m));
  const result = await migrate(db, changed);
  assert.deepEqual(result.applied, []);
  assert.deepEqual(result.modified, [changed[0]!.name]);
});

test('a run that applies migrations leaves the tables analyzed, so new indexes are planned with statistics', async () => {
  const { open } = await fresh();
  const db = await open();
  after(() => db.close());
  await migrate(db);
  const sql =
    'CREATE TABLE "probe" (n int); INSERT INTO "probe" SELECT generate_series(1, 500); CREATE INDEX "probe_n_idx" ON "probe"(n);';
  const probe = { name: '29991231000000_probe', sql, checksum: createHash('sha256').update(sql).digest('hex') };
  assert.deepEqual((await migrate(db, [...readMigrations(), probe])).applied, [probe.name]);
  const [row] = await db.prisma.$queryRaw<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'probe'`;
  assert.equal(row?.n, 1, 'the probe table has statistics for its column');
});

test('CREATE INDEX CONCURRENTLY runs alone outside a transaction; a failed build leaves no invalid index and is tried again', async () => {
  const { open } = await fresh();
  const db = await open();
  after(() => db.close());
  await migrate(db);
  const migration = (name: string, sql: string) => ({
    name,
    sql,
    checksum: createHash('sha256').update(sql).digest('hex'),
  });
  const table = migration(
    '29991231000000_dupes',
    'CREATE TABLE "dupes" (n int); INSERT INTO "dupes" VALUES (1), (1), (2);',
  );
  const unique = migration(
    '29991231000001_dupes_unique',
    '-- a comment\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "dupes_n_key" ON "dupes" (n);',
  );
  await assert.rejects(
    migrate(db, [...readMigrations(), table, unique]),
    /29991231000001_dupes_unique failed: .*(duplicate|unique)/i,
  );
  const state = async () => {
    const [row] = await db.prisma.$queryRaw<{ indexes: number; recorded: number }[]>`
      SELECT (SELECT count(*)::int FROM pg_indexes WHERE indexname = 'dupes_n_key') AS indexes,
             (SELECT count(*)::int FROM "_prisma_migrations" WHERE migration_name = '29991231000001_dupes_unique') AS recorded`;
    return row;
  };
  assert.deepEqual(await state(), { indexes: 0, recorded: 0 }, 'the invalid index is gone and nothing recorded');
  await db.prisma.$executeRawUnsafe('DELETE FROM "dupes" WHERE n = 1');
  assert.deepEqual((await migrate(db, [...readMigrations(), table, unique])).applied, [unique.name]);
  assert.deepEqual(await state(), { indexes: 1, recorded: 1 });
  // On PostgreSQL the statement would be refused inside a transaction block: it ran outside one.
  const [valid] = await db.prisma.$queryRaw<{ valid: boolean }[]>`
    SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'dupes_n_key'`;
  assert.equal(valid?.valid, true);
  assert.throws(
    () => concurrentIndex('CREATE INDEX CONCURRENTLY a ON t (x); CREATE INDEX b ON t (y);'),
    /only statement/,
  );
  assert.equal(concurrentIndex('CREATE INDEX a ON t (x);'), null);
});
