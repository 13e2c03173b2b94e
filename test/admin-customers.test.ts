import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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

const CREATE = `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) {
  __typename ... on CustomersPayload { customers { id email hasAccount createdBy firstName } } ... on Error { code field message }
} }`;
const UPDATE = `mutation($ids: [ID!], $filter: CustomerFilter, $input: UpdateCustomerInput!) { updateCustomers(ids: $ids, filter: $filter, input: $input) {
  __typename ... on CustomersPayload { customers { id email firstName metadata } } ... on Error { code field } ... on NotFoundError { ids }
} }`;
const DELETE = `mutation($ids: [ID!], $filter: CustomerFilter) { deleteCustomers(ids: $ids, filter: $filter) { __typename ... on DeletedIdsPayload { deletedIds } ... on Error { code field } } }`;
const SOFT = `mutation($ids: [ID!]!) { softDeleteCustomers(ids: $ids) { __typename ... on SoftDeletedCustomersPayload { ids addressIds membershipIds } ... on Error { code } } }`;
const RESTORE = `mutation($ids: [ID!]!) { restoreCustomers(ids: $ids) { __typename ... on SoftDeletedCustomersPayload { ids addressIds membershipIds } ... on Error { code } } }`;
const ADD_ADDRESSES = `mutation($input: [CreateAddressInput!]!) { addAddresses(input: $input) {
  __typename ... on AddressesPayload { addresses { id city isDefaultShipping customer { id } } } ... on Error { code field }
} }`;

const guests = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, firstName: `G${i}` }));

describe('createCustomers', () => {
  test('creates guests and, with a password, accounts; records the admin key as created_by; one event each', async () => {
    const r = await t.gql(CREATE, {
      input: [
        { email: ' Mixed@Example.com ', firstName: 'M' },
        { email: 'acct@example.com', password: 'password-1' },
      ],
    });
    const [guest, account] = r.data!.createCustomers.customers;
    assert.deepEqual([guest.email, guest.hasAccount, guest.createdBy], ['mixed@example.com', false, 'tests']);
    assert.equal(account.hasAccount, true);
    const login = await t.gql(
      `mutation { login(email: "acct@example.com", password: "password-1") { __typename } }`,
      {},
      ANONYMOUS,
    );
    assert.equal(login.data!.login.__typename, 'Session');
    assert.equal(
      await t.prisma.outboxEvent.count({
        where: { name: 'customer.created', payload: { path: ['id'], equals: guest.id } },
      }),
      1,
    );
  });

  test('a batch of 50 with one bad item changes nothing and names the item', async () => {
    const before = await t.prisma.customer.count();
    const input = guests(50, 'batch');
    input[27] = { email: 'not an email', firstName: 'X' };
    const r = await t.gql(CREATE, { input });
    assert.deepEqual(
      { type: r.data!.createCustomers.__typename, field: r.data!.createCustomers.field },
      { type: 'ValidationError', field: 'input[27].email' },
    );
    assert.equal(await t.prisma.customer.count(), before);
  });

  test('an account email taken already or twice in the batch is EMAIL_TAKEN at that item; guests may share', async () => {
    await t.gql(CREATE, { input: [{ email: 'dup@example.com', password: 'password-1' }] });
    const taken = await t.gql(CREATE, {
      input: [{ email: 'ok@example.com' }, { email: 'DUP@example.com', password: 'password-2' }],
    });
    assert.deepEqual(
      [taken.data!.createCustomers.code, taken.data!.createCustomers.field],
      ['EMAIL_TAKEN', 'input[1].email'],
    );
    const twice = await t.gql(CREATE, {
      input: [
        { email: 'two@example.com', password: 'password-1' },
        { email: 'two@example.com', password: 'password-1' },
      ],
    });
    assert.deepEqual(
      [twice.data!.createCustomers.code, twice.data!.createCustomers.field],
      ['EMAIL_TAKEN', 'input[1].email'],
    );
    const shared = await t.gql(CREATE, { input: [{ email: 'dup@example.com' }, { email: 'dup@example.com' }] });
    assert.equal(shared.data!.createCustomers.customers.length, 2);
    assert.equal(await t.prisma.customer.count({ where: { email: 'ok@example.com' } }), 0);
  });

  test('runs the same number of SQL statements for 10 and for 1000 customers', async () => {
    const small = await t.countStatements(() => t.gql(CREATE, { input: guests(10, 'ten') }));
    const large = await t.countStatements(() => t.gql(CREATE, { input: guests(1000, 'thousand') }));
    assert.equal(large.result.data!.createCustomers.customers.length, 1000);
    assert.equal(large.statements, small.statements, large.sql.map((s) => s.slice(0, 80)).join('\n'));
    console.log(`createCustomers: ${large.statements} statements for 10 and for 1000`);
  });

  test('more than 5000 is BATCH_TOO_LARGE', async () => {
    const r = await t.gql(CREATE, { input: guests(5001, 'huge') });
    assert.equal(r.data!.createCustomers.code, 'BATCH_TOO_LARGE');
  });
});

