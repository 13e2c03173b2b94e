import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, beforeEach, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import pino from 'pino';
import { createClient } from 'redis';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { type EventName, recordEvents, type DomainEvent as TypedEvent } from '../src/events/outbox.js';

/** An event with any payload: these tests drive the outbox itself, marking events with their own fields. */
type DomainEvent = { name: EventName; payload: Record<string, unknown> };
const asTyped = (events: DomainEvent[]) => events as unknown as TypedEvent[];

import {
  createSink,
  type EventSink,
  LogSink,
  NatsSink,
  type OutboxMessage,
  RedisStreamSink,
} from '../src/events/sinks.js';
import { type OutboxWorkerOptions, startOutboxWorker } from '../src/events/worker.js';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { createLogger } from '../src/logger.js';
import { findBinary, NATS_SERVER, privateNats, privateRedis, REDIS_SERVER, requireBinary } from './brokers.js';
import { holdLock, migratedDatabase } from './helpers.js';

const source = await migratedDatabase();
const url = source.url;
const db = await openDatabase({ ...source, dataDir: 'memory://', poolSize: 5 });
after(() => db.close());
await migrate(db);
const prisma = db.prisma;
const silent = createLogger('silent');

// Every test starts from an empty outbox, so a drain only sees that test's events.
beforeEach(() => prisma.outboxEvent.deleteMany());

/** Keeps what it is given; fails while `failure` is set. */
class CapturingSink implements EventSink {
  readonly name = 'capture';
  readonly received: OutboxMessage[] = [];
  calls = 0;
  failure: Error | undefined;
  constructor(private readonly delayMs = 0) {}

  async publish(messages: OutboxMessage[]) {
    this.calls++;
    if (this.delayMs) await sleep(this.delayMs);
    if (this.failure) throw this.failure;
    this.received.push(...messages);
  }

  async close() {}
}

/** A worker that only runs when drained (its timer is far off), stopped after the test. */
function worker(t: TestContext, options: Partial<OutboxWorkerOptions> & { sink: EventSink }) {
  const started = startOutboxWorker({ prisma, log: silent, pollMs: 60_000, ...options });
  t.after(() => started.stop());
  return started;
}

async function record(...events: DomainEvent[]) {
  await prisma.$transaction((tx) => recordEvents(tx, { kind: 'SYSTEM', name: 'test' }, asTyped(events)));
}

const seqs = (messages: OutboxMessage[]) => messages.map((m) => (m.payload as { seq: number }).seq);

const unique = () => randomBytes(5).toString('hex');

test('committed events are delivered once, in order, and marked delivered; rolled-back ones never', async (t) => {
  const sink = new CapturingSink();
  const outbox = worker(t, { sink });
  // Apart in time: within one millisecond, order follows the (random) id.
  for (const seq of [1, 2, 3]) {
    await record({ name: 'customer.created', payload: { id: 'cus_1', seq } });
    await sleep(3);
  }
  await assert.rejects(
    prisma.$transaction(async (tx) => {
      await recordEvents(
        tx,
        { kind: 'SYSTEM', name: 'test' },
        asTyped([{ name: 'customer.deleted', payload: { id: 'cus_1', seq: 99 } }]),
      );
      throw new Error('roll back');
    }),
    /roll back/,
  );

  assert.equal(await outbox.drain(), 3);
  assert.deepEqual(seqs(sink.received), [1, 2, 3]);
  assert.equal(await outbox.drain(), 0, 'nothing is delivered twice');
  assert.equal(sink.received.length, 3);

  const rows = await prisma.outboxEvent.findMany({ orderBy: [{ availableAt: 'asc' }, { id: 'asc' }] });
  assert.deepEqual(
    rows.map((row) => row.id),
    sink.received.map((m) => m.id),
    'only the committed events are in the outbox',
  );
  assert.ok(rows.every((row) => row.deliveredAt instanceof Date && row.attempts === 0));
  const first = sink.received[0]!;
  assert.equal(first.name, 'customer.created');
  assert.ok(first.createdAt instanceof Date);
});

