// The timeline (issue 29): every mutation of the API leaves exactly the entries it should, on the
// customers it should, with the right actor; entries are written in the change's transaction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schema } from '../src/schema/index.js';
import {
  ADMIN,
  ANONYMOUS,
  bearer,
  createTestApp,
  tokenOf as eventToken,
  makeCustomer,
  makeGroup,
  type TestApp,
} from './helpers.js';

let clock = Date.parse('2026-06-01T12:00:00Z');
const t: TestApp = await createTestApp({
  now: () => new Date(clock),
  settings: { registrationsPerClientPerHour: 10_000, marketingConfirmedOptIn: true },
});

const tokenOf = (name: string, customerId: string, key?: string) => eventToken(t.prisma, name, customerId, key);

type Entry = { customer: string; type: string; actor: string };
const entriesAfter = async (mark: string): Promise<Entry[]> =>
  (
    await t.prisma.customerTimelineEntry.findMany({
      where: { id: { gt: mark } },
      orderBy: { id: 'asc' },
    })
  ).map((e) => ({ customer: e.customerId, type: e.type, actor: `${e.actorKind}:${e.actorName}` }));
const mark = async () => (await t.prisma.customerTimelineEntry.findFirst({ orderBy: { id: 'desc' } }))?.id ?? 'cutl_';

async function ok(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = ADMIN) {
  const r = await t.gql(query, variables, headers);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const [value] = Object.values(r.data!) as { __typename?: string; code?: string }[];
  assert.ok(!value?.code, `${query}: ${JSON.stringify(value)}`);
  return r.data! as Record<string, Record<string, unknown>>;
}

