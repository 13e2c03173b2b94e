import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';

/** An address's events name its customer, whose events they are ordered among. */
interface AddressPayload {
  id: string;
  customer_id: string;
}

/**
 * Every event, by Medusa's name, and its payload: what a consumer receives (docs/events.md).
 * The one SQL statement that writes an event (`customer_group.updated` for a membership change,
 * `membershipEvent` in services/groups.ts) is held to the same payload as `membershipEvents` by
 * test/admin-groups.test.ts, which reads the events of both writers.
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

/** `customer:<id>` or `customer_group:<id>`: the key an event is ordered and numbered within. */
export function eventKey(event: DomainEvent): string {
  const { kind, field } = KEYS[event.name];
  const id = (event.payload as unknown as Record<string, unknown>)[field];
  if (typeof id !== 'string' || id === '') throw new Error(`a ${event.name} event needs its ${field} in the payload`);
  return `${kind}:${id}`;
}

/** The key of a group's events, for the statement that writes the outbox in SQL (services/groups.ts). */
export const groupEventKey = (groupId: string) => `${KEYS['customer_group.updated'].kind}:${groupId}`;

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