describe('updateCustomers and deleteCustomers', () => {
  test('by ids: fields change, metadata merges per customer, a null key is removed', async () => {
    const a = await makeCustomer(t.prisma, { metadata: { keep: 1, drop: 2 } });
    const b = await makeCustomer(t.prisma, { metadata: { other: true } });
    const r = await t.gql(UPDATE, {
      ids: [a.id, b.id],
      input: { firstName: 'Same', metadata: { drop: null, added: 'x', nested: { kept: null } } },
    });
    const byId = Object.fromEntries(r.data!.updateCustomers.customers.map((c: { id: string }) => [c.id, c]));
    assert.deepEqual(byId[a.id].metadata, { keep: 1, added: 'x', nested: { kept: null } });
    assert.deepEqual(byId[b.id].metadata, { other: true, added: 'x', nested: { kept: null } });
    assert.equal(byId[a.id].firstName, 'Same');
  });

  test('unknown ids are NOT_FOUND, listed, and nothing changes', async () => {
    const a = await makeCustomer(t.prisma, { firstName: 'Before' });
    const r = await t.gql(UPDATE, { ids: [a.id, 'cus_01AAAAAAAAAAAAAAAAAAAAAAAA'], input: { firstName: 'After' } });
    assert.deepEqual(r.data!.updateCustomers.ids, ['cus_01AAAAAAAAAAAAAAAAAAAAAAAA']);
    assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: a.id } })).firstName, 'Before');
  });

  test('a filter must hold a condition; ids and filter together are refused', async () => {
    const empty = await t.gql(UPDATE, { filter: {}, input: { firstName: 'All' } });
    assert.equal(empty.data!.updateCustomers.code, 'EMPTY_FILTER');
    const none = await t.gql(DELETE, {});
    assert.equal(none.data!.deleteCustomers.code, 'EMPTY_FILTER');
    const before = await t.prisma.customer.count({ where: { deletedAt: null } });
    for (const filter of [
      { q: null, groupIds: [] },
      { q: '   ' },
      { email: '' },
      { createdAt: {} },
      { createdAt: { gt: null } },
    ]) {
      const blank = await t.gql(DELETE, { filter });
      assert.equal(blank.data!.deleteCustomers.code, 'EMPTY_FILTER', JSON.stringify(filter));
      const blankUpdate = await t.gql(
        `mutation($filter: AddressFilter) { deleteAddresses(filter: $filter) { ... on Error { code } } }`,
        { filter: { q: ' ', city: '' } },
      );
      assert.equal(blankUpdate.data!.deleteAddresses.code, 'EMPTY_FILTER');
    }
    assert.equal(await t.prisma.customer.count({ where: { deletedAt: null } }), before, 'nothing was deleted');

    // ids and a filter at once, for every mutation that takes either: VALIDATION on filter, nothing changed.
    const c = await makeCustomer(t.prisma, { firstName: 'Both' });
    const a = await makeAddress(t.prisma, c.id, { city: 'Both' });
    const g = await makeGroup(t.prisma);
    const both: [string, string, Record<string, unknown>][] = [
      ['updateCustomers', 'CustomerFilter', { ids: [c.id], filter: { q: 'Both' }, input: { firstName: 'Changed' } }],
      ['deleteCustomers', 'CustomerFilter', { ids: [c.id], filter: { q: 'Both' } }],
      ['updateAddresses', 'AddressFilter', { ids: [a.id], filter: { city: 'Both' }, input: { city: 'Changed' } }],
      ['deleteAddresses', 'AddressFilter', { ids: [a.id], filter: { city: 'Both' } }],
      [
        'updateCustomerGroups',
        'CustomerGroupFilter',
        { ids: [g.id], filter: { q: g.name }, input: { metadata: { a: 1 } } },
      ],
      ['deleteCustomerGroups', 'CustomerGroupFilter', { ids: [g.id], filter: { q: g.name } }],
    ];
    const inputType = {
      updateCustomers: 'UpdateCustomerInput',
      updateAddresses: 'AddressInput',
      updateCustomerGroups: 'UpdateCustomerGroupInput',
    } as Record<string, string>;
    for (const [mutation, filterType, variables] of both) {
      const input = inputType[mutation];
      const r = await t.gql(
        `mutation($ids: [ID!], $filter: ${filterType}${input ? `, $input: ${input}!` : ''}) {
          ${mutation}(ids: $ids, filter: $filter${input ? ', input: $input' : ''}) { __typename ... on Error { code field } } }`,
        variables,
      );
      assert.deepEqual(
        r.data?.[mutation],
        { __typename: 'ValidationError', code: 'VALIDATION', field: 'filter' },
        `${mutation}: ${JSON.stringify(r)}`,
      );
    }
    assert.deepEqual(
      await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id }, select: { firstName: true, deletedAt: true } }),
      { firstName: 'Both', deletedAt: null },
    );
    assert.deepEqual(
      await t.prisma.address.findUniqueOrThrow({ where: { id: a.id }, select: { city: true, deletedAt: true } }),
      { city: 'Both', deletedAt: null },
    );
    assert.equal((await t.prisma.customerGroup.findUniqueOrThrow({ where: { id: g.id } })).metadata, null);
  });

  test('by filter; email only for one customer and unique among accounts', async () => {
    await makeCustomer(t.prisma, { email: 'filter1@example.org', companyName: 'Filtered' });
    await makeCustomer(t.prisma, { email: 'filter2@example.org', companyName: 'Filtered' });
    const r = await t.gql(UPDATE, { filter: { q: 'example.org' }, input: { lastName: 'Org' } });
    assert.equal(r.data!.updateCustomers.customers.length, 2);
    const email = await t.gql(UPDATE, { filter: { q: 'example.org' }, input: { email: 'x@example.com' } });
    assert.deepEqual(
      [email.data!.updateCustomers.code, email.data!.updateCustomers.field],
      ['VALIDATION', 'input.email'],
    );
    const acct = await makeCustomer(t.prisma, { email: 'acct1@example.com', hasAccount: true });
    const other = await makeCustomer(t.prisma, { email: 'acct2@example.com', hasAccount: true });
    const clash = await t.gql(UPDATE, { ids: [other.id], input: { email: 'ACCT1@example.com' } });
    assert.equal(clash.data!.updateCustomers.code, 'EMAIL_TAKEN');
    assert.ok(acct);
  });

  test('delete by ids and by filter removes addresses and memberships, keeps orders unlinked', async () => {
    const c = await makeCustomer(t.prisma, { email: 'bye@example.net' });
    const g = await makeGroup(t.prisma);
    await addToGroup(t.prisma, c.id, g.id);
    await makeAddress(t.prisma, c.id);
    const order = await makeOrder(t.prisma, c.id);
    const r = await t.gql(DELETE, { filter: { email: 'bye@example.net' } });
    assert.deepEqual(r.data!.deleteCustomers.deletedIds, [c.id]);
    assert.equal(await t.prisma.address.count({ where: { customerId: c.id } }), 0);
    assert.equal(await t.prisma.customerGroupCustomer.count({ where: { customerId: c.id } }), 0);
    assert.equal((await t.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).customerId, null);
    assert.ok(await t.prisma.customerGroup.findUnique({ where: { id: g.id } }), 'the group stays');
  });

  test('updates and deletes run the same number of statements for 10 and 1000 customers', async () => {
    const make = async (n: number, p: string) =>
      (await t.gql(CREATE, { input: guests(n, p) })).data!.createCustomers.customers.map((c: { id: string }) => c.id);
    const [ten, thousand] = [await make(10, 'u10-'), await make(1000, 'u1000-')];
    const u10 = await t.countStatements(() =>
      t.gql(UPDATE, { ids: ten, input: { lastName: 'L', metadata: { a: 1 } } }),
    );
    const u1000 = await t.countStatements(() =>
      t.gql(UPDATE, { ids: thousand, input: { lastName: 'L', metadata: { a: 1 } } }),
    );
    assert.equal(u1000.statements, u10.statements);
    const s10 = await t.countStatements(() => t.gql(SOFT, { ids: ten }));
    const s1000 = await t.countStatements(() => t.gql(SOFT, { ids: thousand }));
    assert.equal(s1000.statements, s10.statements);
    const r10 = await t.countStatements(() => t.gql(RESTORE, { ids: ten }));
    const r1000 = await t.countStatements(() => t.gql(RESTORE, { ids: thousand }));
    assert.equal(r1000.statements, r10.statements);
    const d10 = await t.countStatements(() => t.gql(DELETE, { ids: ten }));
    const d1000 = await t.countStatements(() => t.gql(DELETE, { ids: thousand }));
    assert.equal(d1000.statements, d10.statements);
    assert.equal(d1000.result.data!.deleteCustomers.deletedIds.length, 1000);
  });
});

