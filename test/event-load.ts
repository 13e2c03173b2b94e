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
import { type EventName, recordEvents, type DomainEvent as TypedEvent } from '../src/events/outbox.js';

/** An event with any payload: these tests drive the outbox itself, marking events with their own fields. */
type DomainEvent = { name: EventName; payload: Record<string, unknown> };
const asTyped = (events: DomainEvent[]) => events as unknown as TypedEvent[];

import { createSink, type EventSink } from '../src/events/sinks.js';
import { type OutboxWorker, startOutboxWorker } from '../src/events/worker.js';
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
    {
      NODE_ENV: 'test',
      EVENT_SINK: kind,
      MAILBOX_FILE: '',
      NATS_URL: broker.url,
      NATS_STREAM: STREAM,
      REDIS_URL: broker.url,
      REDIS_STREAM: STREAM,
    },
    silent,
  );
}

export interface Workers {
  workers: OutboxWorker[];
  sinks: EventSink[];
  stop(): Promise<void>;
}

/** `prismas.length` workers, one sink each (as separate instances would have), polling often. */
export async function startWorkers(
  kind: BrokerKind,
  broker: PrivateBroker,
  prismas: Prisma[],
  batchSize = 100,
): Promise<Workers> {
  const sinks = await Promise.all(prismas.map(() => openSink(kind, broker)));
  // Connected before anything is measured (JetStream may answer a moment after the port opens).
  const connected = () => sinks.every((sink) => sink.up !== false);
  for (let i = 0; i < 200 && !connected(); i++) await sleep(50);
  assert.ok(connected(), 'the sinks connected');
  const workers = prismas.map((prisma, i) =>
    startOutboxWorker({ prisma, sink: sinks[i]!, log: silent, pollMs: 50, batchSize }),
  );
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
  /**
   * Each key's committed events in commit order, as the labels in their payloads (`event`: the
   * write's id and the event's place in it). The order is taken inside each writing transaction,
   * right after `recordEvents` returned, that is once the transaction holds its keys' counter rows
   * (which it keeps until it ends): one key's writers pass that point in the order they commit.
   */
  committed: Map<string, string[]>;
  /** Writes rolled back on purpose after taking their numbers. */
  rolledBack: number;
  done: Promise<void>;
  stop(): void;
}

class RollBack extends Error {}

/**
 * Writers committing small transactions, all keys at once, until `durationMs` passes:
 * `writersPerKey` writers per customer or group, writer j on `prismas[j % prismas.length]` (three
 * pools on PostgreSQL, as three instances; on PGlite one pool with requests at once), so that one
 * customer's events are written by several instances AT ONCE. Some writes also carry an event of a
 * group (two keys in one transaction, in either order), and some roll back after taking their
 * numbers.
 */