test('the worker polls by itself, and stop() can be called twice', async () => {
  const sink = new CapturingSink();
  const outbox = startOutboxWorker({ prisma, sink, log: silent, pollMs: 20 });
  try {
    await record({ name: 'customer.updated', payload: { id: 'cus_1', seq: 1 } });
    for (let i = 0; i < 100 && sink.received.length === 0; i++) await sleep(20);
    assert.deepEqual(seqs(sink.received), [1]);
  } finally {
    await outbox.stop();
    await outbox.stop();
  }
  await record({ name: 'customer.updated', payload: { id: 'cus_1', seq: 2 } });
  await sleep(100);
  assert.equal(sink.received.length, 1, 'a stopped worker polls no more');
  assert.equal(await outbox.drain(), 0);
});

test('a failing sink leaves events pending with backoff; once it recovers they are delivered exactly once', async (t) => {
  const sink = new CapturingSink();
  const outbox = worker(t, { sink });
  await record(
    { name: 'customer_group.created', payload: { id: 'cusgroup_1', seq: 1 } },
    { name: 'customer_group.updated', payload: { id: 'cusgroup_1', seq: 2 } },
  );

  sink.failure = new Error(`broker down ${'x'.repeat(5_000)}`);
  assert.equal(await outbox.drain(), 0);
  const pending = () => prisma.$queryRaw<
    { deliveredAt: Date | null; attempts: number; lastError: string | null; delay: number }[]
  >`
    SELECT delivered_at AS "deliveredAt", attempts, last_error AS "lastError",
           EXTRACT(EPOCH FROM available_at - now())::float8 AS delay
    FROM outbox_event ORDER BY id`;
  let rows = await pending();
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.deliveredAt, null);
    assert.equal(row.attempts, 1);
    assert.match(row.lastError ?? '', /^broker down x+$/);
    assert.equal(row.lastError?.length, 1_000, 'the error is truncated');
    assert.ok(row.delay > 0.5 && row.delay <= 1, `first retry in about 1 s (${row.delay})`);
  }
  assert.equal(await outbox.drain(), 0);
  assert.equal(sink.calls, 1, 'not retried before available_at');

  await prisma.$executeRaw`UPDATE outbox_event SET available_at = now() - interval '1 second'`;
  assert.equal(await outbox.drain(), 0);
  rows = await pending();
  assert.ok(
    rows.every((row) => row.attempts === 2 && row.delay > 1.5 && row.delay <= 2),
    'the backoff doubles',
  );

  sink.failure = undefined;
  await prisma.$executeRaw`UPDATE outbox_event SET available_at = now() - interval '1 second'`;
  assert.equal(await outbox.drain(), 2);
  assert.equal(await outbox.drain(), 0);
  assert.deepEqual(seqs(sink.received).sort(), [1, 2]);
  rows = await pending();
  assert.ok(rows.every((row) => row.deliveredAt instanceof Date && row.attempts === 2));
});

test('after maxAttempts failures an event is no longer retried', async (t) => {
  const sink = new CapturingSink();
  sink.failure = new Error('rejected');
  const outbox = worker(t, { sink, maxAttempts: 2 });
  await record({ name: 'customer.created', payload: { id: 'cus_1', seq: 1 } });
  for (let i = 0; i < 3; i++) {
    assert.equal(await outbox.drain(), 0);
    await prisma.$executeRaw`UPDATE outbox_event SET available_at = now() - interval '1 second'`;
  }
  assert.equal(sink.calls, 2);
  const [row] = await prisma.outboxEvent.findMany();
  assert.equal(row?.attempts, 2);
  assert.equal(row?.deliveredAt, null);
});

