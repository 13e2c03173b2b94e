import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';

/** An address's events name its customer, whose events they are ordered among. */
interface AddressPayload {
  id: string;
  customer_id: string;
}

/**
 * Every event, by Medusa's name, and its payload: what a consumer receives (docs/events.md).
 * Events written in SQL (`recordEventsSql`) give each field of these payloads as an expression
 * of the field's type, so both writers are held to these types.
 */
export interface EventPayloads {
  'customer.created': { id: string };
  /** `fields`: the changed columns, by their database names (`deleted_at` for a restore). */
  'customer.updated': { id: string; fields: string[] };
  /** `soft`: a soft delete, which a restore can undo. */
  'customer.deleted': { id: string; soft?: true };
  /** `token` is a secret: removed from the stored row once delivered. */
  'customer.password_reset': {
    id: string;
    email: string;
    first_name: string | null;
    last_name: string | null;
    token: string;
  };
  'customer.email_verification_requested': { customerId: string; email: string; token: string };
  'customer.merged': {
    id: string;
    merged_into_id: string;
    cause: string;
    order_ids: string[];
    address_ids: string[];
    address_ids_left_behind: string[];
  };
  'customer_group.created': { id: string };
  /** A membership change adds the customers `added` and `removed`, with `fields: ['customers']`. */
  'customer_group.updated': { id: string; fields: string[]; added?: string[]; removed?: string[] };
  'customer_group.deleted': { id: string; soft?: true };
  'customer_address.created': AddressPayload;
  'customer_address.updated': AddressPayload;
  'customer_address.deleted': AddressPayload;
}

export type EventName = keyof EventPayloads;

/** One event: a name and that name's payload. */
export type DomainEvent = { [Name in EventName]: { name: Name; payload: EventPayloads[Name] } }[EventName];

/**
 * Payload keys that are secrets: the sink receives them, and the worker removes them from the row
 * in the statement that marks it delivered, so that no row keeps a usable token once it is sent
 * (tokens are otherwise stored only as digests).
 */
export const SECRET_PAYLOAD_KEYS: Partial<Record<EventName, string[]>> = {
  'customer.password_reset': ['token'],
  'customer.email_verification_requested': ['token'],
};

/**
 * Whose events keep their order, and which payload field names it. Every event belongs to one
 * customer or one group; an address's events are its customer's, so that an address's `deleted`
 * never overtakes the `updated` before it, nor the customer's own events around it.
 */
const KEYS: {
  [Name in EventName]: { kind: 'customer' | 'customer_group'; field: keyof EventPayloads[Name] & string };
} = {
  'customer.created': { kind: 'customer', field: 'id' },
  'customer.updated': { kind: 'customer', field: 'id' },
  'customer.deleted': { kind: 'customer', field: 'id' },
  'customer.password_reset': { kind: 'customer', field: 'id' },
  'customer.email_verification_requested': { kind: 'customer', field: 'customerId' },
  // The merged (source) customer's last event; the target's own events are keyed by its id.
  'customer.merged': { kind: 'customer', field: 'id' },
  'customer_group.created': { kind: 'customer_group', field: 'id' },
  'customer_group.updated': { kind: 'customer_group', field: 'id' },
  'customer_group.deleted': { kind: 'customer_group', field: 'id' },
  'customer_address.created': { kind: 'customer', field: 'customer_id' },
  'customer_address.updated': { kind: 'customer', field: 'customer_id' },
  'customer_address.deleted': { kind: 'customer', field: 'customer_id' },
};

/** Every event name (KEYS has each one, as TypeScript checks). */
export const EVENT_NAMES = Object.keys(KEYS) as EventName[];

/** `customer:<id>` or `customer_group:<id>`: the key an event is ordered and numbered within. */
export function eventKey(event: DomainEvent): string {
  const { kind, field } = KEYS[event.name];
  const id = (event.payload as unknown as Record<string, unknown>)[field];
  if (typeof id !== 'string' || id === '') throw new Error(`a ${event.name} event needs its ${field} in the payload`);
  return `${kind}:${id}`;
}

/**
 * Writes events into the outbox inside the caller's transaction: they are delivered if and only if
 * the change they describe commits. Each event gets the next sequence number of its key from
 * `outbox_key`, whose row stays locked until the transaction ends: writers of one key commit one
 * after another, so numbers follow commit order, with no gaps (a rollback takes its numbers back).
 * Keys are taken in sorted order, so that two transactions taking several never deadlock on them.
 */
