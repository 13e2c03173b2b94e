// Events reach a real broker (a private nats-server or redis-server of this file's own) in each
// customer's and group's commit order, exactly once, with several workers and several instances
// writing one customer's events at once, across a broker outage,
// and from a server started while the broker is down.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { NATS_SERVER, type PrivateBroker, privateNats, privateRedis, REDIS_SERVER, requireBinary } from './brokers.js';
import {
  assertDeliveredInOrder,
  assertNumberedInCommitOrder,
  assertSequenced,
  type BrokerKind,
  LOADED_MACHINE_MARGIN_MS,
  outageUnderLoad,
  readBroker,
  STREAM,
  startWorkers,
  waitDelivered,
  writeLoad,
} from './event-load.js';
import { ADMIN, freshDatabaseUrl, migratedDatabase, SERVER_URL } from './helpers.js';
import { type ServerProcess, startServer } from './reliability/support.js';
import { writePgliteDataFolder } from './template.js';

const source = await migratedDatabase();
const db = await openDatabase({ ...source, dataDir: 'memory://', poolSize: 5 });
after(() => db.close());
await migrate(db);

/** Three instances' worth of database access: three pools on PostgreSQL; PGlite is one process. */
async function threeInstances() {
  if (db.kind !== 'postgres') return [db.prisma, db.prisma, db.prisma];
  const others = await Promise.all([1, 2].map(() => openDatabase({ url: source.url, poolSize: 3 })));
  after(() => Promise.all(others.map((o) => o.close())));
  return [db.prisma, ...others.map((o) => o.prisma)];
}
const prismas = await threeInstances();

const brokers: Record<BrokerKind, { binary: string; start: () => Promise<PrivateBroker> }> = {
  nats: { binary: NATS_SERVER, start: privateNats },
  redis: { binary: REDIS_SERVER, start: privateRedis },
};

