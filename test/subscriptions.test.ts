import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LogSink } from '../src/events/sinks.js';
import { startOutboxWorker } from '../src/events/worker.js';
import { createLogger } from '../src/logger.js';
import { serveWebSockets } from '../src/websocket.js';
import { ADMIN, ANONYMOUS, bearer, createTestApp } from './helpers.js';

// Admins' `customerEvents` over SSE (graphql-sse's client) and WebSocket (graphql-ws's client),
// through a real HTTP server with the outbox worker delivering: each event once, after its
// transaction committed, in delivery order; resumed after a lost connection from the last event ID;
// the same auth as queries; at most MAX_SUBSCRIPTIONS_PER_KEY open per key.

const MAX = 3;
const t = await createTestApp({ settings: { subscriptionPollMs: 20, maxSubscriptionsPerKey: MAX } });
const silent = createLogger('silent');
const outbox = startOutboxWorker({ prisma: t.prisma, sink: new LogSink(silent), log: silent, pollMs: 20 });
const server = createServer((req, res) => void t.app(req, res));
const websockets = serveWebSockets(server, t.app);
let url = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
after(async () => {
  await outbox.stop();
  await websockets.close();
  await t.app.dispose();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const EVENTS = `subscription($after: ID, $names: [String!]) { customerEvents(after: $after, names: $names) { eventId name payload } }`;
type Event = { eventId: string; name: string; payload: { id?: string } };

const sse = (headers: Record<string, string> = ADMIN) => createSseClient({ url, headers, retryAttempts: 0 });
const ws = (authorization = ADMIN.authorization) =>
  createWsClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
  });

/** Reads events from `iterator` until `until` holds of them, or fails after 10 s. */
async function collect(
  iterator: AsyncIterator<{ data?: unknown; errors?: unknown }>,
  until: (events: Event[]) => boolean,
) {
  const events: Event[] = [];
  const deadline = Date.now() + 10_000;
  while (!until(events)) {
    const next = await Promise.race([iterator.next(), sleep(deadline - Date.now()).then(() => 'timeout' as const)]);
    if (next === 'timeout') throw new Error(`timed out with ${JSON.stringify(events)}`);
    if (next.done) break;
    assert.equal(next.value.errors, undefined, JSON.stringify(next.value.errors));
    events.push(Object.values(next.value.data as Record<string, Event>)[0]!);
  }
  return events;
}

async function createCustomer(email: string): Promise<string> {
  const r = await t.gql(
    `mutation($email: String!) { createCustomers(input: [{ email: $email }]) { ... on CustomersPayload { customers { id } } } }`,
    { email },
  );
  return r.data!.createCustomers.customers[0].id;
}

/**
 * The ID of a delivered event: subscribing `after` it receives everything later however long the
 * subscription takes to open, so that no test depends on timing.
 */
async function mark(): Promise<string> {
  const id = await createCustomer(`mark-${Date.now()}-${Math.random()}@example.com`);
  for (let waited = 0; waited < 10_000; waited += 20) {
    const [event] = await t.db.query<{ id: string }>(
      `SELECT id FROM outbox_event WHERE name = 'customer.created' AND payload->>'id' = $1 AND delivery_seq IS NOT NULL`,
      [id],
    );
    if (event) return event.id;
    await sleep(20);
  }
  throw new Error('the marker event was not delivered');
}

test('over SSE: an admin receives each event once, after its transaction committed', async () => {
  const iterator = sse().iterate({ query: EVENTS, variables: { after: await mark(), names: ['customer.created'] } });
  const created = [await createCustomer('sse-1@example.com'), await createCustomer('sse-2@example.com')];
  const events = await collect(iterator, (seen) => seen.length >= 2);
  assert.deepEqual(
    events.map((e) => [e.name, e.payload.id]),
    created.map((id) => ['customer.created', id]),
  );
  // Committed before it was sent: the row is there for whoever reacts to the event.
  for (const id of created) assert.ok(await t.prisma.customer.findUnique({ where: { id } }));
  // Once: nothing more arrives for them.
  const more = await Promise.race([iterator.next(), sleep(300).then(() => 'quiet')]);
  assert.equal(more, 'quiet');
  await iterator.return?.();
});

test('over WebSocket: a subscriber that lost its connection resumes after the last event it saw, missing none', async () => {
  const first = ws();
  const live = first.iterate({ query: EVENTS, variables: { after: await mark(), names: ['customer.created'] } });
  const a = await createCustomer('ws-a@example.com');
  const [seenA] = await collect(live, (seen) => seen.length >= 1);
  assert.equal(seenA!.payload.id, a);
  await live.return?.();
  await first.dispose();

  // Gone: these are delivered while nobody listens.
  const missed = [await createCustomer('ws-b@example.com'), await createCustomer('ws-c@example.com')];
  await sleep(150);
  const again = ws();
  const resumed = again.iterate({ query: EVENTS, variables: { after: seenA!.eventId, names: ['customer.created'] } });
  const events = await collect(resumed, (seen) => seen.length >= 2);
  assert.deepEqual(
    events.map((e) => e.payload.id),
    missed,
  );
  await resumed.return?.();
  await again.dispose();
});

