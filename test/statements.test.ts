import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { newId } from '../src/lib/ids.js';
import { createTestApp, type TestApp } from './helpers.js';

// The nested page the foundation issue names: customers with groups, addresses and orders(first: 5),
// plus the default addresses and what hangs below them.
const NESTED = `query($first: Int!) {
  customers(first: $first) {
    totalCount
    edges { node {
      id email
      groups(first: 5) { totalCount edges { node { id name } } }
      addresses(first: 5) { totalCount edges { node { id city } } }
      defaultShippingAddress { id city }
      defaultBillingAddress { id city }
      orders(first: 5) { totalCount edges { node { id total { amount currencyCode } items { title } customer { id } } } }
    } }
  }
}`;

const t: TestApp = await createTestApp();

before(async () => {
  const groups = Array.from({ length: 5 }, (_, i) => ({ id: newId('CustomerGroup'), name: `G${i}` }));
  await t.prisma.customerGroup.createMany({ data: groups });
  const customers = Array.from({ length: 60 }, (_, i) => ({ id: newId('Customer'), email: `n${i}@example.com` }));
  await t.prisma.customer.createMany({ data: customers });
  await t.prisma.customerGroupCustomer.createMany({
    data: customers.flatMap((c, i) =>
      groups
        .slice(0, 1 + (i % 3))
        .map((g) => ({ id: newId('CustomerGroupCustomer'), customerId: c.id, customerGroupId: g.id })),
    ),
  });
  await t.prisma.address.createMany({
    data: customers.flatMap((c) => [
      { id: newId('Address'), customerId: c.id, city: 'A', isDefaultShipping: true },
      { id: newId('Address'), customerId: c.id, city: 'B', isDefaultBilling: true },
    ]),
  });
  const orders = customers.flatMap((c, i) =>
    Array.from({ length: i % 7 }, () => ({
      id: newId('Order'),
      customerId: c.id,
      email: c.email,
      currencyCode: 'eur',
    })),
  );
  await t.prisma.order.createMany({ data: orders });
  await t.prisma.orderLineItem.createMany({
    data: orders.map((o) => ({ id: newId('OrderLineItem'), orderId: o.id, title: 'Mug', quantity: 1, unitPrice: 900 })),
  });
});

async function statementsFor(first: number) {
  const { result, statements, sql } = await t.countStatements(() => t.gql(NESTED, { first }));
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  assert.equal(result.data!.customers.edges.length, first);
  return { statements, sql };
}

test('the nested customer page runs the same number of SQL statements for 5, 10 and 50 customers', async () => {
  const small = await statementsFor(5);
  const medium = await statementsFor(10);
  const large = await statementsFor(50);
  assert.equal(medium.statements, small.statements, medium.sql.join('\n'));
  assert.equal(large.statements, small.statements, large.sql.join('\n'));
  console.log(`nested 50-customer page: ${large.statements} SQL statements`);
  // The exact number as well, so a new per-relation query is noticed even when it is not per row
  // (and a statement saved is noticed too, to be written down here). Prisma's join strategy loads
  // the page, its nested pages and their totalCounts (relation counts) in one statement; the others:
  // the customers' totalCount, and the default addresses (a second filter on the addresses relation,
  // which Pothos cannot merge into the first, so the page's customers are fetched again with it).
  assert.equal(large.statements, 3, large.sql.join('\n'));
  // Select mode: the page reads the columns the query asks for, and never a password hash.
  assert.ok(!large.sql.some((sql) => sql.includes('password_hash')), large.sql.join('\n'));
  assert.ok(!large.sql.some((sql) => sql.includes('"phone"')), large.sql.join('\n'));
});

test('nodes(ids) loads each type in one statement, however many IDs', async () => {
  const ids = (await t.prisma.customer.findMany({ take: 40, select: { id: true } })).map((c) => c.id);
  const few = await t.countStatements(() =>
    t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: ids.slice(0, 2) }),
  );
  const many = await t.countStatements(() => t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids }));
  assert.equal(many.result.data!.nodes.length, 40);
  assert.equal(many.statements, few.statements);
  assert.equal(many.statements, 1);
});

test('a customer by id is one statement', async () => {
  const [c] = await t.prisma.customer.findMany({ take: 1 });
  const { statements } = await t.countStatements(() =>
    t.gql(`query($id: ID!) { customer(id: $id) { id email firstName } }`, { id: c!.id }),
  );
  assert.equal(statements, 1);
});

test('every membership write is one statement, whatever the batch; batchCustomerGroups three with its read', async () => {
  const customers = Array.from({ length: 60 }, (_, i) => ({ id: newId('Customer'), email: `m${i}@example.com` }));
  await t.prisma.customer.createMany({ data: customers });
  const groups = Array.from({ length: 40 }, (_, i) => ({ id: newId('CustomerGroup'), name: `M${i}` }));
  await t.prisma.customerGroup.createMany({ data: groups });
  const [few, many] = [customers.slice(0, 2).map((c) => c.id), customers.slice(2).map((c) => c.id)];
  const [g1, g2] = [groups[0]!.id, groups[1]!.id];
  const count = async (query: string, variables: Record<string, unknown>) => {
    const { result, statements, sql } = await t.countStatements(() => t.gql(query, variables));
    const payload = Object.values(result.data ?? {})[0] as { __typename: string } | undefined;
    assert.match(payload?.__typename ?? '', /Payload$/, JSON.stringify(result));
    return { statements, sql: sql.join('\n') };
  };
  const byIds = (field: string) =>
    `mutation($g: ID!, $c: [ID!]!) { ${field}(groupId: $g, customerIds: $c) { __typename } }`;
  const byPairs = (field: string) =>
    `mutation($m: [CustomerGroupMembershipInput!]!) { ${field}(memberships: $m) { __typename } }`;
  const batch = `mutation($c: ID!, $a: [ID!], $r: [ID!]) { batchCustomerGroups(customerId: $c, add: $a, remove: $r) { __typename } }`;
  const pairs = (customerIds: string[], groupId: string) => customerIds.map((customerId) => ({ customerId, groupId }));
  const cases = [
    [byIds('addCustomersToGroup'), { g: g1, c: few }, { g: g1, c: many }, 1],
    [byIds('removeCustomersFromGroup'), { g: g1, c: few }, { g: g1, c: many }, 1],
    [byPairs('addCustomerToGroup'), { m: pairs(few, g2) }, { m: pairs(many, g2) }, 1],
    [byPairs('removeCustomerFromGroup'), { m: pairs(few, g2) }, { m: pairs(many, g2) }, 1],
    // The write, the customer read back in its transaction, COMMIT.
    [
      batch,
      { c: few[0], a: [groups[2]!.id], r: [groups[3]!.id] },
      { c: many[0], a: groups.slice(2, 20).map((g) => g.id), r: groups.slice(20).map((g) => g.id) },
      3,
    ],
  ] as const;
  for (const [query, small, large, expected] of cases) {
    const a = await count(query, small);
    const b = await count(query, large);
    assert.equal(a.statements, expected, a.sql);
    assert.equal(b.statements, expected, b.sql);
  }
});