describe('soft delete and restore', () => {
  test('round trip: related rows go and come back exactly; rows removed before stay removed', async () => {
    const c = await makeCustomer(t.prisma, { email: 'soft@example.com', hasAccount: true });
    const [g1, g2] = [await makeGroup(t.prisma), await makeGroup(t.prisma)];
    const m1 = await addToGroup(t.prisma, c.id, g1.id);
    const m2 = await addToGroup(t.prisma, c.id, g2.id);
    const a1 = await makeAddress(t.prisma, c.id, { isDefaultShipping: true });
    const gone = await makeAddress(t.prisma, c.id, { deletedAt: new Date('2026-01-01T00:00:00Z') });
    const soft = (await t.gql(SOFT, { ids: [c.id] })).data!.softDeleteCustomers;
    assert.deepEqual(soft, {
      __typename: 'SoftDeletedCustomersPayload',
      ids: [c.id],
      addressIds: [a1.id],
      membershipIds: [m1.id, m2.id].sort(),
    });
    const hidden = await t.gql(
      `query($id: ID!, $g: ID!) { customer(id: $id) { id } customers(filter: { email: "soft@example.com" }) { totalCount } customerGroup(id: $g) { customers { totalCount } } }`,
      { id: c.id, g: g1.id },
    );
    assert.deepEqual(hidden.data, {
      customer: null,
      customers: { totalCount: 0 },
      customerGroup: { customers: { totalCount: 0 } },
    });
    const restored = (await t.gql(RESTORE, { ids: [c.id] })).data!.restoreCustomers;
    assert.deepEqual(restored, soft);
    assert.equal(
      (await t.prisma.address.findUniqueOrThrow({ where: { id: gone.id } })).deletedAt?.toISOString(),
      '2026-01-01T00:00:00.000Z',
    );
    const back = await t.gql(
      `query($id: ID!) { customer(id: $id) { groups { totalCount } addresses { totalCount } defaultShippingAddress { id } } }`,
      { id: c.id },
    );
    assert.deepEqual(back.data!.customer, {
      groups: { totalCount: 2 },
      addresses: { totalCount: 1 },
      defaultShippingAddress: { id: a1.id },
    });
  });

  test('soft-deleting an unknown or already deleted customer is NOT_FOUND and changes nothing', async () => {
    const c = await makeCustomer(t.prisma);
    const r = await t.gql(SOFT, { ids: [c.id, 'cus_01BBBBBBBBBBBBBBBBBBBBBBBB'] });
    assert.equal(r.data!.softDeleteCustomers.code, 'NOT_FOUND');
    assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id } })).deletedAt, null);
  });

  test('restoring an account whose email was registered meanwhile is RESTORE_CONFLICT naming it', async () => {
    const old = await makeCustomer(t.prisma, { email: 'comeback@example.com', hasAccount: true });
    const fine = await makeCustomer(t.prisma, { email: 'fine@example.com', hasAccount: true });
    await t.gql(SOFT, { ids: [old.id, fine.id] });
    await makeCustomer(t.prisma, { email: 'comeback@example.com', hasAccount: true });
    const r = await t.gql(
      `mutation($ids: [ID!]!) { restoreCustomers(ids: $ids) { __typename ... on Error { code field message } ... on RestoreConflictError { customerIds } } }`,
      { ids: [fine.id, old.id] },
    );
    assert.deepEqual(r.data!.restoreCustomers, {
      __typename: 'RestoreConflictError',
      code: 'RESTORE_CONFLICT',
      field: 'ids',
      message: `Cannot restore ${old.id}: another account has this email now. Change or delete one of them first.`,
      customerIds: [old.id],
    });
    assert.ok((await t.prisma.customer.findUniqueOrThrow({ where: { id: fine.id } })).deletedAt, 'nothing restored');
    assert.ok((await t.prisma.customer.findUniqueOrThrow({ where: { id: old.id } })).deletedAt);
  });
});

