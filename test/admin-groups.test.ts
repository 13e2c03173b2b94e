import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { newId } from '../src/lib/ids.js';
import {
  ANONYMOUS,
  addToGroup,
  bearer,
  createTestApp,
  DATABASE_KIND,
  holdLock,
  makeGroup,
  type TestApp,
} from './helpers.js';

const t: TestApp = await createTestApp();

const ERROR = `... on Error { code field message } ... on NotFoundError { ids }`;
const NAME_ERROR = `${ERROR} ... on NameTakenError { names }`;
const CREATE = `mutation($input: [CreateCustomerGroupInput!]!) { createCustomerGroups(input: $input) {
  __typename ... on CustomerGroupsPayload { customerGroups { id name metadata createdBy customers { totalCount } } } ${NAME_ERROR}
} }`;
const CREATE_IDS = `mutation($input: [CreateCustomerGroupInput!]!) { createCustomerGroups(input: $input) {
  __typename ... on CustomerGroupsPayload { customerGroups { id } } ${NAME_ERROR}
} }`;
const UPDATE = `mutation($ids: [ID!], $filter: CustomerGroupFilter, $input: UpdateCustomerGroupInput!) { updateCustomerGroups(ids: $ids, filter: $filter, input: $input) {
  __typename ... on CustomerGroupsPayload { customerGroups { id name metadata } } ${NAME_ERROR}
} }`;
const DELETE = `mutation($ids: [ID!], $filter: CustomerGroupFilter) { deleteCustomerGroups(ids: $ids, filter: $filter) {
  __typename ... on DeletedCustomerGroupsPayload { deletedIds } ${ERROR}
} }`;
const SOFT = `mutation($ids: [ID!]!) { softDeleteCustomerGroups(ids: $ids) { __typename ... on SoftDeletedCustomerGroupsPayload { ids membershipIds } ${ERROR} } }`;
const RESTORE = `mutation($ids: [ID!]!) { restoreCustomerGroups(ids: $ids) { __typename ... on SoftDeletedCustomerGroupsPayload { ids membershipIds } ${NAME_ERROR} } }`;
const ADD = `mutation($groupId: ID!, $customerIds: [ID!]!) { addCustomersToGroup(groupId: $groupId, customerIds: $customerIds) {
  __typename ... on CustomerGroupPayload { customerGroup { id customers { totalCount } } } ${ERROR}
} }`;
const ADD_IDS = `mutation($groupId: ID!, $customerIds: [ID!]!) { addCustomersToGroup(groupId: $groupId, customerIds: $customerIds) {
  __typename ... on CustomerGroupPayload { customerGroup { id } } ${ERROR}
} }`;
const REMOVE = `mutation($groupId: ID!, $customerIds: [ID!]!) { removeCustomersFromGroup(groupId: $groupId, customerIds: $customerIds) {
  __typename ... on CustomerGroupPayload { customerGroup { id customers { totalCount } } } ${ERROR}
} }`;
const BATCH = `mutation($customerId: ID!, $add: [ID!], $remove: [ID!]) { batchCustomerGroups(customerId: $customerId, add: $add, remove: $remove) {
  __typename ... on BatchCustomerGroupsPayload { customer { id groups { edges { node { id } } } } } ${ERROR}
} }`;
const ADD_PAIRS = `mutation($memberships: [CustomerGroupMembershipInput!]!) { addCustomerToGroup(memberships: $memberships) {
  __typename ... on CustomerGroupMembershipsPayload { memberships { id createdBy customer { id } group { id } } } ${ERROR}
} }`;
const REMOVE_PAIRS = `mutation($memberships: [CustomerGroupMembershipInput!]!) { removeCustomerFromGroup(memberships: $memberships) {
  __typename ... on RemovedCustomerGroupMembershipsPayload { ids } ${ERROR}
} }`;

/** `n` live customers made in one statement; their IDs in order. */
async function customers(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => newId('Customer'));
  await t.prisma.customer.createMany({
    data: ids.map((id, i) => ({ id, email: `${id.toLowerCase()}-${i}@example.com` })),
  });
  return ids;
}

const members = (customerGroupId: string) =>
  t.prisma.customerGroupCustomer.findMany({
    where: { customerGroupId, deletedAt: null },
    orderBy: { customerId: 'asc' },
  });
const memberIds = async (groupId: string) => (await members(groupId)).map((m) => m.customerId);
const events = (name: string, id: string) =>
  t.prisma.outboxEvent.findMany({ where: { name, payload: { path: ['id'], equals: id } }, orderBy: { id: 'asc' } });
/** Everything a failed call must leave as it was. */
const snapshot = async () => ({
  groups: await t.prisma.customerGroup.findMany({ orderBy: { id: 'asc' } }),
  memberships: await t.prisma.customerGroupCustomer.findMany({ orderBy: { id: 'asc' } }),
  events: await t.prisma.outboxEvent.count(),
});
const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ name: `${prefix} ${i}` }));

