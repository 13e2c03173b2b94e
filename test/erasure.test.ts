// eraseCustomers (issue 30): after erasure, a dump of every table holds none of the customer's
// personal values, on both databases; what accounting needs stays countable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, ANONYMOUS, bearer, createTestApp, makeAddress, makeCustomer, makeGroup, makeOrder } from './helpers.js';

const t = await createTestApp({ settings: { registrationsPerClientPerHour: 10_000, loginFailuresPerEmail: 50 } });

/** Every row of every table of the schema, as JSON text (the whole database, as a dump would have it). */
async function dump(): Promise<string> {
  const tables = await t.prisma.$queryRawUnsafe<{ name: string }[]>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await t.prisma.$queryRawUnsafe<{ row: string }[]>(
      `SELECT row_to_json(x)::text AS row FROM "${name}" x`,
    );
    parts.push(...rows.map((r) => `${name} ${r.row}`));
  }
  return parts.join('\n');
}

const ERASE = `mutation($ids: [ID!]!) { eraseCustomers(ids: $ids) { __typename ... on ErasedCustomersPayload { erasedIds } ... on Error { code field } } }`;

test('after erasure no table holds the customer’s email, names, phone, street or company; orders stay countable', async () => {
  const personal = {
    email: 'erasable.person@example.com',
    guestEmail: 'erasable.guest@example.com',
    newEmail: 'erasable.next@example.com',
    firstName: 'Xanthippe',
    lastName: 'Quibbleworth',
    phone: '+4561616161',
    street: '17 Zephyrine Allé',
    company: 'Quibbleworth Holdings',
  };
  const reg = await t.gql(
    `mutation($e: String!, $f: String!, $l: String!, $p: String!) { register(input: { email: $e, password: "password-1", firstName: $f, lastName: $l, phone: $p, acceptsEmailMarketing: true, metadata: { nick: "Xan" } }) {
      ... on Session { accessToken customer { id } } } }`,
    { e: personal.email, f: personal.firstName, l: personal.lastName, p: personal.phone },
    ANONYMOUS,
  );
  const id = reg.data!.register.customer.id as string;
  const me = bearer(reg.data!.register.accessToken);
  await t.gql(
    `mutation($c: String!) { updateMe(input: { companyName: $c }) { __typename } }`,
    { c: personal.company },
    me,
  );
  await t.gql(
    `mutation($s: String!) { addMyAddress(input: { address1: $s, city: "Aarhus", postalCode: "8000", countryCode: "dk" }) { __typename } }`,
    { s: personal.street },
    me,
  );
  await t.gql(
    `mutation($e: String!) { requestEmailChange(newEmail: $e, currentPassword: "password-1") { __typename } }`,
    { e: personal.newEmail },
    me,
  );
  await t.gql(
    `mutation($e: String!) { generatePasswordToken(email: $e) { __typename } }`,
    { e: personal.email },
    ANONYMOUS,
  );
  await t.gql(
    `mutation($e: String!) { login(email: $e, password: "wrong-password") { __typename } }`,
    { e: personal.email },
    ANONYMOUS,
  );
  await t.gql(`mutation($id: ID!, $b: String!) { addCustomerNote(customerId: $id, body: $b) { __typename } }`, {
    id,
    b: `Spoke with ${personal.firstName} ${personal.lastName}`,
  });
  await t.gql(`mutation($id: ID!) { addCustomerTags(ids: [$id], tags: ["Quibbleworth-account"]) { __typename } }`, {
    id,
  });
  const group = await makeGroup(t.prisma, { name: 'Erasure VIP' });
  await t.gql(`mutation($c: ID!, $g: ID!) { addCustomersToGroup(groupId: $g, customerIds: [$c]) { __typename } }`, {
    c: id,
    g: group.id,
  });
  const snapshot = {
    firstName: personal.firstName,
    lastName: personal.lastName,
    company: personal.company,
    address1: personal.street,
    city: 'Aarhus',
    countryCode: 'dk',
    province: 'Midtjylland',
    postalCode: '8000',
    phone: personal.phone,
  };
  const order = await makeOrder(t.prisma, id, {
    email: personal.email,
    shippingAddress: snapshot,
    billingAddress: snapshot,
    metadata: { gift: personal.firstName },
  });
  // A guest checkout of the same person, merged in: erased with them.
  const guest = await makeCustomer(t.prisma, {
    email: personal.guestEmail,
    firstName: personal.firstName,
    lastName: personal.lastName,
  });
  await makeAddress(t.prisma, guest.id, { address1: personal.street });
  await makeOrder(t.prisma, guest.id, { email: personal.guestEmail });
  await t.gql(`mutation($t: ID!, $s: ID!) { mergeCustomers(targetId: $t, sourceIds: [$s]) { __typename } }`, {
    t: id,
    s: guest.id,
  });
  const bystander = await makeCustomer(t.prisma, { email: 'bystander.erasure@example.com', lastName: 'Unaffected' });

  const before = await dump();
  for (const value of Object.values(personal)) assert.ok(before.includes(value), `${value} is somewhere before`);
  const ordersBefore = await t.prisma.order.count({ where: { customerId: { in: [id, guest.id] } } });
  const totalBefore = (await t.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).total;

  const r = await t.gql(ERASE, { ids: [id] });
  assert.deepEqual(r.data!.eraseCustomers, { __typename: 'ErasedCustomersPayload', erasedIds: [id] });

  const after = await dump();
  for (const [what, value] of Object.entries(personal)) {
    const left = after.split('\n').find((line) => line.includes(value));
    assert.equal(left, undefined, `${what} (${value}) is gone from every table`);
  }
  assert.ok(after.includes('bystander.erasure@example.com') && after.includes('Unaffected'), 'others are untouched');
  // Accounting keeps its figures; the snapshot keeps country, region and a truncated postal code.
  assert.equal(await t.prisma.order.count({ where: { customerId: { in: [id, guest.id] } } }), ordersBefore);
  const kept = await t.prisma.order.findUniqueOrThrow({ where: { id: order.id }, include: { items: true } });
  assert.equal(kept.total, totalBefore);
  assert.equal(kept.items.length, 1);
  assert.deepEqual(kept.shippingAddress, { countryCode: 'dk', province: 'Midtjylland', postalCode: '800' });
  assert.equal(
    await t.prisma.customerGroupCustomer.count({ where: { customerId: id } }),
    1,
    'memberships stay countable (ended)',
  );
  // The timeline keeps one entry; one event carries the ID alone.
  const timeline = await t.prisma.customerTimelineEntry.findMany({ where: { customerId: id } });
  assert.deepEqual(
    timeline.map((e) => [e.type, e.actorKind, e.actorName]),
    [['ERASED', 'ADMIN', 'tests']],
  );
  const erased = await t.prisma.outboxEvent.findMany({ where: { name: 'customer.erased' } });
  assert.deepEqual(
    erased.map((e) => e.payload).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    [{ id }, { id: guest.id }].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
  // The session is dead; the email is free, and the new account sees nothing of the old one.
  assert.equal((await t.gql(`{ me { id } }`, {}, me)).status, 401);
  const again = await t.gql(
    `mutation($e: String!) { register(input: { email: $e, password: "password-2" }) { ... on Session { accessToken customer { id } } ... on Error { code } } }`,
    { e: personal.email },
    ANONYMOUS,
  );
  const fresh = again.data!.register;
  assert.notEqual(fresh.customer.id, id);
  const mine = await t.gql(
    `{ me { orders { totalCount } addresses { totalCount } groups { totalCount } } }`,
    {},
    bearer(fresh.accessToken),
  );
  assert.deepEqual(mine.data!.me, {
    orders: { totalCount: 0 },
    addresses: { totalCount: 0 },
    groups: { totalCount: 0 },
  });

  // Idempotent: again, nothing changes and nothing is recorded.
  const events = await t.prisma.outboxEvent.count();
  assert.deepEqual((await t.gql(ERASE, { ids: [id] })).data!.eraseCustomers.erasedIds, [id]);
  assert.equal(await t.prisma.outboxEvent.count(), events);
  void bystander;
});

test('eraseCustomers: unknown IDs are NOT_FOUND and nothing is erased; admins only', async () => {
  const c = await makeCustomer(t.prisma, { email: 'kept.erasure@example.com' });
  const r = await t.gql(ERASE, { ids: [c.id, 'cus_01UNKNOWN'] });
  assert.deepEqual(r.data!.eraseCustomers, { __typename: 'NotFoundError', code: 'NOT_FOUND', field: 'ids' });
  assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id } })).email, 'kept.erasure@example.com');
  const anonymous = await t.gql(ERASE, { ids: [c.id] }, ANONYMOUS);
  assert.equal(anonymous.data!.eraseCustomers.code, 'UNAUTHENTICATED');
  assert.equal((await t.gql(ERASE, { ids: [] }, ADMIN)).data!.eraseCustomers.code, 'VALIDATION');
});

test('an erasure racing logins of the same account: no session survives it', async () => {
  for (let round = 0; round < 3; round++) {
    const email = `erasure-race${round}@example.com`;
    const reg = await t.gql(
      `mutation($e: String!) { register(input: { email: $e, password: "password-1" }) { ... on Session { customer { id } } } }`,
      { e: email },
      ANONYMOUS,
    );
    const id = reg.data!.register.customer.id as string;
    const logins = Array.from({ length: 5 }, () =>
      t.gql(
        `mutation($e: String!) { login(email: $e, password: "password-1") { __typename ... on Session { accessToken } } }`,
        { e: email },
        ANONYMOUS,
      ),
    );
    const erase = t.gql(ERASE, { ids: [id] });
    const sessions = (await Promise.all(logins)).map((r) => r.data!.login).filter((l) => l.__typename === 'Session');
    await erase;
    for (const s of sessions) assert.equal((await t.gql(`{ me { id } }`, {}, bearer(s.accessToken))).status, 401);
    assert.equal(await t.prisma.customerSession.count({ where: { customerId: id } }), 0);
  }
});
