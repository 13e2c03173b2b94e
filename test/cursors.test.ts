import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../src/lib/ids.js';
import { ANONYMOUS, bearer, createTestApp, type TestApp } from './helpers.js';

// The keyset property, for every connection and every order it offers: whatever happens to the row
// under a held cursor (deleted, soft-deleted, its sort key changed), walking the pages forwards or
// backwards sees every other row exactly once, in the order of a snapshot taken before the walk.

const t: TestApp = await createTestApp();

type Edge = { cursor: string; node: { id: string } };
type Page = {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};
type PageArgs = { first?: number; after?: string | null; last?: number; before?: string | null };

/** A deterministic stream of choices, so a failure names a seed that reproduces it. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

type Mutation = (id: string, pick: (n: number) => number) => Promise<void>;

interface Subject {
  name: string;
  /** Makes the rows and returns a function that fetches one page of exactly them. */
  setup(tag: string): Promise<(args: PageArgs) => Promise<Page>>;
  mutations: Record<string, Mutation>;
}

async function walk(
  fetchPage: (args: PageArgs) => Promise<Page>,
  size: number,
  backward: boolean,
  mutate?: (id: string) => Promise<void>,
) {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 200; i++) {
    const page: Page = await fetchPage(backward ? { last: size, before: cursor } : { first: size, after: cursor });
    const ids = page.edges.map((e) => e.node.id);
    if (backward) seen.unshift(...ids);
    else seen.push(...ids);
    const more = backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
    if (!more) return seen;
    assert.ok(page.edges.length > 0, 'a page that says more follow holds rows');
    const edge = backward ? page.edges[0]! : page.edges.at(-1)!;
    assert.equal(backward ? page.pageInfo.startCursor : page.pageInfo.endCursor, edge.cursor);
    cursor = edge.cursor;
    if (mutate) await mutate(edge.node.id);
  }
  throw new Error('the walk did not end');
}

async function checkProperty(subject: Subject, seed: number) {
  for (const backward of [false, true]) {
    for (const [kind, mutation] of Object.entries(subject.mutations)) {
      const pick = random(seed);
      const tag = `k${seed}${backward ? 'b' : 'f'}${kind.replace(/\W/g, '')}`.toLowerCase();
      const fetchPage = await subject.setup(tag);
      const snapshot = await walk(fetchPage, 100, false);
      assert.ok(snapshot.length >= 12, `${subject.name}: the data set is too small (${snapshot.length})`);
      assert.equal(new Set(snapshot).size, snapshot.length, `${subject.name}: a row repeats in one page`);
      const size = 1 + pick(4);
      const mutated = new Set<string>();
      const seen = await walk(fetchPage, size, backward, async (id) => {
        mutated.add(id);
        await mutation(id, pick);
      });
      const where = `${subject.name}, ${backward ? 'backwards' : 'forwards'} by ${size}, mutation ${kind}, seed ${seed}`;
      if (!/sortKey|Renamed/.test(kind)) {
        assert.deepEqual(seen, snapshot, where);
        continue;
      }
      // A row whose sort key moved ahead of the cursor is met again at its new place; nothing else is.
      const untouched = (ids: string[]) => ids.filter((id) => !mutated.has(id));
      assert.deepEqual(untouched(seen), untouched(snapshot), where);
      assert.deepEqual([...new Set(seen)].sort(), [...snapshot].sort(), where);
      assert.ok(
        seen.every((id) => seen.indexOf(id) === seen.lastIndexOf(id) || mutated.has(id)),
        where,
      );
    }
  }
}

async function gqlPage(
  query: string,
  variables: Record<string, unknown>,
  path: string[],
  headers?: Record<string, string>,
): Promise<Page> {
  const r = await t.gql(query, variables, headers);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  let value: unknown = r.data;
  for (const key of path) value = (value as Record<string, unknown>)[key];
  return value as Page;
}

const PAGE_VARS = '$first: Int, $after: String, $last: Int, $before: String';
const PAGE_ARGS = 'first: $first, after: $after, last: $last, before: $before';
const EDGES = 'edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';

