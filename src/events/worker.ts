import { DEFAULTS } from '../env.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { startPeriodic } from '../lib/periodic.js';
import type { Logger } from '../logger.js';
import { countUndeliveredWith, deliveryFailures, eventsDelivered } from './metrics.js';
import { SECRET_PAYLOAD_KEYS } from './outbox.js';
import { type EventSink, type OutboxMessage, PartlyPublished, SinkUnavailable } from './sinks.js';

/** The transaction lock that puts delivery numbers in commit order (a key of our own). */
const DELIVERY_LOCK = 0x6f7574626f78; // 'outbox'

export interface OutboxWorkerOptions {
  prisma: PrismaClient;
  sink: EventSink;
  log: Logger;
  pollMs?: number;
  batchSize?: number;
  /** After this many failed attempts an event is no longer retried. Unset: retried forever. */
  maxAttempts?: number;
}

export interface OutboxWorker {
  /** Delivers everything due now; returns how many events were delivered. After stop(), delivers nothing. */
  drain(): Promise<number>;
  /** Stops polling and waits for the batch in progress. */
  stop(): Promise<void>;
}

const MAX_ERROR_LENGTH = 1_000;

interface Batch {
  claimed: number;
  delivered: number;
}

/**
 * Delivers outbox events to the sink, at least once, each key's (customer's or group's) in its
 * sequence order. A worker claims only a key's first undelivered event (none while an earlier one
 * of its key is locked by another worker or waits for its retry), keys in turn, then the events right after it,
 * and keeps the rows locked (FOR UPDATE SKIP LOCKED) until they are marked delivered: one key is
 * delivered by one worker at a time, however many processes share the database. While the sink is
 * unreachable nothing is tried; when it is back, events waiting for a retry are due at once.
 */