describe('createCustomerGroups', () => {
  test('creates groups with trimmed names, metadata and members; created_by is the admin key; one event each', async () => {
    const [a, b] = await customers(2);
    const r = await t.gql(CREATE, {
      input: [{ name: '  VIP  ', metadata: { tier: 1 }, customerIds: [a, b, a] }, { name: 'Wholesale' }],
    });
    const [vip, wholesale] = r.data!.createCustomerGroups.customerGroups;
    assert.deepEqual(vip, {
      id: vip.id,
      name: 'VIP',
      metadata: { tier: 1 },
      createdBy: 'tests',
      customers: { totalCount: 2 },
    });
    assert.deepEqual([wholesale.name, wholesale.metadata, wholesale.customers.totalCount], ['Wholesale', null, 0]);
    assert.deepEqual(
      (await members(vip.id)).map((m) => m.createdBy),
      ['tests', 'tests'],
    );
    assert.equal((await events('customer_group.created', vip.id)).length, 1);
    assert.deepEqual((await events('customer_group.created', wholesale.id))[0]!.payload, { id: wholesale.id });
  });

  test('a name is 1 to 255 characters after trimming', async () => {
    const blank = await t.gql(CREATE, { input: [{ name: 'Fine' }, { name: '   ' }] });
    assert.deepEqual(
      [blank.data!.createCustomerGroups.code, blank.data!.createCustomerGroups.field],
      ['VALIDATION', 'input[1].name'],
    );
    const long = await t.gql(CREATE, { input: [{ name: 'x'.repeat(256) }] });
    assert.deepEqual(
      [long.data!.createCustomerGroups.code, long.data!.createCustomerGroups.field],
      ['VALIDATION', 'input[0].name'],
    );
    assert.equal(
      (await t.gql(CREATE, { input: [{ name: 'y'.repeat(255) }] })).data!.createCustomerGroups.__typename,
      'CustomerGroupsPayload',
    );
  });

  test('a name twice in the batch or held by a live group is NAME_TAKEN at that item; a soft-deleted group’s name is free', async () => {
    const twice = (await t.gql(CREATE, { input: [{ name: 'Twice' }, { name: 'Other' }, { name: ' Twice' }] })).data!
      .createCustomerGroups;
    assert.deepEqual([twice.__typename, twice.field, twice.names], ['NameTakenError', 'input[2].name', ['Twice']]);
    await makeGroup(t.prisma, { name: 'Held' });
    const held = (await t.gql(CREATE, { input: [{ name: 'Free' }, { name: 'Held' }] })).data!.createCustomerGroups;
    assert.deepEqual([held.code, held.field, held.names], ['NAME_TAKEN', 'input[1].name', ['Held']]);
    assert.equal(await t.prisma.customerGroup.count({ where: { name: { in: ['Twice', 'Other', 'Free'] } } }), 0);
    await makeGroup(t.prisma, { name: 'Retired', deletedAt: new Date() });
    assert.equal(
      (await t.gql(CREATE, { input: [{ name: 'Retired' }] })).data!.createCustomerGroups.customerGroups[0].name,
      'Retired',
    );
  });

  test('a batch of 50 with one failing item in the middle changes nothing and names the item', async () => {
    await makeGroup(t.prisma, { name: 'Taken in the middle' });
    const [c] = await customers(1);
    const before = await snapshot();
    const input = names(50, 'Middle').map((g) => ({ ...g, customerIds: [c] }));
    input[25] = { name: 'Taken in the middle', customerIds: [c] };
    const taken = (await t.gql(CREATE, { input })).data!.createCustomerGroups;
    assert.deepEqual([taken.code, taken.field, taken.names], ['NAME_TAKEN', 'input[25].name', ['Taken in the middle']]);
    input[25] = { name: 'Middle 25', customerIds: [c, 'cus_01AAAAAAAAAAAAAAAAAAAAAAAA'] };
    const unknown = (await t.gql(CREATE, { input })).data!.createCustomerGroups;
    assert.deepEqual(
      [unknown.code, unknown.field, unknown.ids],
      ['NOT_FOUND', 'input[25].customerIds[1]', ['cus_01AAAAAAAAAAAAAAAAAAAAAAAA']],
    );
    assert.deepEqual(await snapshot(), before);
  });

  test('concurrent creations of one name: the unique index lets exactly one through', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.gql(CREATE_IDS, { input: [{ name: 'Raced' }] })),
    );
    const types = results.map((r) => r.data!.createCustomerGroups.__typename);
    assert.equal(
      types.filter((x) => x === 'CustomerGroupsPayload').length,
      1,
      JSON.stringify(results.map((r) => r.data ?? r.errors)),
    );
    assert.equal(types.filter((x) => x === 'NameTakenError').length, 9);
    assert.equal(await t.prisma.customerGroup.count({ where: { name: 'Raced' } }), 1);
  });

  test('runs the same number of SQL statements for 10 and for 1000 groups', async () => {
    const [c] = await customers(1);
    const small = await t.countStatements(() =>
      t.gql(CREATE_IDS, { input: names(10, 'Ten').map((g) => ({ ...g, metadata: { n: 1 }, customerIds: [c] })) }),
    );
    const large = await t.countStatements(() =>
      t.gql(CREATE_IDS, {
        input: names(1000, 'Thousand').map((g) => ({ ...g, metadata: { n: 1 }, customerIds: [c] })),
      }),
    );
    assert.equal(large.result.data!.createCustomerGroups.customerGroups.length, 1000);
    assert.equal(large.statements, small.statements, large.sql.map((s) => s.slice(0, 80)).join('\n'));
    console.log(
      `createCustomerGroups (${DATABASE_KIND}): ${large.statements} SQL statements for 10 and for 1000 groups`,
    );
  });

  test('more than 5000 groups is BATCH_TOO_LARGE', async () => {
    const r = await t.gql(CREATE_IDS, { input: names(5001, 'Huge') });
    assert.deepEqual(
      [r.data!.createCustomerGroups.code, r.data!.createCustomerGroups.field],
      ['BATCH_TOO_LARGE', 'input'],
    );
  });
});

