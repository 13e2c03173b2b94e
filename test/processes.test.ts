// The commands people run (npm start, db:seed, db:migrate) as real processes: one process per
// embedded database folder, .env read by every script, what stops `npm start` stops the server,
// and start-up mistakes said in one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LOCK_FILE } from '../src/db/folder-lock.js';
import { openDatabase } from '../src/db/index.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { pgliteTemplateData, writePgliteDataFolder } from './template.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Absolute, so that a script can run in another working directory (to read that directory's .env).
const TSX = import.meta.resolve('tsx');

/**
 * These processes are about the embedded database: an empty DATABASE_URL keeps the suite's, and
 * any in a developer's .env, from reaching them.
 */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: '',
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    SEED_SAMPLE_DATA: 'false',
    ...extra,
  };
}

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'customer-graph-proc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A data folder that already holds the migrated database (no initdb in the processes under test). */
async function migratedFolder() {
  const dataDir = join(tempDir(), 'pglite');
  await writePgliteDataFolder(dataDir);
  return dataDir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', TSX, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? baseEnv(),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Spawns `command` and waits for the server's "listening" log line; returns the server's PID and URL. */
async function startListening(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  const listening = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 300_000);
    child.stdout.on('data', (d) => {
      output += d;
      for (const line of output.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string; pid?: number };
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve({ url: entry.url!, pid: entry.pid! });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => {
    child.kill('SIGKILL');
    try {
      process.kill(listening.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return { child, ...listening, exited, output: () => output };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });

test('a second process refuses the data folder of a running server, at once and in one line', async () => {
  const dataDir = await migratedFolder();
  const env = baseEnv({ DATA_DIR: dataDir, PORT: '0' });
  const server = await startListening(process.execPath, ['--import', TSX, 'src/server.ts'], env);

  // Every entry point that opens the database: the seed, the migrations, and a second server.
  for (const script of [
    ['prisma/seed.ts', '--customers', '100', '--force'],
    ['scripts/db-migrate.ts'],
    ['src/server.ts'],
  ]) {
    const started = Date.now();
    const refused = await run(script, { env });
    assert.equal(refused.code, 1, `${script[0]}: ${refused.stderr}`);
    const lines = refused.stderr.trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(lines[0]!, new RegExp(`in use by another process \\(PID ${server.pid}\\)`));
    assert.ok(Date.now() - started < 60_000, 'refuses without waiting for the database');
  }

  // The server was not disturbed: it still answers, then stops cleanly and gives the folder back.
  assert.equal((await fetch(server.url.replace('/graphql', '/ready'))).status, 200);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.output());
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the lock is released at exit');
});

test('db:seed reads .env like npm start, takes over a lock left by a dead process, and decides before migrating', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'pglite');
  // A database that already has a customer, one migration behind (an older checkout's folder).
  const migrations = readMigrations();
  const newest = migrations.at(-1)!.name;
  {
    const db = await openDatabase({ dataDir, initialData: await pgliteTemplateData('empty') });
    await migrate(db, migrations.slice(0, -1));
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO customer (id, email) VALUES ('cus_01SEEDTEST000000000000000', 'kept@example.com')`,
    );
    await db.close();
  }
  // A lock whose owner crashed: a process that has exited.
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.on('exit', resolve));
  writeFileSync(join(dataDir, LOCK_FILE), `${dead.pid}\nsomewhere\n2026-01-01T00:00:00.000Z\n`);
  // Only the .env in the working directory names the folder; its DATABASE_URL loses to the
  // environment's empty one (a server that is not there would fail the seed).
  writeFileSync(join(dir, '.env'), `DATA_DIR=${dataDir}\nDATABASE_URL=postgresql://nobody@127.0.0.1:1/nothing\n`);
  const env = baseEnv();
  delete env.DATA_DIR;

  const refused = await run([join(ROOT, 'prisma/seed.ts'), '--customers', '5'], { cwd: dir, env });
  assert.equal(refused.code, 0, refused.stderr);
  assert.match(refused.stdout, /already has 1 customers; not seeding \(--reset .*--force/);
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the stale lock was taken over, then released');
  const ledger = async () => {
    const db = await openDatabase({ dataDir });
    try {
      return {
        migrations: (
          await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
            'SELECT migration_name FROM "_prisma_migrations"',
          )
        ).map((r) => r.migration_name),
        customers: await db.prisma.customer.count(),
      };
    } finally {
      await db.close();
    }
  };
  const before = await ledger();
  assert.ok(!before.migrations.includes(newest), 'a refused seed does not migrate');
  assert.equal(before.customers, 1);

  const reset = await run([join(ROOT, 'prisma/seed.ts'), '--customers', '5', '--reset'], { cwd: dir, env });
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /seeded 5 customers/);
  const afterReset = await ledger();
  assert.ok(afterReset.migrations.includes(newest), 'seeding migrates first');
  assert.equal(afterReset.customers, 5, '--reset replaced the existing customer');
});

test('SIGTERM to `npm start` stops the server: drained, port freed, no orphan', async () => {
  const dataDir = await migratedFolder();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const server = await startListening(npm, ['start'], baseEnv({ DATA_DIR: dataDir, PORT: '0' }));
  const port = Number(new URL(server.url).port);
  assert.equal(await portFree(port), false);
  server.child.kill('SIGTERM');
  await waitUntil(() => !alive(server.pid), 120_000, 'the server process to exit');
  assert.equal(await portFree(port), true, 'the port is free');
  await waitUntil(() => /"msg":"stopped"/.test(server.output()), 5_000, 'the server to log that it stopped cleanly');
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false);
});