describe('addresses', () => {
  test('addAddresses for several customers; a new default unsets the previous one', async () => {
    const [a, b] = [await makeCustomer(t.prisma), await makeCustomer(t.prisma)];
    const old = await makeAddress(t.prisma, a.id, { isDefaultShipping: true });
    const r = await t.gql(ADD_ADDRESSES, {
      input: [
        { customerId: a.id, address: { city: 'Aalborg', countryCode: 'dk', isDefaultShipping: true } },
        { customerId: b.id, address: { city: 'Bergen', countryCode: 'no' } },
      ],
    });
    assert.equal(r.data!.addAddresses.addresses.length, 2);
    assert.equal((await t.prisma.address.findUniqueOrThrow({ where: { id: old.id } })).isDefaultShipping, false);
    assert.equal(await t.prisma.address.count({ where: { customerId: a.id, isDefaultShipping: true } }), 1);
  });

  test('two defaults for one customer in one batch, an unknown customer, a bad country: nothing written, item named', async () => {
    const a = await makeCustomer(t.prisma);
    const before = await t.prisma.address.count();
    const twoDefaults = await t.gql(ADD_ADDRESSES, {
      input: [
        { customerId: a.id, address: { isDefaultBilling: true } },
        { customerId: a.id, address: { isDefaultBilling: true } },
      ],
    });
    assert.deepEqual(
      [twoDefaults.data!.addAddresses.code, twoDefaults.data!.addAddresses.field],
      ['VALIDATION', 'input[1].isDefaultBilling'],
    );
    const unknown = await t.gql(ADD_ADDRESSES, {
      input: [
        { customerId: a.id, address: {} },
        { customerId: 'cus_01CCCCCCCCCCCCCCCCCCCCCCCC', address: {} },
      ],
    });
    assert.equal(unknown.data!.addAddresses.code, 'NOT_FOUND');
    const country = await t.gql(ADD_ADDRESSES, {
      input: [
        { customerId: a.id, address: {} },
        { customerId: a.id, address: { countryCode: 'xyz' } },
      ],
    });
    assert.deepEqual(
      [country.data!.addAddresses.code, country.data!.addAddresses.field],
      ['VALIDATION', 'input[1].countryCode'],
    );
    assert.equal(await t.prisma.address.count(), before);
  });

  test('update and delete by filter; statement counts do not grow with the batch', async () => {
    const customers = (await t.gql(CREATE, { input: guests(300, 'addr') })).data!.createCustomers.customers.map(
      (c: { id: string }) => c.id,
    );
    const small = await t.countStatements(() =>
      t.gql(ADD_ADDRESSES, {
        input: customers
          .slice(0, 10)
          .map((customerId: string) => ({ customerId, address: { city: 'Tiny', isDefaultBilling: true } })),
      }),
    );
    const large = await t.countStatements(() =>
      t.gql(ADD_ADDRESSES, {
        input: customers.flatMap((customerId: string) =>
          [1, 2, 3, 4].map((n) => ({ customerId, address: { city: 'Bulk', isDefaultShipping: n === 1 } })),
        ),
      }),
    );
    assert.equal(large.result.data!.addAddresses.addresses.length, 1200);
    assert.equal(large.statements, small.statements);
    const upd = await t.gql(
      `mutation { updateAddresses(filter: { city: "Bulk" }, input: { postalCode: "9000", metadata: { bulk: true } }) { ... on AddressesPayload { addresses { postalCode metadata } } ... on Error { code } } }`,
    );
    assert.equal(upd.data!.updateAddresses.addresses.length, 1200);
    assert.deepEqual(upd.data!.updateAddresses.addresses[0], { postalCode: '9000', metadata: { bulk: true } });
    const del = await t.gql(
      `mutation { deleteAddresses(filter: { city: "Tiny" }) { ... on DeletedIdsPayload { deletedIds } } }`,
    );
    assert.equal(del.data!.deleteAddresses.deletedIds.length, 10);
  });
});

