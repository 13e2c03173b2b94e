// Shared by the event-delivery tests (npm test, a few seconds of outage) and the reliability run
// (a minute): writers commit events of several customers and groups while outbox workers deliver
// them to a private broker, which is stopped and started again mid-load. What reached the broker
// is then read back and checked: every event once, each key's events in commit order, and how
// soon after the broker's return the backlog was gone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { createClient } from 'redis';
import type { Database } from '../src/db/index.js';
import { recordEvents, type DomainEvent } from '../src/events/outbox.js';
import { createSink, type EventSink } from '../src/events/sinks.js';
import { startOutboxWorker, type OutboxWorker } from '../src/events/worker.js';
import { createLogger } from '../src/logger.js';
import type { PrivateBroker } from './brokers.js';

type Prisma = Database['prisma'];
export type BrokerKind = 'nats' | 'redis';

export const STREAM = 'CUSTOMER_EVENTS_TEST';
const silent = createLogger('silent');

/** What a broker holds for one event, as read back. */
export interface Delivered {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  key?: string;
  seq?: number;
  /** NATS only: the message's headers. */
  headers?: Record<string, string>;
}

/** Opens a sink of the given kind as the server does (`createSink`), on the private broker. */
export function openSink(kind: BrokerKind, broker: PrivateBroker): Promise<EventSink> {
  return createSink(
    { NODE_ENV: 'test', EVENT_SINK: kind, NATS_URL: broker.url, NATS_STREAM: STREAM, REDIS_URL: broker.url, REDIS_STREAM: STREAM },
    silent,
  );
}

export interface Workers {
  workers: OutboxWorker[];
  sinks: EventSink[];
  stop(): Promise<void>;
}

/** `prismas.length` workers, one sink each (as separate instances would have), polling often. */
export async function startWorkers(kind: BrokerKind, broker: PrivateBroker, prismas: Prisma[], batchSize = 100): Promise<Workers> {
  const sinks = await Promise.all(prismas.map(() => openSink(kind, broker)));
  // Connected before anything is measured (JetStream may answer a moment after the port opens).
  const connected = () => sinks.every((sink) => sink.up !== false);
  for (let i = 0; i < 200 && !connected(); i++) await sleep(50);
  assert.ok(connected(), 'the sinks connected');
  const workers = prismas.map((prisma, i) => startOutboxWorker({ prisma, sink: sinks[i]!, log: silent, pollMs: 50, batchSize }));
  return {
    workers,
    sinks,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(sinks.map((s) => s.close()));
    },
  };
}

/** The key a consumer orders by, read from the payload the way a consumer would. */
export function keyOf(name: string, payload: Record<string, unknown>): string {
  if (name.startsWith('customer_group.')) return `customer_group:${String(payload.id)}`;
  if (name.startsWith('customer_address.')) return `customer:${String(payload.customer_id)}`;
  return `customer:${String(payload.id)}`;
}

export interface Load {
  /** Events committed per key, in commit order (each payload's `n` counts 1, 2, … per key). */
  committed: Map<string, number>;
  done: Promise<void>;
  stop(): void;
}

/**
 * Writers, one per customer or group, each committing small transactions one after another (so a
 * key's commit order is known: `n` in its payloads), all keys at once, until `durationMs` passes.
 */
