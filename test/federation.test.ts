import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { composeServices } from '@theguild/federation-composition';
import { parse, print } from 'graphql';
import { loadEnv } from '../src/env.js';
import { newId } from '../src/lib/ids.js';
import { createLogger } from '../src/logger.js';
import { printSubgraphSdl } from '../src/schema/federation.js';
import { schema } from '../src/schema/index.js';
import { createApp, DEFAULT_SETTINGS, settingsFromEnv } from '../src/yoga.js';
import { activityTypeDefs, createActivitySubgraph } from './fixtures/activity-subgraph.js';
import { type Fetch, type GatewayQuery, startApolloGateway, startHiveGateway } from './fixtures/gateway.js';
import { createLoyaltySubgraph, type LoyaltyData, loyaltyTypeDefs } from './fixtures/loyalty-subgraph.js';
import { createNewsletterSubgraph, newsletterTypeDefs, type Subscription } from './fixtures/newsletter-subgraph.js';
import { createReviewsSubgraph, type Review, reviewsTypeDefs } from './fixtures/reviews-subgraph.js';
import {
  ADMIN,
  ADMIN_KEY,
  ANONYMOUS,
  addToGroup,
  bearer,
  createTestApp,
  type GraphQLResponse,
  makeAddress,
  makeCustomer,
  makeGroup,
  makeOrder,
} from './helpers.js';

// The loaders' path (the Pothos path) is what these tests count and prove; the read planner
// answers admins' and customers' `_entities` too, held to the same answers by test/planner.test.ts.
const t = await createTestApp({ settings: { readPlanner: false } });

const loyalty: LoyaltyData = { points: new Map(), transactions: [] };
const subscriptions: Subscription[] = [];
const f = {} as Record<string, { id: string }>;
const crowd: { id: string; email: string }[] = [];
/** 250 customers, each in a group and with a default address: the authors of `reviews`. */
const authors: string[] = [];
const reviews: Review[] = [];
let tokenA = '';