describe('updateCustomerGroups', () => {
  test('metadata merges into each group’s own keys; a top-level null removes a key, a nested null stays', async () => {
    const a = await makeGroup(t.prisma, { metadata: { keep: 1, drop: 2 } });
    const b = await makeGroup(t.prisma);
    const r = await t.gql(UPDATE, { ids: [a.id, b.id], input: { metadata: { drop: null, added: { inner: null } } } });
    const byId = Object.fromEntries(r.data!.updateCustomerGroups.customerGroups.map((g: { id: string }) => [g.id, g]));
    assert.deepEqual(byId[a.id].metadata, { keep: 1, added: { inner: null } });
    assert.deepEqual(byId[b.id].metadata, { added: { inner: null } });
    assert.deepEqual(
      (await events('customer_group.updated', a.id)).map((e) => e.payload),
      [{ id: a.id, fields: ['metadata'] }],
    );
  });

  test('renames one group; one name for several groups, or a name held by another live group, is NAME_TAKEN', async () => {
    const [a, b] = [await makeGroup(t.prisma, { name: 'Rename A' }), await makeGroup(t.prisma, { name: 'Rename B' })];
    const renamed = await t.gql(UPDATE, { ids: [a.id], input: { name: ' Renamed ' } });
    assert.equal(renamed.data!.updateCustomerGroups.customerGroups[0].name, 'Renamed');
    const both = (await t.gql(UPDATE, { ids: [a.id, b.id], input: { name: 'Same' } })).data!.updateCustomerGroups;
    assert.deepEqual([both.code, both.field, both.names], ['NAME_TAKEN', 'input.name', ['Same']]);
    const held = (await t.gql(UPDATE, { ids: [b.id], input: { name: 'Renamed', metadata: { x: 1 } } })).data!
      .updateCustomerGroups;
    assert.deepEqual([held.code, held.field], ['NAME_TAKEN', 'input.name']);
    const row = await t.prisma.customerGroup.findUniqueOrThrow({ where: { id: b.id } });
    assert.deepEqual([row.name, row.metadata], ['Rename B', null]);
  });

  test('by filter; a filter must hold a condition; unknown ids are NOT_FOUND and nothing changes', async () => {
    const [a, b] = [
      await makeGroup(t.prisma, { name: 'Filter me 1' }),
      await makeGroup(t.prisma, { name: 'Filter me 2' }),
    ];
    const r = await t.gql(UPDATE, { filter: { q: 'filter ME' }, input: { metadata: { filtered: true } } });
    assert.deepEqual(
      r.data!.updateCustomerGroups.customerGroups.map((g: { id: string }) => g.id),
      [a.id, b.id],
    );
    for (const filter of [{}, { q: '   ' }, { name: [] }]) {
      assert.equal(
        (await t.gql(UPDATE, { filter, input: { metadata: { all: true } } })).data!.updateCustomerGroups.code,
        'EMPTY_FILTER',
        JSON.stringify(filter),
      );
    }
    const bothGiven = await t.gql(UPDATE, { ids: [a.id], filter: { q: 'x' }, input: { metadata: {} } });
    assert.equal(bothGiven.data!.updateCustomerGroups.code, 'VALIDATION');
    const unknown = await t.gql(UPDATE, {
      ids: [a.id, 'cusgroup_01AAAAAAAAAAAAAAAAAAAAAAAA'],
      input: { metadata: { lost: true } },
    });
    assert.deepEqual(unknown.data!.updateCustomerGroups.ids, ['cusgroup_01AAAAAAAAAAAAAAAAAAAAAAAA']);
    assert.deepEqual((await t.prisma.customerGroup.findUniqueOrThrow({ where: { id: a.id } })).metadata, {
      filtered: true,
    });
    assert.equal(await t.prisma.customerGroup.count({ where: { metadata: { path: ['all'], equals: true } } }), 0);
  });
});