for (const kind of ['nats', 'redis'] as const) {
  test(`${kind}: three workers deliver each customer's and group's events once, in commit order, with a sequence number`, async (t) => {
    if (!requireBinary(t, brokers[kind].binary)) return;
    await db.prisma.outboxEvent.deleteMany();
    const broker = await brokers[kind].start();
    await broker.start();
    const workers = await startWorkers(kind, broker, prismas, 5);
    t.after(() => workers.stop());
    // Three writers per key, one on each instance's pool, at once.
    const load = writeLoad(prismas, { customers: 6, groups: 2, durationMs: 2_500, writersPerKey: 3 });
    await load.done;
    await assertNumberedInCommitOrder(db.prisma, load.committed);
    await waitDelivered(db.prisma, 10_000);
    const delivered = await readBroker(kind, broker);
    t.diagnostic(`${delivered.length} events over ${load.committed.size} keys; ${load.rolledBack} writes rolled back`);
    assertDeliveredInOrder(delivered, load.committed);
    assertSequenced(delivered, kind);
  });

  test(`${kind}: stopped mid-load for a few seconds, every event is delivered once, in order, within seconds of its return`, async (t) => {
    if (!requireBinary(t, brokers[kind].binary)) return;
    await db.prisma.outboxEvent.deleteMany();
    const broker = await brokers[kind].start();
    await broker.start();
    const result = await outageUnderLoad(kind, broker, prismas, {
      beforeMs: 1_000,
      outageMs: 4_000,
      afterMs: 1_500,
      resumeWithinMs: 3_000,
    });
    t.diagnostic(
      `${result.events} events; ${result.backlog} waiting at the broker's return: delivery resumed ${result.resumedMs} ms after it, all delivered after ${result.drainedMs} ms`,
    );
    if (result.overBudget)
      t.diagnostic(`over the 3 s budget, within the loaded machine's margin of ${LOADED_MACHINE_MARGIN_MS} ms`);
  });

  test(`${kind}: a server started while the broker is down serves and writes, says so in /metrics, and delivers once it is up`, async (t) => {
    if (!requireBinary(t, brokers[kind].binary)) return;
    const broker = await brokers[kind].start();
    const server = await serverOn(kind, broker);
    assert.equal((await fetch(server.at('/ready'))).status, 200, 'ready: the service is fine without its broker');
    const email = `down-${Date.now()}@example.com`;
    const created = await createCustomer(server, email);
    assert.equal(created, 'CustomersPayload');
    await sleep(500);
    assert.equal(await gauge(server, `event_sink_up{sink="${kind}"}`), 0);
    assert.ok((await gauge(server, 'outbox_undelivered_events')) >= 1);

    await broker.start();
    // The service's budget: it reconnects at most 1 s apart and polls every 100 ms; 5 s leaves room
    // for the broker's own start-up. The wait goes on for the machine's margin (event-load.ts).
    const BUDGET_MS = 5_000;
    const started = Date.now();
    let delivered: Awaited<ReturnType<typeof readBroker>> = [];
    while (Date.now() - started < BUDGET_MS + LOADED_MACHINE_MARGIN_MS) {
      delivered = await readBroker(kind, broker).catch(() => []);
      if (delivered.length > 0) break;
      await sleep(100);
    }
    const deliveredMs = Date.now() - started;
    t.diagnostic(
      `delivered ${deliveredMs} ms after the broker started${deliveredMs > BUDGET_MS ? `: over the ${BUDGET_MS} ms budget, within the loaded machine's margin` : ''}`,
    );
    assert.deepEqual(
      delivered.map((d) => d.name),
      ['customer.created'],
      `delivered within 5 s (+${LOADED_MACHINE_MARGIN_MS} ms margin) of the broker starting`,
    );
    assert.equal(await gauge(server, `event_sink_up{sink="${kind}"}`), 1);
    // The broker holds the event once it has acknowledged it; the outbox row is marked delivered
    // after that acknowledgement, in the worker's own commit: wait for it (bounded).
    let waiting = await gauge(server, 'outbox_undelivered_events');
    for (const deadline = Date.now() + 5_000; waiting !== 0 && Date.now() < deadline; ) {
      await sleep(50);
      waiting = await gauge(server, 'outbox_undelivered_events');
    }
    assert.equal(waiting, 0, 'the outbox row is marked delivered soon after the broker acknowledged it');
    assert.equal((await fetch(server.at('/ready'))).status, 200);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });
}

async function serverOn(kind: BrokerKind, broker: PrivateBroker): Promise<ServerProcess> {
  const env: Record<string, string> = {
    EVENT_SINK: kind,
    NATS_URL: broker.url,
    REDIS_URL: broker.url,
    NATS_STREAM: STREAM,
    REDIS_STREAM: STREAM,
    OUTBOX_POLL_MS: '100',
    SEED_SAMPLE_DATA: 'false',
    SHUTDOWN_DRAIN_MS: '0',
  };
  if (SERVER_URL) {
    env.DATABASE_URL = (await freshDatabaseUrl())!;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'cg-events-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await writePgliteDataFolder(join(dir, 'pglite'));
    env.DATA_DIR = join(dir, 'pglite');
  }
  return startServer(env);
}

async function createCustomer(server: ServerProcess, email: string): Promise<string> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify({
      query: `mutation($email: String!) { createCustomers(input: [{ email: $email }]) { __typename } }`,
      variables: { email },
    }),
  });
  const body = (await response.json()) as { data?: { createCustomers?: { __typename: string } } };
  return body.data?.createCustomers?.__typename ?? JSON.stringify(body);
}

/** One sample's value from /metrics, `name{labels}` as printed. */
async function gauge(server: ServerProcess, sample: string): Promise<number> {
  const text = await (await fetch(server.at('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  if (!line) throw new Error(`no ${sample} in /metrics`);
  return Number(line.slice(sample.length + 1));
}
