import { DEFAULTS } from '../env.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { startPeriodic } from '../lib/periodic.js';
import type { Logger } from '../logger.js';

export interface RetentionOptions {
  prisma: PrismaClient;
  log: Logger;
  /** How often to trim; 0: never by itself (only `run()`). */
  intervalMs?: number;
  /** Most rows one DELETE removes, so that no statement holds many row locks or runs long. */
  batchSize?: number;
  /** Delivered outbox events are kept this long (to see what was sent), then deleted. */
  deliveredEventsRetentionHours?: number;
  /** Timeline entries older than this are deleted; 0: kept for good. */
  timelineRetentionDays?: number;
  /** The clock expiries are measured by (the app's; tests move it). */
  now?: () => Date;
}

/** Rows deleted by one run, per kind. */
export interface Trimmed {
  sessions: number;
  resetTokens: number;
  /** Email-change, invitation and marketing-confirmation tokens. */
  tokens: number;
  rateLimits: number;
  deliveredEvents: number;
  timelineEntries: number;
}

export interface RetentionJob {
  /** Trims everything due now; returns what it deleted. After stop(), deletes nothing. */
  run(): Promise<Trimmed>;
  /** Stops the timer and waits for the run in progress. */
  stop(): Promise<void>;
}

/**
 * Deletes what has expired: sessions, reset tokens (used ones are deleted when used), rate-limit
 * counters, and delivered outbox events older than the retention. In batches of `batchSize`, each
 * its own statement, choosing rows with FOR UPDATE SKIP LOCKED: several instances may run the job
 * at once, each deleting different rows, and none waits on another or on a request's locks.
 */
export function startRetentionJob({
  prisma,
  log,
  intervalMs = DEFAULTS.RETENTION_INTERVAL_MS,
  batchSize = DEFAULTS.RETENTION_BATCH_SIZE,
  deliveredEventsRetentionHours = DEFAULTS.DELIVERED_EVENTS_RETENTION_HOURS,
  timelineRetentionDays = DEFAULTS.TIMELINE_RETENTION_DAYS,
  now = () => new Date(),
}: RetentionOptions): RetentionJob {
  async function trim(table: string, key: string, due: Prisma.Sql): Promise<number> {
    let total = 0;
    while (!job.stopped) {
      const deleted = await prisma.$executeRaw`DELETE FROM ${Prisma.raw(table)} WHERE ${Prisma.raw(key)} IN (
        SELECT ${Prisma.raw(key)} FROM ${Prisma.raw(table)} WHERE ${due} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`;
      total += deleted;
      if (deleted < batchSize) break;
    }
    return total;
  }

  async function trimAll(): Promise<Trimmed> {
    const at = now();
    const eventsBefore = new Date(at.getTime() - deliveredEventsRetentionHours * 3_600_000);
    const started = performance.now();
    const trimmed: Trimmed = {
      sessions: await trim('customer_session', 'id', Prisma.sql`expires_at <= ${at}`),
      resetTokens: await trim('customer_password_reset', 'customer_id', Prisma.sql`expires_at <= ${at}`),
      tokens: await trim('customer_token', 'token_hash', Prisma.sql`expires_at <= ${at}`),
      // rate-limiter-flexible's `expire` is epoch milliseconds, by its own clock (the process's).
      rateLimits: await trim('rate_limit', 'key', Prisma.sql`expire <= ${BigInt(Date.now())}`),
      deliveredEvents: await trim('outbox_event', 'id', Prisma.sql`delivered_at <= ${eventsBefore}`),
      timelineEntries:
        timelineRetentionDays > 0
          ? await trim(
              'customer_timeline_entry',
              'id',
              Prisma.sql`occurred_at <= ${new Date(at.getTime() - timelineRetentionDays * 86_400_000)}`,
            )
          : 0,
    };
    const total = Object.values(trimmed).reduce((sum, n) => sum + n, 0);
    const fields = { trimmed, ms: Math.round(performance.now() - started) };
    if (total) log.info(fields, 'retention: expired rows deleted');
    else log.debug(fields, 'retention: nothing to delete');
    return trimmed;
  }

  // One run at a time, so one job never deletes in two runs at once.
  const job = startPeriodic(trimAll, {
    everyMs: intervalMs > 0 ? intervalMs : null,
    onError: (error) => log.error({ err: error }, 'retention: run failed'),
  });
  return { run: job.run, stop: job.stop };
}