const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Customer { id email hasAccount groups { totalCount } defaultShippingAddress { city } }
    ... on CustomerGroup { id name }
    ... on Address { id city }
    ... on Order { id displayId items { title } }
  }
}`;

const entities = (representations: Record<string, unknown>[], headers: Record<string, string> = ADMIN) =>
  t.gql(ENTITIES, { representations }, headers);

const codes = (r: { errors?: readonly { extensions?: Record<string, unknown> }[] }) =>
  (r.errors ?? []).map((e) => e.extensions?.code);

const days = (n: number) => new Date(Date.UTC(2024, 0, 1 + n));

before(async () => {
  const p = t.prisma;
  const session = await t.gql(
    `mutation { register(input: { email: "a@example.com", password: "password-a" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  tokenA = session.data!.register.accessToken;
  f.a = session.data!.register.customer;
  f.b = await makeCustomer(p, { email: 'b@example.com', hasAccount: true });
  f.shared = await makeGroup(p, { name: 'Shared' });
  f.other = await makeGroup(p, { name: 'Other' });
  f.deletedGroup = await makeGroup(p, { name: 'Gone', deletedAt: new Date() });
  await addToGroup(p, f.a!.id, f.shared.id);
  await addToGroup(p, f.b.id, f.other.id);
  f.orderA = await makeOrder(p, f.a!.id);
  f.orderB = await makeOrder(p, f.b.id);
  f.addressA = await makeAddress(p, f.a!.id, { isDefaultShipping: true });
  f.addressB = await makeAddress(p, f.b.id);
  f.deletedAddress = await makeAddress(p, f.b.id, { deletedAt: new Date() });
  f.deleted = await makeCustomer(p, { email: 'deleted@example.com', deletedAt: new Date() });

  // Emails are unique among live accounts only: guests share them with each other and with an account.
  f.sharedGuestOld = await makeCustomer(p, { email: 'shared@example.com', createdAt: days(1) });
  f.sharedAccount = await makeCustomer(p, { email: 'shared@example.com', hasAccount: true, createdAt: days(2) });
  f.sharedGuestNew = await makeCustomer(p, { email: 'shared@example.com', createdAt: days(3) });
  f.guestOld = await makeCustomer(p, { email: 'guest@example.com', createdAt: days(1) });
  f.guestNew = await makeCustomer(p, { email: 'guest@example.com', createdAt: days(2) });
  f.guestDeleted = await makeCustomer(p, { email: 'guest@example.com', createdAt: days(3), deletedAt: new Date() });
  f.formerAccount = await makeCustomer(p, { email: 'former@example.com', hasAccount: true, deletedAt: new Date() });
  f.formerGuest = await makeCustomer(p, { email: 'former@example.com', createdAt: days(1) });

  for (let i = 0; i < 50; i++) {
    const customer = await makeCustomer(p, { hasAccount: true });
    await addToGroup(p, customer.id, f.other.id);
    await makeAddress(p, customer.id, { isDefaultShipping: true });
    crowd.push(customer);
    loyalty.points.set(customer.id, 1000 + i);
  }
  loyalty.points.set(f.a!.id, 50);
  loyalty.points.set(f.b.id, 40);
  loyalty.transactions.push(
    { id: 'ltx_1', customerId: f.a!.id, orderId: f.orderA.id, points: 50 },
    { id: 'ltx_2', customerId: f.b.id, orderId: f.orderB.id, points: 40 },
  );
  for (let i = 0; i < 250; i++) authors.push(newId('Customer'));
  await p.customer.createMany({
    data: authors.map((id, i) => ({ id, email: `author${i}@example.com`, firstName: `Author${i}`, hasAccount: true })),
  });
  await p.address.createMany({
    data: authors.map((customerId) => ({
      id: newId('Address'),
      customerId,
      city: 'Aarhus',
      countryCode: 'dk',
      isDefaultShipping: true,
    })),
  });
  await p.customerGroupCustomer.createMany({
    data: authors.map((customerId) => ({
      id: newId('CustomerGroupCustomer'),
      customerId,
      customerGroupId: f.shared!.id,
    })),
  });
  // 300 reviews by the 250 authors: the first 50 authors wrote two.
  for (let i = 0; i < 300; i++) reviews.push({ id: `rev_${i}`, rating: 1 + (i % 5), authorId: authors[i % 250]! });
  subscriptions.push(
    { email: 'shared@example.com', topic: 'deals' },
    { email: 'Guest@Example.com', topic: 'news' },
    { email: 'nobody@example.com', topic: 'news' },
  );
});

// --- `_service` and `_entities` on our subgraph, directly ---

test('_service serves the subgraph SDL with @link and @key, and without the federation plumbing', async () => {
  const r = await t.gql(`{ _service { sdl } }`, {}, ANONYMOUS);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const sdl: string = r.data!._service.sdl;
  assert.equal(sdl, printSubgraphSdl(schema));
  // Read in graphql-js's layout (a type's directives on its line), whatever Apollo's printer does.
  const printed = print(parse(sdl));
  assert.match(
    printed,
    /^extend schema @link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.9", import: \["@key", "@shareable", "@tag", "@listSize"\]\)/,
  );
  assert.match(printed, /^type PageInfo @shareable \{$/m);
  assert.match(printed, /^interface Node @key\(fields: "id"\) \{$/m);
  assert.match(printed, /type Customer implements Node @key\(fields: "id"\) @key\(fields: "email"\) \{/);
  for (const type of ['CustomerGroup', 'Address', 'Order']) {
    assert.match(printed, new RegExp(`type ${type} implements Node @key\\(fields: "id"\\) \\{`));
  }
  assert.doesNotMatch(sdl, /_entities|_service|_Any|_Entity|_Service/);
});

test('_entities resolves every entity type in the order asked, soft-deleted and unknown rows as null', async () => {
  const r = await entities([
    { __typename: 'Order', id: f.orderB!.id },
    { __typename: 'Customer', id: f.b!.id },
    { __typename: 'CustomerGroup', id: f.shared!.id },
    { __typename: 'Address', id: f.addressA!.id },
    { __typename: 'Customer', id: f.deleted!.id },
    { __typename: 'CustomerGroup', id: f.deletedGroup!.id },
    { __typename: 'Address', id: f.deletedAddress!.id },
    { __typename: 'Customer', id: 'cus_01NOSUCHCUSTOMER' },
    { __typename: 'Customer', id: f.orderA!.id },
    { __typename: 'Order', id: 'not-an-id' },
  ]);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const [order, customer, group, address, ...gone] = r.data!._entities;
  assert.deepEqual(order, {
    __typename: 'Order',
    id: f.orderB!.id,
    displayId: order.displayId,
    items: [{ title: 'T-shirt' }],
  });
  assert.deepEqual(customer, {
    __typename: 'Customer',
    id: f.b!.id,
    email: 'b@example.com',
    hasAccount: true,
    groups: { totalCount: 1 },
    defaultShippingAddress: null,
  });
  assert.deepEqual(group, { __typename: 'CustomerGroup', id: f.shared!.id, name: 'Shared' });
  assert.deepEqual(address, { __typename: 'Address', id: f.addressA!.id, city: 'Copenhagen' });
  assert.deepEqual(gone, [null, null, null, null, null, null]);
});

test('an email key resolves to the live account, else to the most recent live guest', async () => {
  const r = await entities(
    [
      'shared@example.com',
      ' GUEST@example.com ',
      'former@example.com',
      'deleted@example.com',
      'nobody@example.com',
    ].map((email) => ({
      __typename: 'Customer',
      email,
    })),
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.deepEqual(
    r.data!._entities.map((c: { id: string } | null) => c?.id ?? null),
    [f.sharedAccount!.id, f.guestNew!.id, f.formerGuest!.id, null, null],
  );
});

test('a guest-only email key gives the same row as the ID key of the newest live guest', async () => {
  const SELECTION = `query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Customer { id email hasAccount firstName createdAt groups { totalCount } orders { totalCount } } } }`;
  const both = async (email: string, id: string) => {
    const r = await t.gql(SELECTION, {
      r: [
        { __typename: 'Customer', email },
        { __typename: 'Customer', id },
      ],
    });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!._entities as { id: string; hasAccount: boolean }[];
  };
  // guest@example.com: two live guests and a newer soft-deleted one.
  const [byEmail, byId] = await both('guest@example.com', f.guestNew!.id);
  assert.deepEqual(byEmail, byId);
  assert.equal(byEmail!.hasAccount, false);

  // Guests created in the same instant: the later ID (ULIDs grow) wins, every time.
  const at = days(10);
  const first = await makeCustomer(t.prisma, { email: 'twins@example.com', createdAt: at });
  const second = await makeCustomer(t.prisma, { email: 'twins@example.com', createdAt: at });
  assert.ok(second.id > first.id);
  for (let i = 0; i < 3; i++) {
    const [email, id] = await both('twins@example.com', second.id);
    assert.deepEqual(email, id);
  }
  // Through the gateway, the newsletter's guest-only email reaches that same row.
  const r = await gateway(`{ newsletterSubscriptions { email customer { id firstName hasAccount } } }`);
  const guest = r.data!.newsletterSubscriptions.find((s: { email: string }) => s.email === 'Guest@Example.com');
  const [direct] = await both('guest@example.com', f.guestNew!.id);
  assert.deepEqual(guest.customer, {
    id: direct!.id,
    firstName: (direct as unknown as { firstName: string }).firstName,
    hasAccount: false,
  });
});

test('_entities is batched: one query per type however many representations', async () => {
  const run = async (n: number) => {
    const representations = crowd.slice(0, n).map(({ id }) => ({ __typename: 'Customer', id }));
    const { result, statements, sql } = await t.countStatements(() => entities(representations));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.equal(result.data!._entities.length, n);
    assert.ok(result.data!._entities.every((c: { groups: { totalCount: number } }) => c.groups.totalCount === 1));
    return { statements, sql };
  };
  const five = await run(5);
  const fifty = await run(50);
  assert.equal(fifty.statements, five.statements, fifty.sql.join('\n'));
  // The customers with their default addresses and their groups' totalCount (Prisma's join
  // strategy and a relation count, in one statement).
  assert.equal(five.statements, 1, five.sql.join('\n'));

  // 50 representations: customers by ID and email, groups, addresses and orders, still a query per type.
  const mixed = [
    ...crowd.slice(0, 30).map(({ id }) => ({ __typename: 'Customer', id })),
    ...crowd.slice(30, 40).map(({ email }) => ({ __typename: 'Customer', email })),
    ...Array.from({ length: 4 }, () => ({ __typename: 'CustomerGroup', id: f.shared!.id })),
    { __typename: 'CustomerGroup', id: f.other!.id },
    ...[f.addressA!, f.deletedAddress!].map(({ id }) => ({ __typename: 'Address', id })),
    ...[f.orderA!, f.orderB!, f.orderA!].map(({ id }) => ({ __typename: 'Order', id })),
  ];
  assert.equal(mixed.length, 50);
  const counted = await t.countStatements(() => entities(mixed));
  assert.equal(counted.result.errors, undefined, JSON.stringify(counted.result.errors));
  assert.equal(counted.result.data!._entities.filter(Boolean).length, 49);
  // Customers by ID and by email with their group counts (one statement), groups, addresses, and
  // orders with their items.
  assert.equal(counted.statements, 4, counted.sql.join('\n'));
});

test('statements stay constant at 5, 100 and 250 representations, and repeats are loaded once', async () => {
  const run = async (representations: Record<string, unknown>[]) => {
    const { result, statements, sql } = await t.countStatements(() => entities(representations));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const answers = result.data!._entities as {
      id: string;
      groups: { totalCount: number };
      defaultShippingAddress: { city: string };
    }[];
    assert.equal(answers.length, representations.length);
    answers.forEach((customer, i) => {
      assert.equal(customer.id, representations[i]!.id);
      assert.equal(customer.groups.totalCount, 1);
      assert.equal(customer.defaultShippingAddress.city, 'Aarhus');
    });
    return { statements, sql };
  };
  const byId = (ids: string[]) => ids.map((id) => ({ __typename: 'Customer', id }));
  const counts = [];
  for (const n of [5, 100, 250]) counts.push((await run(byId(authors.slice(0, n)))).statements);
  assert.deepEqual(counts, [1, 1, 1]);

  // Cost counts positions: 3 per customer (itself, groups, default address) plus 1 for Order.items.
  const cost = await t.gql(
    `query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Customer { id groups { totalCount } defaultShippingAddress { city } } } }`,
    { r: byId(authors) },
  );
  assert.deepEqual(cost.extensions!.cost, { requested: 750, maximum: 5000 });
  const withOrders = await t.gql(
    `query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Customer { id orders(first: 10) { edges { node { id } } } } } }`,
    { r: byId(authors.slice(0, 200)) },
  );
  assert.deepEqual(withOrders.extensions!.cost, { requested: 200 * 22, maximum: 5000 });
  assert.equal(withOrders.errors, undefined);
  const tooMuch = await t.gql(
    `query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Customer { id orders(first: 10) { edges { node { id } } } } } }`,
    { r: byId(authors) },
  );
  assert.deepEqual(codes(tooMuch), ['QUERY_TOO_COMPLEX']);

  // 120 reviews by 40 authors arrive as 120 representations: 40 rows are read, 120 answered.
  const repeated = byId(Array.from({ length: 120 }, (_, i) => authors[i % 40]!));
  const { statements, sql } = await run(repeated);
  assert.equal(statements, 1, sql.join('\n'));
  const placeholders = sql[0]!.match(/\$\d+/g) ?? [];
  assert.ok(placeholders.length >= 40 && placeholders.length < 60, sql[0]);
});

test('two _entities fields in one request each load with their own selection; a new request reads again', async () => {
  const query = `query($r: [_Any!]!) {
    emails: _entities(representations: $r) { ... on Customer { id email } }
    counts: _entities(representations: $r) {
      ... on Customer { id groups { totalCount } defaultShippingAddress { city } }
    }
  }`;
  const r = crowd.slice(0, 3).map(({ id }) => ({ __typename: 'Customer', id }));
  const { result, statements, sql } = await t.countStatements(() => t.gql(query, { r }, ADMIN));
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  assert.deepEqual(
    result.data!.emails,
    crowd.slice(0, 3).map(({ id, email }) => ({ id, email })),
  );
  assert.deepEqual(
    result.data!.counts,
    crowd
      .slice(0, 3)
      .map(({ id }) => ({ id, groups: { totalCount: 1 }, defaultShippingAddress: { city: 'Copenhagen' } })),
  );
  // One statement per field, each with its own selection folded in.
  assert.equal(statements, 2, sql.join('\n'));

  // Loaders (and their cache) live for one request: a change is seen by the next.
  const [first] = crowd;
  const name = (value: string | null) => ({ _entities: [{ firstName: value }] });
  const firstName = async () =>
    (
      await t.gql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { firstName } } }`, {
        r: r.slice(0, 1),
      })
    ).data;
  const { firstName: original } = await t.prisma.customer.findUniqueOrThrow({ where: { id: first!.id } });
  assert.deepEqual(await firstName(), name(original));
  await t.prisma.customer.update({ where: { id: first!.id }, data: { firstName: 'Renamed' } });
  assert.deepEqual(await firstName(), name('Renamed'));
  await t.prisma.customer.update({ where: { id: first!.id }, data: { firstName: original } });
});

test('beyond MAX_ENTITY_REPRESENTATIONS distinct representations, each extra position gets its own error', async () => {
  // 1000 distinct (the default limit), then one more, a repeat of the first, and a malformed one.
  const representations = [
    { __typename: 'Customer', id: f.b!.id },
    ...Array.from({ length: 999 }, () => ({ __typename: 'Customer', id: newId('Customer') })),
    { __typename: 'Customer', id: f.a!.id },
    { __typename: 'Customer', id: f.b!.id },
    { __typename: 'Product', id: 'prod_1' },
  ];
  const { result, statements } = await t.countStatements(() => entities(representations));
  const answers = result.data!._entities as ({ id: string } | null)[];
  assert.equal(answers.length, 1003);
  assert.equal(answers[0]!.id, f.b!.id);
  assert.equal(answers[1001]!.id, f.b!.id);
  assert.equal(answers[1000], null);
  assert.equal(answers[1002], null);
  assert.equal(answers.filter(Boolean).length, 2);
  assert.deepEqual(
    result.errors!.map((e) => [e.path, e.extensions?.code]),
    [
      [['_entities', 1000], 'BAD_USER_INPUT'],
      [['_entities', 1002], 'BAD_USER_INPUT'],
    ],
  );
  assert.match(
    result.errors![0]!.message,
    /at most 1000 distinct representations per request \(MAX_ENTITY_REPRESENTATIONS\)/,
  );
  assert.equal(statements, 1);
});

test('MAX_ENTITY_REPRESENTATIONS is a setting: default 1000 in env.ts, AppSettings and .env.example', async () => {
  assert.equal(DEFAULT_SETTINGS.maxEntityRepresentations, 1000);
  assert.equal(settingsFromEnv(loadEnv({})).maxEntityRepresentations, 1000);
  assert.equal(settingsFromEnv(loadEnv({ MAX_ENTITY_REPRESENTATIONS: '3' })).maxEntityRepresentations, 3);
  assert.match(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'), /^MAX_ENTITY_REPRESENTATIONS=1000$/m);

  // Another app on the same database, limited to 2 distinct representations.
  const small = createApp({
    db: t.db,
    log: createLogger('silent'),
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], maxEntityRepresentations: 2 },
  });
  const response = await small.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id } } }`,
      variables: {
        r: [f.a!.id, f.b!.id, f.a!.id, f.deleted!.id, f.b!.id].map((id) => ({ __typename: 'Customer', id })),
      },
    }),
  });
  const r = (await response.json()) as GraphQLResponse;
  assert.deepEqual(r.data!._entities, [{ id: f.a!.id }, { id: f.b!.id }, { id: f.a!.id }, null, { id: f.b!.id }]);
  assert.deepEqual(
    r.errors!.map((e) => e.path),
    [['_entities', 3]],
  );
  assert.match(r.errors![0]!.message, /at most 2 distinct representations/);
});

