import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { startPeriodic } from '../lib/periodic.js';
import type { Logger } from '../logger.js';
import { SECRET_PAYLOAD_KEYS } from './outbox.js';
import type { EventSink, OutboxMessage } from './sinks.js';

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
 * Delivers outbox events to the sink, at least once and in order of (available_at, id). Rows are
 * claimed with FOR UPDATE SKIP LOCKED and stay locked until marked delivered, so workers in several
 * processes sharing one database each deliver a different batch.
 */
export function startOutboxWorker({
  prisma,
  sink,
  log,
  pollMs = 500,
  batchSize = 100,
  maxAttempts,
}: OutboxWorkerOptions): OutboxWorker {
  const retryable = maxAttempts === undefined ? Prisma.empty : Prisma.sql`AND attempts < ${maxAttempts}`;
  const scrubbed = Prisma.sql`CASE name ${Prisma.join(
    Object.entries(SECRET_PAYLOAD_KEYS).map(([name, keys]) => Prisma.sql`WHEN ${name} THEN payload - ARRAY[${Prisma.join(keys)}]::text[]`),
    ' ',
  )} ELSE payload END`;

  async function deliverBatch(): Promise<Batch> {
    let failure: { ids: string[]; error: unknown } | undefined;
    const batch = await prisma.$transaction(
      async (tx) => {
        const messages = await tx.$queryRaw<OutboxMessage[]>`
          SELECT id, name, payload, created_at AS "createdAt"
          FROM outbox_event
          WHERE delivered_at IS NULL AND available_at <= now() ${retryable}
          ORDER BY available_at, id
          LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED`;
        const ids = messages.map((message) => message.id);
        if (ids.length === 0) return { claimed: 0, delivered: 0 };
        try {
          await sink.publish(messages);
        } catch (error) {
          failure = { ids, error };
          return { claimed: ids.length, delivered: 0 };
        }
        // Delivered, and its secrets gone from the row in the same statement.
        await tx.$executeRaw`UPDATE outbox_event SET delivered_at = ${new Date()}, payload = ${scrubbed}
          WHERE id IN (${Prisma.join(ids)})`;
        return { claimed: ids.length, delivered: ids.length };
      },
      // Held open while the broker acknowledges; each sink bounds that wait itself.
      { maxWait: 10_000, timeout: 60_000 },
    );
    // After the claiming transaction, so that a failure is recorded even if that transaction died.
    if (failure) await recordFailure(failure.ids, failure.error);
    return batch;
  }

  /** Pushes the events back: 1 s, 2 s, 4 s, ... at most 5 minutes. */
  async function recordFailure(ids: string[], error: unknown) {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
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
    if (abandoned) log.error({ sink: sink.name, events: abandoned, maxAttempts }, 'outbox events abandoned after too many attempts');
  }

  async function deliverDue(): Promise<number> {
    let delivered = 0;
    while (!job.stopped) {
      const batch = await deliverBatch();
      delivered += batch.delivered;
      if (batch.claimed < batchSize || batch.delivered < batch.claimed) break;
    }
    return delivered;
  }

  // One run at a time, so one worker never has two batches in flight.
  const job = startPeriodic(deliverDue, {
    everyMs: pollMs,
    onError: (error) => log.error({ err: error }, 'outbox worker: batch failed'),
  });
  return { drain: job.run, stop: job.stop };
}
