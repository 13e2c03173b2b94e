import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../src/lib/ids.js';
import { sha256 } from '../src/lib/tokens.js';
import {
  ADMIN,
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

let clock = Date.parse('2026-07-01T12:00:00Z');
const t: TestApp = await createTestApp({
  now: () => new Date(clock),
  settings: { registrationsPerClientPerHour: 10_000, loginFailuresPerClient: 10_000 },
});

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Session { accessToken customer { id } } ... on Error { code } } }`;
const VERIFY = `mutation($token: String!) { verifyEmail(token: $token) {
  __typename ... on CustomerPayload { customer { id email emailVerifiedAt } } ... on Error { code field message }
} }`;
const REQUEST = `mutation { requestEmailVerification { __typename ... on OkPayload { ok } } }`;

async function register(email: string, password = 'password-1') {
  const r = await t.gql(REGISTER, { input: { email, password } }, ANONYMOUS);
  assert.equal(r.data!.register.__typename, 'Session', JSON.stringify(r));
  return r.data!.register as { accessToken: string; customer: { id: string } };
}

/** The token the notification sender would mail: the newest verification event's. */
async function tokenFor(customerId: string): Promise<string> {
  const rows = await t.prisma.outboxEvent.findMany({
    where: { name: 'customer.email_verification_requested', payload: { path: ['customerId'], equals: customerId } },
    orderBy: { id: 'asc' },
  });
  assert.ok(rows.length > 0, 'a verification event was recorded');
  return (rows.at(-1)!.payload as { token: string }).token;
}

const verify = (token: string, headers = ANONYMOUS) =>
  t.gql(VERIFY, { token }, headers).then((r) => r.data!.verifyEmail);

/** A guest with two orders, an address, a group and metadata: what a checkout leaves behind. */
async function guestWithHistory(email: string) {
  const guest = await makeCustomer(t.prisma, { email, metadata: { source: 'checkout', tier: 'guest' } });
  const orders = [await makeOrder(t.prisma, guest.id, { email }), await makeOrder(t.prisma, guest.id, { email })];
  const address = await makeAddress(t.prisma, guest.id, { isDefaultShipping: true });
  const group = await makeGroup(t.prisma);
  await addToGroup(t.prisma, guest.id, group.id);
  return { guest, orders, address, group };
}

/** Everything the account can reach of the guest's rows, through every path a customer has. */
async function reachable(accessToken: string, g: Awaited<ReturnType<typeof guestWithHistory>>) {
  const as = bearer(accessToken);
  const me = await t.gql(
    `{ me { id orders { totalCount edges { node { id } } } addresses { totalCount edges { node { id } } }
            groups { totalCount edges { node { id } } } defaultShippingAddress { id } metadata } }`,
    {},
    as,
  );
  const ids = [g.guest.id, g.address.id, g.group.id, ...g.orders.map((o) => o.id)];
  const nodes = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids }, as);
  const entities = await t.gql(
    `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id } ... on Order { id } ... on Address { id } } }`,
    {
      r: [
        { __typename: 'Customer', id: g.guest.id },
        { __typename: 'Order', id: g.orders[0]!.id },
        { __typename: 'Address', id: g.address.id },
        { __typename: 'Customer', email: g.guest.email },
      ],
    },
    as,
  );
  const orderIds = me.data!.me.orders.edges.map((e: { node: { id: string } }) => e.node.id);
  const found = new Set<string>([
    ...orderIds,
    ...me.data!.me.addresses.edges.map((e: { node: { id: string } }) => e.node.id),
    ...me.data!.me.groups.edges.map((e: { node: { id: string } }) => e.node.id),
    ...(me.data!.me.defaultShippingAddress ? [me.data!.me.defaultShippingAddress.id] : []),
    ...((nodes.data?.nodes ?? []) as ({ id: string } | null)[]).flatMap((n) => (n ? [n.id] : [])),
    ...((entities.data?._entities ?? []) as ({ id: string } | null)[]).flatMap((n) =>
      n && n.id !== me.data!.me.id ? [n.id] : [],
    ),
  ]);
  return { found: ids.filter((id) => found.has(id)), me: me.data!.me };
}

describe('registration never exposes guest data', () => {
  test('before verification nothing the guest left is reachable through any path; after it, all of it', async () => {
    const g = await guestWithHistory('shared@example.com');
    const account = await register('Shared@Example.com');
    assert.notEqual(account.customer.id, g.guest.id);

    const before = await reachable(account.accessToken, g);
    assert.deepEqual(before.found, [], 'nothing of the guest before verification');
    assert.equal(before.me.orders.totalCount, 0);
    assert.equal(before.me.addresses.totalCount, 0);
    assert.equal(before.me.groups.totalCount, 0);
    assert.equal(before.me.metadata, null);

    const r = await verify(await tokenFor(account.customer.id));
    assert.equal(r.__typename, 'CustomerPayload', JSON.stringify(r));
    assert.equal(r.customer.id, account.customer.id);
    assert.equal(r.customer.emailVerifiedAt, new Date(clock).toISOString());

    const after = await reachable(account.accessToken, g);
    assert.equal(after.me.orders.totalCount, 2);
    assert.equal(after.me.addresses.totalCount, 1);
    assert.equal(after.me.groups.totalCount, 1);
    assert.equal(
      after.me.defaultShippingAddress?.id,
      g.address.id,
      'the guest default becomes the account default: it had none',
    );
    assert.deepEqual(after.me.metadata, { source: 'checkout', tier: 'guest' });
    assert.deepEqual(new Set(after.found), new Set([g.address.id, g.group.id, ...g.orders.map((o) => o.id)]));

    const guest = await t.prisma.customer.findUniqueOrThrow({ where: { id: g.guest.id } });
    assert.ok(guest.deletedAt, 'the guest is soft-deleted');
    assert.equal(guest.mergedIntoId, account.customer.id);
    const merged = await t.prisma.outboxEvent.findMany({
      where: { name: 'customer.merged', payload: { path: ['id'], equals: g.guest.id } },
    });
    assert.equal(merged.length, 1);
    assert.deepEqual(
      (merged[0]!.payload as { order_ids: string[] }).order_ids.sort(),
      g.orders.map((o) => o.id).sort(),
    );
  });

  test('every live guest with the email is claimed, metadata by the stated rule, addresses within the cap', async () => {
    const email = 'many@example.com';
    const account = await register(email);
    await t.prisma.customer.update({ where: { id: account.customer.id }, data: { metadata: { tier: 'account' } } });
    // 98 addresses of its own, so 2 of the guests' 4 fit.
    await t.prisma.address.createMany({
      data: Array.from({ length: 98 }, () => ({ id: newId('Address'), customerId: account.customer.id, city: 'Own' })),
    });
    const guests = [];
    for (let i = 0; i < 3; i++) {
      const guest = await makeCustomer(t.prisma, {
        email,
        metadata: { [`g${i}`]: i, tier: `guest${i}` },
        createdAt: new Date(clock - (3 - i) * 1000),
      });
      await makeOrder(t.prisma, guest.id, { email });
      guests.push(guest);
    }
    const addresses = [];
    for (const [i, guest] of [guests[0]!, guests[1]!, guests[2]!, guests[2]!].entries()) {
      addresses.push(await makeAddress(t.prisma, guest.id, { createdAt: new Date(clock - 10_000 + i * 1000) }));
    }
    const deleted = await makeCustomer(t.prisma, { email, deletedAt: new Date() });
    await makeOrder(t.prisma, deleted.id, { email });

    assert.equal((await verify(await tokenFor(account.customer.id))).__typename, 'CustomerPayload');
    const me = await t.gql(
      `{ me { metadata orders { totalCount } addresses(first: 100) { totalCount } } }`,
      {},
      bearer(account.accessToken),
    );
    assert.equal(me.data!.me.orders.totalCount, 3, 'all three guests, not the soft-deleted one');
    assert.equal(me.data!.me.addresses.totalCount, 100, 'filled up to the cap');
    assert.deepEqual(
      me.data!.me.metadata,
      { g0: 0, g1: 1, g2: 2, tier: 'account' },
      "the account's keys win, then the newest guest's",
    );
    const moved = await t.prisma.address.findMany({
      where: { id: { in: addresses.map((a) => a.id) } },
      orderBy: { createdAt: 'asc' },
    });
    assert.deepEqual(
      moved.map((a) => a.customerId === account.customer.id),
      [false, false, true, true],
      'the newest addresses move',
    );
    assert.ok(
      moved.slice(0, 2).every((a) => a.deletedAt),
      'the rest are soft-deleted with their guest',
    );
    assert.equal(await t.prisma.customer.count({ where: { email, deletedAt: null } }), 1);
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: deleted.id } })).mergedIntoId,
      null,
      'a soft-deleted guest is not claimed',
    );
  });

  test('a guest checkout racing the claim loses no order', async () => {
    const email = 'race@example.com';
    const guest = await makeCustomer(t.prisma, { email });
    const account = await register(email);
    const token = await tokenFor(account.customer.id);
    const [, ...orders] = await Promise.all([
      verify(token),
      ...Array.from({ length: 20 }, () => makeOrder(t.prisma, guest.id, { email })),
    ]);
    const owners = await t.prisma.order.findMany({
      where: { id: { in: orders.map((o) => (o as { id: string }).id) } },
      select: { customerId: true },
    });
    assert.equal(owners.length, 20);
    assert.ok(
      owners.every((o) => o.customerId === account.customer.id),
      'every order ends on the account',
    );
  });

  test('a claim and an admin merge racing for the same guest: it ends in exactly one of them, with all its orders', async () => {
    for (let round = 0; round < 5; round++) {
      const email = `contest${round}@example.com`;
      const guest = await makeCustomer(t.prisma, { email });
      await makeOrder(t.prisma, guest.id, { email });
      await makeOrder(t.prisma, guest.id, { email });
      const other = await makeCustomer(t.prisma);
      const account = await register(email);
      const token = await tokenFor(account.customer.id);
      const [claimed, merged] = await Promise.all([
        verify(token),
        t.gql(`mutation($t: ID!, $s: [ID!]!) { mergeCustomers(targetId: $t, sourceIds: $s) { __typename } }`, {
          t: other.id,
          s: [guest.id],
        }),
      ]);
      assert.equal(claimed.__typename, 'CustomerPayload');
      const winner = (await t.prisma.customer.findUniqueOrThrow({ where: { id: guest.id } })).mergedIntoId;
      assert.ok(winner === account.customer.id || winner === other.id, `round ${round}: merged into ${winner}`);
      assert.equal(
        merged.data!.mergeCustomers.__typename,
        winner === other.id ? 'MergeCustomersPayload' : 'NotFoundError',
      );
      assert.equal(await t.prisma.order.count({ where: { customerId: winner! } }), 2);
      assert.equal(await t.prisma.customer.count({ where: { mergedIntoId: { not: null }, id: guest.id } }), 1);
    }
  });

  test('re-registering the email of a deleted account sees nothing of the old account', async () => {
    const old = await register('again@example.com');
    await makeOrder(t.prisma, old.customer.id, { email: 'again@example.com' });
    await t.gql(
      `mutation($ids: [ID!]!) { softDeleteCustomers(ids: $ids) { __typename } }`,
      { ids: [old.customer.id] },
      ADMIN,
    );
    const fresh = await register('again@example.com');
    assert.notEqual(fresh.customer.id, old.customer.id);
    assert.equal((await verify(await tokenFor(fresh.customer.id))).__typename, 'CustomerPayload');
    const me = await t.gql(`{ me { orders { totalCount } } }`, {}, bearer(fresh.accessToken));
    assert.equal(me.data!.me.orders.totalCount, 0);
  });
});

describe('verification tokens', () => {
  test('only the digest is stored; a token is single-use, and two concurrent uses: exactly one succeeds', async () => {
    const account = await register('twice@example.com');
    const token = await tokenFor(account.customer.id);
    assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 bits');
    const row = await t.prisma.emailVerificationToken.findUniqueOrThrow({ where: { customerId: account.customer.id } });
    assert.equal(row.tokenHash, sha256(token));
    const answers = await Promise.all(Array.from({ length: 8 }, () => verify(token)));
    assert.deepEqual(answers.map((a) => a.__typename).sort(), [
      'CustomerPayload',
      ...Array(7).fill('InvalidTokenError'),
    ]);
    assert.equal((await verify(token)).code, 'INVALID_TOKEN');
  });

  test('malformed, altered, expired and another customer’s tokens are typed errors that change nothing', async () => {
    const a = await register('owner-a@example.com');
    const b = await register('owner-b@example.com');
    const tokenA = await tokenFor(a.customer.id);
    const tokenB = await tokenFor(b.customer.id);
    const altered = `${tokenA.slice(0, -1)}${tokenA.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of ['', 'short', `${tokenA}x`, altered, 'é'.repeat(43)]) {
      const r = await verify(bad);
      assert.equal(r.code, 'INVALID_TOKEN', bad);
      assert.equal(r.field, 'token');
    }
    assert.equal(
      (await verify(tokenB, bearer(a.accessToken))).code,
      'INVALID_TOKEN',
      "another customer's token, signed in",
    );
    clock += 25 * 3_600_000;
    assert.equal((await verify(tokenA)).code, 'TOKEN_EXPIRED');
    clock -= 25 * 3_600_000;
    const rows = await t.prisma.customer.findMany({ where: { id: { in: [a.customer.id, b.customer.id] } } });
    assert.ok(
      rows.every((r) => r.emailVerifiedAt === null),
      'nothing verified',
    );
    assert.equal(
      await t.prisma.emailVerificationToken.count({ where: { customerId: { in: [a.customer.id, b.customer.id] } } }),
      2,
      'no token consumed',
    );
    assert.equal((await verify(tokenB, bearer(b.accessToken))).__typename, 'CustomerPayload');
  });

  test('requestEmailVerification answers the same, at most one token a minute, one live per customer', async () => {
    const account = await register('request@example.com');
    const first = await tokenFor(account.customer.id);
    const answers = [
      await t.gql(REQUEST, {}, bearer(account.accessToken)),
      await t.gql(REQUEST, {}, bearer(account.accessToken)),
    ];
    assert.deepEqual(
      answers.map((r) => r.data),
      [
        { requestEmailVerification: { __typename: 'OkPayload', ok: true } },
        { requestEmailVerification: { __typename: 'OkPayload', ok: true } },
      ],
    );
    assert.equal(await tokenFor(account.customer.id), first, 'within the minute: no new token');
    clock += 61_000;
    await t.gql(REQUEST, {}, bearer(account.accessToken));
    const second = await tokenFor(account.customer.id);
    assert.notEqual(second, first);
    assert.equal((await verify(first)).code, 'INVALID_TOKEN', 'the new token replaced the old one');
    assert.equal((await t.gql(REQUEST, {}, ANONYMOUS)).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  test('an admin’s email change clears the verification and ends outstanding tokens', async () => {
    const account = await register('mover@example.com');
    const old = await tokenFor(account.customer.id);
    clock += 61_000;
    assert.equal((await verify(old)).__typename, 'CustomerPayload');
    await t.gql(REQUEST, {}, bearer(account.accessToken)); // verified: nothing is sent
    const UPDATE = `mutation($id: ID!, $email: String!) { updateCustomers(ids: [$id], input: { email: $email }) {
      __typename ... on CustomersPayload { customers { email emailVerifiedAt } } } }`;
    const update = await t.gql(UPDATE, { id: account.customer.id, email: 'moved@example.com' });
    assert.deepEqual(update.data!.updateCustomers.customers, [{ email: 'moved@example.com', emailVerifiedAt: null }]);
    clock += 61_000;
    await t.gql(REQUEST, {}, bearer(account.accessToken));
    const pending = await tokenFor(account.customer.id);
    await t.gql(UPDATE, { id: account.customer.id, email: 'moved-again@example.com' });
    assert.equal((await verify(pending)).code, 'INVALID_TOKEN', 'a token for the previous email is gone');
  });
});

test('a setting requires a verified email before login; its own error, only for the right password', async () => {
  const strict = await createTestApp({ now: () => new Date(clock), settings: { requireVerifiedEmailForLogin: true } });
  const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename ... on Error { code } } }`;
  const r = await strict.gql(REGISTER, { input: { email: 'strict@example.com', password: 'password-1' } }, ANONYMOUS);
  const id = r.data!.register.customer.id as string;
  assert.equal(
    (await strict.gql(LOGIN, { e: 'strict@example.com', p: 'wrong-password' }, ANONYMOUS)).data!.login.code,
    'INVALID_CREDENTIALS',
  );
  assert.equal(
    (await strict.gql(LOGIN, { e: 'strict@example.com', p: 'password-1' }, ANONYMOUS)).data!.login.code,
    'EMAIL_NOT_VERIFIED',
  );
  const event = await strict.prisma.outboxEvent.findFirstOrThrow({
    where: { name: 'customer.email_verification_requested', payload: { path: ['customerId'], equals: id } },
  });
  await strict.gql(VERIFY, { token: (event.payload as { token: string }).token }, ANONYMOUS);
  assert.equal(
    (await strict.gql(LOGIN, { e: 'strict@example.com', p: 'password-1' }, ANONYMOUS)).data!.login.__typename,
    'Session',
  );
});

describe('admin mergeCustomers', () => {
  const MERGE = `mutation($target: ID!, $sources: [ID!]!, $accounts: Boolean) {
    mergeCustomers(targetId: $target, sourceIds: $sources, includeAccounts: $accounts) {
      __typename ... on MergeCustomersPayload { mergedIds customer { id orders { totalCount } groups { totalCount } } }
      ... on Error { code field message } ... on NotFoundError { ids }
    } }`;

  test('typed errors for unknown IDs, the target itself, and accounts without the flag; all or nothing', async () => {
    const target = await makeCustomer(t.prisma);
    const guest = await makeCustomer(t.prisma);
    await makeOrder(t.prisma, guest.id);
    const account = await register('merge-account@example.com');
    const unknown = newId('Customer');
    const missing = (await t.gql(MERGE, { target: target.id, sources: [guest.id, unknown] })).data!.mergeCustomers;
    assert.deepEqual([missing.code, missing.ids], ['NOT_FOUND', [unknown]]);
    assert.equal(
      (await t.gql(MERGE, { target: target.id, sources: [target.id] })).data!.mergeCustomers.code,
      'MERGE_CONFLICT',
    );
    assert.equal(
      (await t.gql(MERGE, { target: target.id, sources: [guest.id, account.customer.id] })).data!.mergeCustomers.code,
      'MERGE_CONFLICT',
    );
    assert.equal(await t.prisma.order.count({ where: { customerId: guest.id } }), 1, 'nothing moved');
    const ok = (await t.gql(MERGE, { target: target.id, sources: [guest.id, account.customer.id], accounts: true }))
      .data!.mergeCustomers;
    assert.equal(ok.__typename, 'MergeCustomersPayload');
    assert.equal(ok.customer.orders.totalCount, 1);
    assert.equal(
      (await t.gql(`{ me { id } }`, {}, bearer(account.accessToken))).errors?.[0]?.extensions?.code,
      'UNAUTHENTICATED',
      "the merged account's sessions end",
    );
    assert.equal(
      (await t.gql(MERGE, { target: target.id, sources: [guest.id] })).data!.mergeCustomers.code,
      'NOT_FOUND',
      'a merged source is gone',
    );
    const anon = await t.gql(MERGE, { target: target.id, sources: [guest.id] }, ANONYMOUS);
    assert.equal(anon.data!.mergeCustomers.__typename, 'UnauthenticatedError');
  });

  test('statements are constant in the number of sources; memberships unite without duplicates', async () => {
    const group = await makeGroup(t.prisma);
    const run = async (n: number) => {
      const target = await makeCustomer(t.prisma);
      await addToGroup(t.prisma, target.id, group.id);
      const sources: string[] = [];
      for (let i = 0; i < n; i++) {
        const s = await makeCustomer(t.prisma);
        await addToGroup(t.prisma, s.id, group.id);
        await addToGroup(t.prisma, s.id, (await makeGroup(t.prisma)).id);
        await makeOrder(t.prisma, s.id);
        await makeAddress(t.prisma, s.id);
        sources.push(s.id);
      }
      const { result, statements } = await t.countStatements(() => t.gql(MERGE, { target: target.id, sources }));
      assert.equal(result.data!.mergeCustomers.__typename, 'MergeCustomersPayload', JSON.stringify(result));
      assert.equal(result.data!.mergeCustomers.customer.orders.totalCount, n);
      assert.equal(result.data!.mergeCustomers.customer.groups.totalCount, n + 1, 'the shared group once');
      return statements;
    };
    assert.equal(await run(2), await run(20));
  });

  test('the email key resolves to the account after a merge, and agrees with the ID key', async () => {
    const email = 'entity@example.com';
    await makeCustomer(t.prisma, { email });
    const account = await register(email);
    await verify(await tokenFor(account.customer.id));
    const r = await t.gql(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id email hasAccount } } }`,
      {
        r: [
          { __typename: 'Customer', email: 'Entity@Example.com' },
          { __typename: 'Customer', id: account.customer.id },
        ],
      },
    );
    assert.deepEqual(r.data!._entities[0], r.data!._entities[1]);
    assert.equal(r.data!._entities[0].id, account.customer.id);
  });
});