test('a malformed representation gets BAD_USER_INPUT at its own position; the others resolve', async () => {
  for (const representation of [
    { __typename: 'Product', id: 'x' },
    { __typename: 'Order', email: 'a@example.com' },
  ]) {
    const r = await entities([{ __typename: 'Customer', id: f.b!.id }, representation]);
    assert.deepEqual(codes(r), ['BAD_USER_INPUT'], JSON.stringify(r));
    assert.deepEqual(r.errors![0]!.path, ['_entities', 1]);
    assert.equal(r.data!._entities[0].id, f.b!.id);
    assert.equal(r.data!._entities[1], null);
  }
  // Without a __typename it is not a representation at all: the variable itself is refused.
  const r = await entities([{ id: f.b!.id }]);
  assert.deepEqual(codes(r), ['BAD_USER_INPUT'], JSON.stringify(r));
  assert.equal(r.data, undefined);
});

test('_entities is closed to anonymous callers; a customer finds only their own rows', async () => {
  const all = [
    { __typename: 'Customer', id: f.a!.id },
    { __typename: 'Customer', id: f.b!.id },
    { __typename: 'Customer', email: 'b@example.com' },
    { __typename: 'Order', id: f.orderA!.id },
    { __typename: 'Order', id: f.orderB!.id },
    { __typename: 'CustomerGroup', id: f.shared!.id },
    { __typename: 'CustomerGroup', id: f.other!.id },
    { __typename: 'Address', id: f.addressA!.id },
    { __typename: 'Address', id: f.addressB!.id },
    { __typename: 'Customer', email: 'A@example.com' },
  ];
  const anonymous = await entities(all, ANONYMOUS);
  assert.deepEqual(codes(anonymous), ['UNAUTHENTICATED']);
  assert.equal(anonymous.data, null);

  const r = await t.gql(
    `query($representations: [_Any!]!) { _entities(representations: $representations) {
      ... on Customer { id email } ... on Order { id email } ... on CustomerGroup { id name } ... on Address { id city } } }`,
    { representations: all },
    bearer(tokenA),
  );
  const [a, b, bByEmail, orderA, orderB, shared, other, addressA, addressB, aByEmail] = r.data!._entities;
  assert.deepEqual(a, { id: f.a!.id, email: 'a@example.com' });
  assert.deepEqual(aByEmail, a);
  assert.equal(orderA.id, f.orderA!.id);
  assert.deepEqual(shared, { id: f.shared!.id, name: 'Shared' });
  assert.equal(addressA.id, f.addressA!.id);
  // Rows that are not theirs are simply not found, so that a customer cannot probe which exist.
  assert.deepEqual([b, bByEmail, orderB, other, addressB], [null, null, null, null, null]);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.doesNotMatch(JSON.stringify(r.data), /b@example\.com|Other/);
});

