import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { connect as connectNats, nanos, type NatsConnection } from '@nats-io/transport-node';
import { createClient } from 'redis';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';

export interface OutboxMessage {
  id: string;
  name: string;
  payload: unknown;
  createdAt: Date;
}

/** Where the outbox worker delivers events. */
export interface EventSink {
  readonly name: string;
  /** Resolves only once the broker has acknowledged every message; rejects otherwise. */
  publish(messages: OutboxMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** What a broker stores per event: the event itself, self-describing. */
function envelope(message: OutboxMessage) {
  return { id: message.id, name: message.name, payload: message.payload, createdAt: message.createdAt.toISOString() };
}

export interface LogSinkOptions {
  /**
   * Log each event's payload too, reset tokens included, so that a developer without a mail
   * sender can reset a password. Never in production: the log would hold live tokens.
   */
  payloads?: boolean;
}

/** Logs that each event happened; the payload only where `payloads` allows it. */
export class LogSink implements EventSink {
  readonly name = 'log';
  constructor(
    private readonly log: Logger,
    private readonly options: LogSinkOptions = {},
  ) {}

  async publish(messages: OutboxMessage[]): Promise<void> {
    for (const message of messages) {
      // As a JSON string: the logger's redaction (of `token` and the like) applies to objects.
      const payload = this.options.payloads ? { payload: JSON.stringify(message.payload) } : {};
      this.log.info({ event: message.name, eventId: message.id, ...payload }, 'event');
    }
  }

  async close(): Promise<void> {}
}

// The roots of Medusa's customer-domain event names (customer.created, customer_group.updated, ...).
const EVENT_ROOTS = ['customer', 'customer_group', 'customer_address'];

// Longer than the worker's longest retry backoff (5 minutes), so a batch that was partly
// acknowledged before it failed is not stored twice when it is retried.
const DUPLICATE_WINDOW_MS = 10 * 60_000;

export interface NatsSinkOptions {
  url: string;
  stream: string;
  /** Prepended to every subject (`<prefix>.customer.created`); without it the subject is the event name. */
  subjectPrefix?: string;
  /** How long to wait for each PubAck. */
  timeoutMs?: number;
}

/**
 * Publishes to a JetStream stream, subject = event name. The event id is the JetStream message id,
 * so an event published again after a crash (published, but not yet marked delivered) is dropped
 * by the server as a duplicate.
 */
export class NatsSink implements EventSink {
  readonly name = 'nats';

  private constructor(
    private readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly subjectPrefix: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  static async connect({ url, stream, subjectPrefix, timeoutMs = 5_000 }: NatsSinkOptions): Promise<NatsSink> {
    const connection = await connectNats({ servers: url, timeout: timeoutMs });
    try {
      await ensureStream(connection, stream, subjectPrefix ? [`${subjectPrefix}.>`] : EVENT_ROOTS.map((root) => `${root}.>`));
      return new NatsSink(connection, jetstream(connection), subjectPrefix, timeoutMs);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  subjectOf(eventName: string): string {
    return this.subjectPrefix ? `${this.subjectPrefix}.${eventName}` : eventName;
  }

  async publish(messages: OutboxMessage[]): Promise<void> {
    // All in flight at once; one connection keeps them in order.
    await Promise.all(
      messages.map((message) =>
        this.js.publish(this.subjectOf(message.name), JSON.stringify(envelope(message)), {
          msgID: message.id,
          timeout: this.timeoutMs,
        }),
      ),
    );
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

/** Creates the stream, or adds our subjects to it if it exists without them. */
async function ensureStream(connection: NatsConnection, stream: string, subjects: string[]): Promise<void> {
  const jsm = await jetstreamManager(connection);
  try {
    const info = await jsm.streams.info(stream);
    const missing = subjects.filter((subject) => !info.config.subjects.includes(subject));
    if (missing.length) await jsm.streams.update(stream, { subjects: [...info.config.subjects, ...missing] });
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
    await jsm.streams.add({ name: stream, subjects, duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
  }
}

export interface RedisStreamSinkOptions {
  url: string;
  stream: string;
  /** Receives connection errors; the client reconnects by itself. */
  log?: Logger;
}

/**
 * Appends to a Redis stream: one entry per event with fields id, name, payload (JSON), createdAt.
 * Redis has no de-duplication, so consumers should treat `id` as an idempotency key.
 */
export class RedisStreamSink implements EventSink {
  readonly name = 'redis';

  private constructor(
    private readonly client: RedisClient,
    private readonly stream: string,
  ) {}

  static async connect({ url, stream, log }: RedisStreamSinkOptions): Promise<RedisStreamSink> {
    return new RedisStreamSink(await connectRedis(url, log), stream);
  }

  async publish(messages: OutboxMessage[]): Promise<void> {
    const multi = this.client.multi();
    for (const message of messages) {
      const { id, name, payload, createdAt } = envelope(message);
      multi.xAdd(this.stream, '*', { id, name, payload: JSON.stringify(payload ?? null), createdAt });
    }
    await multi.exec();
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}

type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

async function connectRedis(url: string, log: Logger | undefined) {
  let connected = false;
  const client = createClient({
    url,
    // Fail publishes while disconnected instead of queueing them, so the worker backs off.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      // Fail fast at startup; once connected, keep reconnecting.
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * 2 ** retries, 5_000) : cause),
    },
  });
  // Without a listener an 'error' event would end the process.
  client.on('error', (error: Error) => log?.warn({ err: error }, 'redis event sink connection error'));
  await client.connect();
  connected = true;
  return client;
}

export type SinkSettings = Pick<Env, 'NODE_ENV' | 'EVENT_SINK' | 'NATS_URL' | 'NATS_STREAM' | 'REDIS_URL' | 'REDIS_STREAM'>;

export async function createSink(env: SinkSettings, log: Logger): Promise<EventSink> {
  switch (env.EVENT_SINK) {
    case 'log':
      return new LogSink(log, { payloads: env.NODE_ENV !== 'production' });
    case 'nats':
      return NatsSink.connect({ url: env.NATS_URL, stream: env.NATS_STREAM });
    case 'redis':
      return RedisStreamSink.connect({ url: env.REDIS_URL, stream: env.REDIS_STREAM, log });
  }
}