describe('identity lookups', () => {
  test('customers by exact email and by phone in any written form; bad phones are BAD_USER_INPUT', async () => {
    const dane = await t.gql(
      `mutation { createCustomers(input: [{ email: "dane@example.com", phone: "+45 12 34 56 78" }, { email: "us@example.com", phone: "(415) 555-2671" }]) { __typename } }`,
    );
    assert.equal(dane.data!.createCustomers.__typename, 'CustomersPayload');
    const find = (filter: Record<string, unknown>) =>
      t
        .gql(`query($f: CustomerFilter) { customers(filter: $f) { edges { node { email } } } }`, { f: filter })
        .then((r) => r);
    for (const phone of ['+4512345678', '+45 1234 5678', '+45-12-34-56-78']) {
      assert.deepEqual((await find({ phone })).data!.customers.edges, [{ node: { email: 'dane@example.com' } }], phone);
    }
    assert.deepEqual(
      (await find({ phone: '415 555 2671' })).data!.customers.edges,
      [{ node: { email: 'us@example.com' } }],
      'read in the default region',
    );
    assert.deepEqual((await find({ email: 'DANE@example.com' })).data!.customers.edges, [
      { node: { email: 'dane@example.com' } },
    ]);
    const bad = await find({ phone: 'call me' });
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(bad.errors?.[0]?.extensions?.argumentName, 'filter.phone');
  });

  test("a customer's groups filtered by q and ids, with totalCount under the same filter", async () => {
    const c = await makeCustomer(t.prisma);
    const groups = [
      await makeGroup(t.prisma, { name: 'VIP Gold' }),
      await makeGroup(t.prisma, { name: 'VIP Silver' }),
      await makeGroup(t.prisma, { name: 'Wholesale' }),
    ];
    for (const g of groups) await addToGroup(t.prisma, c.id, g.id);
    const q = `query($id: ID!, $f: CustomerCustomerGroupsFilter) { customer(id: $id) { groups(filter: $f) { totalCount edges { node { name } } } } }`;
    const vip = await t.gql(q, { id: c.id, f: { q: 'vip' } });
    assert.deepEqual(vip.data!.customer.groups, {
      totalCount: 2,
      edges: [{ node: { name: 'VIP Gold' } }, { node: { name: 'VIP Silver' } }],
    });
    const byId = await t.gql(q, { id: c.id, f: { ids: [groups[2]!.id] } });
    assert.deepEqual(byId.data!.customer.groups, { totalCount: 1, edges: [{ node: { name: 'Wholesale' } }] });
  });
});