test('every mutation of the API leaves exactly the timeline entries it should', async () => {
  const admin = 'ADMIN:tests';
  // The cast: R registers, G is a guest an admin manages, D is merged into G, X is deleted.
  const reg = await ok(
    `mutation { register(input: { email: "r@example.com", password: "password-1", phone: "+4512345678", acceptsEmailMarketing: true }) {
      ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  const r = (reg.register!.customer as { id: string }).id;
  let session = reg.register!.accessToken as string;
  const asR = () => bearer(session);
  const g = (await makeCustomer(t.prisma, { email: 'g@example.com', phone: '+4587654321' })).id;
  const d = (await makeCustomer(t.prisma, { email: 'd@example.com' })).id;
  const x = (await makeCustomer(t.prisma, { email: 'x@example.com' })).id;
  const group = (await makeGroup(t.prisma)).id;
  const me = `customer:${r}`;
  assert.deepEqual(
    (await t.prisma.customerTimelineEntry.findMany({ where: { customerId: r }, orderBy: { id: 'asc' } })).map(
      (e) => e.type,
    ),
    [
      'CUSTOMER_CREATED',
      'EMAIL_VERIFICATION_REQUESTED',
      'MARKETING_CONSENT_UPDATED',
      'MARKETING_CONFIRMATION_REQUESTED',
    ],
    'register',
  );

  const customerR = `CUSTOMER:${r}`;
  let addressId = '';
  let noteId = '';
  let groupId = '';
  // In the order they run; each names the entries it must leave (customer, type, actor).
  const walk: [string, () => Promise<unknown>, (string | [string, string, string])[]][] = [
    ['register', async () => {}, []], // above
    [
      'login',
      () => ok(`mutation { login(email: "r@example.com", password: "password-1") { __typename } }`, {}, ANONYMOUS),
      [],
    ],
    [
      'confirmMarketingConsent',
      async () =>
        ok(
          `mutation($t: String!) { confirmMarketingConsent(token: $t) { __typename } }`,
          {
            t: await tokenOf('customer.marketing_confirmation_requested', r),
          },
          ANONYMOUS,
        ),
      [[r, 'MARKETING_CONSENT_UPDATED', customerR]],
    ],
    [
      'verifyEmail',
      async () =>
        ok(
          `mutation($t: String!) { verifyEmail(token: $t) { __typename } }`,
          {
            t: await tokenOf('customer.email_verification_requested', r),
          },
          ANONYMOUS,
        ),
      [[r, 'EMAIL_VERIFIED', customerR]],
    ],
    ['requestEmailVerification', () => ok(`mutation { requestEmailVerification { ok } }`, {}, asR()), []], // verified: none sent
    [
      'updateMe',
      () => ok(`mutation { updateMe(input: { firstName: "Ria" }) { __typename } }`, {}, asR()),
      [[r, 'PROFILE_UPDATED', customerR]],
    ],
    [
      'addMyAddress',
      async () => {
        const data = await ok(
          `mutation { addMyAddress(input: { city: "Aarhus" }) { ... on AddressPayload { address { id } } } }`,
          {},
          asR(),
        );
        addressId = (data.addMyAddress!.address as { id: string }).id;
      },
      [[r, 'ADDRESS_ADDED', customerR]],
    ],
    [
      'updateMyAddress',
      () =>
        ok(
          `mutation($id: ID!) { updateMyAddress(id: $id, input: { city: "Odense" }) { __typename } }`,
          { id: addressId },
          asR(),
        ),
      [[r, 'ADDRESS_UPDATED', customerR]],
    ],
    [
      'deleteMyAddress',
      () => ok(`mutation($id: ID!) { deleteMyAddress(id: $id) { __typename } }`, { id: addressId }, asR()),
      [[r, 'ADDRESS_DELETED', customerR]],
    ],
    [
      'updateMyMarketingConsent',
      () => ok(`mutation { updateMyMarketingConsent(input: { sms: true }) { __typename } }`, {}, asR()),
      [[r, 'MARKETING_CONSENT_UPDATED', customerR]],
    ],
    [
      'unsubscribe',
      async () =>
        ok(
          `mutation($t: String!) { unsubscribe(token: $t) { __typename } }`,
          {
            t: await tokenOf('customer.marketing_consent_updated', r, 'unsubscribe_token'),
          },
          ANONYMOUS,
        ),
      [[r, 'MARKETING_CONSENT_UPDATED', customerR]],
    ],
    [
      'requestEmailChange',
      () =>
        ok(
          `mutation { requestEmailChange(newEmail: "r2@example.com", currentPassword: "password-1") { __typename } }`,
          {},
          asR(),
        ),
      [[r, 'EMAIL_CHANGE_REQUESTED', customerR]],
    ],
    [
      'confirmEmailChange',
      async () =>
        ok(
          `mutation($t: String!) { confirmEmailChange(token: $t) { __typename } }`,
          {
            t: await tokenOf('customer.email_change_requested', r),
          },
          asR(),
        ),
      [[r, 'EMAIL_CHANGED', customerR]],
    ],
    [
      'generatePasswordToken',
      () => ok(`mutation { generatePasswordToken(email: "r2@example.com") { __typename } }`, {}, ANONYMOUS),
      [[r, 'PASSWORD_RESET_REQUESTED', customerR]],
    ],
    [
      'resetPassword',
      async () => {
        await ok(
          `mutation($t: String!) { resetPassword(input: { email: "r2@example.com", token: $t, password: "password-2" }) { __typename } }`,
          {
            t: await tokenOf('customer.password_reset', r),
          },
          ANONYMOUS,
        );
        const again = await ok(
          `mutation { login(email: "r2@example.com", password: "password-2") { ... on Session { accessToken } } }`,
          {},
          ANONYMOUS,
        );
        session = again.login!.accessToken as string;
      },
      [[r, 'PASSWORD_RESET', customerR]],
    ],
    ['logout', () => ok(`mutation { logout { ok } }`, {}, asR()), []],
    ['createCustomers', async () => {}, []], // below, with its own customer
    [
      'updateCustomers',
      () =>
        ok(`mutation($id: ID!) { updateCustomers(ids: [$id], input: { lastName: "G" }) { __typename } }`, { id: g }),
      [[g, 'PROFILE_UPDATED', admin]],
    ],
    [
      'addAddresses',
      async () => {
        const data = await ok(
          `mutation($id: ID!) { addAddresses(input: [{ customerId: $id, address: { city: "Vejle" } }]) { ... on AddressesPayload { addresses { id } } } }`,
          { id: g },
        );
        addressId = (data.addAddresses!.addresses as { id: string }[])[0]!.id;
      },
      [[g, 'ADDRESS_ADDED', admin]],
    ],
    [
      'updateAddresses',
      () =>
        ok(`mutation($id: ID!) { updateAddresses(ids: [$id], input: { city: "Kolding" }) { __typename } }`, {
          id: addressId,
        }),
      [[g, 'ADDRESS_UPDATED', admin]],
    ],
    [
      'deleteAddresses',
      () => ok(`mutation($id: ID!) { deleteAddresses(ids: [$id]) { __typename } }`, { id: addressId }),
      [[g, 'ADDRESS_DELETED', admin]],
    ],
    [
      'createCustomerGroups',
      async () => {
        const data = await ok(
          `mutation($id: ID!) { createCustomerGroups(input: [{ name: "New", customerIds: [$id, $id] }]) { ... on CustomerGroupsPayload { customerGroups { id } } } }`,
          { id: g },
        );
        groupId = (data.createCustomerGroups!.customerGroups as { id: string }[])[0]!.id;
      },
      [[g, 'ADDED_TO_GROUP', admin]],
    ],
    [
      'updateCustomerGroups',
      () =>
        ok(`mutation($id: ID!) { updateCustomerGroups(ids: [$id], input: { name: "Renamed" }) { __typename } }`, {
          id: groupId,
        }),
      [],
    ],
    [
      'addCustomerToGroup',
      () =>
        ok(
          `mutation($c: ID!, $g: ID!) { addCustomerToGroup(memberships: [{ customerId: $c, groupId: $g }]) { __typename } }`,
          { c: g, g: group },
        ),
      [[g, 'ADDED_TO_GROUP', admin]],
    ],
    [
      'removeCustomerFromGroup',
      () =>
        ok(
          `mutation($c: ID!, $g: ID!) { removeCustomerFromGroup(memberships: [{ customerId: $c, groupId: $g }]) { __typename } }`,
          { c: g, g: group },
        ),
      [[g, 'REMOVED_FROM_GROUP', admin]],
    ],
    [
      'addCustomersToGroup',
      () =>
        ok(`mutation($c: ID!, $g: ID!) { addCustomersToGroup(groupId: $g, customerIds: [$c, $c]) { __typename } }`, {
          c: g,
          g: group,
        }),
      [[g, 'ADDED_TO_GROUP', admin]],
    ],
    [
      'removeCustomersFromGroup',
      () =>
        ok(`mutation($c: ID!, $g: ID!) { removeCustomersFromGroup(groupId: $g, customerIds: [$c]) { __typename } }`, {
          c: g,
          g: group,
        }),
      [[g, 'REMOVED_FROM_GROUP', admin]],
    ],
    [
      'batchCustomerGroups',
      () =>
        ok(`mutation($c: ID!, $g: ID!) { batchCustomerGroups(customerId: $c, add: [$g]) { __typename } }`, {
          c: g,
          g: group,
        }),
      [[g, 'ADDED_TO_GROUP', admin]],
    ],
    // A group's own changes are on no customer's timeline (its members' memberships end with it:
    // the group's events say so).
    [
      'softDeleteCustomerGroups',
      () => ok(`mutation($id: ID!) { softDeleteCustomerGroups(ids: [$id]) { __typename } }`, { id: groupId }),
      [],
    ],
    [
      'restoreCustomerGroups',
      () => ok(`mutation($id: ID!) { restoreCustomerGroups(ids: [$id]) { __typename } }`, { id: groupId }),
      [],
    ],
    [
      'deleteCustomerGroups',
      () => ok(`mutation($id: ID!) { deleteCustomerGroups(ids: [$id]) { __typename } }`, { id: groupId }),
      [],
    ],
    [
      'addCustomerNote',
      async () => {
        const data = await ok(
          `mutation($id: ID!) { addCustomerNote(customerId: $id, body: " Called about a refund ") { ... on CustomerNotePayload { note { id } } } }`,
          { id: g },
        );
        noteId = (data.addCustomerNote!.note as { id: string }).id;
      },
      [[g, 'NOTE_ADDED', admin]],
    ],
    [
      'updateCustomerNote',
      () =>
        ok(`mutation($id: ID!) { updateCustomerNote(id: $id, body: "Refund sent") { __typename } }`, { id: noteId }),
      [[g, 'NOTE_UPDATED', admin]],
    ],
    [
      'deleteCustomerNote',
      () => ok(`mutation($id: ID!) { deleteCustomerNote(id: $id) { __typename } }`, { id: noteId }),
      [[g, 'NOTE_DELETED', admin]],
    ],
    [
      'addCustomerTags',
      () =>
        ok(`mutation($id: ID!) { addCustomerTags(ids: [$id], tags: ["VIP", "vip", "wholesale"]) { __typename } }`, {
          id: g,
        }),
      [[g, 'TAGS_ADDED', admin]],
    ],
    [
      'removeCustomerTags',
      () =>
        ok(`mutation($id: ID!) { removeCustomerTags(ids: [$id], tags: ["Wholesale", "never-had"]) { __typename } }`, {
          id: g,
        }),
      [[g, 'TAGS_REMOVED', admin]],
    ],
    [
      'updateCustomersMarketingConsent',
      () =>
        ok(
          `mutation($id: ID!) { updateCustomersMarketingConsent(ids: [$id], input: { email: { state: SUBSCRIBED, optInLevel: UNKNOWN, source: "pos" }, sms: { state: SUBSCRIBED } }) { __typename } }`,
          { id: g },
        ),
      [
        [g, 'MARKETING_CONSENT_UPDATED', admin],
        [g, 'MARKETING_CONSENT_UPDATED', admin],
      ],
    ],
    [
      'inviteCustomers',
      () => ok(`mutation($id: ID!) { inviteCustomers(ids: [$id]) { __typename } }`, { id: g }),
      [[g, 'ACCOUNT_INVITED', admin]],
    ],
    [
      'acceptInvitation',
      async () =>
        ok(
          `mutation($t: String!) { acceptInvitation(token: $t, password: "password-3") { __typename } }`,
          {
            t: await tokenOf('customer.invited', g),
          },
          ANONYMOUS,
        ),
      [[g, 'INVITATION_ACCEPTED', `CUSTOMER:${g}`]],
    ],
    [
      'disableCustomerAccounts',
      () => ok(`mutation($id: ID!) { disableCustomerAccounts(ids: [$id]) { __typename } }`, { id: g }),
      [[g, 'ACCOUNT_DISABLED', admin]],
    ],
    [
      'enableCustomerAccounts',
      () => ok(`mutation($id: ID!) { enableCustomerAccounts(ids: [$id]) { __typename } }`, { id: g }),
      [[g, 'ACCOUNT_ENABLED', admin]],
    ],
    [
      'softDeleteCustomers',
      () => ok(`mutation($id: ID!) { softDeleteCustomers(ids: [$id]) { __typename } }`, { id: d }),
      [[d, 'DELETED', admin]],
    ],
    [
      'restoreCustomers',
      () => ok(`mutation($id: ID!) { restoreCustomers(ids: [$id]) { __typename } }`, { id: d }),
      [[d, 'RESTORED', admin]],
    ],
    [
      'mergeCustomers',
      () =>
        ok(`mutation($t: ID!, $s: ID!) { mergeCustomers(targetId: $t, sourceIds: [$s]) { __typename } }`, {
          t: g,
          s: d,
        }),
      [
        [d, 'MERGED_INTO', admin],
        [g, 'MERGED_FROM', admin],
      ],
    ],
    ['deleteCustomers', () => ok(`mutation($id: ID!) { deleteCustomers(ids: [$id]) { __typename } }`, { id: x }), []],
    // Erasure: the timeline keeps one entry, "erased by X at T".
    [
      'eraseCustomers',
      () => ok(`mutation($id: ID!) { eraseCustomers(ids: [$id]) { __typename } }`, { id: d }),
      [[d, 'ERASED', admin]],
    ],
  ];

  const declared = Object.keys(schema.getMutationType()!.getFields()).sort();
  assert.deepEqual([...new Set(walk.map(([name]) => name))].sort(), declared, 'the walk covers every mutation');
  for (const [name, run, expected] of walk) {
    clock += 5 * 60_000; // past every per-minute limit
    const before = await mark();
    await run();
    const written = await entriesAfter(before);
    assert.deepEqual(
      written.map((e) => [e.customer, e.type, e.actor]),
      expected,
      `${name} leaves ${JSON.stringify(expected)}`,
    );
  }
  assert.equal(me, `customer:${r}`);

  // createCustomers: its own customer, one entry naming the admin.
  const before = await mark();
  const created = await ok(
    `mutation { createCustomers(input: [{ email: "new@example.com" }]) { ... on CustomersPayload { customers { id } } } }`,
  );
  const id = (created.createCustomers!.customers as { id: string }[])[0]!.id;
  assert.deepEqual(await entriesAfter(before), [{ customer: id, type: 'CUSTOMER_CREATED', actor: admin }]);

  // The merge brought D's history onto G, marked as D's; a deleted customer's timeline went with it.
  const moved = await t.prisma.customerTimelineEntry.findMany({ where: { mergedFromId: d }, orderBy: { id: 'asc' } });
  assert.deepEqual(
    moved.map((e) => [e.customerId, e.type]),
    [
      [g, 'DELETED'],
      [g, 'RESTORED'],
    ],
  );
  assert.equal(await t.prisma.customerTimelineEntry.count({ where: { customerId: x } }), 0);
  // Details never hold a secret or an email.
  const all = JSON.stringify(await t.prisma.customerTimelineEntry.findMany());
  assert.doesNotMatch(all, /@example\.com|"token"|unsubscribe_token/);
});

test('Customer.timeline: admins only, newest first, keyset-paged, filtered by type, actor and time', async () => {
  const c = await makeCustomer(t.prisma, { email: 'paged@example.com' });
  for (const name of ['A', 'B', 'C', 'D', 'E']) {
    clock += 60_000;
    await ok(
      `mutation($id: ID!, $n: String!) { updateCustomers(ids: [$id], input: { firstName: $n }) { __typename } }`,
      { id: c.id, n: name },
    );
  }
  clock += 60_000;
  await ok(`mutation($id: ID!) { addCustomerNote(customerId: $id, body: "hello") { __typename } }`, { id: c.id });
  const Q = `query($id: ID!, $after: String, $filter: CustomerTimelineFilter) { customer(id: $id) { timeline(first: 2, after: $after, filter: $filter) {
    totalCount edges { cursor node { type occurredAt actor { kind name } details note { body author } } } pageInfo { hasNextPage endCursor } } } }`;
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const r = await ok(Q, { id: c.id, after });
    const page = r.customer!.timeline as {
      totalCount: number;
      edges: { node: { type: string; occurredAt: string; note: unknown } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    assert.equal(page.totalCount, 6);
    seen.push(...page.edges.map((e) => e.node.occurredAt));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  assert.equal(seen.length, 6);
  assert.deepEqual(seen, [...seen].sort().reverse(), 'newest first');
  const notes = await ok(Q, { id: c.id, filter: { types: ['NOTE_ADDED'] } });
  const entry = (notes.customer!.timeline as { edges: { node: Record<string, unknown> }[] }).edges[0]!.node;
  assert.deepEqual(entry.actor, { kind: 'ADMIN', name: 'tests' });
  assert.deepEqual(entry.note, { body: 'hello', author: 'tests' });
  const none = await ok(Q, { id: c.id, filter: { actorKinds: ['CUSTOMER'] } });
  assert.deepEqual((none.customer!.timeline as { totalCount: number }).totalCount, 0);
  const late = await ok(Q, { id: c.id, filter: { occurredAt: { gte: seen[1] } } });
  assert.equal((late.customer!.timeline as { totalCount: number }).totalCount, 2);

  // A customer reading themselves through `me` is refused the timeline and the notes.
  await ok(`mutation($id: ID!) { inviteCustomers(ids: [$id]) { __typename } }`, { id: c.id });
  const token = await tokenOf('customer.invited', c.id);
  const s = await ok(
    `mutation($t: String!) { acceptInvitation(token: $t, password: "password-1") { ... on Session { accessToken } } }`,
    { t: token },
    ANONYMOUS,
  );
  const mine = await t.gql(
    `{ me { id timeline(first: 1) { totalCount } } }`,
    {},
    bearer(s.acceptInvitation!.accessToken as string),
  );
  assert.equal(mine.errors?.[0]?.extensions?.code, 'FORBIDDEN');
});

test('an entry is written in the transaction of its change: a rolled-back change leaves none', async () => {
  const c = await makeCustomer(t.prisma);
  const before = await mark();
  // 251 tags: refused whole, after the UPDATE ran inside the transaction.
  const tags = Array.from({ length: 250 }, (_, i) => `t${i}`);
  await ok(`mutation($id: ID!, $tags: [String!]!) { addCustomerTags(ids: [$id], tags: $tags) { __typename } }`, {
    id: c.id,
    tags,
  });
  const r = await t.gql(
    `mutation($id: ID!) { addCustomerTags(ids: [$id], tags: ["one-more"]) { __typename ... on Error { code field } } }`,
    { id: c.id },
  );
  assert.deepEqual(r.data!.addCustomerTags, {
    __typename: 'LimitExceededError',
    code: 'LIMIT_EXCEEDED',
    field: 'tags',
  });
  assert.deepEqual(
    (await entriesAfter(before)).map((e) => e.type),
    ['TAGS_ADDED'],
  );
});

test('TIMELINE_RETENTION_DAYS: entries older than it are deleted by the retention job; 0 keeps them', async () => {
  const { startRetentionJob } = await import('../src/db/retention.js');
  const { createLogger } = await import('../src/logger.js');
  const c = await makeCustomer(t.prisma);
  await t.prisma.customerTimelineEntry.createMany({
    data: [
      {
        id: 'cutl_00OLD',
        customerId: c.id,
        type: 'PROFILE_UPDATED',
        occurredAt: new Date(clock - 40 * 86_400_000),
        actorKind: 'SYSTEM',
      },
      {
        id: 'cutl_00NEW',
        customerId: c.id,
        type: 'PROFILE_UPDATED',
        occurredAt: new Date(clock - 86_400_000),
        actorKind: 'SYSTEM',
      },
    ],
  });
  const log = createLogger('silent');
  const keep = startRetentionJob({ prisma: t.prisma, log, intervalMs: 0, now: () => new Date(clock) });
  assert.equal((await keep.run()).timelineEntries, 0);
  await keep.stop();
  const trim = startRetentionJob({
    prisma: t.prisma,
    log,
    intervalMs: 0,
    timelineRetentionDays: 30,
    now: () => new Date(clock),
  });
  assert.equal((await trim.run()).timelineEntries >= 1, true);
  await trim.stop();
  const left = await t.prisma.customerTimelineEntry.findMany({ where: { customerId: c.id }, select: { id: true } });
  assert.deepEqual(left, [{ id: 'cutl_00NEW' }]);
});
