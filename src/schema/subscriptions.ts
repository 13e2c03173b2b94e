import { GraphQLError } from 'graphql';
import { requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import type { FeedEvent } from '../events/feed.js';
import { EVENT_NAMES } from '../events/outbox.js';
import { builder } from './builder.js';
import { invalidArgument } from './invalid-argument.js';

// Admins watch the customer domain change: every event of docs/events.md, delivered to the
// broker, in delivery order (src/events/feed.ts), over SSE or graphql-ws, with the same auth as
// queries. Not planned: subscriptions are executed.

const CustomerEvent = builder.objectRef<FeedEvent>('CustomerEvent').implement({
  description: 'A domain event as the broker received it (Medusa’s names and payloads, docs/events.md).',
  authScopes: { admin: true },
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

builder.subscriptionField('customerEvents', (t) =>
  t.field({
    type: CustomerEvent,
    description:
      'Customer, group, membership and address events as they are delivered, in delivery order. Without `after`, from now; ' +
      'with the `eventId` of the last event received, every event after it (while the outbox keeps delivered events: ' +
      'DELIVERED_EVENTS_RETENTION_HOURS). `names` keeps only those events. At most MAX_SUBSCRIPTIONS_PER_KEY open per admin key.',
    authScopes: { admin: true },
    args: { after: t.arg.id(), names: t.arg.stringList() },
    subscribe: (_root, args, ctx) => subscribe(ctx, args.after ? String(args.after) : null, args.names ?? null),
    resolve: (event) => event,
  }),
);

async function subscribe(
  ctx: Context,
  after: string | null,
  names: string[] | null,
): Promise<AsyncIterable<FeedEvent>> {
  const key = requireAdmin(ctx);
  const { feed, subscriptions, maxSubscriptionsPerKey } = ctx.services;
  names?.forEach((name, index) => {
    if (!(EVENT_NAMES as string[]).includes(name))
      throw invalidArgument(`names[${index}]`, `"${name}" is no event name (${EVENT_NAMES.join(', ')})`);
  });
  let position: bigint;
  if (after === null) position = await feed.newest();
  else {
    const found = await feed.positionOf(after);
    if (found === null)
      throw invalidArgument(
        'after',
        `"${after}" is no delivered event this server keeps: subscribe without it, from now`,
      );
    position = found;
  }
  const open = subscriptions.get(key) ?? 0;
  if (open >= maxSubscriptionsPerKey) {
    throw new GraphQLError(
      `At most ${maxSubscriptionsPerKey} open subscriptions per admin key on this server (MAX_SUBSCRIPTIONS_PER_KEY): close one first.`,
      { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } },
    );
  }
  subscriptions.set(key, open + 1);
  return counted(feed.events(position, names?.length ? names : null), () =>
    subscriptions.set(key, (subscriptions.get(key) ?? 1) - 1),
  );
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