test('the same auth as queries: anonymous callers are UNAUTHENTICATED, customers FORBIDDEN, bad tokens 401', async () => {
  const session = await t.gql(
    `mutation { register(input: { email: "sub-customer@example.com", password: "password-1" }) { ... on Session { accessToken } } }`,
    {},
    ANONYMOUS,
  );
  const codes = async (iterator: AsyncIterator<unknown>) => {
    try {
      const first = (await iterator.next()) as { value?: { errors?: { extensions?: { code?: unknown } }[] } };
      return first.value?.errors?.map((e) => e.extensions?.code);
    } catch (error) {
      // graphql-ws rejects with the errors themselves; graphql-sse with a Response-like error.
      const errors = Array.isArray(error) ? (error as { extensions?: { code?: unknown } }[]) : [];
      return errors.length ? errors.map((e) => e.extensions?.code) : [String(error)];
    }
  };
  assert.deepEqual(await codes(sse(ANONYMOUS).iterate({ query: EVENTS })), ['UNAUTHENTICATED']);
  assert.deepEqual(await codes(sse(bearer(session.data!.register.accessToken)).iterate({ query: EVENTS })), [
    'FORBIDDEN',
  ]);
  assert.deepEqual(await codes(ws('').iterate({ query: EVENTS })), ['UNAUTHENTICATED']);
  assert.deepEqual(await codes(ws('Bearer cgs_nobody').iterate({ query: EVENTS })), ['UNAUTHENTICATED']);
  const bad = await t.gql(`subscription { customerEvents(names: ["customer.nope"]) { eventId } }`);
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
});

test(`at most ${MAX} open subscriptions per admin key; a closed one frees its place`, async () => {
  const from = await mark();
  const open = Array.from({ length: MAX }, () => sse().iterate({ query: EVENTS, variables: { after: from } }));
  const pending = open.map((iterator) => iterator.next());
  await createCustomer('cap@example.com');
  await Promise.all(pending); // each has had an event: all three are open
  const attempt = async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...ADMIN },
      body: JSON.stringify({ query: EVENTS, variables: { after: from } }),
    });
    const reader = response.body!.getReader();
    let text = '';
    // The first event: the refusal, or the first event after `from` (then the stream is closed).
    while (!/event: next\ndata: .*\n/.test(text)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await reader.cancel();
    return /TOO_MANY_SUBSCRIPTIONS/.test(text) ? 'refused' : 'open';
  };
  assert.deepEqual(await Promise.all(Array.from({ length: 5 }, attempt)), Array(5).fill('refused'));
  await open[0]!.return?.();
  // The server notices the closed connection: then there is room for one more.
  let outcome = 'refused';
  for (let waited = 0; outcome === 'refused' && waited < 5_000; waited += 100) {
    outcome = await attempt();
    if (outcome === 'refused') await sleep(100);
  }
  assert.equal(outcome, 'open');
  for (const iterator of open.slice(1)) await iterator.return?.();
});

test('a customer’s myEvents: their own account’s events only; another’s event ID is as unknown as a missing one', async () => {
  const register = async (email: string) =>
    (
      await t.gql(
        `mutation($email: String!) { register(input: { email: $email, password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
        { email },
        ANONYMOUS,
      )
    ).data!.register as { accessToken: string; customer: { id: string } };
  const [a, b] = [await register('mine-a@example.com'), await register('mine-b@example.com')];
  const MINE = `subscription($after: ID) { myEvents(after: $after) { eventId name payload } }`;
  const update = (token: string, firstName: string) =>
    t.gql(
      `mutation($n: String) { updateMe(input: { firstName: $n }) { __typename } }`,
      { n: firstName },
      bearer(token),
    );
  // From A's registration on (its customer.created is A's own event).
  const [created] = await t.db.query<{ id: string }>(
    `SELECT id FROM outbox_event WHERE name = 'customer.created' AND payload->>'id' = $1`,
    [a.customer.id],
  );
  for (let waited = 0; waited < 5_000; waited += 20) {
    const [row] = await t.db.query<{ d: string | null }>(
      'SELECT delivery_seq::text AS d FROM outbox_event WHERE id = $1',
      [created!.id],
    );
    if (row?.d) break;
    await sleep(20);
  }
  const iterator = sse(bearer(a.accessToken)).iterate({ query: MINE, variables: { after: created!.id } });
  await update(b.accessToken, 'Bea');
  await update(a.accessToken, 'Ada');
  const events = await collect(iterator, (seen) => seen.some((e) => e.name === 'customer.updated'));
  assert.ok(
    events.every((e) => JSON.stringify(e.payload).includes(a.customer.id)),
    JSON.stringify(events),
  );
  assert.ok(!JSON.stringify(events).includes(b.customer.id));
  await iterator.return?.();

  const [theirs] = await t.db.query<{ id: string }>(
    `SELECT id FROM outbox_event WHERE name = 'customer.created' AND payload->>'id' = $1`,
    [b.customer.id],
  );
  const refused = await t.gql(
    `subscription($after: ID) { myEvents(after: $after) { eventId } }`,
    { after: theirs!.id },
    bearer(a.accessToken),
  );
  assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  const anonymous = await t.gql(`subscription { myEvents { eventId } }`, {}, ANONYMOUS);
  assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
});