export function startOutboxWorker({
  prisma,
  sink,
  log,
  pollMs = DEFAULTS.OUTBOX_POLL_MS,
  batchSize = 100,
  maxAttempts,
}: OutboxWorkerOptions): OutboxWorker {
  // An abandoned event (maxAttempts reached) no longer holds its key back: a gap in its numbers.
  const retryable = (alias: string) =>
    maxAttempts === undefined ? Prisma.empty : Prisma.sql`AND ${Prisma.raw(alias)}.attempts < ${maxAttempts}`;
  const scrubbed = Prisma.sql`CASE name ${Prisma.join(
    Object.entries(SECRET_PAYLOAD_KEYS).map(
      ([name, keys]) => Prisma.sql`WHEN ${name} THEN payload - ARRAY[${Prisma.join(keys)}]::text[]`,
    ),
    ' ',
  )} ELSE payload END`;
  const columns = Prisma.sql`e.id, e.name, e.payload, e.created_at AS "createdAt", e.key, e.seq`;

  /** The key of the last first this worker claimed: the next batch starts after it, so every key gets its turn. */
  let cursor: string | undefined;

  /**
   * Up to `limit` due events that are the first undelivered of their key, keys in order from just
   * after `after` up to `upTo` (inclusive). Each key's first undelivered event is found by one step
   * down the (key, seq) index of undelivered events (outbox_event_pending_key_idx), from the key
   * before it, and locked (SKIP LOCKED: another worker has that key) only as far as the LIMIT asks:
   * a claim reads about as many index entries as it claims and skips, whatever the backlog behind
   * them (rather than sorting every due event and asking for each whether an earlier one of its
   * key waits). A key whose first waits for its retry or is held by another worker is skipped whole.
   */
  function claimFirsts(
    tx: Prisma.TransactionClient,
    limit: number,
    after: string | undefined,
    upTo: string | undefined,
  ) {
    const from = after === undefined ? Prisma.empty : Prisma.sql`AND o.key > ${after}`;
    const to = upTo === undefined ? Prisma.empty : Prisma.sql`AND o.key <= ${upTo}`;
    return tx.$queryRaw<OutboxMessage[]>`
      WITH RECURSIVE head(key, seq) AS (
        (SELECT o.key, o.seq FROM outbox_event o
          WHERE o.delivered_at IS NULL ${retryable('o')} ${from} ${to}
          ORDER BY o.key, o.seq LIMIT 1)
        UNION ALL
        SELECT n.key, n.seq FROM head h CROSS JOIN LATERAL (
          SELECT o.key, o.seq FROM outbox_event o
          WHERE o.delivered_at IS NULL ${retryable('o')} AND o.key > h.key ${to}
          ORDER BY o.key, o.seq LIMIT 1) n
      )
      SELECT f.* FROM head h CROSS JOIN LATERAL (
        SELECT ${columns} FROM outbox_event e
        -- Again on the row: one that another worker delivered since this statement began is not taken.
        WHERE e.key = h.key AND e.seq = h.seq AND e.delivered_at IS NULL AND e.available_at <= now() ${retryable('e')}
        FOR UPDATE SKIP LOCKED) f
      LIMIT ${limit}`;
  }

  /** The due events after those firsts, of the same keys, in key and sequence order. */
  function claimFollowers(tx: Prisma.TransactionClient, firsts: OutboxMessage[]) {
    return tx.$queryRaw<OutboxMessage[]>`
      SELECT ${columns}
      FROM outbox_event e
      WHERE e.key IN (${Prisma.join(firsts.map((m) => m.key))}) AND e.id NOT IN (${Prisma.join(firsts.map((m) => m.id))})
        AND e.delivered_at IS NULL AND e.available_at <= now() ${retryable('e')}
      ORDER BY e.key, e.seq
      LIMIT ${batchSize - firsts.length}
      FOR UPDATE SKIP LOCKED`;
  }

  /** Each first with the followers that continue it without a gap, key after key. */
  async function claim(tx: Prisma.TransactionClient): Promise<OutboxMessage[]> {
    // Round the keys: those after the cursor, then from the start up to it.
    const firsts = await claimFirsts(tx, batchSize, cursor, undefined);
    if (cursor !== undefined && firsts.length < batchSize)
      firsts.push(...(await claimFirsts(tx, batchSize - firsts.length, undefined, cursor)));
    if (firsts.length === 0) return firsts;
    cursor = firsts.at(-1)!.key;
    if (firsts.length >= batchSize) return firsts;
    const followers = await claimFollowers(tx, firsts);
    const messages: OutboxMessage[] = [];
    for (const first of firsts) {
      messages.push(first);
      let seq = first.seq;
      for (const next of followers) {
        if (next.key === first.key && next.seq === seq + 1) {
          messages.push(next);
          seq++;
        }
      }
    }
    return messages;
  }

  async function deliverBatch(): Promise<Batch> {
    let failure: { ids: string[]; error: unknown } | undefined;
    const batch = await prisma.$transaction(
      async (tx) => {
        const messages = await claim(tx);
        const ids = messages.map((message) => message.id);
        if (ids.length === 0) return { claimed: 0, delivered: 0 };
        let acknowledged = ids;
        try {
          await sink.publish(messages);
        } catch (error) {
          acknowledged = error instanceof PartlyPublished ? error.acknowledged : [];
          failure = {
            ids: ids.filter((id) => !acknowledged.includes(id)),
            error: error instanceof PartlyPublished ? error.cause : error,
          };
        }
        // Delivered, and its secrets gone from the row in the same statement. Numbered in the
        // batch's order under a transaction lock, so that delivery numbers are in commit order
        // (what subscriptions tail: feed.ts); the lock is held only from here to the commit.
        if (acknowledged.length) {
          const order = messages.map((message) => message.id).filter((id) => acknowledged.includes(id));
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DELIVERY_LOCK})`;
          await tx.$executeRaw`UPDATE outbox_event e
            SET delivered_at = ${new Date()}, payload = ${scrubbed}, delivery_seq = d.n
            FROM (SELECT id, nextval('outbox_delivery_seq') AS n
                  FROM (SELECT id FROM unnest(${order}::text[]) WITH ORDINALITY AS u(id, pos) ORDER BY pos) ordered) d
            WHERE e.id = d.id`;
        }
        return { claimed: ids.length, delivered: acknowledged.length };
      },
      // Held open while the broker acknowledges; each sink bounds that wait itself.
      { maxWait: 10_000, timeout: 60_000 },
    );
    if (batch.delivered) eventsDelivered.inc({ sink: sink.name }, batch.delivered);
    // After the claiming transaction, so that a failure is recorded even if that transaction died.
    if (failure) await recordFailure(failure.ids, failure.error);
    return batch;
  }

  /** Pushes the events back: 1 s, 2 s, 4 s, ... at most 5 minutes (cut short when the sink reconnects). */
  async function recordFailure(ids: string[], error: unknown) {
    deliveryFailures.inc({ sink: sink.name }, ids.length);
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
    // An outage is logged once by the sink itself.
    if (!(error instanceof SinkUnavailable))
      log.warn({ err: error, sink: sink.name, events: ids.length }, 'outbox delivery failed; will retry');
    // The right-hand sides see the old attempts; least() keeps power() within interval range.
    const rows = await prisma.$queryRaw<{ attempts: number }[]>`
      UPDATE outbox_event
      SET attempts = attempts + 1,
          last_error = ${message},
          available_at = now() + least(power(2, least(attempts, 9)) * interval '1 second', interval '5 minutes')
      WHERE id IN (${Prisma.join(ids)}) AND delivered_at IS NULL
      RETURNING attempts`;
    const abandoned = maxAttempts === undefined ? 0 : rows.filter((row) => row.attempts >= maxAttempts).length;
    if (abandoned)
      log.error({ sink: sink.name, events: abandoned, maxAttempts }, 'outbox events abandoned after too many attempts');
  }

  async function deliverDue(): Promise<number> {
    let delivered = 0;
    // While the broker is away every attempt would fail and push the events further back.
    while (!job.stopped && sink.up !== false) {
      const batch = await deliverBatch();
      delivered += batch.delivered;
      if (batch.claimed < batchSize || batch.delivered < batch.claimed) break;
    }
    return delivered;
  }

  /**
   * The broker is back: what failed while it was away is due now, not at the end of its backoff
   * (which grows to minutes). Every instance does this on its own reconnect; doing it twice is harmless.
   */
  async function resumeAfterOutage() {
    if (job.stopped) return;
    await prisma.$executeRaw`UPDATE outbox_event SET available_at = now() WHERE delivered_at IS NULL AND available_at > now() ${retryable('outbox_event')}`;
    await job.run();
  }

  // One run at a time, so one worker never has two batches in flight.
  const job = startPeriodic(deliverDue, {
    everyMs: pollMs,
    onError: (error) => log.error({ err: error }, 'outbox worker: batch failed'),
  });
  sink.onReconnect?.(
    () =>
      void resumeAfterOutage().catch((error: unknown) =>
        log.error({ err: error }, 'outbox worker: resuming after an outage failed'),
      ),
  );
  countUndeliveredWith(async () => {
    const [row] = await prisma.$queryRaw<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM outbox_event WHERE delivered_at IS NULL ${retryable('outbox_event')}`;
    return row?.n ?? 0;
  });
  return {
    drain: job.run,
    stop: () => {
      countUndeliveredWith(undefined);
      return job.stop();
    },
  };
}
