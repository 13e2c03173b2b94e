import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';

/**
 * Who caused an event: an admin (by the key's name), a customer (by ID; null: the customer the
 * event is about, who proved it with a token or their credentials), or a job of the service. Kept
 * with the event; the customer's timeline shows it (migration 20261208010000).
 */
export type Actor =
  | { kind: 'ADMIN'; name: string }
  | { kind: 'CUSTOMER'; name: string | null }
  | { kind: 'SYSTEM'; name: string };

/** A marketing channel, as consent events name it. */
export type MarketingChannel = 'email' | 'sms';

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
  /**
   * `fields`: the changed columns, by their database names (`deleted_at` for a restore, `password`
   * for the password). `via`: how, where a token rather than the customer's session made the change.
   */
  'customer.updated': { id: string; fields: string[]; via?: 'password_reset' | 'email_change' };
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
  'customer.note_added': { id: string; note_id: string };
  'customer.note_updated': { id: string; note_id: string };
  'customer.note_deleted': { id: string; note_id: string };
  /** The tags this change added (or removed): those the customer did not have (or had). */
  'customer.tags_added': { id: string; tags: string[] };
  'customer.tags_removed': { id: string; tags: string[] };
  /**
   * A channel's consent changed. `unsubscribe_token` (a secret) lets the customer unsubscribe from
   * the channel without signing in (`unsubscribe(token)`): for the footer of marketing messages.
   */
  'customer.marketing_consent_updated': {
    id: string;
    channel: MarketingChannel;
    state: string;
    opt_in_level: string | null;
    source: string | null;
    unsubscribe_token: string;
  };
  /** MARKETING_CONFIRMED_OPT_IN: send `token` to `email`; `confirmMarketingConsent(token)` subscribes. */
  'customer.marketing_confirmation_requested': {
    id: string;
    email: string;
    token: string;
    unsubscribe_token: string;
  };
  'customer.account_disabled': { id: string };
  'customer.account_enabled': { id: string };
  /** Send `token` to `email`: `acceptInvitation(token, password)` sets the password and signs in. */
  'customer.invited': { id: string; email: string; first_name: string | null; last_name: string | null; token: string };
  'customer.invitation_accepted': { id: string };
  /**
   * A customer asked to move their account to `new_email`: send `token` there (confirmEmailChange),
   * and tell `email`, the current address, that someone asked (it is not changed until then).
   */
  'customer.email_change_requested': { id: string; email: string; new_email: string; token: string };
  /** `added`: the customers who joined the group as it was created. */
  /** The customer's personal data was erased: the ID is all an event about them says from now on. */
  'customer.erased': { id: string };
  'customer_group.created': { id: string; added?: string[] };
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
  'customer.marketing_consent_updated': ['unsubscribe_token'],
  'customer.marketing_confirmation_requested': ['token', 'unsubscribe_token'],
  'customer.invited': ['token'],
  'customer.email_change_requested': ['token'],
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
  'customer.note_added': { kind: 'customer', field: 'id' },
  'customer.note_updated': { kind: 'customer', field: 'id' },
  'customer.note_deleted': { kind: 'customer', field: 'id' },
  'customer.tags_added': { kind: 'customer', field: 'id' },
  'customer.tags_removed': { kind: 'customer', field: 'id' },
  'customer.marketing_consent_updated': { kind: 'customer', field: 'id' },
  'customer.marketing_confirmation_requested': { kind: 'customer', field: 'id' },
  'customer.account_disabled': { kind: 'customer', field: 'id' },
  'customer.account_enabled': { kind: 'customer', field: 'id' },
  'customer.invited': { kind: 'customer', field: 'id' },
  'customer.invitation_accepted': { kind: 'customer', field: 'id' },
  'customer.email_change_requested': { kind: 'customer', field: 'id' },
  'customer.erased': { kind: 'customer', field: 'id' },
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
export async function recordEvents(tx: Prisma.TransactionClient, actor: Actor, events: DomainEvent[]): Promise<void> {
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
        actorKind: actor.kind,
        actorName: actor.name,
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
  actor: Actor,
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
    outbox_events AS (INSERT INTO outbox_event (id, name, payload, created_at, available_at, key, seq, actor_kind, actor_name)
      SELECT (${ids}::text[])[row_number() OVER (ORDER BY r.key COLLATE "C")], ${name}::text, r.payload,
        ${now}::timestamptz, ${now}::timestamptz, r.key, k.last_seq, ${actor.kind}::text, ${actor.name}::text
      FROM outbox_rows r JOIN outbox_keys k USING (key))`;
}