export function writeLoad(
  prisma: Prisma,
  { customers = 6, groups = 2, durationMs, pauseMs = 5 }: { customers?: number; groups?: number; durationMs: number; pauseMs?: number },
): Load {
  const run = randomBytes(4).toString('hex');
  const committed = new Map<string, number>();
  let stopped = false;
  const until = Date.now() + durationMs;

  async function writer(events: (n: () => number) => DomainEvent[], key: string) {
    let n = 0;
    const next = () => ++n;
    while (!stopped && Date.now() < until) {
      const batch = events(next);
      await prisma.$transaction((tx) => recordEvents(tx, batch));
      committed.set(key, n);
      await sleep(pauseMs * (1 + Math.random() * 3));
    }
  }

  const writers: Promise<void>[] = [];
  for (let i = 0; i < customers; i++) {
    const id = `cus_${run}_${i}`;
    writers.push(
      writer(
        (n) =>
          Array.from({ length: 1 + Math.floor(Math.random() * 3) }, (): DomainEvent =>
            Math.random() < 0.5
              ? { name: 'customer.updated', payload: { id, fields: ['first_name'], n: n() } }
              : { name: 'customer_address.updated', payload: { id: `cuaddr_${run}_${i}`, customer_id: id, n: n() } },
          ),
        `customer:${id}`,
      ),
    );
  }
  for (let i = 0; i < groups; i++) {
    const id = `cusgroup_${run}_${i}`;
    writers.push(writer((n) => [{ name: 'customer_group.updated', payload: { id, fields: ['name'], n: n() } }], `customer_group:${id}`));
  }
  return { committed, done: Promise.all(writers).then(() => {}), stop: () => void (stopped = true) };
}

/** Everything in the broker's stream, in stream order. */
export async function readBroker(kind: BrokerKind, broker: PrivateBroker): Promise<Delivered[]> {
  return kind === 'nats' ? readNats(broker.url) : readRedis(broker.url);
}

async function readNats(url: string): Promise<Delivered[]> {
  const nc = await connectNats({ servers: url, timeout: 2_000 });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(STREAM);
    const info = await (await js.streams.get(STREAM)).info();
    const total = info.state.messages;
    const out: Delivered[] = [];
    while (out.length < total) {
      for await (const message of await consumer.fetch({ max_messages: Math.min(500, total - out.length), expires: 2_000 })) {
        const envelope = message.json<Delivered>();
        const headers: Record<string, string> = {};
        for (const [name, values] of message.headers ?? []) headers[name] = values[0]!;
        out.push({ ...envelope, headers });
        if (out.length === total) break;
      }
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function readRedis(url: string): Promise<Delivered[]> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  try {
    const entries = (await client.xRange(STREAM, '-', '+')) ?? [];
    return entries.map(({ message }) => ({
      id: message.id!,
      name: message.name!,
      payload: JSON.parse(message.payload ?? 'null') as Record<string, unknown>,
      ...(message.key === undefined ? {} : { key: message.key }),
      ...(message.seq === undefined ? {} : { seq: Number(message.seq) }),
    }));
  } finally {
    await client.close();
  }
}

/** Every committed event exactly once, and each key's events in commit order. */
export function assertDeliveredInOrder(delivered: Delivered[], committed: Map<string, number>) {
  const ids = delivered.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length, `no event twice in the stream (${ids.length - new Set(ids).size} duplicates)`);
  const byKey = new Map<string, number[]>();
  for (const d of delivered) {
    const key = keyOf(d.name, d.payload);
    byKey.set(key, [...(byKey.get(key) ?? []), d.payload.n as number]);
  }
  const outOfOrder: string[] = [];
  for (const [key, ns] of byKey) {
    for (let i = 1; i < ns.length; i++) if (ns[i]! < ns[i - 1]!) outOfOrder.push(`${key}: ${ns[i - 1]} then ${ns[i]}`);
  }
  assert.deepEqual(outOfOrder, [], `every key's events in commit order (${outOfOrder.length} pairs out of order)`);
  for (const [key, count] of committed) {
    assert.deepEqual(byKey.get(key), Array.from({ length: count }, (_, i) => i + 1), `${key}: each committed event once`);
  }
  assert.equal(delivered.length, [...committed.values()].reduce((a, b) => a + b, 0), 'nothing else in the stream');
}

/** Each event carries its key and its sequence number within the key: 1, 2, 3, … */
export function assertSequenced(delivered: Delivered[], kind: BrokerKind) {
  const last = new Map<string, number>();
  for (const d of delivered) {
    const key = keyOf(d.name, d.payload);
    assert.equal(d.key, key, `the envelope names the key of ${d.name}`);
    assert.equal(d.seq, (last.get(key) ?? 0) + 1, `${key}: sequence numbers without gaps`);
    last.set(key, d.seq!);
    if (kind === 'nats') {
      assert.equal(d.headers?.['Nats-Msg-Id'], d.id);
      assert.equal(d.headers?.['Event-Key'], key);
      assert.equal(d.headers?.['Event-Seq'], String(d.seq));
    }
  }
}