test('for a customer, another customer’s row, an unknown ID and a soft-deleted row answer byte for byte the same', async () => {
  /** The raw response body, as customer A. */
  const raw = async (representation: Record<string, unknown>) => {
    const response = await t.app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...bearer(tokenA) },
      body: JSON.stringify({ query: ENTITIES, variables: { representations: [representation] } }),
    });
    return `${response.status} ${await response.text()}`;
  };
  const cases: Record<string, string[]> = {
    Customer: [f.b!.id, newId('Customer'), f.deleted!.id, f.formerAccount!.id],
    Address: [f.addressB!.id, newId('Address'), f.deletedAddress!.id],
    Order: [f.orderB!.id, newId('Order')],
    CustomerGroup: [f.other!.id, newId('CustomerGroup'), f.deletedGroup!.id],
  };
  for (const [__typename, ids] of Object.entries(cases)) {
    const answers = await Promise.all(ids.map((id) => raw({ __typename, id })));
    assert.match(answers[0]!, /^200 \{"data":\{"_entities":\[null\]\}/, __typename);
    for (const answer of answers) assert.equal(answer, answers[0], __typename);
  }
  // By email: someone else's account, a guest's email, an unknown one.
  const byEmail = await Promise.all(
    ['b@example.com', 'guest@example.com', 'nobody@example.com'].map((email) => raw({ __typename: 'Customer', email })),
  );
  for (const answer of byEmail) assert.equal(answer, byEmail[0]);
  assert.equal(byEmail[0], await raw({ __typename: 'Customer', id: f.b!.id }));
});

// --- Composition and a real gateway over three subgraphs ---

const SUBGRAPHS = {
  customers: 'http://customers.internal/graphql',
  loyalty: 'http://loyalty.internal/graphql',
  newsletter: 'http://newsletter.internal/graphql',
  reviews: 'http://reviews.internal/graphql',
} as const;

async function startGateway() {
  const { data: service } = await t.gql(`{ _service { sdl } }`, {}, ANONYMOUS);
  const composed = composeServices([
    { name: 'customers', url: SUBGRAPHS.customers, typeDefs: parse(service!._service.sdl) },
    { name: 'loyalty', url: SUBGRAPHS.loyalty, typeDefs: loyaltyTypeDefs },
    { name: 'newsletter', url: SUBGRAPHS.newsletter, typeDefs: newsletterTypeDefs },
    { name: 'reviews', url: SUBGRAPHS.reviews, typeDefs: reviewsTypeDefs },
  ]);
  assert.equal(composed.errors, undefined, composed.errors?.map((e) => e.message).join('\n'));
  const loyaltyApp = createLoyaltySubgraph(loyalty);
  const newsletterApp = createNewsletterSubgraph(subscriptions);
  const reviewsApp = createReviewsSubgraph(reviews);
  const apps: Record<string, Fetch> = {
    customers: (url, init) => t.app.fetch(url, init),
    loyalty: (url, init) => loyaltyApp.fetch(url, init),
    newsletter: (url, init) => newsletterApp.fetch(url, init),
    reviews: (url, init) => reviewsApp.fetch(url, init),
  };
  return {
    apollo: await startApolloGateway(composed.supergraphSdl!, apps, ['customers'], ADMIN),
    hive: await startHiveGateway(composed.supergraphSdl!, apps, ['customers'], ADMIN),
  };
}