const base = Date.parse('2026-03-01T00:00:00Z');
const NAMES = ['Ada', 'Ada', 'Ada', null, 'Bo', null, 'Cy', 'Ada', null, 'Bo', 'Dee', 'Ada', null, 'Eve', 'Bo'];

/** Customers with ties in every sort key and NULLs in the nullable ones. */
async function makeCustomers(tag: string, extra: Record<string, unknown> = {}) {
  const rows = NAMES.map((firstName, i) => ({
    id: newId('Customer'),
    email: `${tag}-${String.fromCharCode(97 + (i % 5))}${i}@example.com`,
    firstName,
    lastName: i % 3 === 0 ? null : `L${i % 2}`,
    // Ties in time too: three rows share each instant.
    createdAt: new Date(base + Math.floor(i / 3) * 1000),
    updatedAt: new Date(base + (i % 4) * 1000),
    ...extra,
  }));
  await t.prisma.customer.createMany({ data: rows });
  return rows;
}

const deleteCustomer: Mutation = async (id) => void (await t.prisma.customer.delete({ where: { id } }));
// As the service soft-deletes: the memberships end with the customer (the database insists).
const softDeleteCustomer: Mutation = async (id) => {
  const deletedAt = new Date();
  await t.prisma.$transaction([
    t.prisma.customer.update({ where: { id }, data: { deletedAt } }),
    t.prisma.customerGroupCustomer.updateMany({ where: { customerId: id, deletedAt: null }, data: { deletedAt } }),
  ]);
};

function customerSubject(field: string, direction: 'ASC' | 'DESC', change: Mutation): Subject {
  return {
    name: `customers(orderBy: ${field} ${direction})`,
    async setup(tag) {
      await makeCustomers(tag);
      return (args) =>
        gqlPage(
          `query(${PAGE_VARS}, $q: String, $orderBy: CustomerOrderBy) { customers(${PAGE_ARGS}, filter: { q: $q }, orderBy: $orderBy) { ${EDGES} } }`,
          { ...args, q: `${tag}-`, orderBy: { field, direction } },
          ['customers'],
        );
    },
    mutations: { deleted: deleteCustomer, softDeleted: softDeleteCustomer, sortKeyChanged: change },
  };
}

const newName: Mutation = async (id, pick) => {
  const names = [null, 'Aa', 'Ada', 'Zed', 'Bo'];
  await t.prisma.customer.update({
    where: { id },
    data: { firstName: names[pick(names.length)], lastName: names[pick(names.length)] },
  });
};
const newTime =
  (column: 'createdAt' | 'updatedAt'): Mutation =>
  async (id, pick) => {
    await t.prisma.$executeRawUnsafe(
      `UPDATE customer SET ${column === 'createdAt' ? 'created_at' : 'updated_at'} = $1 WHERE id = $2`,
      new Date(base + (pick(9) - 4) * 1000),
      id,
    );
  };
const newEmail: Mutation = async (id, pick) => {
  const row = await t.prisma.customer.findUniqueOrThrow({ where: { id } });
  await t.prisma.customer.update({
    where: { id },
    data: { email: `${row.email.split('-')[0]}-${pick(2) ? 'a' : 'z'}${pick(1000)}@example.com` },
  });
};

