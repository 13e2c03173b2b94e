import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect as connectNats, headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import { createClient } from 'redis';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import { sinkUp } from './metrics.js';

export interface OutboxMessage {
  id: string;
  name: string;
  payload: unknown;
  createdAt: Date;
  /** `customer:<id>` or `customer_group:<id>` (src/events/outbox.ts). */
  key: string;
  /** 1, 2, 3, … within the key, in commit order. */
  seq: number;
}

/** Where the outbox worker delivers events. */
export interface EventSink {
  readonly name: string;
  /**
   * Publishes the messages; those of one key come in sequence order and must be stored in that
   * order, each only after the one before it was acknowledged. Resolves once the broker has
   * acknowledged every message; otherwise rejects, with a `PartlyPublished` naming those it did
   * acknowledge (a key's acknowledged ones are always the first of that key).
   */
  publish(messages: OutboxMessage[]): Promise<void>;
  /** False while the broker is unreachable (the worker then waits instead of failing events). Absent: always up. */
  readonly up?: boolean;
  /** Calls `listener` each time the broker is reachable again. */
  onReconnect?(listener: () => void): void;
  close(): Promise<void>;
}

/** A publish that failed after the broker had acknowledged some of the messages. */
export class PartlyPublished extends Error {
  constructor(
    readonly acknowledged: string[],
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Thrown by a publish while the broker is unreachable: nothing was sent. */
export class SinkUnavailable extends Error {}

/** Resolves with `sink` once it is up; closes it and rejects if that takes longer than `waitMs`. */
async function connected<S extends { readonly up: boolean; close(): Promise<void> }>(
  sink: S,
  failure: string,
  waitMs: number,
): Promise<S> {
  const until = Date.now() + waitMs;
  while (!sink.up) {
    if (Date.now() > until) {
      await sink.close();
      throw new SinkUnavailable(`${failure} within ${waitMs} ms`);
    }
    await sleep(20);
  }
  return sink;
}

/** What a broker stores per event: the event itself, self-describing, with its key and sequence number. */
function envelope(message: OutboxMessage) {
  return {
    id: message.id,
    name: message.name,
    key: message.key,
    seq: message.seq,
    payload: message.payload,
    createdAt: message.createdAt.toISOString(),
  };
}

/**
 * Whether the sink's broker is reachable, kept in the `event_sink_up` metric and told to the
 * worker; a change is logged once, not every reconnect attempt.
 */
class Reachability {
  // Unknown until the first attempt, so that a broker away from the start is logged too.
  private state: boolean | undefined;
  private readonly listeners: (() => void)[] = [];
  private lost = lostSignal();
  private closed = false;

  constructor(
    private readonly sink: string,
    private readonly log: Logger | undefined,
  ) {
    sinkUp.set({ sink }, 0);
  }

  get up() {
    return this.state === true;
  }

  set(up: boolean, detail?: unknown) {
    if (up === this.state || this.closed) return;
    this.state = up;
    sinkUp.set({ sink: this.sink }, up ? 1 : 0);
    if (up) {
      this.log?.info({ sink: this.sink }, 'event sink connected');
      for (const listener of this.listeners) listener();
    } else {
      this.log?.warn({ sink: this.sink, err: detail }, 'event sink unreachable; events wait in the outbox');
      // Publishes waiting for an acknowledgement fail now rather than at their timeout.
      this.lost.reject(new SinkUnavailable(`${this.sink}: connection lost`));
      this.lost = lostSignal();
    }
  }

  /** Rejects when the connection is lost (from now on). */
  whileUp<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost.promise]);
  }

  onReconnect(listener: () => void) {
    this.listeners.push(listener);
  }

  /** The sink is being closed: down from now on, without an outage logged. */
  close() {
    this.state = false;
    this.closed = true;
    sinkUp.set({ sink: this.sink }, 0);
  }

  check() {
    if (!this.state) throw new SinkUnavailable(`${this.sink}: not connected`);
  }
}