/** @apollo/gateway; `hive` is Hive Gateway on the same supergraph. */
let gateway: GatewayQuery;
let hive: GatewayQuery;
before(async () => {
  ({ apollo: gateway, hive } = await startGateway());
});

test('the gateway answers one query from all three subgraphs', async () => {
  const r = await gateway(
    `query($id: ID!) {
      customer(id: $id) {
        email
        loyaltyPoints
        loyaltyTransactions { points order { id total { amount currencyCode } items { title } customer { email } } }
      }
      customers(first: 3, filter: { email: "a@example.com" }) { edges { node { email loyaltyPoints } } }
      newsletterSubscriptions { email topic customer { id firstName hasAccount loyaltyPoints } }
    }`,
    { id: f.a!.id },
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.deepEqual(r.data!.customer, {
    email: 'a@example.com',
    loyaltyPoints: 50,
    loyaltyTransactions: [
      {
        points: 50,
        order: {
          id: f.orderA!.id,
          total: { amount: '12.50', currencyCode: 'EUR' },
          items: [{ title: 'T-shirt' }],
          customer: { email: 'a@example.com' },
        },
      },
    ],
  });
  assert.deepEqual(r.data!.customers.edges, [{ node: { email: 'a@example.com', loyaltyPoints: 50 } }]);
  // Reached by the email key: the account for a shared email, the newest guest for a guest-only one.
  assert.deepEqual(
    r.data!.newsletterSubscriptions.map(
      (s: { customer: { id: string; hasAccount: boolean } | null }) =>
        s.customer && [s.customer.id, s.customer.hasAccount],
    ),
    [[f.sharedAccount!.id, true], [f.guestNew!.id, false], null],
  );
  assert.equal(r.data!.newsletterSubscriptions[0].customer.loyaltyPoints, 0);
});

test('300 reviews by 250 authors: every author resolved, with the other subgraphs’ fields, in one statement', async () => {
  const { result, statements, sql } = await t.countStatements(() =>
    gateway(`{ reviews(first: 300) { id rating author { id email firstName reviewCount loyaltyPoints } } }`),
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const list = result.data!.reviews as {
    id: string;
    author: { id: string; email: string; firstName: string; reviewCount: number; loyaltyPoints: number };
  }[];
  assert.equal(list.length, 300);
  list.forEach((review, i) => {
    const n = i % 250;
    assert.deepEqual(review.author, {
      id: authors[n],
      email: `author${n}@example.com`,
      firstName: `Author${n}`,
      reviewCount: n < 50 ? 2 : 1,
      loyaltyPoints: 0,
    });
  });
  assert.equal(statements, 1, sql.join('\n'));
});

test('a leaderboard of 3 or 30 customers costs our subgraph the same statements', async () => {
  const query = `query($first: Int!) {
    loyaltyLeaderboard(first: $first) {
      rank points
      customer { id email firstName groups { totalCount } defaultShippingAddress { city } }
    }
  }`;
  const run = async (first: number) => {
    const { result, statements, sql } = await t.countStatements(() => gateway(query, { first }));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const board = result.data!.loyaltyLeaderboard as { customer: { email: string; groups: { totalCount: number } } }[];
    assert.equal(board.length, first);
    assert.ok(board.every((s) => s.customer.email.endsWith('@example.com') && s.customer.groups.totalCount === 1));
    return { statements, sql };
  };
  const three = await run(3);
  const thirty = await run(30);
  assert.equal(thirty.statements, three.statements, thirty.sql.join('\n'));
  assert.equal(three.statements, 1, three.sql.join('\n')); // as in the _entities test above
});

test('through the gateway, a customer’s token reaches only their own rows, and anonymous callers nothing', async () => {
  const query = `{
    loyaltyLeaderboard(first: 100) { points customer { id email } }
  }`;
  const asA = await gateway(query, {}, bearer(tokenA));
  const board = asA.data!.loyaltyLeaderboard as { points: number; customer: { id: string; email: string } | null }[];
  assert.equal(board.length, crowd.length + 2);
  assert.deepEqual(
    board.filter((s) => s.customer),
    [{ points: 50, customer: { id: f.a!.id, email: 'a@example.com' } }],
  );
  // Others' customers are not found for A (null, as an unknown ID would be), not FORBIDDEN.
  assert.equal(asA.errors, undefined, JSON.stringify(asA.errors));
  assert.doesNotMatch(JSON.stringify(asA.data), /b@example\.com/);

  const me = await gateway(`{ me { email loyaltyPoints loyaltyTransactions { order { id } } } }`, {}, bearer(tokenA));
  assert.equal(me.errors, undefined, JSON.stringify(me.errors));
  assert.deepEqual(me.data!.me, {
    email: 'a@example.com',
    loyaltyPoints: 50,
    loyaltyTransactions: [{ order: { id: f.orderA!.id } }],
  });

  const other = await gateway(
    `query($id: ID!) { customer(id: $id) { email loyaltyPoints } }`,
    { id: f.b!.id },
    bearer(tokenA),
  );
  assert.ok(codes(other).includes('FORBIDDEN'));
  assert.doesNotMatch(JSON.stringify(other.data), /b@example\.com/);

  // The newsletter knows the email it keys by; anything more needs our subgraph.
  for (const q of [query, `{ newsletterSubscriptions { customer { id firstName } } }`]) {
    const anonymous = await gateway(q, {}, ANONYMOUS);
    assert.ok(codes(anonymous).includes('UNAUTHENTICATED'), JSON.stringify(anonymous));
    assert.doesNotMatch(JSON.stringify(anonymous.data), /cus_|@example\.com|First/);
  }
});

// --- The same supergraph through Hive Gateway ---

test('Hive Gateway gives the same answers as @apollo/gateway, forwarding the caller’s Authorization', async () => {
  const queries: [string, Record<string, unknown>, Record<string, string>][] = [
    [
      `query($id: ID!) {
        customer(id: $id) { email loyaltyPoints loyaltyTransactions { points order { id total { amount currencyCode } customer { email } } } }
        newsletterSubscriptions { email topic customer { id firstName hasAccount loyaltyPoints } }
      }`,
      { id: f.a!.id },
      ADMIN,
    ],
    [`{ loyaltyLeaderboard(first: 100) { points customer { id email } } }`, {}, bearer(tokenA)],
    [`{ me { email loyaltyPoints loyaltyTransactions { order { id } } } }`, {}, bearer(tokenA)],
  ];
  const at = (data: unknown, path: readonly (string | number)[]) =>
    path.reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], data);
  let nullEntities = 0;
  for (const [query, variables, headers] of queries) {
    const [viaApollo, viaHive] = await Promise.all([
      gateway(query, variables, headers),
      hive(query, variables, headers),
    ]);
    assert.equal(viaApollo.errors, undefined, JSON.stringify(viaApollo.errors));
    assert.deepEqual(viaHive.data, viaApollo.data);
    // The one difference, Hive Gateway's: where our `_entities` answers null (unknown, or another
    // customer's row), @apollo/gateway nulls the entity silently; Hive Gateway nulls it too, but adds
    // a masked INTERNAL_SERVER_ERROR for its first non-null field, which the null entity lacks.
    for (const error of viaHive.errors ?? []) {
      assert.equal(error.extensions?.code, 'INTERNAL_SERVER_ERROR');
      const entity = error.path!.slice(0, -1);
      assert.equal(at(viaApollo.data, entity), null, JSON.stringify(error));
      nullEntities++;
    }
  }
  // nobody@example.com's subscription, and the leaderboard's 51 rows that are not customer A's.
  assert.equal(nullEntities, 1 + crowd.length + 1);
  // Without a credential our subgraph refuses _entities in both.
  const anonymous = await hive(`{ loyaltyLeaderboard(first: 3) { customer { id email } } }`, {}, ANONYMOUS);
  assert.doesNotMatch(JSON.stringify(anonymous.data), /@example\.com/);
});

