import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { addToGroup, createTestApp, makeAddress, makeCustomer, makeGroup, makeOrder, type TestApp } from './helpers.js';

const t: TestApp = await createTestApp();
const f = {} as Record<string, { id: string }>;

const ids = (connection: { edges: { node: { id: string } }[] }) => connection.edges.map((e) => e.node.id).sort();
const sorted = (...xs: { id: string }[]) => xs.map((x) => x.id).sort();

before(async () => {
  const p = t.prisma;
  f.ada = await makeCustomer(p, {
    email: 'ada@lovelace.dev',
    firstName: 'Ada',
    lastName: 'Lovelace',
    companyName: 'Analytical Engines',
    phone: '+44 20 7946 0000',
    hasAccount: true,
    metadata: { tier: 'gold' },
    createdAt: new Date('2026-01-10T00:00:00Z'),
  });
  f.alan = await makeCustomer(p, {
    email: 'alan@turing.dev',
    firstName: 'Alan',
    lastName: 'Turing',
    createdAt: new Date('2026-02-10T00:00:00Z'),
  });
  f.grace = await makeCustomer(p, {
    email: 'grace@hopper.dev',
    firstName: 'Grace',
    lastName: 'Hopper',
    hasAccount: true,
    createdAt: new Date('2026-03-10T00:00:00Z'),
  });
  f.adaGuest = await makeCustomer(p, {
    email: 'ada@lovelace.dev',
    firstName: 'Ada (guest)',
    createdAt: new Date('2026-01-05T00:00:00Z'),
  });
  f.gone = await makeCustomer(p, { email: 'gone@example.com', deletedAt: new Date() });

  f.vip = await makeGroup(p, { name: 'VIP' });
  f.wholesale = await makeGroup(p, { name: 'Wholesale' });
  f.oldGroup = await makeGroup(p, { name: 'Retired', deletedAt: new Date() });
  f.m1 = await addToGroup(p, f.ada.id, f.vip.id);
  f.m2 = await addToGroup(p, f.ada.id, f.wholesale.id);
  f.m3 = await addToGroup(p, f.grace.id, f.vip.id);
  await addToGroup(p, f.ada.id, f.oldGroup.id);
  await addToGroup(p, f.gone.id, f.vip.id);

  f.adaHome = await makeAddress(p, f.ada.id, {
    addressName: 'Home',
    city: 'London',
    countryCode: 'gb',
    postalCode: 'W1 1AA',
    isDefaultShipping: true,
  });
  f.adaWork = await makeAddress(p, f.ada.id, {
    addressName: 'Work',
    city: 'Cambridge',
    countryCode: 'gb',
    postalCode: 'CB2 1TN',
    company: 'Analytical Engines',
    isDefaultBilling: true,
  });
  f.adaOld = await makeAddress(p, f.ada.id, { city: 'Bath', deletedAt: new Date() });
  f.alanHome = await makeAddress(p, f.alan.id, { city: 'Manchester', countryCode: 'gb', postalCode: 'M1 1AE' });

  f.o1 = await makeOrder(p, f.ada.id, {
    email: 'ada@lovelace.dev',
    status: 'completed',
    paymentStatus: 'captured',
    fulfillmentStatus: 'shipped',
    currencyCode: 'gbp',
    regionId: 'reg_uk',
    cartId: 'cart_1',
    createdAt: new Date('2026-04-01T00:00:00Z'),
  });
  f.o2 = await makeOrder(p, f.ada.id, {
    email: 'ada@lovelace.dev',
    status: 'canceled',
    paymentStatus: 'canceled',
    fulfillmentStatus: 'canceled',
    canceledAt: new Date('2026-04-03T00:00:00Z'),
    currencyCode: 'gbp',
    createdAt: new Date('2026-04-02T00:00:00Z'),
  });
  f.o3 = await makeOrder(p, f.grace.id, {
    email: 'grace@hopper.dev',
    status: 'pending',
    currencyCode: 'usd',
    regionId: 'reg_us',
    createdAt: new Date('2026-04-05T00:00:00Z'),
    shippingAddress: { city: 'Arlington', countryCode: 'us' },
  });
  f.o4 = await makeOrder(p, null, {
    email: 'guest@example.com',
    status: 'completed',
    paymentStatus: 'refunded',
    currencyCode: 'eur',
    createdAt: new Date('2026-04-06T00:00:00Z'),
  });
});