test('a server restart ends open subscriptions at once; a client that reconnects resumes after its last event', async () => {
  const dataDir = await migratedFolder();
  const key = 'restart-admin-key-0123456789abcdef';
  const env = baseEnv({
    DATA_DIR: dataDir,
    PORT: '0',
    ADMIN_API_KEYS: `tests:${key}`,
    OUTBOX_POLL_MS: '50',
    SUBSCRIPTION_POLL_MS: '20',
    SHUTDOWN_DRAIN_MS: '0',
  });
  const start = () => startListening(process.execPath, ['--import', TSX, 'src/server.ts'], env);
  const createCustomer = async (url: string, email: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: `mutation($email: String!) { createCustomers(input: [{ email: $email }]) { ... on CustomersPayload { customers { id } } } }`,
        variables: { email },
      }),
    });
    return ((await response.json()) as { data: { createCustomers: { customers: { id: string }[] } } }).data
      .createCustomers.customers[0]!.id;
  };
  const subscribe = (url: string, after?: string) => {
    const client = createWsClient({
      url: url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    const events = client.iterate<{ customerEvents: { eventId: string; payload: { id: string } } }>({
      query: `subscription($after: ID) { customerEvents(after: $after, names: ["customer.created"]) { eventId payload } }`,
      variables: { after },
    });
    return { client, events };
  };

  const first = await start();
  const before = subscribe(first.url);
  const next = before.events.next();
  // The subscription starts "from now" once the server has it: create customers until one arrives.
  const created: string[] = [];
  let firstSeen: Awaited<typeof next> | undefined;
  while (!firstSeen && created.length < 40) {
    created.push(await createCustomer(first.url, `restart-a-${created.length}@example.com`));
    firstSeen = await Promise.race([next, new Promise<undefined>((resolve) => setTimeout(resolve, 250))]);
  }
  const seenA = firstSeen!.value!.data!.customerEvents;
  assert.ok(created.includes(seenA.payload.id));
  // The rest of those already sent are read before the server stops.
  while (seenA.payload.id !== created.at(-1)) {
    const more = await before.events.next();
    if (more.done) break;
    Object.assign(seenA, more.value!.data!.customerEvents);
  }

  const ending = before.events.next().then(
    (result) => (result.done ? 'ended' : 'event'),
    () => 'ended',
  );
  const stoppedAt = Date.now();
  first.child.kill('SIGTERM');
  await waitUntil(() => !alive(first.pid), 60_000, 'the server process to exit');
  assert.equal(await ending, 'ended', 'the open subscription ended with the server');
  assert.ok(Date.now() - stoppedAt < 15_000, 'an open subscription does not hold the shutdown');
  await before.client.dispose();

  const second = await start();
  const b = await createCustomer(second.url, 'restart-b@example.com');
  const resumedFrom = subscribe(second.url, seenA.eventId);
  const resumed = (await resumedFrom.events.next()).value!.data!.customerEvents;
  assert.equal(resumed.payload.id, b, 'the next event after the last one seen, from the restarted server');
  await resumedFrom.events.return?.();
  await resumedFrom.client.dispose();
  second.child.kill('SIGTERM');
  await waitUntil(() => !alive(second.pid), 60_000, 'the second server to exit');
});

test('a port in use and a bad setting each end the server at once with one line, before the database opens', async () => {
  const dataDir = join(tempDir(), 'pglite');
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  after(() => holder.close());
  const port = (holder.address() as net.AddressInfo).port;

  const busy = await run(['src/server.ts'], { env: baseEnv({ DATA_DIR: dataDir, PORT: String(port) }) });
  assert.equal(busy.code, 1);
  assert.deepEqual(busy.stderr.trim().split('\n'), [
    `customer-graph: port ${port} on 127.0.0.1 is already in use: stop what holds it, or set PORT (PORT=0 picks a free one)`,
  ]);
  assert.doesNotMatch(busy.stdout, /database opened|outbox/);
  assert.equal(existsSync(dataDir), false, 'the database was never opened');

  const bad = await run(['src/server.ts'], { env: baseEnv({ DATA_DIR: dataDir, PORT: 'eighty', BCRYPT_COST: '99' }) });
  assert.equal(bad.code, 1);
  const lines = bad.stderr.trim().split('\n');
  assert.equal(lines.length, 1, bad.stderr);
  assert.match(lines[0]!, /^customer-graph: invalid configuration: .*PORT: .*BCRYPT_COST: /);
});