test('anonymous callers get a typed UnauthenticatedError, customers a ForbiddenError, and nothing changes', async () => {
  const s = await t.gql(
    `mutation { register(input: { email: "notadmin@example.com", password: "password-1" }) { ... on Session { accessToken } } }`,
    {},
    ANONYMOUS,
  );
  const victim = await makeCustomer(t.prisma, { firstName: 'Untouched' });
  for (const headers of [ANONYMOUS, bearer(s.data!.register.accessToken)]) {
    const r = await t.gql(
      `mutation($ids: [ID!]!) {
      createCustomers(input: [{ email: "x@example.com" }]) { __typename }
      updateCustomers(ids: $ids, input: { firstName: "Changed" }) { __typename }
      softDeleteCustomers(ids: $ids) { __typename }
      deleteCustomers(ids: $ids) { __typename ... on Error { code } }
    }`,
      { ids: [victim.id] },
      headers,
    );
    const [refusal, code] =
      headers === ANONYMOUS ? ['UnauthenticatedError', 'UNAUTHENTICATED'] : ['ForbiddenError', 'FORBIDDEN'];
    assert.deepEqual(r.data, {
      createCustomers: { __typename: refusal },
      updateCustomers: { __typename: refusal },
      softDeleteCustomers: { __typename: refusal },
      deleteCustomers: { __typename: refusal, code },
    });
  }
  const row = await t.prisma.customer.findUniqueOrThrow({ where: { id: victim.id } });
  assert.deepEqual([row.firstName, row.deletedAt], ['Untouched', null]);
});