/** A promise that rejects when told to, handled so that nobody waiting on it is no error. */
function lostSignal() {
  let reject!: (error: Error) => void;
  const promise = new Promise<never>((_, no) => (reject = no));
  promise.catch(() => {});
  return { promise, reject };
}

/**
 * 100 ms, 200 ms, … at most 1 s between attempts to (re)connect: a connection attempt costs the
 * broker little, and delivery resumes within about a second of the broker's return.
 */
const reconnectDelay = (attempt: number) => Math.min(100 * 2 ** attempt, 1_000);

export interface LogSinkOptions {
  /**
   * Log each event's payload too, reset tokens included, so that a developer without a mail
   * sender can reset a password. Never in production: the log would hold live tokens.
   */
  payloads?: boolean;
  /**
   * A file the events with a token are appended to as JSON lines (`npm run mailbox` prints them):
   * the development stand-in for a mail sender. Never in production, for the same reason.
   */
  mailbox?: string;
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
    const mail = messages.filter((message) => 'token' in (message.payload as object));
    if (this.options.mailbox && mail.length) {
      await mkdir(dirname(this.options.mailbox), { recursive: true });
      const at = new Date().toISOString();
      await appendFile(
        this.options.mailbox,
        mail.map((m) => `${JSON.stringify({ at, event: m.name, payload: m.payload })}\n`).join(''),
      );
    }
  }

  async close(): Promise<void> {}
}

// The roots of Medusa's customer-domain event names (customer.created, customer_group.updated, ...).
const EVENT_ROOTS = ['customer', 'customer_group', 'customer_address'];

// Longer than the worker's longest retry backoff (5 minutes), so an event the server stored but the
// outbox did not mark delivered (acknowledged just before a crash or a lost connection) is not stored
// twice when it is published again.
const DUPLICATE_WINDOW_MS = 10 * 60_000;

export interface NatsSinkOptions {
  url: string;
  stream: string;
  /** Prepended to every subject (`<prefix>.customer.created`); without it the subject is the event name. */
  subjectPrefix?: string;
  /** How long to wait for each PubAck. */
  timeoutMs?: number;
  log?: Logger;
}

/**
 * Publishes to a JetStream stream, subject = event name. The event id is the JetStream message id,
 * so an event published again after a crash (published, but not yet marked delivered) is dropped
 * by the server as a duplicate; `Event-Key` and `Event-Seq` headers carry its key and sequence number.
 *
 * It connects in the background and never gives up: the service runs, and writes events into the
 * outbox, while NATS is away; the client reconnects by itself (without a limit on attempts), and a
 * connection that closes anyway is built anew.
 */
export class NatsSink implements EventSink {
  readonly name = 'nats';
  private readonly reachability: Reachability;
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private closing = false;
  private readonly stopWaiting = new AbortController();
  private readonly running: Promise<void>;

  private constructor(private readonly options: NatsSinkOptions & { timeoutMs: number }) {
    this.reachability = new Reachability(this.name, options.log);
    this.running = this.keepConnected();
  }

  /** Starts connecting and returns at once. */
  static start(options: NatsSinkOptions): NatsSink {
    return new NatsSink({ timeoutMs: 5_000, ...options });
  }

  /** Starts connecting and resolves once connected (or rejects after `waitMs`). */
  static connect(options: NatsSinkOptions, waitMs = 10_000): Promise<NatsSink> {
    return connected(NatsSink.start(options), `nats: no connection to ${options.url}`, waitMs);
  }

  get up() {
    return this.reachability.up;
  }

  onReconnect(listener: () => void) {
    this.reachability.onReconnect(listener);
  }

