import type { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';

/** Medusa's event names. */
export type EventName =
  | 'customer.created'
  | 'customer.updated'
  | 'customer.deleted'
  | 'customer.password_reset'
  | 'customer.email_verification_requested'
  | 'customer.merged'
  | 'customer_group.created'
  | 'customer_group.updated'
  | 'customer_group.deleted'
  | 'customer_address.created'
  | 'customer_address.updated'
  | 'customer_address.deleted';

/**
 * Payload keys that are secrets: the sink receives them, and the worker removes them from the row
 * in the statement that marks it delivered, so that no row keeps a usable token once it is sent
 * (tokens are otherwise stored only as digests).
 */
export const SECRET_PAYLOAD_KEYS: Partial<Record<EventName, string[]>> = {
  'customer.password_reset': ['token'],
  'customer.email_verification_requested': ['token'],
};

export interface DomainEvent {
  name: EventName;
  payload: Prisma.InputJsonObject;
}

/**
 * Writes events into the outbox inside the caller's transaction: they are delivered if and only if
 * the change they describe commits. One statement, however many events.
 */
export async function recordEvents(tx: Prisma.TransactionClient, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const now = new Date();
  await tx.outboxEvent.createMany({
    data: events.map((event) => ({ id: newId('OutboxEvent'), name: event.name, payload: event.payload, createdAt: now, availableAt: now })),
  });
}