export function writeLoad(
  prismas: Prisma | Prisma[],
  {
    customers = 6,
    groups = 2,
    durationMs,
    pauseMs = 5,
    writersPerKey = 1,
  }: { customers?: number; groups?: number; durationMs: number; pauseMs?: number; writersPerKey?: number },
): Load {
  const pools = Array.isArray(prismas) ? prismas : [prismas];
  const run = randomBytes(4).toString('hex');
  const committed = new Map<string, string[]>();
  const load: Load = {
    committed,
    rolledBack: 0,
    done: Promise.resolve(),
    stop: () => {
      stopped = true;
    },
  };
  let stopped = false;
  let writes = 0;
  const until = Date.now() + durationMs;
  const groupId = (i: number) => `cusgroup_${run}_${i}`;

  async function writer(prisma: Prisma, events: (label: () => string) => DomainEvent[]) {
    while (!stopped && Date.now() < until) {
      const write = `w${++writes}`;
      let i = 0;
      const batch = events(() => `${write}.${i++}`);
      const rollBack = Math.random() < 0.1;
      const taken: [string, string][] = [];
      try {
        await prisma.$transaction(
          async (tx) => {
            await recordEvents(tx, { kind: 'SYSTEM', name: 'test' }, asTyped(batch));
            // This transaction holds its keys' counters now, until it ends: the next writer of a
            // key gets here only after this one committed or rolled back.
            for (const event of batch) {
              const key = keyOf(event.name, event.payload as Record<string, unknown>);
              const labels = committed.get(key) ?? [];
              committed.set(key, labels);
              labels.push(event.payload.event as string);
              taken.push([key, event.payload.event as string]);
            }
            if (rollBack) throw new RollBack();
          },
          { maxWait: 10_000, timeout: 10_000 },
        );
      } catch (error) {
        for (const [key, label] of taken) {
          const labels = committed.get(key)!;
          labels.splice(labels.indexOf(label), 1);
        }
        if (!(error instanceof RollBack)) throw error;
        load.rolledBack++;
      }
      await sleep(pauseMs * (1 + Math.random() * 3));
    }
  }

  const writers: Promise<void>[] = [];
  const spawnWriters = (events: (label: () => string) => DomainEvent[]) => {
    for (let j = 0; j < writersPerKey; j++) writers.push(writer(pools[j % pools.length]!, events));
  };
  for (let i = 0; i < customers; i++) {
    const id = `cus_${run}_${i}`;
    spawnWriters((label) => {
      const events = Array.from(
        { length: 1 + Math.floor(Math.random() * 3) },
        (): DomainEvent =>
          Math.random() < 0.5
            ? { name: 'customer.updated', payload: { id, fields: ['first_name'], event: label() } }
            : {
                name: 'customer_address.updated',
                payload: { id: `cuaddr_${run}_${i}`, customer_id: id, event: label() },
              },
      );
      if (groups > 0 && Math.random() < 0.2) {
        const group: DomainEvent = {
          name: 'customer_group.updated',
          payload: { id: groupId(i % groups), added: [id], event: label() },
        };
        return Math.random() < 0.5 ? [group, ...events] : [...events, group];
      }
      return events;
    });
  }
  for (let i = 0; i < groups; i++) {
    spawnWriters((label) => [
      { name: 'customer_group.updated', payload: { id: groupId(i), fields: ['name'], event: label() } },
    ]);
  }
  load.done = Promise.all(writers).then(() => {});
  return load;
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
      for await (const message of await consumer.fetch({
        max_messages: Math.min(500, total - out.length),
        expires: 2_000,
      })) {
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

/** Where two lists of a key's labels first differ, for a readable failure. */
function firstDifference(key: string, got: string[], want: string[]): string | undefined {
  const at = got.findIndex((label, i) => label !== want[i]);
  if (at === -1 && got.length === want.length) return undefined;
  const i = at === -1 ? Math.min(got.length, want.length) : at;
  return `${key}: at ${i}, ${got[i] ?? 'nothing'} where the commit order has ${want[i] ?? 'nothing'} (${got.length} vs ${want.length} events)`;
}

/** Every committed event exactly once, and each key's events in commit order. */
export function assertDeliveredInOrder(delivered: Delivered[], committed: Map<string, string[]>) {
  const ids = delivered.map((d) => d.id);
  assert.equal(
    new Set(ids).size,
    ids.length,
    `no event twice in the stream (${ids.length - new Set(ids).size} duplicates)`,
  );
  const byKey = new Map<string, string[]>();
  for (const d of delivered) {
    const key = keyOf(d.name, d.payload);
    byKey.set(key, [...(byKey.get(key) ?? []), d.payload.event as string]);
  }
  const differences = [...new Set([...committed.keys(), ...byKey.keys()])]
    .map((key) => firstDifference(key, byKey.get(key) ?? [], committed.get(key) ?? []))
    .filter((d) => d !== undefined);
  assert.deepEqual(differences, [], "every key's committed events once each, in commit order");
  assert.equal(
    delivered.length,
    [...committed.values()].reduce((a, b) => a + b.length, 0),
    'nothing else in the stream',
  );
}

/**
 * In the outbox itself: each key's events are numbered 1..n, without gaps or duplicates, in the
 * order their transactions committed (rolled-back writes took their numbers back).
 */
export async function assertNumberedInCommitOrder(prisma: Prisma, committed: Map<string, string[]>) {
  const rows = await prisma.outboxEvent.findMany({
    select: { key: true, seq: true, payload: true },
    orderBy: [{ key: 'asc' }, { seq: 'asc' }],
  });
  const byKey = new Map<string, { seq: number; label: string }[]>();
  for (const row of rows)
    byKey.set(row.key, [
      ...(byKey.get(row.key) ?? []),
      { seq: row.seq, label: (row.payload as { event: string }).event },
    ]);
  const gaps: string[] = [];
  for (const [key, events] of byKey) {
    events.forEach((e, i) => {
      if (e.seq !== i + 1) gaps.push(`${key}: seq ${e.seq} at place ${i + 1}`);
    });
  }
  assert.deepEqual(gaps.slice(0, 5), [], 'each key numbered 1..n without gaps or duplicates');
  const differences = [...new Set([...committed.keys(), ...byKey.keys()])]
    .map((key) =>
      firstDifference(
        key,
        (byKey.get(key) ?? []).map((e) => e.label),
        committed.get(key) ?? [],
      ),
    )
    .filter((d) => d !== undefined);
  assert.deepEqual(differences, [], "each key's numbers follow its commit order");
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
      const rows =
        await prisma.$queryRaw`SELECT DISTINCT ON (key) key, seq, attempts, last_error, available_at, now() AS now,
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
    if (Date.now() - started > timeoutMs)
      throw new Error(`delivery did not resume within ${timeoutMs} ms of the broker's return`);
    await sleep(50);
  }
  return Date.now() - started;
}

/**
 * What a timing check allows beyond the service's own budget, for the machine rather than the
 * service: on a loaded 2-core machine (two test files at once, PostgreSQL and the broker on the same
 * cores) a process can wait a second or two for a core, and the broker's own start-up (JetStream
 * recovering its stream) takes longer too. The budget (`resumeWithinMs`, "within 5 s") is what the
 * service is held to and is reported against; the check fails only beyond budget + margin, and a run
 * over budget but within the margin says so in its diagnostic. The margin does not grow with the
 * outage or the backlog: a worker that waited out a backoff (seconds to minutes) still fails.
 */
export const LOADED_MACHINE_MARGIN_MS = 2_500;

export interface OutageResult {
  events: number;
  /** Events waiting in the outbox when the broker came back. */
  backlog: number;
  /** From the broker's return until the first of those was delivered (at most `resumeWithinMs` + LOADED_MACHINE_MARGIN_MS). */
  resumedMs: number;
  /** `resumedMs` was over `resumeWithinMs`, within the machine's margin. */
  overBudget: boolean;
  /** From the broker's return until each of those was delivered. */
  drainedMs: number;
}

/**
 * Writers and workers run; after `beforeMs` the broker is killed for `outageMs`, then started again
 * on the same port and data; writing goes on for `afterMs`. Asserts exactly once and order per key,
 * and that delivery of the backlog resumed within `resumeWithinMs` of the broker's return (plus
 * LOADED_MACHINE_MARGIN_MS for a loaded machine; `overBudget` tells).
 */
export async function outageUnderLoad(
  kind: BrokerKind,
  broker: PrivateBroker,
  prismas: Prisma[],
  {
    beforeMs,
    outageMs,
    afterMs,
    resumeWithinMs,
    pauseMs,
  }: { beforeMs: number; outageMs: number; afterMs: number; resumeWithinMs: number; pauseMs?: number },
): Promise<OutageResult> {
  const prisma = prismas[0]!;
  const workers = await startWorkers(kind, broker, prismas);
  // Each key written by as many instances as there are workers, at once.
  const load = writeLoad(prismas, {
    durationMs: beforeMs + outageMs + afterMs,
    pauseMs,
    writersPerKey: prismas.length,
  });
  try {
    await sleep(beforeMs);
    await broker.stop();
    await sleep(outageMs);
    await broker.start();
    const backlog = await undelivered(prisma);
    const resumedMs = await waitResumed(prisma, resumeWithinMs + LOADED_MACHINE_MARGIN_MS, backlog);
    const drainedMs = resumedMs + (await waitDelivered(prisma, 30_000, backlog));
    await load.done;
    await waitDelivered(prisma, 10_000);
    await assertNumberedInCommitOrder(prisma, load.committed);
    const delivered = await readBroker(kind, broker);
    assertDeliveredInOrder(delivered, load.committed);
    return {
      events: delivered.length,
      backlog: backlog.length,
      resumedMs,
      drainedMs,
      overBudget: resumedMs > resumeWithinMs,
    };
  } finally {
    load.stop();
    await load.done.catch(() => {});
    await workers.stop();
  }
}