test('300 reviews by 250 authors through Hive Gateway: every author, with the other subgraphs’ fields, in one statement', async () => {
  const query = `{ reviews(first: 300) { id rating author { id email firstName reviewCount loyaltyPoints } } }`;
  const { result, statements, sql } = await t.countStatements(() => hive(query));
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  assert.equal(result.data!.reviews.length, 300);
  assert.ok(
    result.data!.reviews.every((review: { author: { email: string } | null }) =>
      review.author?.email.startsWith('author'),
    ),
  );
  assert.deepEqual(result.data, (await gateway(query)).data);
  assert.equal(statements, 1, sql.join('\n'));
});

test('the same entities under several aliases: the same data through both gateways, and no error of their own', async () => {
  const query = `query($id: ID!) {
    first: customer(id: $id) { id email loyaltyPoints }
    second: customer(id: $id) { id mail: email points: loyaltyPoints }
    board: loyaltyLeaderboard(first: 3) { customer { id email } }
    again: loyaltyLeaderboard(first: 3) { customer { key: id address: email firstName } }
  }`;
  const [viaApollo, viaHive] = await Promise.all([gateway(query, { id: f.a!.id }), hive(query, { id: f.a!.id })]);
  assert.equal(viaApollo.errors, undefined, JSON.stringify(viaApollo.errors));
  assert.equal(viaHive.errors, undefined, JSON.stringify(viaHive.errors));
  assert.deepEqual(viaHive.data, viaApollo.data);
  assert.deepEqual(viaHive.data!.second, { id: f.a!.id, mail: 'a@example.com', points: 50 });

  // As customer A the board's other customers are null entities: aliases add no error of their
  // own, only Hive Gateway's one per null entity (see above), once per alias that reaches it.
  const asCustomer = query.replace('query($id: ID!)', 'query').replaceAll('customer(id: $id)', 'me');
  const [asA, asAHive] = await Promise.all([
    gateway(asCustomer, {}, bearer(tokenA)),
    hive(asCustomer, {}, bearer(tokenA)),
  ]);
  assert.equal(asA.errors, undefined, JSON.stringify(asA.errors));
  assert.deepEqual(asAHive.data, asA.data);
  assert.deepEqual((asAHive.errors ?? []).map((e) => e.path!.slice(0, 3).join('.')).sort(), [
    'again.0.customer',
    'again.1.customer',
    'again.2.customer',
    'board.0.customer',
    'board.1.customer',
    'board.2.customer',
  ]);
});

// --- Node as an entity interface: another subgraph's `Node @interfaceObject` ---

const NODES = `query($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Node { id }
  ... on Customer { email groups { totalCount } defaultShippingAddress { city } }
  ... on CustomerGroup { name }
  ... on Address { city }
  ... on Order { displayId items { title } }
} }`;

const node = (id: string) => ({ __typename: 'Node', id });

test('a { __typename: "Node", id } representation resolves to the object its ID names, as the typed one does', async () => {
  const ids = [f.a!.id, f.orderB!.id, f.shared!.id, f.addressA!.id];
  const typed = await t.gql(
    NODES,
    {
      r: [
        { __typename: 'Customer', id: f.a!.id },
        { __typename: 'Order', id: f.orderB!.id },
        { __typename: 'CustomerGroup', id: f.shared!.id },
        { __typename: 'Address', id: f.addressA!.id },
      ],
    },
    ADMIN,
  );
  const viaNode = await t.gql(NODES, { r: ids.map(node) }, ADMIN);
  assert.equal(viaNode.errors, undefined, JSON.stringify(viaNode.errors));
  assert.deepEqual(viaNode.data, typed.data);
  assert.deepEqual(
    viaNode.data!._entities.map((e: { __typename: string }) => e.__typename),
    ['Customer', 'Order', 'CustomerGroup', 'Address'],
  );

  // As node(id) answers them: the same objects; soft-deleted and unknown rows null.
  const gone = [f.deleted!.id, f.deletedGroup!.id, f.deletedAddress!.id, newId('Customer'), newId('Order')];
  const direct = await t.gql(
    `query($ids: [ID!]!) { nodes(ids: $ids) {
    __typename id ... on Customer { email groups { totalCount } defaultShippingAddress { city } } ... on CustomerGroup { name }
    ... on Address { city } ... on Order { displayId items { title } } } }`,
    { ids: [...ids, ...gone] },
    ADMIN,
  );
  const entities = await t.gql(NODES, { r: [...ids, ...gone].map(node) }, ADMIN);
  assert.equal(entities.errors, undefined, JSON.stringify(entities.errors));
  assert.deepEqual(entities.data!._entities, direct.data!.nodes);
  assert.deepEqual(entities.data!._entities.slice(4), [null, null, null, null, null]);
});