describe('delete, soft delete and restore', () => {
  test('deleting groups by ids or filter takes their memberships, never the customers', async () => {
    const [c1, c2] = await customers(2);
    const [a, b] = [await makeGroup(t.prisma, { name: 'Doomed A' }), await makeGroup(t.prisma, { name: 'Doomed B' })];
    for (const g of [a, b]) for (const c of [c1!, c2!]) await addToGroup(t.prisma, c, g.id);
    assert.deepEqual((await t.gql(DELETE, { ids: [a.id] })).data!.deleteCustomerGroups.deletedIds, [a.id]);
    assert.deepEqual((await t.gql(DELETE, { filter: { name: ['Doomed B'] } })).data!.deleteCustomerGroups.deletedIds, [
      b.id,
    ]);
    assert.equal(await t.prisma.customerGroup.count({ where: { id: { in: [a.id, b.id] } } }), 0);
    assert.equal(await t.prisma.customerGroupCustomer.count({ where: { customerGroupId: { in: [a.id, b.id] } } }), 0);
    assert.equal(await t.prisma.customer.count({ where: { id: { in: [c1!, c2!] }, deletedAt: null } }), 2);
    assert.deepEqual(
      (await events('customer_group.deleted', a.id)).map((e) => e.payload),
      [{ id: a.id }],
    );
    assert.equal((await t.gql(DELETE, { filter: {} })).data!.deleteCustomerGroups.code, 'EMPTY_FILTER');
    assert.equal((await t.gql(DELETE, {})).data!.deleteCustomerGroups.code, 'EMPTY_FILTER');
  });

  test('round trip: memberships come back exactly; one removed before the soft delete stays removed', async () => {
    const [c1, c2, c3] = await customers(3);
    const g = await makeGroup(t.prisma, { name: 'Seasonal' });
    const other = await makeGroup(t.prisma, { name: 'Unrelated' });
    const m1 = await addToGroup(t.prisma, c1!, g.id);
    const m2 = await addToGroup(t.prisma, c2!, g.id);
    await addToGroup(t.prisma, c3!, g.id);
    const untouched = await addToGroup(t.prisma, c1!, other.id);
    await t.gql(REMOVE, { groupId: g.id, customerIds: [c3] });

    const soft = (await t.gql(SOFT, { ids: [g.id] })).data!.softDeleteCustomerGroups;
    assert.deepEqual(soft, {
      __typename: 'SoftDeletedCustomerGroupsPayload',
      ids: [g.id],
      membershipIds: [m1.id, m2.id].sort(),
    });
    const hidden = await t.gql(
      `query($id: ID!, $c: ID!) { customerGroup(id: $id) { id } customer(id: $c) { groups { totalCount } } }`,
      { id: g.id, c: c1 },
    );
    assert.deepEqual(hidden.data, { customerGroup: null, customer: { groups: { totalCount: 1 } } });
    assert.equal((await t.gql(ADD, { groupId: g.id, customerIds: [c3] })).data!.addCustomersToGroup.code, 'NOT_FOUND');
    assert.deepEqual(
      (await t.gql(SOFT, { ids: [g.id] })).data!.softDeleteCustomerGroups.ids,
      [],
      'a second soft delete changes nothing',
    );

    const restored = (await t.gql(RESTORE, { ids: [g.id] })).data!.restoreCustomerGroups;
    assert.deepEqual(restored, soft);
    assert.deepEqual(await memberIds(g.id), [c1!, c2!].sort());
    assert.equal(
      (await t.prisma.customerGroupCustomer.findUniqueOrThrow({ where: { id: untouched.id } })).deletedAt,
      null,
    );
    assert.deepEqual(
      (await events('customer_group.deleted', g.id)).map((e) => e.payload),
      [{ id: g.id, soft: true }],
    );
    assert.deepEqual(
      (await t.gql(RESTORE, { ids: [g.id] })).data!.restoreCustomerGroups.ids,
      [],
      'restoring a live group changes nothing',
    );
  });

  test('a customer deleted while their group was: restoring the group leaves them out, restoring them brings them back', async () => {
    const [gone, stays] = await customers(2);
    const g = await makeGroup(t.prisma, { name: 'Two deletions' });
    await addToGroup(t.prisma, gone!, g.id);
    const kept = await addToGroup(t.prisma, stays!, g.id);
    await t.gql(SOFT, { ids: [g.id] });
    await sleep(5);
    const softCustomer = `mutation($ids: [ID!]!) { softDeleteCustomers(ids: $ids) { __typename } }`;
    assert.equal(
      (await t.gql(softCustomer, { ids: [gone] })).data!.softDeleteCustomers.__typename,
      'SoftDeletedCustomersPayload',
    );
    const restored = (await t.gql(RESTORE, { ids: [g.id] })).data!.restoreCustomerGroups;
    assert.deepEqual(restored.membershipIds, [kept.id]);
    const count = `query($id: ID!) { customerGroup(id: $id) { customers { totalCount count { count } edges { node { id } } } } }`;
    assert.deepEqual((await t.gql(count, { id: g.id })).data!.customerGroup.customers, {
      totalCount: 1,
      count: { count: 1 },
      edges: [{ node: { id: stays } }],
    });
    const restoreCustomer = `mutation($ids: [ID!]!) { restoreCustomers(ids: $ids) { __typename } }`;
    assert.equal(
      (await t.gql(restoreCustomer, { ids: [gone] })).data!.restoreCustomers.__typename,
      'SoftDeletedCustomersPayload',
    );
    assert.deepEqual(await memberIds(g.id), [gone!, stays!].sort());
  });

  test("the database keeps every live membership's customer live, whoever writes", async () => {
    const [a, b] = await customers(2);
    const g = await makeGroup(t.prisma, { name: 'Raw writers' });
    await addToGroup(t.prisma, a!, g.id);
    // The database's message, wherever the driver adapter puts it.
    const refused = (error: unknown) =>
      /a (live membership of a soft-deleted customer|soft-deleted customer with a live membership)/.test(
        inspect(error, { depth: 8 }),
      );
    // Soft-deleting a member without ending the membership: refused when the transaction commits.
    await assert.rejects(t.prisma.$executeRaw`UPDATE customer SET deleted_at = now() WHERE id = ${a}`, refused);
    // Ending it in the same transaction, after the customer, is what the service does.
    await t.prisma.$transaction([
      t.prisma.$executeRaw`UPDATE customer SET deleted_at = now() WHERE id = ${a}`,
      t.prisma
        .$executeRaw`UPDATE customer_group_customer SET deleted_at = now() WHERE customer_id = ${a} AND deleted_at IS NULL`,
    ]);
    // A live membership of a deleted customer, inserted or brought back: refused at once.
    await assert.rejects(
      t.prisma
        .$executeRaw`INSERT INTO customer_group_customer (id, customer_id, customer_group_id) VALUES (${newId('CustomerGroupCustomer')}, ${a}, ${g.id})`,
      refused,
    );
    await assert.rejects(
      t.prisma.$executeRaw`UPDATE customer_group_customer SET deleted_at = NULL WHERE customer_id = ${a}`,
      refused,
    );
    // Moved to a deleted customer: refused too; to a live one, fine.
    const m = await addToGroup(t.prisma, b!, (await makeGroup(t.prisma, { name: 'Raw writers 2' })).id);
    await assert.rejects(
      t.prisma.$executeRaw`UPDATE customer_group_customer SET customer_id = ${a} WHERE id = ${m.id}`,
      refused,
    );
    assert.equal(
      await t.prisma.customerGroupCustomer.count({
        where: { deletedAt: null, customer: { deletedAt: { not: null } } },
      }),
      0,
    );
  });

  test('restoring a group whose name was taken meanwhile is NAME_TAKEN and changes nothing', async () => {
    const [c] = await customers(1);
    const g = await makeGroup(t.prisma, { name: 'Comeback' });
    await addToGroup(t.prisma, c!, g.id);
    await t.gql(SOFT, { ids: [g.id] });
    await makeGroup(t.prisma, { name: 'Comeback' });
    const before = await snapshot();
    const r = (await t.gql(RESTORE, { ids: [g.id] })).data!.restoreCustomerGroups;
    assert.deepEqual([r.code, r.field, r.names], ['NAME_TAKEN', 'ids[0]', ['Comeback']]);
    assert.deepEqual(await snapshot(), before);
  });

  test('soft-deleting or restoring an unknown group is NOT_FOUND and changes nothing', async () => {
    const g = await makeGroup(t.prisma);
    const r = await t.gql(SOFT, { ids: [g.id, 'cusgroup_01BBBBBBBBBBBBBBBBBBBBBBBB'] });
    assert.deepEqual(
      [r.data!.softDeleteCustomerGroups.code, r.data!.softDeleteCustomerGroups.ids],
      ['NOT_FOUND', ['cusgroup_01BBBBBBBBBBBBBBBBBBBBBBBB']],
    );
    assert.equal((await t.prisma.customerGroup.findUniqueOrThrow({ where: { id: g.id } })).deletedAt, null);
    assert.equal(
      (await t.gql(RESTORE, { ids: ['cusgroup_01BBBBBBBBBBBBBBBBBBBBBBBB'] })).data!.restoreCustomerGroups.code,
      'NOT_FOUND',
    );
  });
});