describe('customer', () => {
  test('by id, with every scalar field', async () => {
    const r = await t.gql(
      `query($id: ID!) { customer(id: $id) { id email firstName lastName companyName phone hasAccount metadata createdAt updatedAt deletedAt createdBy } }`,
      { id: f.ada!.id },
    );
    assert.deepEqual(r.errors, undefined);
    assert.equal(r.data!.customer.id, f.ada!.id);
    assert.equal(r.data!.customer.email, 'ada@lovelace.dev');
    assert.equal(r.data!.customer.companyName, 'Analytical Engines');
    assert.equal(r.data!.customer.hasAccount, true);
    assert.deepEqual(r.data!.customer.metadata, { tier: 'gold' });
    assert.equal(r.data!.customer.createdAt, '2026-01-10T00:00:00.000Z');
    assert.equal(r.data!.customer.deletedAt, null);
  });

  test('the password hash is not in the schema', async () => {
    const r = await t.gql(`{ __type(name: "Customer") { fields { name } } }`);
    const names = r.data!.__type.fields.map((x: { name: string }) => x.name);
    assert.ok(names.includes('email'));
    assert.ok(!names.some((n: string) => /password/i.test(n)));
  });

  test('unknown id is null; soft-deleted is null unless withDeleted', async () => {
    const r = await t.gql(
      `query($a: ID!, $b: ID!) { missing: customer(id: $a) { id } gone: customer(id: $b) { id } back: customer(id: $b, withDeleted: true) { id deletedAt } }`,
      {
        a: 'cus_01ZZZZZZZZZZZZZZZZZZZZZZZZ',
        b: f.gone!.id,
      },
    );
    assert.equal(r.errors, undefined);
    assert.equal(r.data!.missing, null);
    assert.equal(r.data!.gone, null);
    assert.equal(r.data!.back.id, f.gone!.id);
    assert.ok(r.data!.back.deletedAt);
  });

  test('relations: groups, addresses, default addresses, orders; deleted rows left out', async () => {
    const r = await t.gql(
      `query($id: ID!) { customer(id: $id) {
      groups { totalCount edges { node { id name } } }
      addresses { totalCount edges { node { id } } }
      defaultShippingAddress { id isDefaultShipping }
      defaultBillingAddress { id isDefaultBilling }
      orders { totalCount edges { node { id } } }
    } }`,
      { id: f.ada!.id },
    );
    assert.equal(r.errors, undefined);
    const c = r.data!.customer;
    assert.equal(c.groups.totalCount, 2);
    assert.deepEqual(ids(c.groups), sorted(f.vip!, f.wholesale!));
    assert.equal(c.addresses.totalCount, 2);
    assert.deepEqual(ids(c.addresses), sorted(f.adaHome!, f.adaWork!));
    assert.equal(c.defaultShippingAddress.id, f.adaHome!.id);
    assert.equal(c.defaultBillingAddress.id, f.adaWork!.id);
    assert.equal(c.orders.totalCount, 2);
    assert.deepEqual(
      c.orders.edges.map((e: { node: { id: string } }) => e.node.id),
      [f.o2!.id, f.o1!.id],
      'newest first',
    );
  });

  test('Customer.orders takes the order filter, and its totalCount follows it', async () => {
    const r = await t.gql(
      `query($id: ID!) { customer(id: $id) { orders(filter: { status: [CANCELED] }) { totalCount edges { node { id status } } } } }`,
      { id: f.ada!.id },
    );
    assert.equal(r.errors, undefined);
    assert.equal(r.data!.customer.orders.totalCount, 1);
    assert.equal(r.data!.customer.orders.edges[0].node.status, 'CANCELED');
  });

  test('no default address is null', async () => {
    const r = await t.gql(
      `query($id: ID!) { customer(id: $id) { defaultShippingAddress { id } defaultBillingAddress { id } } }`,
      { id: f.alan!.id },
    );
    assert.deepEqual(r.data!.customer, { defaultShippingAddress: null, defaultBillingAddress: null });
  });
});

