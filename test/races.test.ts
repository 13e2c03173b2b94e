import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcrypt';
import {
  ANONYMOUS,
  bearer,
  createTestApp,
  DATABASE_KIND,
  holdLock,
  makeAddress,
  makeCustomer,
  makeGroup,
} from './helpers.js';

// Many requests at once against one limit or one row: what arrives together must not slip past a
// check made before the write.

const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on Error { code }
} }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Error { code } } }`;
const GENERATE = `mutation($email: String!) { generatePasswordToken(email: $email) { ... on OkPayload { ok } } }`;

const tally = (types: string[]) => {
  const n: Record<string, number> = {};
  for (const type of types) n[type] = (n[type] ?? 0) + 1;
  return n;
};

// One app for the throttles, metadata and batch tests (each app costs seconds of migrations); each
// throttle test speaks from a client address of its own (TRUST_PROXY), so their counts do not mix.
const t = await createTestApp({
  settings: {
    loginFailuresPerEmail: 5,
    loginFailuresPerClient: 30,
    registrationsPerClientPerHour: 30,
    trustProxy: true,
  },
});
const from = (client: string) => ({ ...ANONYMOUS, 'x-forwarded-for': client });

describe('throttles under parallel requests', () => {
  test('12 parallel wrong-password logins for one email with a limit of 5: exactly 5 password checks, 7 RATE_LIMITED', async (tc) => {
    await t.gql(REGISTER, { input: { email: 'burst@example.com', password: 'right-password' } }, from('10.0.0.1'));
    let checks = 0;
    const compare = bcrypt.compare;
    bcrypt.compare = ((...args: Parameters<typeof compare>) => {
      checks++;
      return compare(...args);
    }) as typeof compare;
    tc.after(() => {
      bcrypt.compare = compare;
    });
    // Twelve clients, so that only the per-email limit applies.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.gql(LOGIN, { email: 'burst@example.com', password: 'wrong-password' }, from(`10.0.1.${i}`)),
      ),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.login.__typename)), {
      InvalidCredentialsError: 5,
      RateLimitedError: 7,
    });
    assert.equal(checks, 5, 'bcrypt ran once per counted attempt');
  });

  test('40 parallel wrong logins from one client over many emails with a client limit of 30: exactly 30 checked', async (tc) => {
    let checks = 0;
    const compare = bcrypt.compare;
    bcrypt.compare = ((...args: Parameters<typeof compare>) => {
      checks++;
      return compare(...args);
    }) as typeof compare;
    tc.after(() => {
      bcrypt.compare = compare;
    });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.gql(LOGIN, { email: `spray${i}@example.com`, password: 'wrong-password' }, from('10.0.0.2')),
      ),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.login.__typename)), {
      InvalidCredentialsError: 30,
      RateLimitedError: 10,
    });
    // Unknown emails are compared against the dummy hash: a check each, and none for the refused ten.
    assert.equal(checks, 30, 'bcrypt ran once per counted attempt');
  });

  test('a successful login gives its count back: the email starts over, the client is not charged', async () => {
    await t.gql(REGISTER, { input: { email: 'often@example.com', password: 'right-password' } }, from('10.0.0.3'));
    const login = async (password: string) => {
      const r = await t.gql(LOGIN, { email: 'often@example.com', password }, from('10.0.0.3'));
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data!.login.__typename as string;
    };
    // More successes than the client's limit of 30: none is charged.
    for (let i = 0; i < 31; i++)
      assert.equal(await login('right-password'), 'Session', `success ${i} is never throttled`);
    for (let i = 0; i < 4; i++) assert.equal(await login('wrong-password'), 'InvalidCredentialsError');
    assert.equal(await login('right-password'), 'Session');
    // The email's count started over: five more failures are checked, the sixth attempt is refused.
    for (let i = 0; i < 5; i++)
      assert.equal(await login('wrong-password'), 'InvalidCredentialsError', `failure ${i} after the success`);
    assert.equal(await login('right-password'), 'RateLimitedError');
  });

  test('40 parallel registrations from one client with a limit of 30: exactly 30 accounts', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.gql(REGISTER, { input: { email: `reg${i}@example.com`, password: 'password-1' } }, from('10.0.0.4')),
      ),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.register.__typename)), { Session: 30, RateLimitedError: 10 });
    assert.equal(await t.prisma.customer.count({ where: { email: { startsWith: 'reg' } } }), 30);
  });

  test('20 parallel reset requests for one account: one token, one event', async () => {
    const r = await t.gql(
      `mutation($input: RegisterInput!) { register(input: $input) { ... on Session { customer { id } } } }`,
      { input: { email: 'forgot@example.com', password: 'password-1' } },
      from('10.0.0.5'),
    );
    const id = r.data!.register.customer.id as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => t.gql(GENERATE, { email: 'forgot@example.com' }, from('10.0.0.5'))),
    );
    assert.ok(results.every((x) => x.data!.generatePasswordToken.ok === true));
    assert.equal(
      await t.prisma.outboxEvent.count({
        where: { name: 'customer.password_reset', payload: { path: ['id'], equals: id } },
      }),
      1,
    );
    assert.equal(await t.prisma.passwordResetToken.count({ where: { customerId: id } }), 1);
  });
});

describe('metadata: merged in the database, the merged result within the limit', () => {
  const UPDATE_ME = `mutation($input: UpdateMeInput!) { updateMe(input: $input) { __typename ... on Error { code field } } }`;
  const UPDATE_MY_ADDRESS = `mutation($id: ID!, $input: AddressInput!) { updateMyAddress(id: $id, input: $input) { __typename ... on Error { code field } } }`;
  const UPDATE_CUSTOMERS = `mutation($ids: [ID!], $input: UpdateCustomerInput!) { updateCustomers(ids: $ids, input: $input) { __typename ... on Error { code field } } }`;
  const UPDATE_ADDRESSES = `mutation($ids: [ID!], $input: AddressInput!) { updateAddresses(ids: $ids, input: $input) { __typename ... on Error { code field } } }`;
  const UPDATE_GROUPS = `mutation($ids: [ID!], $input: UpdateCustomerGroupInput!) { updateCustomerGroups(ids: $ids, input: $input) { __typename ... on Error { code field } } }`;
  let n = 0;

  async function signedIn() {
    const input = { email: `meta${++n}@example.com`, password: 'password-1' };
    const r = await t.gql(
      `mutation($input: RegisterInput!) { register(input: $input) { ... on Session { accessToken customer { id } } } }`,
      { input },
      ANONYMOUS,
    );
    return { id: r.data!.register.customer.id as string, as: bearer(r.data!.register.accessToken) };
  }

  type Answer = { __typename: string; code?: string; field?: string };
  interface Writer {
    name: string;
    patch: (metadata: object) => Promise<Answer>;
    stored: () => Promise<unknown>;
    field: string;
  }

  /** Every writer of metadata through the API, each on a row of its own. */
  async function writers(): Promise<Writer[]> {
    const me = await signedIn();
    const address = await makeAddress(t.prisma, me.id);
    const customer = await makeCustomer(t.prisma);
    const adminAddress = await makeAddress(t.prisma, customer.id);
    const group = await makeGroup(t.prisma);
    const answer = (r: { data?: Record<string, unknown> | null }) => Object.values(r.data!)[0] as Answer;
    const customerMetadata = (id: string) => async () =>
      (await t.prisma.customer.findUniqueOrThrow({ where: { id } })).metadata;
    const addressMetadata = (id: string) => async () =>
      (await t.prisma.address.findUniqueOrThrow({ where: { id } })).metadata;
    return [
      {
        name: 'updateMe',
        patch: (m) => t.gql(UPDATE_ME, { input: { metadata: m } }, me.as).then(answer),
        stored: customerMetadata(me.id),
        field: 'metadata',
      },
      {
        name: 'updateMyAddress',
        patch: (m) => t.gql(UPDATE_MY_ADDRESS, { id: address.id, input: { metadata: m } }, me.as).then(answer),
        stored: addressMetadata(address.id),
        field: 'metadata',
      },
      {
        name: 'updateCustomers',
        patch: (m) => t.gql(UPDATE_CUSTOMERS, { ids: [customer.id], input: { metadata: m } }).then(answer),
        stored: customerMetadata(customer.id),
        field: 'input.metadata',
      },
      {
        name: 'updateAddresses',
        patch: (m) => t.gql(UPDATE_ADDRESSES, { ids: [adminAddress.id], input: { metadata: m } }).then(answer),
        stored: addressMetadata(adminAddress.id),
        field: 'input.metadata',
      },
      {
        name: 'updateCustomerGroups',
        patch: (m) => t.gql(UPDATE_GROUPS, { ids: [group.id], input: { metadata: m } }).then(answer),
        stored: async () => (await t.prisma.customerGroup.findUniqueOrThrow({ where: { id: group.id } })).metadata,
        field: 'input.metadata',
      },
    ];
  }

  test('10 rounds of two concurrent patches {aN} and {bN} keep all 20 keys, for every writer', async () => {
    for (const { name, patch, stored } of await writers()) {
      for (let i = 0; i < 10; i++) {
        const answers = await Promise.all([patch({ [`a${i}`]: i }), patch({ [`b${i}`]: i })]);
        assert.ok(
          answers.every((a) => a.__typename.endsWith('Payload')),
          `${name}: ${JSON.stringify(answers)}`,
        );
      }
      const keys = Object.keys((await stored()) as object).sort();
      assert.deepEqual(
        keys,
        Array.from({ length: 10 }, (_, i) => [`a${i}`, `b${i}`])
          .flat()
          .sort(),
        `${name} lost keys`,
      );
    }
  });

  test('two 12 KB patches: the second is VALIDATION naming the field and writes nothing, for every writer', async () => {
    const big = (key: string) => ({ [key]: 'x'.repeat(12 * 1024) });
    for (const { name, patch, stored, field } of await writers()) {
      assert.match((await patch(big('first'))).__typename, /Payload$/, name);
      const before = await stored();
      assert.deepEqual(await patch(big('second')), { __typename: 'ValidationError', code: 'VALIDATION', field }, name);
      assert.deepEqual(await stored(), before, `${name}: nothing written`);
      // Removing a key and adding one in the same patch is measured after the removal.
      assert.match((await patch({ first: null, ...big('second') })).__typename, /Payload$/, name);
      assert.deepEqual(Object.keys((await stored()) as object), ['second'], name);
    }
  });

  test('two concurrent 12 KB patches of one row: exactly one is stored', async () => {
    for (const { name, patch, stored } of await writers()) {
      const answers = await Promise.all([patch({ a: 'x'.repeat(12 * 1024) }), patch({ b: 'y'.repeat(12 * 1024) })]);
      assert.deepEqual(
        answers.map((a) => a.__typename.endsWith('Payload')).sort(),
        [false, true],
        `${name}: ${JSON.stringify(answers)}`,
      );
      assert.equal(Object.keys((await stored()) as object).length, 1, name);
    }
  });
});

// A row soft-deleted while a batch is choosing it: the soft delete's transaction is held open from
// another connection, so the batch always meets the row live in its snapshot and then locked, and
// must wait, find the row soft-deleted once the delete commits, and write nothing. PGlite has one
// connection: the soft delete and the batch cannot overlap there, so the race cannot be made.
const concurrent = {
  skip: DATABASE_KIND !== 'postgres' && 'needs a second connection to hold the soft delete open; PGlite has one',
};
describe('batch operations choose and lock their rows inside the transaction', () => {
  const UPDATE_CUSTOMERS = `mutation($ids: [ID!]) { updateCustomers(ids: $ids, input: { firstName: "Changed" }) { __typename ... on Error { code } ... on NotFoundError { ids } } }`;
  const DELETE_CUSTOMERS = `mutation($ids: [ID!]) { deleteCustomers(ids: $ids) { __typename ... on Error { code } ... on NotFoundError { ids } } }`;
  const UPDATE_ADDRESSES = `mutation($ids: [ID!]) { updateAddresses(ids: $ids, input: { city: "Changed" }) { __typename ... on Error { code } ... on NotFoundError { ids } } }`;
  const DELETE_ADDRESSES = `mutation($ids: [ID!]) { deleteAddresses(ids: $ids) { __typename ... on Error { code } ... on NotFoundError { ids } } }`;
  const UPDATE_GROUPS = `mutation($ids: [ID!]) { updateCustomerGroups(ids: $ids, input: { metadata: { a: 1 } }) { __typename ... on Error { code } ... on NotFoundError { ids } } }`;

  /** Until a session of this database waits for a lock: the batch, behind the open soft delete. */
  async function untilWaiting() {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [waiting] = await t.prisma.$queryRaw<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      if (waiting!.n > 0) return;
      if (Date.now() > deadline) throw new Error('the batch never waited for the soft delete');
      await sleep(10);
    }
  }

  /**
   * Soft-deletes row `id` of `table` in a transaction held open, sends `mutation` for that row, and
   * commits the soft delete only once the mutation waits for it. Returns the answer and the
   * statements the mutation ran.
   */
  async function softDeletedWhileChosen(
    mutation: string,
    id: string,
    table: 'customer' | 'customer_address' | 'customer_group',
  ) {
    const softDelete = await holdLock(t.prisma, `UPDATE ${table} SET deleted_at = now() WHERE id = '${id}'`);
    const statements: string[] = [];
    const stop = t.db.onStatement((sql) => statements.push(sql));
    try {
      let answered = false;
      const answer = t.gql(mutation, { ids: [id] }).finally(() => (answered = true));
      await untilWaiting();
      assert.equal(answered, false, 'waits for the soft delete');
      await softDelete.release();
      const r = await answer;
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return { answer: Object.values(r.data!)[0] as { __typename: string; ids?: string[] }, statements };
    } finally {
      stop();
    }
  }

  /** Refused as NOT_FOUND naming the row, and no write of `write` ran. */
  function assertRefused(
    id: string,
    answer: { __typename: string; ids?: string[] },
    statements: string[],
    write: RegExp,
  ) {
    assert.deepEqual(answer, { __typename: 'NotFoundError', code: 'NOT_FOUND', ids: [id] });
    assert.deepEqual(
      statements.filter((sql) => write.test(sql)),
      [],
      'nothing written',
    );
  }

  test(
    'updateCustomers waits for a soft delete in flight on its customer, then refuses it NOT_FOUND and writes nothing',
    concurrent,
    async () => {
      const c = await makeCustomer(t.prisma, { firstName: 'Before' });
      const { answer, statements } = await softDeletedWhileChosen(UPDATE_CUSTOMERS, c.id, 'customer');
      assertRefused(c.id, answer, statements, /^UPDATE "public"\."customer" SET "first_name"/);
      assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id } })).firstName, 'Before');
    },
  );

  test(
    'deleteCustomers waits for a soft delete in flight on its customer, then refuses it NOT_FOUND and deletes nothing',
    concurrent,
    async () => {
      const c = await makeCustomer(t.prisma);
      const { answer, statements } = await softDeletedWhileChosen(DELETE_CUSTOMERS, c.id, 'customer');
      assertRefused(c.id, answer, statements, /^DELETE FROM "public"\."customer"/);
      assert.notEqual(
        (await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id } })).deletedAt,
        null,
        'soft-deleted, not deleted',
      );
    },
  );

  test(
    'updateAddresses waits for a soft delete in flight on its address, then refuses it NOT_FOUND and writes nothing',
    concurrent,
    async () => {
      const a = await makeAddress(t.prisma, (await makeCustomer(t.prisma)).id);
      const { answer, statements } = await softDeletedWhileChosen(UPDATE_ADDRESSES, a.id, 'customer_address');
      assertRefused(a.id, answer, statements, /^UPDATE "public"\."customer_address" SET "city"/);
      assert.equal((await t.prisma.address.findUniqueOrThrow({ where: { id: a.id } })).city, a.city);
    },
  );

  test(
    'deleteAddresses waits for a soft delete in flight on its address, then refuses it NOT_FOUND and deletes nothing',
    concurrent,
    async () => {
      const a = await makeAddress(t.prisma, (await makeCustomer(t.prisma)).id);
      const { answer, statements } = await softDeletedWhileChosen(DELETE_ADDRESSES, a.id, 'customer_address');
      assertRefused(a.id, answer, statements, /^DELETE FROM "public"\."customer_address"/);
      assert.notEqual(
        (await t.prisma.address.findUniqueOrThrow({ where: { id: a.id } })).deletedAt,
        null,
        'soft-deleted, not deleted',
      );
    },
  );

  test(
    'updateCustomerGroups waits for a soft delete in flight on its group, then refuses it NOT_FOUND and writes nothing',
    concurrent,
    async () => {
      const g = await makeGroup(t.prisma);
      const { answer, statements } = await softDeletedWhileChosen(UPDATE_GROUPS, g.id, 'customer_group');
      assertRefused(g.id, answer, statements, /UPDATE "customer_group"/);
      assert.equal((await t.prisma.customerGroup.findUniqueOrThrow({ where: { id: g.id } })).metadata, null);
    },
  );

  // Membership writes are one statement whose text names every table it may write, so these look
  // at what was written rather than at which statements ran.
  const membershipsOf = (customerId: string) =>
    t.prisma.customerGroupCustomer.findMany({ where: { customerId }, select: { customerGroupId: true } });
  const membershipEvents = (groupId: string) =>
    t.prisma.outboxEvent.count({ where: { name: 'customer_group.updated', key: `customer_group:${groupId}` } });

  /** Sends `send` while the soft delete of `id` in `table` is open, and commits it once `send` waits. */
  async function whileSoftDeleted<T>(table: 'customer' | 'customer_group', id: string, send: () => Promise<T>) {
    const softDelete = await holdLock(t.prisma, `UPDATE ${table} SET deleted_at = now() WHERE id = '${id}'`);
    let answered = false;
    const answer = send().finally(() => (answered = true));
    await untilWaiting();
    assert.equal(answered, false, 'waits for the soft delete');
    await softDelete.release();
    return answer;
  }

  test(
    'batchCustomerGroups waits for a soft delete in flight on a group it adds to, then refuses it NOT_FOUND and writes nothing',
    concurrent,
    async () => {
      const c = await makeCustomer(t.prisma);
      const [kept, going] = [await makeGroup(t.prisma), await makeGroup(t.prisma)];
      const BATCH = `mutation($add: [ID!]) { batchCustomerGroups(customerId: "${c.id}", add: $add) {
        __typename ... on Error { code field } ... on NotFoundError { ids } } }`;
      const r = await whileSoftDeleted('customer_group', going.id, () => t.gql(BATCH, { add: [kept.id, going.id] }));
      assert.deepEqual(r.data!.batchCustomerGroups, {
        __typename: 'NotFoundError',
        code: 'NOT_FOUND',
        field: 'add[1]',
        ids: [going.id],
      });
      assert.deepEqual(await membershipsOf(c.id), []);
      assert.equal(await membershipEvents(kept.id), 0);
    },
  );

  test(
    'addCustomerToGroup waits for a soft delete in flight on a customer it adds, then refuses it NOT_FOUND and writes nothing',
    concurrent,
    async () => {
      const [staying, going] = [await makeCustomer(t.prisma), await makeCustomer(t.prisma)];
      const g = await makeGroup(t.prisma);
      const ADD_PAIRS = `mutation($m: [CustomerGroupMembershipInput!]!) { addCustomerToGroup(memberships: $m) {
        __typename ... on Error { code field } ... on NotFoundError { ids } } }`;
      const r = await whileSoftDeleted('customer', going.id, () =>
        t.gql(ADD_PAIRS, {
          m: [
            { customerId: staying.id, groupId: g.id },
            { customerId: going.id, groupId: g.id },
          ],
        }),
      );
      assert.deepEqual(r.data!.addCustomerToGroup, {
        __typename: 'NotFoundError',
        code: 'NOT_FOUND',
        field: 'memberships[1].customerId',
        ids: [going.id],
      });
      assert.deepEqual(await membershipsOf(staying.id), []);
      assert.equal(await membershipEvents(g.id), 0);
    },
  );

  test('10 parallel addCustomerToGroup calls over the same pairs: each answers every pair’s one membership', async () => {
    const customers = await Promise.all(Array.from({ length: 6 }, () => makeCustomer(t.prisma)));
    const groups = [await makeGroup(t.prisma), await makeGroup(t.prisma)];
    const pairs = customers.flatMap((c) => groups.map((g) => ({ customerId: c.id, groupId: g.id })));
    const ADD_PAIRS = `mutation($m: [CustomerGroupMembershipInput!]!) { addCustomerToGroup(memberships: $m) {
      __typename ... on CustomerGroupMembershipsPayload { memberships { id customer { id } group { id } } } } }`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.gql(ADD_PAIRS, { m: i % 2 ? pairs : [...pairs].reverse() })),
    );
    const rows = await t.prisma.customerGroupCustomer.findMany({
      where: { customerGroupId: { in: groups.map((g) => g.id) } },
    });
    assert.equal(rows.length, pairs.length, 'one row per pair');
    const idOf = new Map(rows.map((m) => [`${m.customerId} ${m.customerGroupId}`, m.id]));
    for (const [i, r] of answers.entries()) {
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      const given = i % 2 ? pairs : [...pairs].reverse();
      assert.deepEqual(
        r.data!.addCustomerToGroup.memberships.map(
          (m: { id: string; customer: { id: string }; group: { id: string } }) => [m.customer.id, m.group.id, m.id],
        ),
        given.map((p) => [p.customerId, p.groupId, idOf.get(`${p.customerId} ${p.groupId}`)]),
      );
    }
    for (const g of groups) {
      const events = await t.prisma.outboxEvent.findMany({
        where: { name: 'customer_group.updated', key: `customer_group:${g.id}` },
      });
      const added = events.flatMap((e) => (e.payload as { added: string[] }).added);
      assert.deepEqual(added.sort(), customers.map((c) => c.id).sort(), 'each membership announced once');
    }
  });
});

describe('a mutation stopped by REQUEST_TIMEOUT_MS', async () => {
  // bcrypt at its real cost: hashing two passwords takes longer than the 300 ms allowed.
  const slow = await createTestApp({ settings: { requestTimeoutMs: 300, bcryptCost: 12 } });

  test('is rolled back, and the TIMEOUT answer comes only once it has been', async () => {
    const t = slow;
    const c = await makeCustomer(t.prisma, { firstName: 'Before' });
    // Hold the customer's row, so the mutation's transaction starts in time but cannot finish in time.
    const lock = await holdLock(t.prisma, `SELECT id FROM customer WHERE id = '${c.id}' FOR UPDATE`);
    let answered = false;
    const answer = t
      .gql(`mutation($ids: [ID!]) { updateCustomers(ids: $ids, input: { firstName: "After" }) { __typename } }`, {
        ids: [c.id],
      })
      .finally(() => (answered = true));
    await sleep(1_000);
    const answeredWhileHeld = answered;
    await lock.release();
    const r = await answer;
    assert.equal(r.status, 504);
    assert.deepEqual(
      r.errors!.map((e) => e.extensions?.code),
      ['TIMEOUT'],
    );
    assert.match(r.errors![0]!.message, /nothing it was writing was applied/);
    assert.equal(answeredWhileHeld, false, 'not answered while its transaction could still commit');
    await sleep(300);
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id } })).firstName,
      'Before',
      'rolled back',
    );
    assert.equal(await t.prisma.outboxEvent.count({ where: { name: 'customer.updated' } }), 0, 'and no event');
  });

  test('a single-statement write already sent is answered, not cut: never TIMEOUT and committed', async () => {
    const t = slow;
    const g = await makeGroup(t.prisma);
    const members = await Promise.all([makeCustomer(t.prisma), makeCustomer(t.prisma)]);
    // Hold the group's row, so addCustomersToGroup's one statement waits past the 300 ms.
    const lock = await holdLock(t.prisma, `SELECT id FROM customer_group WHERE id = '${g.id}' FOR UPDATE`);
    const answer = t.gql(
      `mutation($g: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $ids) { __typename } }`,
      {
        g: g.id,
        ids: members.map((c) => c.id),
      },
    );
    await sleep(1_000);
    await lock.release();
    const r = await answer;
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data!.addCustomersToGroup.__typename, 'CustomerGroupPayload');
    assert.equal(await t.prisma.customerGroupCustomer.count({ where: { customerGroupId: g.id, deletedAt: null } }), 2);
  });

  test('one whose write starts only after the deadline never writes', async () => {
    const t = slow;
    const input = Array.from({ length: 4 }, (_, i) => ({ email: `late${i}@example.com`, password: 'password-1' }));
    const r = await t.gql(
      `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`,
      { input },
    );
    assert.deepEqual(
      r.errors!.map((e) => e.extensions?.code),
      ['TIMEOUT'],
    );
    await sleep(3_000);
    assert.equal(await t.prisma.customer.count({ where: { email: { startsWith: 'late' } } }), 0);
  });
});