describe('memberships', () => {
  test('addCustomersToGroup is idempotent: members already in stay, no second row, no second event', async () => {
    const [c1, c2, c3] = await customers(3);
    const g = await makeGroup(t.prisma);
    const first = await t.gql(ADD, { groupId: g.id, customerIds: [c1, c2] });
    assert.deepEqual(first.data!.addCustomersToGroup.customerGroup, { id: g.id, customers: { totalCount: 2 } });
    const again = await t.gql(ADD, { groupId: g.id, customerIds: [c2, c3, c3] });
    assert.equal(again.data!.addCustomersToGroup.customerGroup.customers.totalCount, 3);
    await t.gql(ADD, { groupId: g.id, customerIds: [c1, c2, c3] });
    assert.deepEqual(
      (await members(g.id)).map((m) => [m.customerId, m.createdBy]),
      [c1, c2, c3].sort().map((c) => [c, 'tests']),
    );
    assert.deepEqual(
      (await events('customer_group.updated', g.id)).map((e) => e.payload),
      [
        { id: g.id, fields: ['customers'], added: [c1, c2].sort(), removed: [] },
        { id: g.id, fields: ['customers'], added: [c3], removed: [] },
      ],
    );
  });

  test('parallel addCustomersToGroup calls: every membership with an ID of its own, ordered as its customers, one event per group', async () => {
    const cs = await customers(30);
    const groups = await Promise.all(Array.from({ length: 20 }, () => makeGroup(t.prisma)));
    // All at once, so that many batches get their IDs in the same millisecond.
    const results = await Promise.all(groups.map((g) => t.gql(ADD, { groupId: g.id, customerIds: [...cs].reverse() })));
    for (const r of results)
      assert.equal(r.data?.addCustomersToGroup.customerGroup.customers.totalCount, 30, JSON.stringify(r));
    const rows = await t.prisma.customerGroupCustomer.findMany({
      where: { customerGroupId: { in: groups.map((g) => g.id) } },
    });
    assert.equal(rows.length, 600);
    assert.equal(new Set(rows.map((m) => m.id)).size, 600, 'no two memberships share an ID');
    for (const g of groups) {
      const own = rows.filter((m) => m.customerGroupId === g.id).sort((a, b) => (a.id < b.id ? -1 : 1));
      assert.ok(
        own.every((m) => /^cusgc_[0-9A-HJKMNP-TV-Z]{26}$/.test(m.id)),
        own[0]!.id,
      );
      assert.deepEqual(
        own.map((m) => m.customerId),
        [...cs].sort(),
        'IDs ordered as the customers are',
      );
      assert.deepEqual(
        (await events('customer_group.updated', g.id)).map((e) => e.payload),
        [{ id: g.id, fields: ['customers'], added: [...cs].sort(), removed: [] }],
      );
    }
  });

  test('removeCustomersFromGroup deletes the memberships, not the customers; non-members are no error', async () => {
    const [c1, c2, outsider] = await customers(3);
    const g = await makeGroup(t.prisma);
    await t.gql(ADD, { groupId: g.id, customerIds: [c1, c2] });
    const r = await t.gql(REMOVE, { groupId: g.id, customerIds: [c1, outsider] });
    assert.equal(r.data!.removeCustomersFromGroup.customerGroup.customers.totalCount, 1);
    await t.gql(REMOVE, { groupId: g.id, customerIds: [c1] });
    assert.equal(
      await t.prisma.customerGroupCustomer.count({ where: { customerGroupId: g.id, customerId: c1! } }),
      0,
      'hard delete',
    );
    assert.equal(await t.prisma.customer.count({ where: { id: { in: [c1!, outsider!] }, deletedAt: null } }), 2);
    const updates = (await events('customer_group.updated', g.id)).map((e) => e.payload);
    assert.deepEqual(updates.at(-1), { id: g.id, fields: ['customers'], added: [], removed: [c1] });
    assert.equal(updates.length, 2);
  });

  test('unknown or soft-deleted groups and customers are NOT_FOUND, every one listed, nothing written', async () => {
    const [c1, gone] = await customers(2);
    await t.prisma.customer.update({ where: { id: gone! }, data: { deletedAt: new Date() } });
    const g = await makeGroup(t.prisma);
    const before = await snapshot();
    const r = (
      await t.gql(ADD, {
        groupId: 'cusgroup_01CCCCCCCCCCCCCCCCCCCCCCCC',
        customerIds: [c1, 'cus_01CCCCCCCCCCCCCCCCCCCCCCCC', gone],
      })
    ).data!.addCustomersToGroup;
    assert.deepEqual(
      [r.code, r.field, r.ids],
      ['NOT_FOUND', 'groupId', ['cusgroup_01CCCCCCCCCCCCCCCCCCCCCCCC', 'cus_01CCCCCCCCCCCCCCCCCCCCCCCC', gone]],
    );
    const soft = (await t.gql(REMOVE, { groupId: g.id, customerIds: [c1, gone] })).data!.removeCustomersFromGroup;
    assert.deepEqual([soft.code, soft.field, soft.ids], ['NOT_FOUND', 'customerIds[1]', [gone]]);
    const batch = (
      await t.gql(BATCH, {
        customerId: c1,
        add: [g.id, 'cusgroup_01DDDDDDDDDDDDDDDDDDDDDDDD'],
        remove: ['cusgroup_01EEEEEEEEEEEEEEEEEEEEEEEE'],
      })
    ).data!.batchCustomerGroups;
    assert.deepEqual(
      [batch.code, batch.field, batch.ids],
      ['NOT_FOUND', 'add[1]', ['cusgroup_01DDDDDDDDDDDDDDDDDDDDDDDD', 'cusgroup_01EEEEEEEEEEEEEEEEEEEEEEEE']],
    );
    assert.deepEqual(await snapshot(), before);
    const malformed = await t.gql(ADD, { groupId: g.id, customerIds: [c1, 'not-an-id'] });
    assert.equal(malformed.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('a batch of 50 pairs with an unknown customer in the middle writes nothing and names the item', async () => {
    const ids = await customers(50);
    const g = await makeGroup(t.prisma);
    const pairs = ids.map((customerId) => ({ customerId, groupId: g.id }));
    pairs[25] = { customerId: 'cus_01FFFFFFFFFFFFFFFFFFFFFFFF', groupId: g.id };
    const before = await snapshot();
    const r = (await t.gql(ADD_PAIRS, { memberships: pairs })).data!.addCustomerToGroup;
    assert.deepEqual(
      [r.code, r.field, r.ids],
      ['NOT_FOUND', 'memberships[25].customerId', ['cus_01FFFFFFFFFFFFFFFFFFFFFFFF']],
    );
    assert.deepEqual(await snapshot(), before);
  });

  test('batchCustomerGroups adds and removes one customer’s groups; a group in both lists is refused', async () => {
    const [c] = await customers(1);
    const [g1, g2, g3] = [await makeGroup(t.prisma), await makeGroup(t.prisma), await makeGroup(t.prisma)];
    await addToGroup(t.prisma, c!, g3.id);
    const r = (await t.gql(BATCH, { customerId: c, add: [g1.id, g2.id], remove: [g3.id] })).data!.batchCustomerGroups;
    assert.deepEqual(
      r.customer.groups.edges.map((e: { node: { id: string } }) => e.node.id).sort(),
      [g1.id, g2.id].sort(),
    );
    assert.deepEqual(
      (await events('customer_group.updated', g3.id)).map((e) => e.payload),
      [{ id: g3.id, fields: ['customers'], added: [], removed: [c] }],
    );
    const again = (await t.gql(BATCH, { customerId: c, add: [g1.id], remove: [g3.id] })).data!.batchCustomerGroups;
    assert.equal(again.__typename, 'BatchCustomerGroupsPayload');
    assert.equal((await events('customer_group.updated', g1.id)).length, 1, 'nothing changed the second time');
    const both = (await t.gql(BATCH, { customerId: c, add: [g2.id], remove: [g2.id] })).data!.batchCustomerGroups;
    assert.deepEqual([both.code, both.field], ['VALIDATION', 'remove[0]']);
  });

  test('addCustomerToGroup returns every pair’s membership, old and new; removeCustomerFromGroup the removed ids', async () => {
    const [c1, c2] = await customers(2);
    const [g1, g2] = [await makeGroup(t.prisma), await makeGroup(t.prisma)];
    const old = await addToGroup(t.prisma, c1!, g1.id);
    const pairs = [
      { customerId: c1, groupId: g1.id },
      { customerId: c2, groupId: g1.id },
      { customerId: c1, groupId: g2.id },
    ];
    const added = (await t.gql(ADD_PAIRS, { memberships: pairs })).data!.addCustomerToGroup.memberships;
    assert.deepEqual(
      added.map((m: { customer: { id: string }; group: { id: string } }) => [m.customer.id, m.group.id]),
      pairs.map((p) => [p.customerId, p.groupId]),
    );
    assert.equal(added[0].id, old.id);
    assert.equal(added[1].createdBy, 'tests');
    const removed = (await t.gql(REMOVE_PAIRS, { memberships: [...pairs, { customerId: c2, groupId: g2.id }] })).data!
      .removeCustomerFromGroup;
    assert.deepEqual(removed.ids, added.map((m: { id: string }) => m.id).sort());
    assert.deepEqual((await t.gql(REMOVE_PAIRS, { memberships: pairs })).data!.removeCustomerFromGroup.ids, []);
  });

  test('runs the same number of SQL statements for 10 and for 1000 customers', async () => {
    const ids = await customers(1010);
    const [g1, g2] = [await makeGroup(t.prisma), await makeGroup(t.prisma)];
    const small = await t.countStatements(() => t.gql(ADD_IDS, { groupId: g1.id, customerIds: ids.slice(0, 10) }));
    const large = await t.countStatements(() => t.gql(ADD_IDS, { groupId: g2.id, customerIds: ids.slice(10) }));
    assert.equal(large.result.data!.addCustomersToGroup.__typename, 'CustomerGroupPayload');
    assert.equal(await t.prisma.customerGroupCustomer.count({ where: { customerGroupId: g2.id } }), 1000);
    assert.equal(large.statements, small.statements, large.sql.map((s) => s.slice(0, 80)).join('\n'));
    console.log(
      `addCustomersToGroup (${DATABASE_KIND}): ${large.statements} SQL statements for 10 and for 1000 customers`,
    );
    const pairs = (groupId: string, customerIds: string[]) =>
      customerIds.map((customerId) => ({ customerId, groupId }));
    const removed10 = await t.countStatements(() =>
      t.gql(REMOVE_PAIRS, { memberships: pairs(g1.id, ids.slice(0, 10)) }),
    );
    const removed1000 = await t.countStatements(() =>
      t.gql(REMOVE_PAIRS, { memberships: pairs(g2.id, ids.slice(10)) }),
    );
    assert.equal(removed1000.result.data!.removeCustomerFromGroup.ids.length, 1000);
    assert.equal(removed1000.statements, removed10.statements);
  });

  test('5 concurrent overlapping calls of 500 ids each: no error, no duplicate row', async () => {
    const ids = await customers(1500);
    const g = await makeGroup(t.prisma);
    const calls = [0, 250, 500, 750, 1000].map((start) => ids.slice(start, start + 500));
    const results = await Promise.all(calls.map((customerIds) => t.gql(ADD_IDS, { groupId: g.id, customerIds })));
    for (const r of results)
      assert.equal(r.data?.addCustomersToGroup.__typename, 'CustomerGroupPayload', JSON.stringify(r.errors ?? r.data));
    assert.equal(await t.prisma.customerGroupCustomer.count({ where: { customerGroupId: g.id } }), 1500);
    const added = (await events('customer_group.updated', g.id)).flatMap(
      (e) => (e.payload as { added: string[] }).added,
    );
    assert.equal(added.length, 1500, 'each membership is announced once');
  });

  const concurrent = {
    skip: DATABASE_KIND !== 'postgres' && 'PGlite has one connection: nothing runs while a transaction is open',
  };
  test(
    'adding members during a soft delete of one of them never leaves a live membership of a deleted customer',
    concurrent,
    async () => {
      // A soft delete in flight, as softDeleteCustomers writes it: the customer and its memberships,
      // not yet committed. The batch reads the customer as live in its snapshot.
      const softDeleteInFlight = (id: string) =>
        holdLock(
          t.prisma,
          `WITH c AS (UPDATE customer SET deleted_at = now() WHERE id = '${id}' RETURNING id)
         UPDATE customer_group_customer SET deleted_at = now() WHERE customer_id IN (SELECT id FROM c) AND deleted_at IS NULL`,
        );
      const orphans = (groupId: string) =>
        t.prisma.customerGroupCustomer.findMany({
          where: { customerGroupId: groupId, deletedAt: null, customer: { deletedAt: { not: null } } },
        });

      // Not a member yet: the batch waits for the commit, then finds the customer gone and writes nothing.
      const [member, other, joining] = await customers(3);
      const g = await makeGroup(t.prisma);
      await t.gql(ADD_IDS, { groupId: g.id, customerIds: [member] });
      let softDelete = await softDeleteInFlight(joining!);
      let answered = false;
      const answer = t
        .gql(ADD_IDS, { groupId: g.id, customerIds: [member, other, joining] })
        .finally(() => (answered = true));
      await sleep(300);
      assert.equal(answered, false, 'waits for the soft delete');
      await softDelete.release();
      const r = (await answer).data!.addCustomersToGroup;
      assert.deepEqual([r.__typename, r.ids], ['NotFoundError', [joining]]);
      assert.deepEqual(await memberIds(g.id), [member], 'nothing written');
      assert.deepEqual(await orphans(g.id), []);

      // A member already: nothing to write for it, so no wait; the soft delete then ends the membership.
      const [leaving, staying, newcomer] = await customers(3);
      const h = await makeGroup(t.prisma);
      await t.gql(ADD_IDS, { groupId: h.id, customerIds: [leaving, staying] });
      softDelete = await softDeleteInFlight(leaving!);
      const added = (await t.gql(ADD_IDS, { groupId: h.id, customerIds: [leaving, staying, newcomer] })).data!
        .addCustomersToGroup;
      assert.equal(added.__typename, 'CustomerGroupPayload', 'answered while the soft delete is open');
      await softDelete.release();
      assert.deepEqual(await memberIds(h.id), [staying, newcomer].sort());
      assert.deepEqual(await orphans(h.id), []);
    },
  );

  test('more than 5000 ids is BATCH_TOO_LARGE', async () => {
    const g = await makeGroup(t.prisma);
    const ids = Array.from({ length: 5001 }, () => newId('Customer'));
    const r = (await t.gql(ADD_IDS, { groupId: g.id, customerIds: ids })).data!.addCustomersToGroup;
    assert.deepEqual([r.code, r.field], ['BATCH_TOO_LARGE', 'customerIds']);
    const pairs = (await t.gql(REMOVE_PAIRS, { memberships: ids.map((customerId) => ({ customerId, groupId: g.id })) }))
      .data!.removeCustomerFromGroup;
    assert.equal(pairs.code, 'BATCH_TOO_LARGE');
  });

  test('addCustomersToGroup with 1000 and with 5000 new members adds every one (its time and statements printed, not checked)', async () => {
    const ids = await customers(6000);
    for (const [n, slice] of [
      [1000, ids.slice(0, 1000)],
      [5000, ids.slice(1000)],
    ] as const) {
      const g = await makeGroup(t.prisma);
      const started = performance.now();
      const { result, statements } = await t.countStatements(() =>
        t.gql(ADD_IDS, { groupId: g.id, customerIds: slice }),
      );
      const ms = performance.now() - started;
      assert.equal(result.data!.addCustomersToGroup.__typename, 'CustomerGroupPayload');
      assert.equal(await t.prisma.customerGroupCustomer.count({ where: { customerGroupId: g.id } }), n);
      console.log(
        `addCustomersToGroup (${DATABASE_KIND}) with ${n} customers: ${ms.toFixed(0)} ms, ${statements} SQL statements`,
      );
    }
  });
});

test('anonymous callers get a typed UnauthenticatedError, customers a ForbiddenError, and nothing changes', async () => {
  const s = await t.gql(
    `mutation { register(input: { email: "groups-notadmin@example.com", password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  const me = s.data!.register.customer.id;
  const g = await makeGroup(t.prisma, { name: 'Guarded' });
  await addToGroup(t.prisma, me, g.id);
  const mutations = [
    `createCustomerGroups(input: [{ name: "Sneaky" }])`,
    `updateCustomerGroups(ids: [$g], input: { name: "Changed" })`,
    `deleteCustomerGroups(ids: [$g])`,
    `softDeleteCustomerGroups(ids: [$g])`,
    `restoreCustomerGroups(ids: [$g])`,
    `addCustomersToGroup(groupId: $g, customerIds: [$c])`,
    `removeCustomersFromGroup(groupId: $g, customerIds: [$c])`,
    `batchCustomerGroups(customerId: $c, remove: [$g])`,
    `addCustomerToGroup(memberships: [{ customerId: $c, groupId: $g }])`,
    `removeCustomerFromGroup(memberships: [{ customerId: $c, groupId: $g }])`,
  ];
  const query = `mutation($g: ID!, $c: ID!) { ${mutations.map((m, i) => `m${i}: ${m} { __typename ... on Error { code } }`).join('\n')} }`;
  const before = await snapshot();
  for (const headers of [ANONYMOUS, bearer(s.data!.register.accessToken)]) {
    const r = await t.gql(query, { g: g.id, c: me }, headers);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const refusal =
      headers === ANONYMOUS
        ? { __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' }
        : { __typename: 'ForbiddenError', code: 'FORBIDDEN' };
    assert.deepEqual(
      Object.values(r.data!),
      mutations.map(() => refusal),
    );
  }
  assert.deepEqual(await snapshot(), before);
});

describe('one membership writer for every membership mutation', () => {
  const updates = async (groupId: string) =>
    (
      await t.prisma.outboxEvent.findMany({
        where: { name: 'customer_group.updated', key: `customer_group:${groupId}` },
        orderBy: { seq: 'asc' },
      })
    ).map((e) => [e.seq, e.payload]);

  test('pairs over several groups: one event per changed group, sorted, numbered within its group', async () => {
    const [c1, c2, c3] = await customers(3);
    const [g1, g2] = [await makeGroup(t.prisma), await makeGroup(t.prisma)];
    const pair = (customerId: string, groupId: string) => ({ customerId, groupId });
    const added = await t.gql(ADD_PAIRS, {
      memberships: [pair(c3!, g1.id), pair(c1!, g1.id), pair(c2!, g2.id), pair(c1!, g1.id)],
    });
    assert.equal(added.data!.addCustomerToGroup.memberships.length, 3);
    const removed = await t.gql(REMOVE_PAIRS, {
      memberships: [pair(c3!, g1.id), pair(c2!, g2.id), pair(c2!, g1.id)],
    });
    assert.equal(removed.data!.removeCustomerFromGroup.ids.length, 2);
    const batch = await t.gql(BATCH, { customerId: c1, add: [g2.id], remove: [g1.id] });
    assert.equal(batch.data!.batchCustomerGroups.__typename, 'BatchCustomerGroupsPayload');
    const change = (id: string, added: string[], removed: string[]) => ({ id, fields: ['customers'], added, removed });
    assert.deepEqual(await updates(g1.id), [
      [1, change(g1.id, [c1!, c3!].sort(), [])],
      [2, change(g1.id, [], [c3!])],
      [3, change(g1.id, [], [c1!])],
    ]);
    assert.deepEqual(await updates(g2.id), [
      [1, change(g2.id, [c2!], [])],
      [2, change(g2.id, [], [c2!])],
      [3, change(g2.id, [c1!], [])],
    ]);
    assert.deepEqual(await memberIds(g2.id), [c1]);
    assert.deepEqual(await memberIds(g1.id), []);
  });

  test('batchCustomerGroups with no groups still needs its customer', async () => {
    const [c] = await customers(1);
    const ok = (await t.gql(BATCH, { customerId: c })).data!.batchCustomerGroups;
    assert.deepEqual(ok.customer, { id: c, groups: { edges: [] } });
    const unknown = 'cus_01GGGGGGGGGGGGGGGGGGGGGGGG';
    const none = (await t.gql(BATCH, { customerId: unknown })).data!.batchCustomerGroups;
    assert.deepEqual([none.code, none.field, none.ids], ['NOT_FOUND', 'customerId', [unknown]]);
  });

  test('a pair naming an unknown or soft-deleted group is NOT_FOUND at that item, and nothing is removed', async () => {
    const [c] = await customers(1);
    const g = await makeGroup(t.prisma);
    const retired = await makeGroup(t.prisma, { deletedAt: new Date() });
    await addToGroup(t.prisma, c!, g.id);
    const before = await snapshot();
    const r = (
      await t.gql(REMOVE_PAIRS, {
        memberships: [
          { customerId: c, groupId: g.id },
          { customerId: c, groupId: retired.id },
        ],
      })
    ).data!.removeCustomerFromGroup;
    assert.deepEqual([r.code, r.field, r.ids], ['NOT_FOUND', 'memberships[1].groupId', [retired.id]]);
    assert.deepEqual(await snapshot(), before);
  });

  test('createCustomerGroups announces its members with customer_group.created alone', async () => {
    const [a, b] = await customers(2);
    const r = await t.gql(CREATE_IDS, { input: [{ name: 'Announced once', customerIds: [b, a] }] });
    const [group] = r.data!.createCustomerGroups.customerGroups;
    assert.deepEqual(await memberIds(group.id), [a, b].sort());
    assert.equal((await events('customer_group.created', group.id)).length, 1);
    assert.deepEqual(await updates(group.id), []);
  });
});