test('two workers draining at once deliver every event exactly once in total', async (t) => {
  // On PostgreSQL, a second pool is a second instance; PGlite is one process, so they share it.
  let other = prisma;
  if (db.kind === 'postgres') {
    const second = await openDatabase({ url, poolSize: 5 });
    t.after(() => second.close());
    other = second.prisma;
  }
  const total = 230;
  await record(
    ...Array.from(
      { length: total },
      (_, seq): DomainEvent => ({ name: 'customer_address.created', payload: { customer_id: `cus_${seq}`, seq } }),
    ),
  );
  const [a, b] = [new CapturingSink(5), new CapturingSink(5)];
  const workerA = worker(t, { sink: a, batchSize: 20 });
  const workerB = worker(t, { sink: b, batchSize: 20, prisma: other });

  const [fromA, fromB] = await Promise.all([workerA.drain(), workerB.drain()]);
  assert.equal(fromA + fromB, total);
  const ids = [...a.received, ...b.received].map((m) => m.id);
  assert.equal(ids.length, total);
  assert.equal(new Set(ids).size, total, 'no event went to both workers');
  assert.equal(await prisma.outboxEvent.count({ where: { deliveredAt: null } }), 0);
  t.diagnostic(`worker A delivered ${fromA}, worker B ${fromB}`);
});

test("a customer's later events wait while an earlier one backs off after a failure, or is held by another worker", async (t) => {
  const sink = new CapturingSink();
  const outbox = worker(t, { sink });
  await record({ name: 'customer.updated', payload: { id: 'cus_a', seq: 1 } });
  await record(
    { name: 'customer_address.deleted', payload: { id: 'cuaddr_a', customer_id: 'cus_a', seq: 2 } },
    { name: 'customer.updated', payload: { id: 'cus_b', seq: 3 } },
  );
  const first = { key: 'customer:cus_a', payload: { path: ['seq'], equals: 1 } };

  // cus_a's first event failed and waits for its retry: its second one waits too; cus_b's goes.
  await prisma.outboxEvent.updateMany({
    where: first,
    data: { attempts: 1, availableAt: new Date(Date.now() + 60_000) },
  });
  assert.equal(await outbox.drain(), 1);
  assert.deepEqual(seqs(sink.received), [3]);

  if (db.kind === 'postgres') {
    // Another instance's worker holds cus_a's first event (claimed, being published): nothing of cus_a goes.
    const other = await openDatabase({ url, poolSize: 2 });
    t.after(() => other.close());
    await prisma.outboxEvent.updateMany({ where: first, data: { availableAt: new Date() } });
    const [row] = await prisma.outboxEvent.findMany({ where: first });
    const lock = await holdLock(other.prisma, `SELECT id FROM outbox_event WHERE id = '${row!.id}' FOR UPDATE`);
    assert.equal(await outbox.drain(), 0, 'the second event is not claimed while the first is locked');
    await lock.release();
  }

  await prisma.outboxEvent.updateMany({ where: first, data: { availableAt: new Date() } });
  assert.equal(await outbox.drain(), 2);
  assert.deepEqual(seqs(sink.received), [3, 1, 2], 'then both, in order');
  assert.deepEqual(
    sink.received.slice(1).map((m) => [m.key, m.seq - sink.received[1]!.seq]),
    [
      ['customer:cus_a', 0],
      ['customer:cus_a', 1],
    ],
  );
});

