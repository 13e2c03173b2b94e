import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isInterfaceType, isObjectType, isUnionType } from 'graphql';
import { schema } from '../src/schema/index.js';
import {
  ANONYMOUS,
  addToGroup,
  bearer,
  createTestApp,
  makeAddress,
  makeCustomer,
  makeGroup,
  makeOrder,
  type TestApp,
} from './helpers.js';

const t: TestApp = await createTestApp();
const f = {} as Record<string, { id: string }>;
let tokenA = '';

type Extensions = { pothosOptions?: { authScopes?: unknown; skipTypeScopes?: boolean } };
const declared = (x: { extensions?: unknown }) =>
  (x.extensions as Extensions | undefined)?.pothosOptions?.authScopes !== undefined;

test('every root operation and every field of every type declares who may use it', () => {
  // Connection, edge, page-info and count wrappers carry no data of their own: the field returning them and the node types decide.
  const structural = /(Connection|Edge)$|^PageInfo$|^Count$|^__/;
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || structural.test(type.name)) continue;
    const root = type === schema.getQueryType() || type === schema.getMutationType();
    const typeRule = declared(type);
    for (const field of Object.values(type.getFields())) {
      if (root ? !declared(field) : !typeRule && !declared(field)) missing.push(`${type.name}.${field.name}`);
    }
  }
  assert.deepEqual(missing, []);
  // Interfaces and unions are only ever resolved to object types checked above.
  assert.ok(Object.values(schema.getTypeMap()).some((x) => isInterfaceType(x) || isUnionType(x)));
});

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
  f.group = await makeGroup(p, { name: 'Shared', createdBy: 'dashboard', metadata: { note: 'dashboard' } });
  await p.customer.update({ where: { id: f.a!.id }, data: { createdBy: 'dashboard' } });
  await addToGroup(p, f.a!.id, f.group.id);
  await addToGroup(p, f.b.id, f.group.id);
  f.orderA = await makeOrder(p, f.a!.id);
  f.orderB = await makeOrder(p, f.b.id);
  f.addressB = await makeAddress(p, f.b.id);
});

