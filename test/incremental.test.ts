import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { startHiveGateway } from './fixtures/gateway.js';
import { ADMIN, ANONYMOUS, bearer, createTestApp, makeAddress, makeCustomer, makeOrder } from './helpers.js';

// @defer and @stream (graphql-yoga's plugin): the first payload, then the deferred parts, over
// multipart/mixed and over SSE, directly and through Hive Gateway; merged, they are exactly the
// answer without the directives. The read planner leaves such operations to execution.

const t = await createTestApp();
let customerId = '';
let token = '';

before(async () => {
  const session = await t.gql(
    `mutation { register(input: { email: "defer@example.com", password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  token = session.data!.register.accessToken;
  customerId = session.data!.register.customer.id;
  for (let i = 0; i < 3; i++) await makeOrder(t.prisma, customerId, { createdAt: new Date(Date.UTC(2026, 1, 1 + i)) });
  await makeAddress(t.prisma, customerId, { city: 'Aarhus' });
  for (let i = 0; i < 4; i++) await makeCustomer(t.prisma);
});

type Payload = {
  data?: Record<string, unknown> | null;
  errors?: unknown[];
  incremental?: { data?: Record<string, unknown>; items?: unknown[]; path: (string | number)[] }[];
  hasNext?: boolean;
};

/** The payloads of a multipart/mixed or text/event-stream answer, in order. */
async function payloads(response: Response): Promise<Payload[]> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (type.startsWith('text/event-stream')) {
    return text
      .split('\n\n')
      .filter((block) => block.includes('event: next'))
      .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Payload);
  }
  assert.match(type, /^multipart\/mixed/);
  return text
    .split(/\r?\n---/)
    .map((part) => part.slice(part.indexOf('{')))
    .filter((part) => part.startsWith('{'))
    .map((part) => JSON.parse(part) as Payload);
}

/** The payloads applied one after the other: what a client's cache holds at the end. */
function merged(parts: Payload[]): Record<string, unknown> {
  const [first, ...rest] = parts;
  const data = structuredClone(first!.data!) as Record<string, unknown>;
  for (const part of rest) {
    for (const item of part.incremental ?? []) {
      let at: unknown = data;
      for (const key of item.path.slice(0, item.items ? -1 : undefined)) at = (at as Record<string, unknown>)[key];
      if (item.items) (at as unknown[]).push(...item.items);
      else Object.assign(at as object, item.data);
    }
  }
  return data;
}

const post = (fetch: (init: RequestInit) => Promise<Response>, query: string, accept: string, headers = ADMIN) =>
  fetch({
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify({ query }),
  });
const direct = (init: RequestInit) => Promise.resolve(t.app.fetch('http://yoga/graphql', init));

const DEFERRED = `{ customers(first: 3) { edges { node { id ... @defer(label: "more") { email orders { totalCount edges { node { total { amount } } } } } } } } }`;
const STREAMED = `{ orders(first: 3) { edges @stream(initialCount: 1) { node { id displayId } } } }`;
const plain = (query: string) => query.replace(/\.\.\. @defer\(label: "more"\) \{ (.*) \} \} \} \}$/, '$1 } } }');

test('@defer and @stream arrive in parts, over multipart/mixed and SSE; merged, they are the plain answer', async () => {
  for (const accept of ['multipart/mixed', 'text/event-stream']) {
    const deferred = await payloads(await post(direct, DEFERRED, accept));
    assert.ok(deferred.length >= 2, `${accept}: ${deferred.length} payloads`);
    assert.equal(deferred[0]!.hasNext, true);
    assert.equal(deferred.at(-1)!.hasNext, false);
    const edges = (deferred[0]!.data as { customers: { edges: { node: Record<string, unknown> }[] } }).customers.edges;
    assert.deepEqual(Object.keys(edges[0]!.node), ['id'], 'the deferred fields come later');
    const whole = await t.gql(plain(DEFERRED.replace('{ customers', '{ customers')));
    assert.deepEqual(merged(deferred), whole.data);

    const streamed = await payloads(await post(direct, STREAMED, accept));
    assert.ok(streamed.length >= 2, `${accept}: ${JSON.stringify(streamed)}`);
    assert.equal((streamed[0]!.data as { orders: { edges: unknown[] } }).orders.edges.length, 1, 'initialCount: 1');
    assert.deepEqual(merged(streamed), (await t.gql(STREAMED.replace(' @stream(initialCount: 1)', ''))).data);
  }
});

test('@defer in a mutation: the mutation runs once, its payload arrives in parts', async () => {
  const query = `mutation { updateMe(input: { firstName: "Deferred" }) { __typename ... on CustomerPayload { customer { id ... @defer { firstName orders { totalCount } } } } } }`;
  const parts = await payloads(await post(direct, query, 'multipart/mixed', bearer(token)));
  assert.ok(parts.length >= 2);
  assert.deepEqual(merged(parts), {
    updateMe: {
      __typename: 'CustomerPayload',
      customer: { id: customerId, firstName: 'Deferred', orders: { totalCount: 3 } },
    },
  });
  assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: customerId } })).firstName, 'Deferred');
});

test('a client that takes only JSON is answered 406 Not Acceptable for a deferred operation, with the reason', async () => {
  for (const accept of ['application/json', 'application/graphql-response+json', 'text/html']) {
    const response = await post(direct, accept === 'text/html' ? '{ __typename }' : DEFERRED, accept);
    assert.equal(response.status, 406, accept);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    assert.equal(body.errors[0]!.extensions.code, 'NOT_ACCEPTABLE');
    assert.match(body.errors[0]!.message, /multipart\/mixed or text\/event-stream/);
  }
});

// Hive Gateway 2.12.1 (the newest) answers the first part and then nulls every deferred field: its
// plan never fetches them from the subgraph (logged: one subgraph request, without them), with or
// without `deferStream`; graphql-hive/gateway#1675 reports the same. Kept as a todo so that it
// reports when an upgrade passes; the service itself is tested directly above.
test('through Hive Gateway: a deferred query over the supergraph arrives in parts, the same once merged', {
  todo: 'Hive Gateway 2.12.1 does not fetch deferred fields (graphql-hive/gateway#1675)',
}, async () => {
  const { data } = await t.gql(`{ _service { sdl } }`, {}, ANONYMOUS);
  const composed = composeServices([
    { name: 'customers', url: 'http://customers.internal/graphql', typeDefs: parse(data!._service.sdl) },
  ]);
  assert.equal(composed.errors, undefined, composed.errors?.map((e) => e.message).join('\n'));
  const hive = await startHiveGateway(
    composed.supergraphSdl!,
    { customers: (url, init) => t.app.fetch(url, init) },
    ['customers'],
    ADMIN,
    { deferStream: true },
  );
  const parts = await payloads(await post(hive.fetch, DEFERRED, 'multipart/mixed'));
  assert.ok(parts.length >= 2, JSON.stringify(parts));
  assert.equal(parts[0]!.hasNext, true);
  const whole = await hive(plain(DEFERRED));
  assert.deepEqual(merged(parts), whole.data, JSON.stringify({ parts, whole }));
});