export async function recordEvents(tx: Prisma.TransactionClient, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const keys = events.map(eventKey);
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rows = await tx.$queryRaw<{ key: string; last: number }[]>`
    INSERT INTO outbox_key (key, last_seq)
    VALUES ${Prisma.join(sorted.map(([key, count]) => Prisma.sql`(${key}, ${count}::int)`))}
    ON CONFLICT (key) DO UPDATE SET last_seq = outbox_key.last_seq + excluded.last_seq
    RETURNING key, last_seq AS last`;
  const next = new Map(rows.map((row) => [row.key, row.last - counts.get(row.key)! + 1]));
  const now = new Date();
  await tx.outboxEvent.createMany({
    data: events.map((event, i) => {
      const key = keys[i]!;
      const seq = next.get(key)!;
      next.set(key, seq + 1);
      return {
        id: newId('OutboxEvent'),
        name: event.name,
        // A payload is plain JSON by its type, which TypeScript cannot see of an interface.
        payload: event.payload as unknown as Prisma.InputJsonObject,
        createdAt: now,
        availableAt: now,
        key,
        seq,
      };
    }),
  });
}

declare const jsonType: unique symbol;

/** A SQL expression whose value `jsonb_build_object` turns into a `T` (text for a string, text[] for string[]). */
export type SqlValue<T> = Prisma.Sql & { readonly [jsonType]?: T };

/** A payload as SQL: each field an expression of that field's type, over the rows the events are made of. */
export type SqlPayload<Name extends EventName> = {
  [Field in keyof EventPayloads[Name]]: SqlValue<Exclude<EventPayloads[Name][Field], undefined>>;
};

/** The caller's word that `sql` has the type `T` (PostgreSQL checks the SQL, not TypeScript). */
export const sqlValue = <T>(sql: Prisma.Sql): SqlValue<T> => sql;

/** A constant payload field, sent as a jsonb parameter. */
export const sqlConstant = <T>(value: T): SqlValue<T> => Prisma.sql`${JSON.stringify(value)}::jsonb`;

/**
 * `recordEvents` for a statement that decides its events itself: a write whose events say what it
 * changed, which is known only as it runs, records them in the same statement instead of two more
 * after it. Returns CTEs for the statement's WITH (named `outbox_rows`, `outbox_keys` and
 * `outbox_events`, which the statement must not use) recording one `name` event per row of `from`,
 * at most `maxEvents`, with keys, sequence numbers, IDs and times as `recordEvents` gives them.
 * Each row's key must differ: one statement increments a key's counter once.
 */
export function recordEventsSql<Name extends EventName>(
  name: Name,
  from: Prisma.Sql,
  payload: SqlPayload<Name>,
  maxEvents: number,
): Prisma.Sql {
  const { kind, field } = KEYS[name];
  const id = (payload as Record<string, Prisma.Sql | undefined>)[field];
  if (!id) throw new Error(`a ${name} event needs its ${field} in the payload`);
  const fields = Object.entries(payload as Record<string, Prisma.Sql>).map(
    ([key, value]) => Prisma.sql`${key}::text, ${value}`,
  );
  // Monotonic IDs, given out in key order below: the events of one statement sort as their keys do.
  const ids = Array.from({ length: maxEvents }, () => newId('OutboxEvent'));
  const now = new Date();
  // Keys in code-unit order (COLLATE "C"), the order recordEvents sorts them in: writers taking
  // several keys take them in one order, and wait for each other instead of deadlocking.
  return Prisma.sql`outbox_rows AS (
      SELECT ${`${kind}:`}::text || (${id}) AS key, jsonb_build_object(${Prisma.join(fields)}) AS payload FROM ${from}),
    outbox_keys AS (INSERT INTO outbox_key (key, last_seq)
      SELECT key, 1 FROM outbox_rows ORDER BY key COLLATE "C"
      ON CONFLICT (key) DO UPDATE SET last_seq = outbox_key.last_seq + 1
      RETURNING key, last_seq),
    outbox_events AS (INSERT INTO outbox_event (id, name, payload, created_at, available_at, key, seq)
      SELECT (${ids}::text[])[row_number() OVER (ORDER BY r.key COLLATE "C")], ${name}::text, r.payload,
        ${now}::timestamptz, ${now}::timestamptz, r.key, k.last_seq
      FROM outbox_rows r JOIN outbox_keys k USING (key))`;
}