const refusedWith = (code: string) => (r: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  r.errors?.some((e) => e.extensions?.code === code) ?? false;
const forbidden = refusedWith('FORBIDDEN');
const unauthenticated = refusedWith('UNAUTHENTICATED');

test('anonymous callers may not read anything but may register and log in', async () => {
  for (const query of [
    `{ customers { totalCount } }`,
    `{ orders { totalCount } }`,
    `{ customerGroups { totalCount } }`,
    `{ addresses { totalCount } }`,
    `{ customerGroupMemberships { totalCount } }`,
  ]) {
    const r = await t.gql(query, {}, ANONYMOUS);
    assert.ok(unauthenticated(r), `${query}: ${JSON.stringify(r.errors)}`);
    assert.equal(r.data, null);
  }
  const id = f.b!.id;
  for (const query of [
    `query($id: ID!) { customer(id: $id) { email } }`,
    `query($id: ID!) { node(id: $id) { id } }`,
    `query($id: ID!) { nodes(ids: [$id]) { id } }`,
  ]) {
    const r = await t.gql(query, { id }, ANONYMOUS);
    assert.ok(unauthenticated(r), `${query}: ${JSON.stringify(r)}`);
    assert.doesNotMatch(JSON.stringify(r.data ?? {}), /b@example\.com/);
  }
  // `me` is null for them, without an error: a storefront page asks for it beside public data.
  const me = await t.gql(`{ me { id email } __typename }`, {}, ANONYMOUS);
  assert.deepEqual([me.status, me.data, me.errors], [200, { me: null, __typename: 'Query' }, undefined]);
  const login = await t.gql(
    `mutation { login(email: "a@example.com", password: "password-a") { __typename } }`,
    {},
    ANONYMOUS,
  );
  assert.equal(login.data!.login.__typename, 'Session');
});

test('a customer sees their own data through me', async () => {
  const r = await t.gql(
    `{ me { id email orders { totalCount edges { node { id items { title } } } } groups { edges { node { name } } } } }`,
    {},
    bearer(tokenA),
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.equal(r.data!.me.id, f.a!.id);
  assert.deepEqual(
    r.data!.me.orders.edges.map((e: { node: { id: string } }) => e.node.id),
    [f.orderA!.id],
  );
  assert.equal(r.data!.me.groups.edges[0].node.name, 'Shared');
  // Which admin key created their record or their group, and the group's back-office metadata, are not theirs to read.
  for (const query of [
    `{ me { createdBy } }`,
    `{ me { groups { edges { node { createdBy } } } } }`,
    `{ me { groups { edges { node { metadata } } } } }`,
  ]) {
    const denied = await t.gql(query, {}, bearer(tokenA));
    assert.ok(forbidden(denied), `${query}: ${JSON.stringify(denied)}`);
    assert.doesNotMatch(JSON.stringify(denied.data), /dashboard/);
  }
});

test('customer A cannot reach customer B through any path', async () => {
  const as = bearer(tokenA);
  const b = f.b!.id;
  const attempts: [string, Record<string, unknown>][] = [
    [`query($id: ID!) { customer(id: $id) { email } }`, { id: b }],
    [`{ customers { edges { node { email } } } }`, {}],
    [`query($id: ID!) { order(id: $id) { email customer { email } } }`, { id: f.orderB!.id }],
    [`query($id: ID!) { address(id: $id) { city customer { email } } }`, { id: f.addressB!.id }],
    [`{ me { groups { edges { node { customers { edges { node { email } } } } } } } }`, {}],
    [`{ customerGroupMemberships { edges { node { customer { email } } } } }`, {}],
    [`{ orders { edges { node { customer { email } } } } }`, {}],
  ];
  for (const [query, variables] of attempts) {
    const r = await t.gql(query, variables, as);
    assert.ok(forbidden(r), `${query}: ${JSON.stringify(r)}`);
    assert.doesNotMatch(JSON.stringify(r.data ?? {}), /b@example\.com/);
  }
  // Relay's node and nodes answer B's rows exactly as IDs no row has: null, byte for byte.
  const unknown = {
    Customer: 'cus_0000000000000000000000000Z',
    Order: 'order_000000000000000000000000Z',
    Address: 'cuaddr_00000000000000000000000Z',
  };
  const theirs = { Customer: b, Order: f.orderB!.id, Address: f.addressB!.id };
  const lookups = [
    'query($id: ID!) { node(id: $id) { __typename id ... on Customer { email } ... on Order { email } ... on Address { city } } }',
    'query($id: ID!) { nodes(ids: [$id, $id]) { id } }',
  ];
  for (const query of lookups) {
    for (const type of ['Customer', 'Order', 'Address'] as const) {
      const other = await t.gql(query, { id: theirs[type] }, as);
      const none = await t.gql(query, { id: unknown[type] }, as);
      assert.equal(JSON.stringify(other), JSON.stringify(none), `${type}: ${query}`);
      assert.equal(other.errors, undefined);
    }
  }
});

test('customer A cannot change customer B’s addresses, and learns nothing about them', async () => {
  const r = await t.gql(
    `mutation($id: ID!) { updateMyAddress(id: $id, input: { city: "Hacked" }) { __typename ... on Error { code } } deleteMyAddress(id: $id) { __typename } }`,
    { id: f.addressB!.id },
    bearer(tokenA),
  );
  assert.equal(r.data!.updateMyAddress.__typename, 'NotFoundError');
  assert.equal(r.data!.deleteMyAddress.__typename, 'NotFoundError');
  const address = await t.prisma.address.findUniqueOrThrow({ where: { id: f.addressB!.id } });
  assert.notEqual(address.city, 'Hacked');
});

test('admin-only and customer-only mutations answer others with a typed ForbiddenError', async () => {
  const anon = await t.gql(
    `mutation { updateMe(input: { firstName: "X" }) { __typename ... on Error { code message } } }`,
    {},
    ANONYMOUS,
  );
  assert.equal(anon.data!.updateMe.__typename, 'UnauthenticatedError');
  assert.equal(anon.data!.updateMe.code, 'UNAUTHENTICATED');
  const logout = await t.gql(`mutation { logout { ok } }`, {}, ANONYMOUS);
  assert.ok(unauthenticated(logout));
  const admin = await t.gql(`mutation { updateMe(input: { firstName: "X" }) { __typename } }`);
  assert.equal(admin.data!.updateMe.__typename, 'ForbiddenError');

  // Every admin-only mutation, as a signed-in customer and anonymously, on real rows: the typed
  // ForbiddenError (signed in) or UnauthenticatedError (anonymous) as its result, and nothing written.
  const b = f.b!.id;
  const g = f.group!.id;
  const note = await t.prisma.customerNote.create({
    data: { id: 'cunote_01ACCESS', customerId: b, body: 'note', author: 'tests' },
  });
  await t.prisma.customer.update({ where: { id: b }, data: { tags: ['vip'] } });
  const adminOnly: Record<string, string> = {
    addAddresses: `addAddresses(input: [{ customerId: "${b}", address: { address1: "1 Forbidden St", city: "Hacked", countryCode: "dk" } }])`,
    addCustomerToGroup: `addCustomerToGroup(memberships: [{ customerId: "${f.a!.id}", groupId: "${g}" }])`,
    addCustomersToGroup: `addCustomersToGroup(groupId: "${g}", customerIds: ["${f.a!.id}"])`,
    batchCustomerGroups: `batchCustomerGroups(customerId: "${b}", remove: ["${g}"])`,
    createCustomerGroups: `createCustomerGroups(input: [{ name: "Hacked" }])`,
    createCustomers: `createCustomers(input: [{ email: "hacked@example.com" }])`,
    deleteAddresses: `deleteAddresses(ids: ["${f.addressB!.id}"])`,
    deleteCustomerGroups: `deleteCustomerGroups(ids: ["${g}"])`,
    deleteCustomers: `deleteCustomers(ids: ["${b}"])`,
    mergeCustomers: `mergeCustomers(targetId: "${f.a!.id}", sourceIds: ["${b}"], includeAccounts: true)`,
    removeCustomerFromGroup: `removeCustomerFromGroup(memberships: [{ customerId: "${b}", groupId: "${g}" }])`,
    removeCustomersFromGroup: `removeCustomersFromGroup(groupId: "${g}", customerIds: ["${b}"])`,
    restoreCustomerGroups: `restoreCustomerGroups(ids: ["${g}"])`,
    restoreCustomers: `restoreCustomers(ids: ["${b}"])`,
    softDeleteCustomerGroups: `softDeleteCustomerGroups(ids: ["${g}"])`,
    softDeleteCustomers: `softDeleteCustomers(ids: ["${b}"])`,
    updateAddresses: `updateAddresses(ids: ["${f.addressB!.id}"], input: { city: "Hacked" })`,
    updateCustomerGroups: `updateCustomerGroups(ids: ["${g}"], input: { name: "Hacked" })`,
    updateCustomers: `updateCustomers(ids: ["${b}"], input: { firstName: "Hacked" })`,
    addCustomerNote: `addCustomerNote(customerId: "${b}", body: "Hacked")`,
    updateCustomerNote: `updateCustomerNote(id: "${note.id}", body: "Hacked")`,
    deleteCustomerNote: `deleteCustomerNote(id: "${note.id}")`,
    addCustomerTags: `addCustomerTags(ids: ["${b}"], tags: ["hacked"])`,
    removeCustomerTags: `removeCustomerTags(ids: ["${b}"], tags: ["vip"])`,
    updateCustomersMarketingConsent: `updateCustomersMarketingConsent(ids: ["${b}"], input: { email: { state: SUBSCRIBED } })`,
    disableCustomerAccounts: `disableCustomerAccounts(ids: ["${b}"])`,
    enableCustomerAccounts: `enableCustomerAccounts(ids: ["${b}"])`,
    inviteCustomers: `inviteCustomers(ids: ["${b}"])`,
    eraseCustomers: `eraseCustomers(ids: ["${b}"])`,
  };
  const mutationType = schema.getMutationType()!;
  const declaredAdminOnly = Object.values(mutationType.getFields())
    .filter((field) => JSON.stringify((field.extensions as Extensions).pothosOptions?.authScopes) === '{"admin":true}')
    .map((field) => field.name);
  assert.deepEqual(Object.keys(adminOnly).sort(), declaredAdminOnly.sort(), 'every admin-only mutation is tried');
  const rows = async () => ({
    customers: await t.prisma.customer.findMany({ orderBy: { id: 'asc' } }),
    groups: await t.prisma.customerGroup.findMany({ orderBy: { id: 'asc' } }),
    memberships: await t.prisma.customerGroupCustomer.findMany({ orderBy: { id: 'asc' } }),
    addresses: await t.prisma.address.findMany({ orderBy: { id: 'asc' } }),
    notes: await t.prisma.customerNote.findMany({ orderBy: { id: 'asc' } }),
    tokens: await t.prisma.customerToken.findMany({ orderBy: { tokenHash: 'asc' } }),
    timeline: await t.prisma.customerTimelineEntry.count(),
  });
  const before = await rows();
  for (const [name, call] of Object.entries(adminOnly)) {
    for (const [who, headers] of [
      ['customer', bearer(tokenA)],
      ['anonymous', ANONYMOUS],
    ] as const) {
      const r = await t.gql(`mutation { ${call} { __typename ... on Error { code } } }`, {}, headers);
      assert.equal(r.errors, undefined, `${name} as ${who}: ${JSON.stringify(r.errors)}`);
      const expected =
        who === 'anonymous'
          ? { __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' }
          : { __typename: 'ForbiddenError', code: 'FORBIDDEN' };
      assert.deepEqual(r.data![name], expected, `${name} as ${who}`);
    }
  }
  assert.deepEqual(await rows(), before, 'nothing written');
});

test('a bearer token that identifies no one is refused with 401 before anything runs; an admin key is compared in full', async () => {
  for (const token of ['cgs_nope', 'test-admin-key-0123456789abcde', 'test-admin-key-0123456789abcdeff', 'x']) {
    for (const query of [`{ customers { totalCount } }`, `{ me { id } }`, `mutation { logout { ok } }`]) {
      const response = await t.app.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...bearer(token) },
        body: JSON.stringify({ query }),
      });
      assert.equal(response.status, 401, `${token}: ${query}`);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      const body = (await response.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
      assert.equal(body.data, undefined);
      assert.deepEqual(
        body.errors.map((e) => e.extensions.code),
        ['UNAUTHENTICATED'],
      );
    }
  }
  // An empty bearer is no token at all: anonymous.
  assert.ok(unauthenticated(await t.gql(`{ customers { totalCount } }`, {}, { authorization: 'Bearer ' })));
});