describe('customers filters', () => {
  const list = async (variables: { v?: Record<string, unknown>; w?: boolean } = {}) => {
    const r = await t.gql(
      `query($v: CustomerFilter, $w: Boolean) { customers(filter: $v, withDeleted: $w) { totalCount edges { node { id } } } }`,
      variables,
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data!.customers.totalCount, r.data!.customers.edges.length);
    return r.data!.customers.edges.map((e: { node: { id: string } }) => e.node.id).sort();
  };

  test('no filter: every live customer', async () => {
    assert.deepEqual(await list(), sorted(f.ada!, f.alan!, f.grace!, f.adaGuest!));
  });
  test('withDeleted', async () => {
    assert.deepEqual(await list({ w: true }), sorted(f.ada!, f.alan!, f.grace!, f.adaGuest!, f.gone!));
  });
  test('q matches email, names, company and phone, case-insensitively', async () => {
    assert.deepEqual(await list({ v: { q: 'HOPPER' } }), sorted(f.grace!));
    assert.deepEqual(await list({ v: { q: 'turing' } }), sorted(f.alan!));
    assert.deepEqual(await list({ v: { q: 'analytical' } }), sorted(f.ada!));
    assert.deepEqual(await list({ v: { q: '7946' } }), sorted(f.ada!));
    assert.deepEqual(await list({ v: { q: 'grace' } }), sorted(f.grace!));
  });
  test('q takes LIKE wildcards literally', async () => {
    assert.deepEqual(await list({ v: { q: '%' } }), []);
    assert.deepEqual(await list({ v: { q: '_' } }), []);
  });
  test('email is exact and case-insensitive, and finds guests sharing an account email', async () => {
    assert.deepEqual(await list({ v: { email: 'ADA@Lovelace.dev' } }), sorted(f.ada!, f.adaGuest!));
    assert.deepEqual(await list({ v: { email: 'ada@lovelace' } }), []);
  });
  test('hasAccount', async () => {
    assert.deepEqual(await list({ v: { hasAccount: true } }), sorted(f.ada!, f.grace!));
    assert.deepEqual(await list({ v: { hasAccount: false } }), sorted(f.alan!, f.adaGuest!));
  });
  test('groupIds: members of any of the groups', async () => {
    assert.deepEqual(await list({ v: { groupIds: [f.vip!.id] } }), sorted(f.ada!, f.grace!));
    assert.deepEqual(await list({ v: { groupIds: [f.wholesale!.id] } }), sorted(f.ada!));
  });
  test('createdAt and updatedAt ranges', async () => {
    assert.deepEqual(
      await list({ v: { createdAt: { gte: '2026-01-10T00:00:00Z', lt: '2026-03-10T00:00:00Z' } } }),
      sorted(f.ada!, f.alan!),
    );
    assert.deepEqual(
      await list({ v: { createdAt: { gt: '2026-01-10T00:00:00Z', lte: '2026-03-10T00:00:00Z' } } }),
      sorted(f.alan!, f.grace!),
    );
    assert.deepEqual(await list({ v: { updatedAt: { lt: '2000-01-01T00:00:00Z' } } }), []);
    assert.equal((await list({ v: { updatedAt: { gt: '2000-01-01T00:00:00Z' } } })).length, 4);
  });
  test('orderBy a field plus id; default newest first', async () => {
    const r = await t.gql(
      `{ byEmail: customers(orderBy: { field: EMAIL, direction: DESC }) { edges { node { email } } } newest: customers { edges { node { id } } } }`,
    );
    assert.deepEqual(
      r.data!.byEmail.edges.map((e: { node: { email: string } }) => e.node.email),
      ['grace@hopper.dev', 'alan@turing.dev', 'ada@lovelace.dev', 'ada@lovelace.dev'],
    );
    assert.deepEqual(
      r.data!.newest.edges.map((e: { node: { id: string } }) => e.node.id),
      [f.grace!.id, f.alan!.id, f.ada!.id, f.adaGuest!.id],
    );
  });
});