const subjects: Subject[] = [
  ...(['ASC', 'DESC'] as const).flatMap((direction) => [
    customerSubject('EMAIL', direction, newEmail),
    customerSubject('FIRST_NAME', direction, newName),
    customerSubject('LAST_NAME', direction, newName),
    customerSubject('CREATED_AT', direction, newTime('createdAt')),
    customerSubject('UPDATED_AT', direction, newTime('updatedAt')),
  ]),
  {
    name: 'customers (default order)',
    async setup(tag) {
      await makeCustomers(tag);
      return (args) =>
        gqlPage(
          `query(${PAGE_VARS}, $q: String) { customers(${PAGE_ARGS}, filter: { q: $q }) { ${EDGES} } }`,
          { ...args, q: `${tag}-` },
          ['customers'],
        );
    },
    mutations: { deleted: deleteCustomer, softDeleted: softDeleteCustomer, sortKeyChanged: newTime('createdAt') },
  },
  ...(['NAME', 'CREATED_AT'] as const).map(
    (field): Subject => ({
      name: `customerGroups(orderBy: ${field})`,
      async setup(tag) {
        await t.prisma.customerGroup.createMany({
          data: Array.from({ length: 14 }, (_, i) => ({
            id: newId('CustomerGroup'),
            name: `${tag} ${String.fromCharCode(97 + (i % 4))}${i}`,
            createdAt: new Date(base + (i % 3) * 1000),
          })),
        });
        return (args) =>
          gqlPage(
            `query(${PAGE_VARS}, $q: String, $orderBy: CustomerGroupOrderBy) { customerGroups(${PAGE_ARGS}, filter: { q: $q }, orderBy: $orderBy) { ${EDGES} } }`,
            { ...args, q: tag, orderBy: { field, direction: 'DESC' } },
            ['customerGroups'],
          );
      },
      mutations: {
        deleted: async (id) => void (await t.prisma.customerGroup.delete({ where: { id } })),
        softDeleted: async (id) =>
          void (await t.prisma.customerGroup.update({ where: { id }, data: { deletedAt: new Date() } })),
        sortKeyChanged: async (id, pick) =>
          void (await t.prisma.customerGroup.update({
            where: { id },
            data: { name: `${id} ${pick(2) ? 'a' : 'z'}`, createdAt: new Date(base + pick(5) * 1000) },
          })),
      },
    }),
  ),
  ...(['orders', 'customer.orders'] as const).map(
    (connection): Subject => ({
      name: connection,
      async setup(tag) {
        const [customer] = await makeCustomers(tag);
        await t.prisma.order.createMany({
          data: Array.from({ length: 14 }, (_, i) => ({
            id: newId('Order'),
            customerId: customer!.id,
            email: `${tag}@example.com`,
            currencyCode: 'eur',
            createdAt: new Date(base + (i % 4) * 1000),
          })),
        });
        return (args) =>
          connection === 'orders'
            ? gqlPage(
                `query(${PAGE_VARS}, $email: String) { orders(${PAGE_ARGS}, filter: { email: $email }) { ${EDGES} } }`,
                { ...args, email: `${tag}@example.com` },
                ['orders'],
              )
            : gqlPage(
                `query(${PAGE_VARS}, $id: ID!) { customer(id: $id) { orders(${PAGE_ARGS}) { ${EDGES} } } }`,
                { ...args, id: customer!.id },
                ['customer', 'orders'],
              );
      },
      mutations: {
        deleted: async (id) => void (await t.prisma.order.delete({ where: { id } })),
        sortKeyChanged: async (id, pick) =>
          void (await t.prisma.order.update({ where: { id }, data: { createdAt: new Date(base + pick(6) * 1000) } })),
      },
    }),
  ),
];

test('every connection and order pages by keyset: a deleted, soft-deleted or re-sorted row under the cursor skips and repeats nothing', async () => {
  for (const [i, subject] of subjects.entries()) await checkProperty(subject, 1000 + i);
});

