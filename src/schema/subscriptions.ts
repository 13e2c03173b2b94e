import { GraphQLError } from 'graphql';
import { requireAdmin, requireSession } from '../auth.js';
import type { Context } from '../context.js';
import type { FeedEvent, FeedFilter } from '../events/feed.js';
import { EVENT_NAMES } from '../events/outbox.js';
import { builder } from './builder.js';
import { invalidArgument } from './invalid-argument.js';

// Admins watch the customer domain change (customerEvents: every event of docs/events.md) and a
// signed-in customer their own account's (myEvents), as delivered to the broker, in delivery order
// (src/events/feed.ts), over SSE or graphql-ws, with the same auth as queries.

const CustomerEvent = builder.objectRef<FeedEvent>('CustomerEvent').implement({
  description: 'A domain event as the broker received it (Medusa’s names and payloads, docs/events.md).',
  // Admins reach every event; a customer only their own (myEvents reads only their key).
  authScopes: { $any: { admin: true, customer: true } },
  fields: (t) => ({
    eventId: t.exposeID('id', { description: 'Resume after it, after a lost connection: `customerEvents(after:)`.' }),
    name: t.exposeString('name', { description: 'e.g. customer.created, customer_group.updated.' }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => event.createdAt }),
    payload: t.field({
      type: 'JSONObject',
      description: 'The event’s payload; secrets (reset and verification tokens) are never in it.',
      resolve: (event) => event.payload,
    }),
  }),
});

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  customerEvents: t.field({
    type: CustomerEvent,
    description:
      'Customer, group, membership and address events as they are delivered, in delivery order. Without `after`, from now; ' +
      'with the `eventId` of the last event received, every event after it (while the outbox keeps delivered events: ' +
      'DELIVERED_EVENTS_RETENTION_HOURS). `names` keeps only those events. At most MAX_SUBSCRIPTIONS_PER_KEY open per admin key.',
    authScopes: { admin: true },
    args: { after: t.arg.id(), names: t.arg.stringList() },
    subscribe: (_root, args, ctx) => {
      const key = requireAdmin(ctx);
      return subscribe(ctx, key, args.after ? String(args.after) : null, { names: eventNames(args.names), key: null });
    },
    resolve: (event) => event,
  }),
  myEvents: t.field({
    type: CustomerEvent,
    description:
      'The signed-in customer’s own events (their account, their addresses), as `customerEvents` delivers them; ' +
      '`after` resumes from one of them. At most MAX_SUBSCRIPTIONS_PER_KEY open per session.',
    authScopes: { customer: true },
    args: { after: t.arg.id() },
    subscribe: (_root, args, ctx) => {
      const { customerId, sessionId } = requireSession(ctx);
      const key = `customer:${customerId}`;
      return subscribe(ctx, sessionId, args.after ? String(args.after) : null, { names: null, key });
    },
    resolve: (event) => event,
  }),
}));

function eventNames(names: readonly string[] | null | undefined): string[] | null {
  names?.forEach((name, index) => {
    if (!(EVENT_NAMES as string[]).includes(name))
      throw invalidArgument(`names[${index}]`, `"${name}" is no event name (${EVENT_NAMES.join(', ')})`);
  });
  return names?.length ? [...names] : null;
}

/** A subscription of `holder` (an admin key's name, or a session), counted against the cap. */
async function subscribe(
  ctx: Context,
  holder: string,
  after: string | null,
  filter: FeedFilter,
): Promise<AsyncIterable<FeedEvent>> {
  const { feed, subscriptions, maxSubscriptionsPerKey } = ctx.services;
  let position: bigint;
  if (after === null) position = await feed.newest();
  else {
    // Another customer's event is as unknown as a missing one.
    const found = await feed.positionOf(after, filter.key);
    if (found === null)
      throw invalidArgument(
        'after',
        `"${after}" is no delivered event this server keeps: subscribe without it, from now`,
      );
    position = found;
  }
  const open = subscriptions.get(holder) ?? 0;
  if (open >= maxSubscriptionsPerKey) {
    throw new GraphQLError(
      `At most ${maxSubscriptionsPerKey} open subscriptions per key on this server (MAX_SUBSCRIPTIONS_PER_KEY): close one first.`,
      { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } },
    );
  }
  subscriptions.set(holder, open + 1);
  return counted(feed.events(position, filter), () => subscriptions.set(holder, (subscriptions.get(holder) ?? 1) - 1));
}

/**
 * The events, releasing the subscription's place once, however it ends: run out, failed, or
 * returned by the server when the client leaves (even before its first event).
 */
function counted<T>(events: AsyncGenerator<T>, release: () => void): AsyncIterableIterator<T> {
  let released = false;
  const once = () => {
    if (!released) release();
    released = true;
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const result = await events.next();
        if (result.done) once();
        return result;
      } catch (error) {
        once();
        throw error;
      }
    },
    async return(value?: unknown) {
      once();
      return events.return(value as T);
    },
  };
}
