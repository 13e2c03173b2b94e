/**
 * What subscriptions read: the delivered events in the order their deliveries committed
 * (`outbox_event.delivery_seq`, numbered under a lock by the worker, so a higher number is never
 * visible before a lower one), after the broker has them and never before their transaction
 * committed. Each subscriber reads the table at its own pace from its own position: nothing is
 * buffered for one that stops reading (it holds one page, at most PAGE events), and one that
 * reconnects resumes after the last event it saw. Every instance reads the same table, so a
 * subscriber sees every event whichever instance delivered it.
 *
 * One poller per process, running only while someone subscribes, watches the newest delivery
 * number and wakes the subscribers waiting for it.
 */
import type { Services } from '../context.js';

export interface FeedEvent {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  /** The delivery number (a bigint as text). */
  position: string;
}

const PAGE = 100;

export interface FeedFilter {
  names: string[] | null;
  key: string | null;
}

export class EventFeed {
  private head = 0n;
  private readonly waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private subscribers = 0;
  private stopped = false;

  constructor(
    private readonly query: Services['query'],
    private readonly pollMs: number,
  ) {}

  /** The newest delivery number: where a subscription without `after` starts. */
  async newest(): Promise<bigint> {
    const [row] = await this.query<{ head: string | null }>(
      'SELECT max(delivery_seq)::text AS head FROM outbox_event',
      [],
    );
    return BigInt(row?.head ?? 0);
  }

  /**
   * The delivery number of an event (of this key, if given), or null when it is unknown, another
   * key's, not delivered yet, or gone.
   */
  async positionOf(eventId: string, key: string | null): Promise<bigint | null> {
    const [row] = await this.query<{ position: string | null }>(
      'SELECT delivery_seq::text AS position FROM outbox_event WHERE id = $1 AND ($2::text IS NULL OR key = $2)',
      [eventId, key],
    );
    return row?.position ? BigInt(row.position) : null;
  }

  /**
   * The events after `position` (of these names, of this key — `customer:<id>` —, if given), as
   * they are delivered, until stopped.
   */
  async *events(position: bigint, { names, key }: FeedFilter): AsyncGenerator<FeedEvent> {
    this.subscribers++;
    this.poll();
    try {
      while (!this.stopped) {
        // The poller's newest number: every number up to it is committed (the worker numbers in
        // commit order), so after reading up to it the reader may move there, past the events the
        // filter skipped. Read from the poller, not per subscriber: one query per wake, not two.
        const upto = this.head;
        const rows = await this.query<{
          id: string;
          name: string;
          payload: Record<string, unknown>;
          created_at: Date;
          position: string;
        }>(
          `SELECT id, name, payload, created_at, delivery_seq::text AS position FROM outbox_event
           WHERE delivery_seq > $1 AND delivery_seq <= $2 AND ($3::text[] IS NULL OR name = ANY($3))
             AND ($4::text IS NULL OR key = $4)
           ORDER BY delivery_seq LIMIT ${PAGE}`,
          [position.toString(), upto.toString(), names, key],
        );
        for (const row of rows) {
          position = BigInt(row.position);
          yield { id: row.id, name: row.name, payload: row.payload, createdAt: row.created_at, position: row.position };
        }
        if (rows.length < PAGE) {
          if (upto > position) position = upto;
          await this.newer(position);
        }
      }
    } finally {
      this.subscribers--;
    }
  }

  /** Ends every subscription (the server is stopping). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  private newer(position: bigint): Promise<void> {
    if (this.head > position || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  private poll(): void {
    if (this.timer || this.stopped) return;
    const tick = async () => {
      try {
        const newest = await this.newest();
        if (newest > this.head) {
          this.head = newest;
          for (const wake of [...this.waiters]) wake();
        }
      } catch {
        // The database is away: the next tick tries again; subscribers wait meanwhile.
      }
      this.timer = this.subscribers > 0 && !this.stopped ? setTimeout(tick, this.pollMs).unref() : undefined;
    };
    this.timer = setTimeout(tick, 0).unref();
  }
}