  private async keepConnected() {
    for (let attempt = 0; !this.closing; attempt++) {
      try {
        const connection = await connectNats({
          servers: this.options.url,
          timeout: this.options.timeoutMs,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
        });
        if (this.closing) return void (await connection.close());
        attempt = 0;
        await this.use(connection);
      } catch (error) {
        this.reachability.set(false, error);
      }
      if (!this.closing)
        await sleep(reconnectDelay(attempt), undefined, { signal: this.stopWaiting.signal }).catch(() => {});
    }
  }

  /** Serves publishes on the connection until it closes. */
  private async use(connection: NatsConnection) {
    this.connection = connection;
    try {
      await this.ensureStream(connection);
      this.js = jetstream(connection);
      this.reachability.set(true);
      const closed = connection.closed();
      for await (const status of connection.status()) {
        if (status.type === 'disconnect') this.reachability.set(false, status);
        // The stream may be gone with the server (e.g. one without its storage): ensured again.
        if (status.type === 'reconnect') {
          await this.ensureStream(connection).then(
            () => this.reachability.set(true),
            (error: unknown) => this.reachability.set(false, error),
          );
        }
      }
      const error = await closed;
      this.reachability.set(false, error);
    } finally {
      this.js = undefined;
      if (!connection.isClosed()) await connection.close().catch(() => {});
    }
  }

  private ensureStream(connection: NatsConnection) {
    const { stream, subjectPrefix } = this.options;
    return ensureStream(
      connection,
      stream,
      subjectPrefix ? [`${subjectPrefix}.>`] : EVENT_ROOTS.map((root) => `${root}.>`),
    );
  }

  subjectOf(eventName: string): string {
    return this.options.subjectPrefix ? `${this.options.subjectPrefix}.${eventName}` : eventName;
  }

  async publish(messages: OutboxMessage[]): Promise<void> {
    this.reachability.check();
    const js = this.js!;
    const acknowledged: string[] = [];
    let failure: unknown;
    // Keys side by side; within a key one at a time, so that a later event is never stored before
    // an earlier one that failed.
    await Promise.all(
      [...byKey(messages).values()].map(async (chain) => {
        for (const message of chain) {
          if (failure !== undefined) return;
          try {
            await this.reachability.whileUp(
              js.publish(this.subjectOf(message.name), JSON.stringify(envelope(message)), {
                msgID: message.id,
                timeout: this.options.timeoutMs,
                headers: eventHeaders(message),
              }),
            );
            acknowledged.push(message.id);
          } catch (error) {
            failure ??= error;
            return;
          }
        }
      }),
    );
    if (failure !== undefined) throw new PartlyPublished(acknowledged, failure);
  }

  async close(): Promise<void> {
    this.closing = true;
    const connected = this.up;
    this.reachability.close();
    this.stopWaiting.abort();
    const connection = this.connection;
    // Drained (what is in flight is answered) only while connected; a broker that is away answers nothing.
    if (connection && !connection.isClosed())
      await (connected ? connection.drain() : connection.close()).catch(() => connection.close());
    await this.running;
  }
}

function eventHeaders(message: OutboxMessage) {
  const h = headers();
  h.set('Event-Key', message.key);
  h.set('Event-Seq', String(message.seq));
  return h;
}

/** The messages by key, each key's in the order given. */
function byKey(messages: OutboxMessage[]): Map<string, OutboxMessage[]> {
  const keys = new Map<string, OutboxMessage[]>();
  for (const message of messages) {
    const chain = keys.get(message.key);
    if (chain) chain.push(message);
    else keys.set(message.key, [message]);
  }
  return keys;
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
  log?: Logger;
}

/**
 * Appends a batch to the stream (KEYS[1]) in one script, in order, with no other client's writes in
 * between; an event whose marker (KEYS[i + 1]) is still there was stored before and is skipped, so
 * a batch that failed part way (Redis does not roll a script back) is completed by its retry. ARGV: the markers'
 * lifetime in milliseconds, then six fields per event.
 */