test('an ID that is not one of ours (or no ID) is an error at its own position; the others resolve', async () => {
  const r = await t.gql(
    NODES,
    { r: [node(f.b!.id), node('prod_01FOREIGN'), { __typename: 'Node' }, node('not an id'), node(f.orderA!.id)] },
    ADMIN,
  );
  assert.deepEqual(
    r.errors!.map((e) => [e.path, e.extensions?.code]),
    [
      [['_entities', 1], 'BAD_USER_INPUT'],
      [['_entities', 2], 'BAD_USER_INPUT'],
      [['_entities', 3], 'BAD_USER_INPUT'],
    ],
  );
  assert.match(r.errors![0]!.message, /"prod_01FOREIGN" is not the ID of a Node of this subgraph/);
  assert.equal(r.data!._entities[0].id, f.b!.id);
  assert.deepEqual(r.data!._entities.slice(1, 4), [null, null, null]);
  assert.equal(r.data!._entities[4].id, f.orderA!.id);
});

test('Node representations are batched with the typed ones: statements constant at 5, 100 and 250, a row read once', async () => {
  const counts = [];
  for (const n of [5, 100, 250]) {
    const { result, statements, sql } = await t.countStatements(() =>
      t.gql(NODES, { r: authors.slice(0, n).map(node) }, ADMIN),
    );
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.equal(result.data!._entities.length, n);
    assert.ok(
      result.data!._entities.every(
        (c: { groups: { totalCount: number }; defaultShippingAddress: { city: string } }) =>
          c.groups.totalCount === 1 && c.defaultShippingAddress.city === 'Aarhus',
      ),
      sql.join('\n'),
    );
    counts.push(statements);
  }
  assert.deepEqual(counts, [1, 1, 1]);
  // The same customer as Node and as Customer is one distinct representation, one row read; every
  // type once, however the representations name it.
  const mixed = [
    ...authors.slice(0, 40).map(node),
    ...authors.slice(0, 40).map((id) => ({ __typename: 'Customer', id })),
    node(f.orderA!.id),
    { __typename: 'Order', id: f.orderB!.id },
    node(f.shared!.id),
    node(f.addressA!.id),
  ];
  const { result, statements, sql } = await t.countStatements(() => t.gql(NODES, { r: mixed }, ADMIN));
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  assert.deepEqual(result.data!._entities.slice(0, 40), result.data!._entities.slice(40, 80));
  assert.equal(statements, 4, sql.join('\n'));
});

test('Node representations follow the same rules as typed ones: a customer finds only their own rows, anonymous callers nothing', async () => {
  const mine = [f.a!.id, f.orderA!.id, f.shared!.id, f.addressA!.id];
  const others = [f.b!.id, f.orderB!.id, f.other!.id, f.addressB!.id];
  const r = await t.gql(NODES, { r: [...mine, ...others].map(node) }, bearer(tokenA));
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.deepEqual(
    r.data!._entities.map((e: { id: string } | null) => e?.id ?? null),
    [...mine, null, null, null, null],
  );
  // Another customer's row answers exactly as an unknown one.
  const raw = async (id: string) => JSON.stringify(await t.gql(NODES, { r: [node(id)] }, bearer(tokenA)));
  assert.equal(await raw(f.b!.id), await raw(newId('Customer')));
  const anonymous = await t.gql(NODES, { r: mine.map(node) }, ANONYMOUS);
  assert.deepEqual(codes(anonymous), ['UNAUTHENTICATED']);
  assert.equal(anonymous.data, null);
});