test('a claim reads about as many rows as it claims, however many wait behind a key held back', async (t) => {
  // A database of this test's own, whose statements (with their parameters) can be read back.
  const own = await openDatabase({
    ...(await migratedDatabase()),
    dataDir: 'memory://',
    poolSize: 2,
    statementEvents: true,
  });
  t.after(() => own.close());
  await migrate(own);
  const claims: { sql: string; params: unknown[] }[] = [];
  (own.prisma as unknown as PrismaClient<'query'>).$on('query', (e) => {
    if (/SKIP LOCKED/.test(e.query)) claims.push({ sql: e.query, params: JSON.parse(e.params) as unknown[] });
  });
  // customer:a_hot's first event waits for its retry, 3,000 more of it wait behind it (older than
  // anything else); 30 other customers have one event each.
  const behind = 3_000;
  await own.prisma.$executeRaw`INSERT INTO outbox_event (id, name, payload, created_at, available_at, key, seq)
    SELECT 'evt_hot_' || i, 'customer.updated', '{"id":"a_hot"}', now() - interval '1 hour', now() - interval '1 hour', 'customer:a_hot', i
    FROM generate_series(1, ${behind + 1}) i`;
  await own.prisma
    .$executeRaw`UPDATE outbox_event SET attempts = 1, available_at = now() + interval '1 hour' WHERE key = 'customer:a_hot' AND seq = 1`;
  await own.prisma.$executeRaw`INSERT INTO outbox_event (id, name, payload, key, seq)
    SELECT 'evt_b_' || i, 'customer.updated', jsonb_build_object('id', 'b_' || i), 'customer:b_' || lpad(i::text, 2, '0'), 1
    FROM generate_series(1, 30) i`;
  await own.prisma.$executeRaw`ANALYZE outbox_event`;

  const sink = new CapturingSink();
  const outbox = startOutboxWorker({ prisma: own.prisma, sink, log: silent, pollMs: 60_000, batchSize: 10 });
  t.after(() => outbox.stop());
  assert.equal(await outbox.drain(), 30, "the other customers' events, none of a_hot's");
  assert.ok(sink.received.every((m) => m.key !== 'customer:a_hot'));

  // The first claim again, on the backlog as it was, counting the rows its plan read.
  await own.prisma.$executeRaw`UPDATE outbox_event SET delivered_at = NULL WHERE key LIKE 'customer:b_%'`;
  const [first] = claims;
  assert.ok(first, 'a claim was sent');
  let read = 0;
  await own.prisma
    .$transaction(async (tx) => {
      const [row] = await tx.$queryRawUnsafe<{ 'QUERY PLAN': unknown }[]>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${first.sql}`,
        ...first.params,
      );
      const plan = row?.['QUERY PLAN'];
      const visit = (node: Record<string, unknown>) => {
        if (node['Relation Name'] === 'outbox_event') {
          read +=
            ((node['Actual Rows'] as number) + ((node['Rows Removed by Filter'] as number | undefined) ?? 0)) *
            (node['Actual Loops'] as number);
        }
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) visit(child);
      };
      visit(
        (JSON.parse(typeof plan === 'string' ? plan : JSON.stringify(plan)) as { Plan: Record<string, unknown> }[])[0]!
          .Plan,
      );
      throw new RollBackExplain();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBackExplain)) throw error;
    });
  t.diagnostic(
    `the first claim of 10 read ${read} rows of outbox_event, with ${behind} waiting behind a held-back key`,
  );
  assert.ok(
    read > 0 && read < 100,
    `a claim of 10 reads a few dozen rows at most, not the ${behind} held back (read ${read})`,
  );
});

class RollBackExplain extends Error {}

test('keys take turns: a customer with a backlog does not hold back the others', async (t) => {
  const sink = new CapturingSink();
  const outbox = worker(t, { sink, batchSize: 1 });
  for (let seq = 1; seq <= 5; seq++) await record({ name: 'customer.updated', payload: { id: 'cus_a', seq } });
  await record({ name: 'customer.updated', payload: { id: 'cus_b', seq: 1 } });
  await record({ name: 'customer.updated', payload: { id: 'cus_c', seq: 1 } });
  assert.equal(await outbox.drain(), 7);
  assert.deepEqual(
    sink.received.map((m) => `${m.key}#${(m.payload as { seq: number }).seq}`),
    [
      'customer:cus_a#1',
      'customer:cus_b#1',
      'customer:cus_c#1',
      'customer:cus_a#2',
      'customer:cus_a#3',
      'customer:cus_a#4',
      'customer:cus_a#5',
    ],
  );
});

test('NATS JetStream sink: messages land in the stream once, with names, ids, keys, sequence numbers and payloads', async (t) => {
  if (!requireBinary(t, NATS_SERVER)) return;
  const broker = await privateNats();
  await broker.start();
  const NATS_URL = broker.url;
  const stream = `TEST_${unique()}`;
  const subjectPrefix = `test_${unique()}`;
  const sink = await NatsSink.connect({ url: NATS_URL, stream, subjectPrefix, timeoutMs: 2_000 });
  const nc = await connectNats({ servers: NATS_URL, timeout: 1_000 });
  const jsm = await jetstreamManager(nc);
  t.after(async () => {
    await sink.close();
    await nc.close();
  });

  const events: DomainEvent[] = [
    { name: 'customer.created', payload: { id: 'cus_1', seq: 1, email: 'a@example.com' } },
    { name: 'customer_group.created', payload: { id: 'cusgroup_1', seq: 2, name: 'VIP' } },
    {
      name: 'customer_address.deleted',
      payload: { id: 'cuaddr_1', customer_id: 'cus_1', seq: 3, nested: { ok: true } },
    },
  ];
  for (const event of events) {
    await record(event);
    await sleep(3);
  }
  const capture = new CapturingSink();
  const tee: EventSink = {
    name: 'tee',
    publish: async (messages) => {
      await sink.publish(messages);
      await capture.publish(messages);
    },
    close: async () => {},
  };
  assert.equal(await worker(t, { sink: tee }).drain(), 3);

  const consumer = await jetstream(nc).consumers.get(stream);
  const stored = [];
  for await (const message of await consumer.fetch({ max_messages: 3, expires: 2_000 })) {
    stored.push(message);
    if (stored.length === 3) break;
  }
  // Keys are published side by side: compared in the events' order.
  const order = (m: { json(): unknown }) => (m.json() as { payload: { seq: number } }).payload.seq;
  stored.sort((a, b) => order(a) - order(b));
  capture.received.sort((a, b) => (a.payload as { seq: number }).seq - (b.payload as { seq: number }).seq);
  assert.deepEqual(
    stored.map((m) => m.subject),
    events.map((e) => `${subjectPrefix}.${e.name}`),
  );
  assert.deepEqual(
    stored.map((m) => [m.headers?.get('Nats-Msg-Id'), m.headers?.get('Event-Key'), m.headers?.get('Event-Seq')]),
    capture.received.map((m) => [m.id, m.key, String(m.seq)]),
  );
  const [created, group, address] = capture.received;
  assert.deepEqual(
    [created?.key, group?.key, address?.key],
    ['customer:cus_1', 'customer_group:cusgroup_1', 'customer:cus_1'],
  );
  assert.equal(address?.seq, created!.seq + 1, "an address's event is numbered among its customer's");
  assert.deepEqual(
    stored.map((m) => m.json()),
    capture.received.map((m) => ({
      id: m.id,
      name: m.name,
      key: m.key,
      seq: m.seq,
      payload: m.payload,
      createdAt: m.createdAt.toISOString(),
    })),
  );
  assert.deepEqual(
    stored.map((m) => (m.json() as { payload: unknown }).payload),
    events.map((e) => e.payload),
  );

  // Published again, as after a crash between the PubAck and the commit: stored once.
  await sink.publish([capture.received[0]!]);
  assert.equal((await jsm.streams.info(stream)).state.messages, 3);
});

test('Redis Streams sink: one entry per event with id, name, key, seq, payload and createdAt, stored once', async (t) => {
  if (!requireBinary(t, REDIS_SERVER)) return;
  const broker = await privateRedis();
  await broker.start();
  const REDIS_URL = broker.url;
  const key = `test:outbox:${unique()}`;
  const sink = await RedisStreamSink.connect({ url: REDIS_URL, stream: key });
  const client = createClient({ url: REDIS_URL });
  client.on('error', () => {});
  await client.connect();
  t.after(async () => {
    await client.close();
    await sink.close();
  });

  const events: DomainEvent[] = [
    { name: 'customer.created', payload: { id: 'cus_1', seq: 1 } },
    { name: 'customer_group.deleted', payload: { id: 'cusgroup_1', seq: 2, tags: ['a', 'b'] } },
  ];
  for (const event of events) {
    await record(event);
    await sleep(3);
  }
  assert.equal(await worker(t, { sink }).drain(), 2);
  const rows = await prisma.outboxEvent.findMany({ orderBy: [{ availableAt: 'asc' }, { id: 'asc' }] });

  const entries = (await client.xRange(key, '-', '+')) ?? [];
  assert.deepEqual(
    entries.map((entry) => entry.message),
    rows.map((row) => ({
      id: row.id,
      name: row.name,
      key: row.key,
      seq: String(row.seq),
      payload: JSON.stringify(row.payload),
      createdAt: row.createdAt.toISOString(),
    })),
  );
  assert.deepEqual(
    entries.map((entry) => JSON.parse(entry.message.payload ?? 'null') as unknown),
    events.map((e) => e.payload),
  );

  // Published again, as after a broker lost between storing a batch and its reply, beside a new
  // event: the new one is stored, the others once, for as long as JetStream's window.
  const again = rows.map(({ id, name, key, seq, payload, createdAt }) => ({ id, name, key, seq, payload, createdAt }));
  const fresh = { ...again[0]!, id: `evt_${unique()}`, seq: again[0]!.seq + 1 };
  await sink.publish([...again, fresh]);
  const after = (await client.xRange(key, '-', '+')) ?? [];
  assert.deepEqual(
    after.map((entry) => entry.message.id),
    [...rows.map((row) => row.id), fresh.id],
  );
  const lifetime = await client.pTTL(`{${key}}:published:${fresh.id}`);
  assert.ok(
    lifetime > 9 * 60_000 && lifetime <= 10 * 60_000,
    `the marker expires after the window (${lifetime} ms left)`,
  );
});

test('the log sink logs each event without its payload', async (t) => {
  const lines: string[] = [];
  // Plain pino, without the app logger's redaction, so only the sink can keep the token out.
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const token = `reset-${unique()}`;
  await record({ name: 'customer.password_reset', payload: { id: 'cus_1', email: 'who@example.com', token } });
  assert.equal(await worker(t, { sink: new LogSink(log) }).drain(), 1);

  const [row] = await prisma.outboxEvent.findMany();
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(entry.msg, 'event');
  assert.equal(entry.event, 'customer.password_reset');
  assert.equal(entry.eventId, row?.id);
  assert.ok(!lines[0]!.includes(token), 'the reset token is not logged');
  assert.ok(!lines[0]!.includes('who@example.com'), 'nor anything else from the payload');
});

test('a reset token reaches the sink, then is gone from the row: only its digest outlives delivery', async (t) => {
  const sink = new CapturingSink();
  const token = `reset-${unique()}`;
  const payload = { id: 'cus_x', email: 'who@example.com', token };
  await record(
    { name: 'customer.password_reset', payload },
    { name: 'customer.updated', payload: { id: 'cus_x', token: 'not-a-secret-here' } },
  );
  assert.equal(await worker(t, { sink }).drain(), 2);
  assert.deepEqual(
    sink.received.map((m) => m.payload),
    [payload, { id: 'cus_x', token: 'not-a-secret-here' }],
    'the sink got the token',
  );
  const rows = await prisma.outboxEvent.findMany({ orderBy: { name: 'asc' } });
  assert.deepEqual(
    rows.map((r) => [r.name, r.payload]),
    [
      ['customer.password_reset', { id: 'cus_x', email: 'who@example.com' }],
      ['customer.updated', { id: 'cus_x', token: 'not-a-secret-here' }],
    ],
  );
  const [holding] = await prisma.$queryRaw<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM outbox_event WHERE payload::text LIKE ${`%${token}%`}`;
  assert.equal(holding?.n, 0, 'no row holds the token');
});

test('a failed delivery keeps the token for the retry', async (t) => {
  const sink = new CapturingSink();
  sink.failure = new Error('down');
  const token = `reset-${unique()}`;
  await record({ name: 'customer.password_reset', payload: { id: 'cus_y', token } });
  assert.equal(await worker(t, { sink }).drain(), 0);
  const [row] = await prisma.outboxEvent.findMany();
  assert.deepEqual(row?.payload, { id: 'cus_y', token });
});

test('the default log sink prints the payload, token included, and keeps the mailbox, outside production only', async (t) => {
  for (const NODE_ENV of ['development', 'production'] as const) {
    await prisma.outboxEvent.deleteMany();
    const lines: string[] = [];
    // The app's own logger, redaction included.
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const mailbox = join(mkdtempSync(join(tmpdir(), 'cg-mailbox-')), 'sub', 'mailbox.jsonl');
    const sink = await createSink(
      {
        NODE_ENV,
        EVENT_SINK: 'log',
        MAILBOX_FILE: mailbox,
        NATS_URL: '',
        NATS_STREAM: '',
        REDIS_URL: '',
        REDIS_STREAM: '',
      },
      log,
    );
    const token = `reset-${unique()}`;
    await record({ name: 'customer.password_reset', payload: { id: 'cus_1', email: 'who@example.com', token } });
    assert.equal(await worker(t, { sink }).drain(), 1);
    assert.equal(lines.length, 1, NODE_ENV);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(entry.event, 'customer.password_reset');
    if (NODE_ENV === 'production') {
      assert.ok(!lines[0]!.includes(token), 'production: never the token');
      assert.equal(entry.payload, undefined);
      assert.ok(!existsSync(mailbox), 'production: no mailbox');
    } else {
      assert.deepEqual(
        JSON.parse(entry.payload as string),
        { id: 'cus_1', email: 'who@example.com', token },
        'development: the whole payload',
      );
      const [mail] = readFileSync(mailbox, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.deepEqual([mail.event, mail.payload.token], ['customer.password_reset', token]);
      // `npm run mailbox` prints it in plain text, with the mutation that uses it.
      const printed = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/mailbox.ts'], {
        env: { ...process.env, MAILBOX_FILE: mailbox },
        encoding: 'utf8',
      });
      assert.match(printed, /password reset for who@example\.com/);
      assert.ok(printed.includes(`resetPassword(input: { email: "who@example.com", token: "${token}"`), printed);
    }
  }
});

test('the broker binaries are found on PATH, or where NATS_SERVER_BIN / REDIS_SERVER_BIN say', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [empty, elsewhere] = [join(dir, 'empty'), join(dir, 'elsewhere')];
  mkdirSync(empty);
  mkdirSync(elsewhere);
  const fake = join(elsewhere, 'nats-server');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  writeFileSync(join(empty, 'nats-server'), 'not executable');
  const PATH = [empty, elsewhere].join(delimiter);
  assert.equal(findBinary('nats-server', 'NATS_SERVER_BIN', { PATH }), fake, 'the first executable one on PATH');
  assert.equal(
    findBinary('nats-server', 'NATS_SERVER_BIN', { PATH, NATS_SERVER_BIN: '/opt/nats/bin/nats-server' }),
    '/opt/nats/bin/nats-server',
    'the variable wins',
  );
  assert.equal(findBinary('no-such-broker', 'X_BIN', { PATH }), 'no-such-broker', 'unfound: the bare name');
});