const REDIS_PUBLISH = `
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    local f = 2 + (i - 2) * 6
    redis.call('XADD', KEYS[1], '*', 'id', ARGV[f], 'name', ARGV[f + 1], 'key', ARGV[f + 2],
      'seq', ARGV[f + 3], 'payload', ARGV[f + 4], 'createdAt', ARGV[f + 5])
    added = added + 1
  end
end
return added`;

/**
 * Appends to a Redis stream: one entry per event with fields id, name, key, seq, payload (JSON),
 * createdAt, a batch in one script, in order. As JetStream does with a message
 * ID, an event stored before is not stored again within DUPLICATE_WINDOW_MS: a marker key per event
 * (`{stream}:published:<id>`, in the stream's hash slot) expires after that window. A broker lost
 * after storing a batch but before its reply (the worker then publishes it again) stores it once.
 *
 * It connects in the background and keeps reconnecting with backoff, from the first attempt on.
 */
export class RedisStreamSink implements EventSink {
  readonly name = 'redis';
  private readonly reachability: Reachability;
  private readonly client: RedisClient;

  private constructor(
    { url, log }: RedisStreamSinkOptions,
    private readonly stream: string,
  ) {
    this.reachability = new Reachability(this.name, log);
    this.client = createClient({
      url,
      // Fail publishes while disconnected instead of queueing them, so the worker waits.
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => reconnectDelay(retries) },
    });
    // Without a listener an 'error' event would end the process; the change is logged once.
    this.client.on('error', (error: Error) => this.reachability.set(false, error));
    this.client.on('ready', () => this.reachability.set(true));
    this.client.on('end', () => this.reachability.set(false));
    this.client.connect().catch((error: unknown) => this.reachability.set(false, error));
  }

  /** Starts connecting and returns at once. */
  static start(options: RedisStreamSinkOptions): RedisStreamSink {
    return new RedisStreamSink(options, options.stream);
  }

  /** Starts connecting and resolves once connected (or rejects after `waitMs`). */
  static connect(options: RedisStreamSinkOptions, waitMs = 10_000): Promise<RedisStreamSink> {
    return connected(RedisStreamSink.start(options), `redis: no connection to ${options.url}`, waitMs);
  }

  get up() {
    return this.reachability.up;
  }

  onReconnect(listener: () => void) {
    this.reachability.onReconnect(listener);
  }

  async publish(messages: OutboxMessage[]): Promise<void> {
    this.reachability.check();
    const keys = [this.stream];
    const fields = [String(DUPLICATE_WINDOW_MS)];
    for (const message of messages) {
      const { id, name, key, seq, payload, createdAt } = envelope(message);
      keys.push(`{${this.stream}}:published:${id}`);
      fields.push(id, name, key, String(seq), JSON.stringify(payload ?? null), createdAt);
    }
    await this.reachability.whileUp(this.client.eval(REDIS_PUBLISH, { keys, arguments: fields }));
  }

  async close(): Promise<void> {
    this.reachability.close();
    // A graceful close waits for replies, which a broker that is away never sends.
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }
}

type RedisClient = ReturnType<typeof createClient>;

export type SinkSettings = Pick<
  Env,
  'NODE_ENV' | 'EVENT_SINK' | 'MAILBOX_FILE' | 'NATS_URL' | 'NATS_STREAM' | 'REDIS_URL' | 'REDIS_STREAM'
>;

/** The configured sink; a broker's sink connects in the background (the service starts without it). */
export async function createSink(env: SinkSettings, log: Logger): Promise<EventSink> {
  switch (env.EVENT_SINK) {
    case 'log':
      return new LogSink(
        log,
        env.NODE_ENV === 'production'
          ? {}
          : { payloads: true, ...(env.MAILBOX_FILE ? { mailbox: env.MAILBOX_FILE } : {}) },
      );
    case 'nats':
      return NatsSink.start({ url: env.NATS_URL, stream: env.NATS_STREAM, log });
    case 'redis':
      return RedisStreamSink.start({ url: env.REDIS_URL, stream: env.REDIS_STREAM, log });
  }
}