// Nested connections whose rows are not the nodes (memberships), and addresses: one rich customer.
test('nested and membership connections hold under the same changes', async () => {
  const pick = random(7);
  const memberSubjects: Subject[] = [
    {
      name: 'customerGroup.customers',
      async setup(tag) {
        const group = await t.prisma.customerGroup.create({ data: { id: newId('CustomerGroup'), name: tag } });
        const customers = await makeCustomers(tag);
        await t.prisma.customerGroupCustomer.createMany({
          data: customers.map((c) => ({
            id: newId('CustomerGroupCustomer'),
            customerId: c.id,
            customerGroupId: group.id,
          })),
        });
        return (args) =>
          gqlPage(
            `query(${PAGE_VARS}, $id: ID!) { customerGroup(id: $id) { customers(${PAGE_ARGS}) { ${EDGES} } } }`,
            { ...args, id: group.id },
            ['customerGroup', 'customers'],
          );
      },
      mutations: {
        membershipDeleted: async (customerId) =>
          void (await t.prisma.customerGroupCustomer.deleteMany({ where: { customerId } })),
        membershipSoftDeleted: async (customerId) =>
          void (await t.prisma.customerGroupCustomer.updateMany({
            where: { customerId },
            data: { deletedAt: new Date() },
          })),
        customerSoftDeleted: softDeleteCustomer,
        customerDeleted: deleteCustomer,
        customerRenamed: newEmail,
      },
    },
    {
      name: 'customerGroupMemberships',
      async setup(tag) {
        const group = await t.prisma.customerGroup.create({ data: { id: newId('CustomerGroup'), name: tag } });
        const customers = await makeCustomers(tag);
        await t.prisma.customerGroupCustomer.createMany({
          data: customers.map((c, i) => ({
            id: newId('CustomerGroupCustomer'),
            customerId: c.id,
            customerGroupId: group.id,
            createdAt: new Date(base + (i % 2) * 1000),
          })),
        });
        return (args) =>
          gqlPage(
            `query(${PAGE_VARS}, $id: ID!) { customerGroupMemberships(${PAGE_ARGS}, filter: { groupIds: [$id] }) { ${EDGES} } }`,
            { ...args, id: group.id },
            ['customerGroupMemberships'],
          );
      },
      mutations: {
        deleted: async (id) => void (await t.prisma.customerGroupCustomer.delete({ where: { id } })),
        softDeleted: async (id) =>
          void (await t.prisma.customerGroupCustomer.update({ where: { id }, data: { deletedAt: new Date() } })),
        sortKeyChanged: async (id) =>
          void (await t.prisma.customerGroupCustomer.update({
            where: { id },
            data: { createdAt: new Date(base + pick(3) * 1000) },
          })),
      },
    },
    {
      name: 'customer.groups',
      async setup(tag) {
        const customer = await t.prisma.customer.create({
          data: { id: newId('Customer'), email: `${tag}@example.com` },
        });
        const groups = Array.from({ length: 14 }, (_, i) => ({ id: newId('CustomerGroup'), name: `${tag} ${i}` }));
        await t.prisma.customerGroup.createMany({ data: groups });
        await t.prisma.customerGroupCustomer.createMany({
          data: groups.map((g) => ({
            id: newId('CustomerGroupCustomer'),
            customerId: customer.id,
            customerGroupId: g.id,
          })),
        });
        return (args) =>
          gqlPage(
            `query(${PAGE_VARS}, $id: ID!) { customer(id: $id) { groups(${PAGE_ARGS}) { ${EDGES} } } }`,
            { ...args, id: customer.id },
            ['customer', 'groups'],
          );
      },
      mutations: {
        membershipDeleted: async (groupId) =>
          void (await t.prisma.customerGroupCustomer.deleteMany({ where: { customerGroupId: groupId } })),
        groupSoftDeleted: async (id) =>
          void (await t.prisma.customerGroup.update({ where: { id }, data: { deletedAt: new Date() } })),
        groupRenamed: async (id) =>
          void (await t.prisma.customerGroup.update({ where: { id }, data: { name: `${id}-renamed` } })),
      },
    },
    ...(['addresses', 'customer.addresses'] as const).map(
      (connection): Subject => ({
        name: connection,
        async setup(tag) {
          const customer = await t.prisma.customer.create({
            data: { id: newId('Customer'), email: `${tag}@example.com` },
          });
          await t.prisma.address.createMany({
            data: Array.from({ length: 14 }, (_, i) => ({
              id: newId('Address'),
              customerId: customer.id,
              city: tag,
              createdAt: new Date(base + (i % 3) * 1000),
            })),
          });
          return (args) =>
            connection === 'addresses'
              ? gqlPage(
                  `query(${PAGE_VARS}, $id: ID!) { addresses(${PAGE_ARGS}, filter: { customerId: $id }) { ${EDGES} } }`,
                  { ...args, id: customer.id },
                  ['addresses'],
                )
              : gqlPage(
                  `query(${PAGE_VARS}, $id: ID!) { customer(id: $id) { addresses(${PAGE_ARGS}) { ${EDGES} } } }`,
                  { ...args, id: customer.id },
                  ['customer', 'addresses'],
                );
        },
        mutations: {
          deleted: async (id) => void (await t.prisma.address.delete({ where: { id } })),
          softDeleted: async (id) =>
            void (await t.prisma.address.update({ where: { id }, data: { deletedAt: new Date() } })),
          sortKeyChanged: async (id) =>
            void (await t.prisma.address.update({
              where: { id },
              data: { createdAt: new Date(base + pick(5) * 1000) },
            })),
        },
      }),
    ),
  ];
  for (const [i, subject] of memberSubjects.entries()) await checkProperty(subject, 2000 + i);
});