export async function undelivered(prisma: Prisma): Promise<string[]> {
  const rows = await prisma.outboxEvent.findMany({ where: { deliveredAt: null }, select: { id: true } });
  return rows.map((r) => r.id);
}

/**
 * Waits until every event in the outbox (or, given `ids`, each of those) is delivered; returns how
 * long that took, or throws after `timeoutMs`.
 */
export async function waitDelivered(prisma: Prisma, timeoutMs: number, ids?: string[]): Promise<number> {
  const started = Date.now();
  const waiting = async () => {
    const left = await undelivered(prisma);
    return ids ? left.filter((id) => ids.includes(id)) : left;
  };
  while ((await waiting()).length > 0) {
    if (Date.now() - started > timeoutMs) {
      const rows = await prisma.$queryRaw`SELECT DISTINCT ON (key) key, seq, attempts, last_error, available_at, now() AS now,
          (SELECT count(*)::int FROM outbox_event p WHERE p.key = e.key AND p.delivered_at IS NULL) AS waiting
        FROM outbox_event e WHERE delivered_at IS NULL ORDER BY key, seq LIMIT 3`;
      throw new Error(`events still undelivered after ${timeoutMs} ms: ${JSON.stringify(rows)}`);
    }
    await sleep(50);
  }
  return Date.now() - started;
}

/** Waits until one of `ids` is delivered; returns how long that took, or throws after `timeoutMs`. */
async function waitResumed(prisma: Prisma, timeoutMs: number, ids: string[]): Promise<number> {
  const started = Date.now();
  while ((await undelivered(prisma)).filter((id) => ids.includes(id)).length === ids.length) {
    if (Date.now() - started > timeoutMs) throw new Error(`delivery did not resume within ${timeoutMs} ms of the broker's return`);
    await sleep(50);
  }
  return Date.now() - started;
}

export interface OutageResult {
  events: number;
  /** Events waiting in the outbox when the broker came back. */
  backlog: number;
  /** From the broker's return until the first of those was delivered. */
  resumedMs: number;
  /** From the broker's return until each of those was delivered. */
  drainedMs: number;
}

/**
 * Writers and workers run; after `beforeMs` the broker is killed for `outageMs`, then started again
 * on the same port and data; writing goes on for `afterMs`. Asserts exactly once and order per key,
 * and that delivery of the backlog resumed within `resumeWithinMs` of the broker's return.
 */
export async function outageUnderLoad(
  kind: BrokerKind,
  broker: PrivateBroker,
  prismas: Prisma[],
  { beforeMs, outageMs, afterMs, resumeWithinMs, pauseMs }: { beforeMs: number; outageMs: number; afterMs: number; resumeWithinMs: number; pauseMs?: number },
): Promise<OutageResult> {
  const prisma = prismas[0]!;
  const workers = await startWorkers(kind, broker, prismas);
  const load = writeLoad(prisma, { durationMs: beforeMs + outageMs + afterMs, pauseMs });
  try {
    await sleep(beforeMs);
    await broker.stop();
    await sleep(outageMs);
    await broker.start();
    const backlog = await undelivered(prisma);
    const resumedMs = await waitResumed(prisma, resumeWithinMs, backlog);
    const drainedMs = resumedMs + (await waitDelivered(prisma, 30_000, backlog));
    await load.done;
    await waitDelivered(prisma, 10_000);
    const delivered = await readBroker(kind, broker);
    assertDeliveredInOrder(delivered, load.committed);
    return { events: delivered.length, backlog: backlog.length, resumedMs, drainedMs };
  } finally {
    load.stop();
    await load.done.catch(() => {});
    await workers.stop();
  }
}