describe('customer groups', () => {
  test('customerGroup(id) with members, member search and counts', async () => {
    const r = await t.gql(
      `query($id: ID!) { customerGroup(id: $id) { id name customers { totalCount edges { node { id } } } hoppers: customers(filter: { q: "hopper" }) { totalCount edges { node { id } } } } }`,
      { id: f.vip!.id },
    );
    assert.equal(r.errors, undefined);
    assert.equal(r.data!.customerGroup.name, 'VIP');
    assert.equal(r.data!.customerGroup.customers.totalCount, 2, 'the soft-deleted member is left out');
    assert.deepEqual(ids(r.data!.customerGroup.customers), sorted(f.ada!, f.grace!));
    assert.equal(r.data!.customerGroup.hoppers.totalCount, 1);
    assert.deepEqual(ids(r.data!.customerGroup.hoppers), sorted(f.grace!));
  });
  test('customerGroups: q, name, ids, withDeleted, orderBy', async () => {
    const r = await t.gql(
      `query($ids: [ID!]) {
      all: customerGroups { totalCount edges { node { name } } }
      q: customerGroups(filter: { q: "sale" }) { edges { node { name } } }
      name: customerGroups(filter: { name: ["VIP"] }) { edges { node { name } } }
      ids: customerGroups(filter: { ids: $ids }) { edges { node { name } } }
      deleted: customerGroups(withDeleted: true) { totalCount }
      sorted: customerGroups(orderBy: { field: NAME, direction: ASC }) { edges { node { name } } }
    }`,
      { ids: [f.wholesale!.id, f.oldGroup!.id] },
    );
    assert.equal(r.errors, undefined);
    const names = (c: { edges: { node: { name: string } }[] }) => c.edges.map((e) => e.node.name);
    assert.equal(r.data!.all.totalCount, 2);
    assert.deepEqual(names(r.data!.q), ['Wholesale']);
    assert.deepEqual(names(r.data!.name), ['VIP']);
    assert.deepEqual(names(r.data!.ids), ['Wholesale']);
    assert.equal(r.data!.deleted.totalCount, 3);
    assert.deepEqual(names(r.data!.sorted), ['VIP', 'Wholesale']);
  });
  test('a connection asked only for its count', async () => {
    const r = await t.gql(
      `query($g: ID!, $c: ID!) { customerGroup(id: $g) { customers { totalCount } } customer(id: $c) { groups { totalCount } } }`,
      { g: f.vip!.id, c: f.ada!.id },
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.deepEqual(r.data, {
      customerGroup: { customers: { totalCount: 2 } },
      customer: { groups: { totalCount: 2 } },
    });
  });

  test('a soft-deleted group is null unless withDeleted', async () => {
    const r = await t.gql(
      `query($id: ID!) { a: customerGroup(id: $id) { id } b: customerGroup(id: $id, withDeleted: true) { id } }`,
      { id: f.oldGroup!.id },
    );
    assert.equal(r.data!.a, null);
    assert.equal(r.data!.b.id, f.oldGroup!.id);
  });
  test('customerGroupMemberships lists membership rows, filtered by customer or group', async () => {
    const r = await t.gql(
      `query($c: [ID!], $g: [ID!]) {
      all: customerGroupMemberships { totalCount edges { node { id customer { id } group { id } createdAt } } }
      byCustomer: customerGroupMemberships(filter: { customerIds: $c }) { edges { node { id } } }
      byGroup: customerGroupMemberships(filter: { groupIds: $g }) { edges { node { id } } }
    }`,
      { c: [f.ada!.id], g: [f.vip!.id] },
    );
    assert.equal(r.errors, undefined);
    assert.equal(r.data!.all.totalCount, 3, 'memberships of deleted customers and groups are left out');
    assert.deepEqual(ids(r.data!.byCustomer), sorted(f.m1!, f.m2!));
    assert.deepEqual(ids(r.data!.byGroup), sorted(f.m1!, f.m3!));
    const row = r.data!.all.edges.find((e: { node: { id: string } }) => e.node.id === f.m3!.id).node;
    assert.equal(row.customer.id, f.grace!.id);
    assert.equal(row.group.id, f.vip!.id);
  });
});

describe('addresses', () => {
  test('address(id) with its customer; deleted address is null', async () => {
    const r = await t.gql(
      `query($a: ID!, $b: ID!) { a: address(id: $a) { id addressName city countryCode postalCode isDefaultShipping isDefaultBilling customer { id } } b: address(id: $b) { id } }`,
      { a: f.adaHome!.id, b: f.adaOld!.id },
    );
    assert.equal(r.errors, undefined);
    assert.deepEqual(r.data!.a, {
      id: f.adaHome!.id,
      addressName: 'Home',
      city: 'London',
      countryCode: 'GB',
      postalCode: 'W1 1AA',
      isDefaultShipping: true,
      isDefaultBilling: false,
      customer: { id: f.ada!.id },
    });
    assert.equal(r.data!.b, null);
  });
  test('addresses filters: customer, city, country, postal code, q', async () => {
    const r = await t.gql(
      `query($c: ID) {
      all: addresses { totalCount }
      customer: addresses(filter: { customerId: $c }) { edges { node { id } } }
      city: addresses(filter: { city: "LONDON" }) { edges { node { id } } }
      country: addresses(filter: { countryCode: "GB" }) { totalCount }
      postal: addresses(filter: { postalCode: "M1 1AE" }) { edges { node { id } } }
      q: addresses(filter: { q: "engines" }) { edges { node { id } } }
    }`,
      { c: f.ada!.id },
    );
    assert.equal(r.errors, undefined);
    assert.equal(r.data!.all.totalCount, 3);
    assert.deepEqual(ids(r.data!.customer), sorted(f.adaHome!, f.adaWork!));
    assert.deepEqual(ids(r.data!.city), sorted(f.adaHome!));
    assert.equal(r.data!.country.totalCount, 3);
    assert.deepEqual(ids(r.data!.postal), sorted(f.alanHome!));
    assert.deepEqual(ids(r.data!.q), sorted(f.adaWork!));
  });
});

describe('orders', () => {
  test('order(id) with items, totals, address snapshot and customer', async () => {
    const r = await t.gql(
      `query($id: ID!) { order(id: $id) { id displayId email status paymentStatus fulfillmentStatus currencyCode regionId subtotal { amount currencyCode } taxTotal { amount } total { amount }
      items { title quantity unitPrice { amount currencyCode } total { amount currencyCode } } shippingAddress { city countryCode } customer { id } } }`,
      { id: f.o3!.id },
    );
    assert.equal(r.errors, undefined);
    const o = r.data!.order;
    assert.equal(o.status, 'PENDING');
    assert.equal(o.paymentStatus, 'NOT_PAID');
    assert.equal(o.fulfillmentStatus, 'NOT_FULFILLED');
    assert.deepEqual(o.items, [
      {
        title: 'T-shirt',
        quantity: 2,
        unitPrice: { amount: '5.00', currencyCode: 'USD' },
        total: { amount: '10.00', currencyCode: 'USD' },
      },
    ]);
    assert.equal(o.currencyCode, 'USD');
    assert.deepEqual(
      [o.subtotal, o.taxTotal, o.total],
      [{ amount: '10.00', currencyCode: 'USD' }, { amount: '2.50' }, { amount: '12.50' }],
    );
    assert.deepEqual(o.shippingAddress, { city: 'Arlington', countryCode: 'US' });
    assert.equal(o.customer.id, f.grace!.id);
    assert.equal(typeof o.displayId, 'number');
  });
  test('a guest order has no customer', async () => {
    const r = await t.gql(`query($id: ID!) { order(id: $id) { customer { id } billingAddress { city } } }`, {
      id: f.o4!.id,
    });
    assert.deepEqual(r.data!.order, { customer: null, billingAddress: null });
  });

  const orderIds = async (filter: Record<string, unknown>) => {
    const r = await t.gql(`query($f: OrderFilter) { orders(filter: $f) { totalCount edges { node { id } } } }`, {
      f: filter,
    });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data!.orders.totalCount, r.data!.orders.edges.length);
    return ids(r.data!.orders);
  };

  test('every order filter', async () => {
    const display = (await t.prisma.order.findUniqueOrThrow({ where: { id: f.o3!.id } })).displayId;
    assert.deepEqual(await orderIds({}), sorted(f.o1!, f.o2!, f.o3!, f.o4!));
    assert.deepEqual(await orderIds({ ids: [f.o1!.id, f.o4!.id] }), sorted(f.o1!, f.o4!));
    assert.deepEqual(await orderIds({ status: ['COMPLETED'] }), sorted(f.o1!, f.o4!));
    assert.deepEqual(await orderIds({ status: ['PENDING', 'CANCELED'] }), sorted(f.o2!, f.o3!));
    assert.deepEqual(await orderIds({ fulfillmentStatus: ['SHIPPED'] }), sorted(f.o1!));
    assert.deepEqual(await orderIds({ paymentStatus: ['REFUNDED', 'CAPTURED'] }), sorted(f.o1!, f.o4!));
    assert.deepEqual(await orderIds({ displayId: display }), sorted(f.o3!));
    assert.deepEqual(await orderIds({ cartId: 'cart_1' }), sorted(f.o1!));
    assert.deepEqual(await orderIds({ email: 'GRACE@hopper.dev' }), sorted(f.o3!));
    assert.deepEqual(await orderIds({ regionId: 'reg_us' }), sorted(f.o3!));
    assert.deepEqual(await orderIds({ currencyCode: 'GBP' }), sorted(f.o1!, f.o2!));
    assert.deepEqual(
      await orderIds({ createdAt: { gte: '2026-04-02T00:00:00Z', lte: '2026-04-05T00:00:00Z' } }),
      sorted(f.o2!, f.o3!),
    );
    assert.deepEqual(await orderIds({ updatedAt: { lt: '2000-01-01T00:00:00Z' } }), []);
    assert.deepEqual(await orderIds({ canceledAt: { gt: '2026-04-01T00:00:00Z' } }), sorted(f.o2!));
    assert.deepEqual(await orderIds({ q: 'lovelace' }), sorted(f.o1!, f.o2!));
    assert.deepEqual(await orderIds({ q: String(display) }), sorted(f.o3!));
    assert.deepEqual(await orderIds({ status: ['COMPLETED'], currencyCode: 'eur' }), sorted(f.o4!));
  });
});

describe('node and nodes', () => {
  test('resolve every type by its Medusa ID', async () => {
    const r = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, {
      ids: [f.ada!.id, f.vip!.id, f.adaHome!.id, f.o1!.id],
    });
    assert.equal(r.errors, undefined);
    assert.deepEqual(r.data!.nodes, [
      { __typename: 'Customer', id: f.ada!.id },
      { __typename: 'CustomerGroup', id: f.vip!.id },
      { __typename: 'Address', id: f.adaHome!.id },
      { __typename: 'Order', id: f.o1!.id },
    ]);
  });
  test('node(id) with fields; missing and soft-deleted are null', async () => {
    const r = await t.gql(
      `query($a: ID!, $b: ID!, $c: ID!) { a: node(id: $a) { ... on Customer { email } } b: node(id: $b) { id } c: node(id: $c) { id } }`,
      {
        a: f.grace!.id,
        b: f.gone!.id,
        c: 'cus_01ZZZZZZZZZZZZZZZZZZZZZZZZ',
      },
    );
    assert.equal(r.errors, undefined);
    assert.deepEqual(r.data, { a: { email: 'grace@hopper.dev' }, b: null, c: null });
  });
});