test('a cursor that is truncated, altered, of another shape, connection or order is BAD_USER_INPUT naming the argument', async () => {
  const tag = 'badcursor';
  await makeCustomers(tag);
  const customers = (args: Record<string, unknown>, orderBy?: unknown) =>
    t.gql(
      `query(${PAGE_VARS}, $orderBy: CustomerOrderBy) { customers(${PAGE_ARGS}, orderBy: $orderBy, filter: { q: "${tag}" }) { ${EDGES} } }`,
      { ...args, orderBy },
    );
  const first = await customers({ first: 2 });
  const cursor = first.data!.customers.pageInfo.endCursor as string;
  const groups = await t.gql(`{ customerGroups(first: 1) { pageInfo { endCursor } } }`);
  await t.prisma.customerGroup.create({ data: { id: newId('CustomerGroup'), name: `${tag} group` } });
  const groupCursor = (await t.gql(`{ customerGroups(first: 1) { pageInfo { endCursor } } }`)).data!.customerGroups
    .pageInfo.endCursor as string;
  assert.equal(groups.errors, undefined);
  const payload = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];

  const bad: [string, string, RegExp?][] = [
    ['truncated', cursor.slice(0, -4)],
    ['altered', `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`],
    ['not base64', `${cursor}!`],
    ['a number where a date belongs', payload([decoded[0], decoded[1], decoded[2], 42, decoded[4]])],
    ['an ID of another type', payload([decoded[0], decoded[1], decoded[2], decoded[3], 'order_01ABC'])],
    ['another version', payload([2, ...decoded.slice(1)])],
    ['an object', payload({ id: decoded[4] })],
    ['a NUL in the value', payload([decoded[0], decoded[1], 'email:asc', 'a\u0000b', decoded[4]])],
    ['another connection', groupCursor, /another connection/],
  ];
  for (const [what, value, message] of bad) {
    for (const argument of ['after', 'before'] as const) {
      const r = await customers({ [argument]: value, ...(argument === 'before' ? { last: 2 } : { first: 2 }) });
      assert.equal(
        r.errors?.[0]?.extensions?.code,
        'BAD_USER_INPUT',
        `${what} as ${argument}: ${JSON.stringify(r.errors)}`,
      );
      assert.equal(r.errors?.[0]?.extensions?.argumentName, argument, what);
      if (message) assert.match(r.errors![0]!.message, message, what);
    }
  }
  const reordered = await customers({ first: 2, after: cursor }, { field: 'EMAIL', direction: 'ASC' });
  assert.equal(reordered.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.match(reordered.errors![0]!.message, /"after".*another sort order/);
});

test('a signed-in customer gets the same typed errors from me.orders, and pages their own orders by keyset', async () => {
  const session = await t.gql(
    `mutation { register(input: { email: "cursor-owner@example.com", password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  const { accessToken, customer } = session.data!.register;
  await t.prisma.order.createMany({
    data: Array.from({ length: 5 }, (_, i) => ({
      id: newId('Order'),
      customerId: customer.id,
      email: 'cursor-owner@example.com',
      currencyCode: 'eur',
      createdAt: new Date(base + i),
    })),
  });
  const me = (args: Record<string, unknown>) =>
    t.gql(`query(${PAGE_VARS}) { me { orders(${PAGE_ARGS}) { ${EDGES} } } }`, args, bearer(accessToken));
  for (const after of ['zzz', 'eyJ4IjoxfQ', Buffer.from('GPC:S:order_1').toString('base64')]) {
    const r = await me({ first: 2, after });
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(r.errors));
    assert.equal(r.errors?.[0]?.extensions?.argumentName, 'after');
  }
  const page = await me({ first: 2 });
  await t.prisma.order.delete({ where: { id: page.data!.me.orders.edges[1].node.id } });
  const next = await me({ first: 10, after: page.data!.me.orders.pageInfo.endCursor });
  assert.equal(next.errors, undefined);
  assert.equal(next.data!.me.orders.edges.length, 3);
});