test('with FEDERATION_NODE_QUERY=false, Node is no entity interface: neither in the SDL nor in _entities', async () => {
  const app = createApp({
    db: t.db,
    log: createLogger('silent'),
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], federationNodeQuery: false },
  });
  const post = async (query: string, variables: Record<string, unknown> = {}) =>
    (await (
      await app.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ADMIN },
        body: JSON.stringify({ query, variables }),
      })
    ).json()) as GraphQLResponse;
  const sdl = (await post(`{ _service { sdl } }`)).data!._service.sdl as string;
  assert.match(sdl, /^interface Node \{$/m);
  const r = await post(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id } } }`, {
    r: [node(f.a!.id), { __typename: 'Customer', id: f.a!.id }],
  });
  assert.deepEqual(
    r.errors!.map((e) => [e.path, e.extensions?.code]),
    [[['_entities', 0], 'BAD_USER_INPUT']],
  );
  assert.deepEqual(r.data!._entities, [null, { id: f.a!.id }]);
});

async function startActivityGateways() {
  const { data: service } = await t.gql(`{ _service { sdl } }`, {}, ANONYMOUS);
  const services = [
    { name: 'customers', url: SUBGRAPHS.customers, typeDefs: parse(service!._service.sdl) },
    { name: 'activity', url: 'http://activity.internal/graphql', typeDefs: activityTypeDefs },
    { name: 'loyalty', url: SUBGRAPHS.loyalty, typeDefs: loyaltyTypeDefs },
  ];
  const guild = composeServices(services);
  assert.equal(guild.errors, undefined, guild.errors?.map((e) => e.message).join('\n'));
  const apollo = composeWithApollo(services);
  assert.equal(apollo.errors, undefined, apollo.errors?.map((e) => e.message).join('\n'));
  const views = new Map<string, number>([
    [f.a!.id, 30],
    [f.orderA!.id, 20],
    [f.shared!.id, 10],
    [f.addressA!.id, 5],
    [f.b!.id, 3],
    ...crowd.map(({ id }, i): [string, number] => [id, i % 3]),
  ]);
  const activityApp = createActivitySubgraph(views);
  const loyaltyApp = createLoyaltySubgraph(loyalty);
  const apps: Record<string, Fetch> = {
    customers: (url, init) => t.app.fetch(url, init),
    activity: (url, init) => activityApp.fetch(url, init),
    loyalty: (url, init) => loyaltyApp.fetch(url, init),
  };
  return {
    views,
    apollo: {
      'apollo-gateway on @apollo/composition': await startApolloGateway(
        apollo.supergraphSdl!,
        apps,
        ['customers'],
        ADMIN,
      ),
      'apollo-gateway on federation-composition': await startApolloGateway(
        guild.supergraphSdl!,
        apps,
        ['customers'],
        ADMIN,
      ),
    },
    hive: {
      'Hive Gateway on @apollo/composition': await startHiveGateway(apollo.supergraphSdl!, apps, ['customers'], ADMIN),
      'Hive Gateway on federation-composition': await startHiveGateway(
        guild.supergraphSdl!,
        apps,
        ['customers'],
        ADMIN,
      ),
    },
  };
}

let activity: Awaited<ReturnType<typeof startActivityGateways>>;

type Case = [query: string, variables: Record<string, unknown>, headers: Record<string, string>];

/** The same data from every gateway given, and no errors. */
async function sameEverywhere(gateways: Record<string, GatewayQuery>, [query, variables, headers]: Case) {
  const answers = await Promise.all(
    Object.entries(gateways).map(async ([name, gql]) => [name, await gql(query, variables, headers)] as const),
  );
  const [, first] = answers[0]!;
  for (const [name, answer] of answers) {
    assert.equal(answer.errors, undefined, `${name}: ${query}\n${JSON.stringify(answer.errors)}`);
    assert.deepEqual(answer.data, first.data, `${name}: ${query}`);
  }
  return first.data!;
}

test('through both gateways: the @interfaceObject subgraph’s own list of nodes, each resolved by us from { __typename: "Node", id }', async () => {
  activity = await startActivityGateways();
  const all = { ...activity.apollo, ...activity.hive };
  const data = await sameEverywhere(all, [
    `{ mostViewed(first: 5) { __typename id viewCount ... on Customer { email } ... on Order { displayId } ... on CustomerGroup { name } ... on Address { city } } }`,
    {},
    ADMIN,
  ]);
  assert.deepEqual(data.mostViewed, [
    { __typename: 'Customer', id: f.a!.id, viewCount: 30, email: 'a@example.com' },
    { __typename: 'Order', id: f.orderA!.id, viewCount: 20, displayId: data.mostViewed[1].displayId },
    { __typename: 'CustomerGroup', id: f.shared!.id, viewCount: 10, name: 'Shared' },
    { __typename: 'Address', id: f.addressA!.id, viewCount: 5, city: 'Copenhagen' },
    { __typename: 'Customer', id: f.b!.id, viewCount: 3, email: 'b@example.com' },
  ]);
  // As customer A, whose rows are the first four: the gateways forward A's token, and A's rows resolve.
  const mine = await sameEverywhere(all, [
    `{ mostViewed(first: 4) { id viewCount ... on Customer { email } } }`,
    {},
    bearer(tokenA),
  ]);
  assert.deepEqual(
    mine.mostViewed.map((n: { id: string }) => n.id),
    [f.a!.id, f.orderA!.id, f.shared!.id, f.addressA!.id],
  );

  // One statement per type however long the list, through every gateway.
  for (const [name, gateway] of Object.entries(all)) {
    const run = async (first: number) => {
      const { result, statements, sql } = await t.countStatements(() =>
        gateway(
          `query($first: Int!) { mostViewed(first: $first) { id ... on Customer { email groups { totalCount } } } }`,
          { first },
        ),
      );
      assert.equal(result.errors, undefined, `${name}: ${JSON.stringify(result.errors)}`);
      assert.equal(result.data!.mostViewed.length, first);
      return { statements, sql };
    };
    const few = await run(10);
    const many = await run(55);
    assert.equal(many.statements, few.statements, `${name}\n${many.sql.join('\n')}`);
    // Customers (with their groups' totalCount), orders, groups and addresses: one statement each.
    assert.equal(many.statements, 4, `${name}\n${many.sql.join('\n')}`);
  }
});

test('through @apollo/gateway (either composer): the @interfaceObject field on node(id), on a page of customers and on me', async () => {
  const { views, apollo } = activity;
  const one = await sameEverywhere(apollo, [
    `query($id: ID!) { node(id: $id) { __typename id ... on Customer { email loyaltyPoints } viewCount } }`,
    { id: f.a!.id },
    ADMIN,
  ]);
  assert.deepEqual(one.node, {
    __typename: 'Customer',
    id: f.a!.id,
    email: 'a@example.com',
    loyaltyPoints: 50,
    viewCount: 30,
  });
  const order = await sameEverywhere(apollo, [
    `query($id: ID!) { node(id: $id) { ... on Order { displayId } viewCount } }`,
    { id: f.orderA!.id },
    ADMIN,
  ]);
  assert.equal(order.node.viewCount, 20);
  const page = await sameEverywhere(apollo, [
    `{ customers(first: 60, orderBy: { field: EMAIL }) { edges { node { id email viewCount } } } }`,
    {},
    ADMIN,
  ]);
  const edges = page.customers.edges as { node: { id: string; viewCount: number } }[];
  assert.equal(edges.length, 60);
  for (const { node: customer } of edges) assert.equal(customer.viewCount, views.get(customer.id) ?? 0);
  const me = await sameEverywhere(apollo, [
    `{ me { email viewCount orders(first: 5) { edges { node { id viewCount } } } } }`,
    {},
    bearer(tokenA),
  ]);
  assert.deepEqual(me.me, {
    email: 'a@example.com',
    viewCount: 30,
    orders: { edges: [{ node: { id: f.orderA!.id, viewCount: 20 } }] },
  });
});

test('Hive Gateway 2.12 does not fetch an @interfaceObject field for an object our subgraph returned (a gateway limitation, pinned)', async () => {
  // It never asks the activity subgraph, and answers a non-null error at the field. Reproduced
  // without us: with `Node @key(fields: "id")` and an implementation with a second key
  // (Customer @key(fields: "email")), or for any list of a concrete type. When an upgrade makes
  // this pass, turn it into a sameEverywhere case and update docs/federation.md.
  for (const [name, gql] of Object.entries(activity.hive)) {
    for (const [query, variables] of [
      [`query($id: ID!) { node(id: $id) { id viewCount } }`, { id: f.a!.id }],
      [`{ customers(first: 3) { edges { node { id viewCount } } } }`, {}],
    ] as const) {
      const r = await gql(query, variables, ADMIN);
      assert.ok(r.errors?.length, `${name}: ${query} now answers: update docs/federation.md`);
      assert.ok(
        r.errors!.every((e) => e.path?.at(-1) === 'viewCount'),
        JSON.stringify(r.errors),
      );
    }
  }
});
