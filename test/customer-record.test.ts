// The customer record (issue 29): staff notes, tags, marketing consent, account states and the
// email change with proof, with their bad input and races.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ADMIN,
  ADMIN_KEY,
  ANONYMOUS,
  bearer,
  createTestApp,
  tokenOf as eventToken,
  makeCustomer,
  makeOrder,
  type TestApp,
} from './helpers.js';

let clock = Date.parse('2026-06-01T12:00:00Z');
const SECOND_ADMIN = { authorization: 'Bearer second-admin-key-0123456789abcdef' };
const t: TestApp = await createTestApp({
  now: () => new Date(clock),
  settings: {
    registrationsPerClientPerHour: 10_000,
    loginFailuresPerClient: 10_000,
    adminKeys: [
      { name: 'tests', key: ADMIN_KEY },
      { name: 'second', key: 'second-admin-key-0123456789abcdef' },
    ],
  },
});

const tokenOf = (name: string, customerId: string, key?: string) => eventToken(t.prisma, name, customerId, key);

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) {
  __typename ... on Session { accessToken customer { id email } } ... on Error { code field } } }`;
async function register(email: string, extra: Record<string, unknown> = {}) {
  const r = await t.gql(REGISTER, { input: { email, password: 'password-1', ...extra } }, ANONYMOUS);
  assert.equal(r.data!.register.__typename, 'Session', JSON.stringify(r));
  return r.data!.register as { accessToken: string; customer: { id: string; email: string } };
}
const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  __typename ... on Session { accessToken } ... on Error { code } } }`;
const login = (e: string, p = 'password-1') => t.gql(LOGIN, { e, p }, ANONYMOUS).then((r) => r.data!.login);
const result = (r: { data?: Record<string, unknown> | null }) => Object.values(r.data!)[0] as Record<string, unknown>;
const timelineTypes = async (customerId: string) =>
  (await t.prisma.customerTimelineEntry.findMany({ where: { customerId }, orderBy: { id: 'asc' } })).map((e) => e.type);

describe('staff notes', () => {
  const ADD = `mutation($id: ID!, $body: String!) { addCustomerNote(customerId: $id, body: $body) {
    __typename ... on CustomerNotePayload { note { id body author createdAt } } ... on Error { code field message } } }`;

  test('add, edit and delete: trimmed, authored by the key, listed newest first, on the timeline, with events', async () => {
    const c = await makeCustomer(t.prisma);
    const first = result(await t.gql(ADD, { id: c.id, body: '  Prefers email  ' }));
    assert.equal((first.note as { body: string }).body, 'Prefers email');
    assert.equal((first.note as { author: string }).author, 'tests');
    const second = result(await t.gql(ADD, { id: c.id, body: 'VIP since 2020' }, SECOND_ADMIN));
    const id = (second.note as { id: string }).id;
    assert.match(id, /^cunote_/);
    const edit = result(
      await t.gql(
        `mutation($id: ID!) { updateCustomerNote(id: $id, body: "VIP since 2019") { __typename ... on CustomerNotePayload { note { body author } } } }`,
        { id },
      ),
    );
    assert.deepEqual(edit.note, { body: 'VIP since 2019', author: 'second' }, 'the author stays who wrote it');
    const list = await t.gql(
      `query($id: ID!) { customer(id: $id) { notes { totalCount edges { node { body author } } } } }`,
      { id: c.id },
    );
    assert.deepEqual(list.data!.customer.notes, {
      totalCount: 2,
      edges: [
        { node: { body: 'VIP since 2019', author: 'second' } },
        { node: { body: 'Prefers email', author: 'tests' } },
      ],
    });
    const gone = result(
      await t.gql(
        `mutation($id: ID!) { deleteCustomerNote(id: $id) { __typename ... on DeletedPayload { deletedId } } }`,
        { id },
      ),
    );
    assert.equal(gone.deletedId, id);
    assert.deepEqual(await timelineTypes(c.id), ['NOTE_ADDED', 'NOTE_ADDED', 'NOTE_UPDATED', 'NOTE_DELETED']);
    const actors = (
      await t.prisma.customerTimelineEntry.findMany({ where: { customerId: c.id }, orderBy: { id: 'asc' } })
    ).map((e) => e.actorName);
    assert.deepEqual(actors, ['tests', 'second', 'tests', 'tests']);
    const events = await t.prisma.outboxEvent.findMany({ where: { key: `customer:${c.id}` }, orderBy: { seq: 'asc' } });
    assert.deepEqual(
      events.map((e) => e.name),
      ['customer.note_added', 'customer.note_added', 'customer.note_updated', 'customer.note_deleted'],
    );
    const again = result(
      await t.gql(`mutation($id: ID!) { deleteCustomerNote(id: $id) { __typename ... on Error { code field } } }`, {
        id,
      }),
    );
    assert.deepEqual(again, { __typename: 'NotFoundError', code: 'NOT_FOUND', field: 'id' });
  });

  test('bad bodies are typed errors naming the field, and write nothing', async () => {
    const c = await makeCustomer(t.prisma);
    for (const [body, message] of [
      ['   ', /cannot be empty/],
      ['\n\t ', /cannot be empty/],
      ['x'.repeat(5001), /at most 5000/],
    ] as const) {
      const r = result(await t.gql(ADD, { id: c.id, body }));
      assert.equal(r.__typename, 'ValidationError');
      assert.equal(r.field, 'body');
      assert.match(r.message as string, message);
    }
    assert.equal(
      result(await t.gql(ADD, { id: c.id, body: 'é'.repeat(5000) })).__typename,
      'CustomerNotePayload',
      '5,000 characters fit',
    );
    const nul = await t.gql(ADD, { id: c.id, body: 'a\u0000b' });
    assert.equal(nul.data, undefined);
    assert.equal(nul.errors![0]!.extensions!.code, 'BAD_USER_INPUT');
    const unknown = result(await t.gql(ADD, { id: 'cus_01NOPE', body: 'hi' }));
    assert.deepEqual([unknown.__typename, unknown.field], ['NotFoundError', 'customerId']);
    assert.equal(await t.prisma.customerNote.count({ where: { customerId: c.id } }), 1);
  });
});

describe('tags', () => {
  const ADD = `mutation($ids: [ID!], $filter: CustomerFilter, $tags: [String!]!) { addCustomerTags(ids: $ids, filter: $filter, tags: $tags) {
    __typename ... on CustomersPayload { customers { id tags } } ... on Error { code field message } } }`;
  const REMOVE = `mutation($ids: [ID!], $tags: [String!]!) { removeCustomerTags(ids: $ids, tags: $tags) {
    __typename ... on CustomersPayload { customers { id tags } } ... on Error { code field message } } }`;

  test('trimmed, once each case-insensitively, kept as first written; removal by any case', async () => {
    const c = await makeCustomer(t.prisma);
    const r = result(await t.gql(ADD, { ids: [c.id], tags: [' VIP ', 'vip', 'Wholesale'] }));
    assert.deepEqual(r.customers, [{ id: c.id, tags: ['VIP', 'Wholesale'] }]);
    const again = result(await t.gql(ADD, { ids: [c.id], tags: ['vIp', 'newsletter'] }));
    assert.deepEqual(again.customers, [{ id: c.id, tags: ['VIP', 'Wholesale', 'newsletter'] }]);
    const removed = result(await t.gql(REMOVE, { ids: [c.id], tags: ['WHOLESALE'] }));
    assert.deepEqual(removed.customers, [{ id: c.id, tags: ['VIP', 'newsletter'] }]);
    const payloads = (
      await t.prisma.outboxEvent.findMany({ where: { key: `customer:${c.id}` }, orderBy: { seq: 'asc' } })
    ).map((e) => [e.name, (e.payload as { tags: string[] }).tags]);
    assert.deepEqual(payloads, [
      ['customer.tags_added', ['VIP', 'Wholesale']],
      ['customer.tags_added', ['newsletter']],
      ['customer.tags_removed', ['Wholesale']],
    ]);
  });

  test('bad tags: blank, 41 characters, control characters, NUL, 251 on one customer; each typed, nothing written', async () => {
    const c = await makeCustomer(t.prisma);
    for (const [tags, field] of [
      [['ok', '  '], 'tags[1]'],
      [['x'.repeat(41)], 'tags[0]'],
      [['a\tb'], 'tags[0]'],
      [[], 'tags'],
    ] as const) {
      const r = result(await t.gql(ADD, { ids: [c.id], tags }));
      assert.deepEqual([r.__typename, r.field], ['ValidationError', field], JSON.stringify(tags));
    }
    assert.equal((await t.gql(ADD, { ids: [c.id], tags: ['a\u0000'] })).errors![0]!.extensions!.code, 'BAD_USER_INPUT');
    const many = Array.from({ length: 251 }, (_, i) => `tag-${i}`);
    assert.deepEqual(result(await t.gql(ADD, { ids: [c.id], tags: many })).field, 'tags');
    await t.gql(ADD, { ids: [c.id], tags: many.slice(0, 200) });
    const over = result(await t.gql(ADD, { ids: [c.id], tags: many.slice(150) }));
    assert.deepEqual([over.__typename, over.field], ['LimitExceededError', 'tags']);
    assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: c.id } })).tags.length, 200);
    const empty = result(await t.gql(ADD, { filter: {}, tags: ['x'] }));
    assert.equal(empty.__typename, 'EmptyFilterError');
  });

  test('two admins tagging the same customers at once: no tag lost, none doubled', async () => {
    const customers = await Promise.all(Array.from({ length: 10 }, () => makeCustomer(t.prisma)));
    const ids = customers.map((c) => c.id);
    const calls = Array.from({ length: 16 }, (_, i) =>
      t.gql(
        ADD,
        { ids: i % 2 ? [...ids].reverse() : ids, tags: [`t${i % 8}`, i % 2 ? 'SHARED' : 'shared'] },
        i % 2 ? SECOND_ADMIN : ADMIN,
      ),
    );
    for (const r of await Promise.all(calls)) assert.equal(result(r).__typename, 'CustomersPayload');
    for (const row of await t.prisma.customer.findMany({ where: { id: { in: ids } } })) {
      assert.equal(row.tags.length, 9, JSON.stringify(row.tags));
      assert.equal(new Set(row.tags.map((tag) => tag.toLowerCase())).size, 9);
    }
  });

  test('filters any / all / none, and customerTags lists the tags in use with their counts', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => makeCustomer(t.prisma)));
    await t.gql(ADD, { ids: [a!.id], tags: ['Filter-Red', 'Filter-Blue'] });
    await t.gql(ADD, { ids: [b!.id], tags: ['filter-red'] });
    await t.gql(ADD, { ids: [c!.id], tags: ['filter-green'] });
    const Q = `query($f: CustomerFilter) { customers(filter: $f, first: 50) { edges { node { id } } } }`;
    const ids = async (tags: Record<string, string[]>) =>
      ((await t.gql(Q, { f: { tags } })).data!.customers.edges as { node: { id: string } }[])
        .map((e) => e.node.id)
        .sort();
    assert.deepEqual(await ids({ any: ['FILTER-RED', 'filter-green'] }), [a!.id, b!.id, c!.id].sort());
    assert.deepEqual(await ids({ all: ['filter-red', 'filter-blue'] }), [a!.id]);
    assert.deepEqual(await ids({ any: ['filter-red'], none: ['Filter-Blue'] }), [b!.id]);
    const listed = await t.gql(
      `{ customerTags(q: "FILTER-", first: 2) { edges { node { tag customerCount } } pageInfo { hasNextPage endCursor } } }`,
    );
    assert.deepEqual(listed.data!.customerTags.edges, [
      { node: { tag: 'Filter-Blue', customerCount: 1 } },
      { node: { tag: 'filter-green', customerCount: 1 } },
    ]);
    const rest = await t.gql(
      `query($after: String) { customerTags(q: "filter-", first: 2, after: $after) { edges { node { tag customerCount } } pageInfo { hasNextPage } } }`,
      {
        after: listed.data!.customerTags.pageInfo.endCursor,
      },
    );
    assert.deepEqual(rest.data!.customerTags, {
      edges: [{ node: { tag: 'Filter-Red', customerCount: 2 } }],
      pageInfo: { hasNextPage: false },
    });
  });

  test('a customer does not read their tags unless CUSTOMER_TAGS_VISIBLE', async () => {
    const s = await register('tagged@example.com');
    await t.gql(ADD, { ids: [s.customer.id], tags: ['difficult'] });
    const r = await t.gql(`{ me { id tags } }`, {}, bearer(s.accessToken));
    assert.equal(r.errors![0]!.extensions!.code, 'FORBIDDEN');
    const open = await createTestApp({ settings: { tagsVisibleToCustomers: true } });
    const reg = await open.gql(REGISTER, { input: { email: 'open@example.com', password: 'password-1' } }, ANONYMOUS);
    const me = await open.gql(`{ me { tags } }`, {}, bearer(reg.data!.register.accessToken));
    assert.deepEqual(me.data!.me, { tags: [] });
  });
});

describe('marketing consent', () => {
  const CONSENT = `emailMarketingConsent { state optInLevel source consentUpdatedAt } smsMarketingConsent { state optInLevel source }`;

  test('register with acceptsEmailMarketing subscribes (single opt-in by default); the customer can change it; SMS needs a phone', async () => {
    const s = await register('consent@example.com', { acceptsEmailMarketing: true });
    const me = await t.gql(`{ me { ${CONSENT} } }`, {}, bearer(s.accessToken));
    assert.deepEqual(me.data!.me.emailMarketingConsent, {
      state: 'SUBSCRIBED',
      optInLevel: 'SINGLE_OPT_IN',
      source: 'register',
      consentUpdatedAt: new Date(clock).toISOString(),
    });
    assert.deepEqual(me.data!.me.smsMarketingConsent, { state: 'NOT_SUBSCRIBED', optInLevel: null, source: null });
    const sms = await t.gql(
      `mutation { updateMyMarketingConsent(input: { sms: true }) { __typename ... on Error { code field } } }`,
      {},
      bearer(s.accessToken),
    );
    assert.deepEqual(result(sms), { __typename: 'ValidationError', code: 'VALIDATION', field: 'input.sms' });
    const off = await t.gql(
      `mutation { updateMyMarketingConsent(input: { email: false }) { ... on CustomerPayload { customer { ${CONSENT} } } } }`,
      {},
      bearer(s.accessToken),
    );
    assert.equal(
      result(off).customer &&
        (result(off).customer as { emailMarketingConsent: { state: string } }).emailMarketingConsent.state,
      'UNSUBSCRIBED',
    );
  });

  test('the unsubscribe token of a marketing event unsubscribes without signing in, once; a forged one is refused', async () => {
    const s = await register('unsub@example.com', { acceptsEmailMarketing: true });
    const token = await tokenOf('customer.marketing_consent_updated', s.customer.id, 'unsubscribe_token');
    const UNSUB = `mutation($t: String!) { unsubscribe(token: $t) { __typename ... on Error { code } } }`;
    assert.equal(result(await t.gql(UNSUB, { t: token }, ANONYMOUS)).__typename, 'OkPayload');
    assert.equal(result(await t.gql(UNSUB, { t: token }, ANONYMOUS)).__typename, 'OkPayload');
    const row = await t.prisma.customer.findUniqueOrThrow({ where: { id: s.customer.id } });
    assert.deepEqual([row.emailMarketingState, row.emailMarketingSource], ['UNSUBSCRIBED', 'unsubscribe_link']);
    assert.equal(
      (await timelineTypes(s.customer.id)).filter((type) => type === 'MARKETING_CONSENT_UPDATED').length,
      2,
      'the second use changed nothing',
    );
    const other = await register('other-unsub@example.com', { acceptsEmailMarketing: true });
    const forged = token.replace(s.customer.id, other.customer.id);
    assert.equal(result(await t.gql(UNSUB, { t: forged }, ANONYMOUS)).code, 'INVALID_TOKEN');
    assert.equal(result(await t.gql(UNSUB, { t: token.replace('.email.', '.sms.') }, ANONYMOUS)).code, 'INVALID_TOKEN');
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: other.customer.id } })).emailMarketingState,
      'SUBSCRIBED',
    );
  });

  test('MARKETING_CONFIRMED_OPT_IN: PENDING until the token confirms it; the token is single use and expires', async () => {
    const app = await createTestApp({ now: () => new Date(clock), settings: { marketingConfirmedOptIn: true } });
    const reg = await app.gql(
      REGISTER,
      { input: { email: 'double@example.com', password: 'password-1', acceptsEmailMarketing: true } },
      ANONYMOUS,
    );
    const id = reg.data!.register.customer.id as string;
    const state = async () => (await app.prisma.customer.findUniqueOrThrow({ where: { id } })).emailMarketingState;
    assert.equal(await state(), 'PENDING');
    const [event] = await app.prisma.outboxEvent.findMany({
      where: { name: 'customer.marketing_confirmation_requested' },
    });
    const token = (event!.payload as { token: string }).token;
    const CONFIRM = `mutation($t: String!) { confirmMarketingConsent(token: $t) { __typename ... on Error { code } } }`;
    assert.equal(result(await app.gql(CONFIRM, { t: token }, ANONYMOUS)).__typename, 'OkPayload');
    assert.equal(await state(), 'SUBSCRIBED');
    assert.equal(result(await app.gql(CONFIRM, { t: token }, ANONYMOUS)).code, 'INVALID_TOKEN');
    const row = await app.prisma.customer.findUniqueOrThrow({ where: { id } });
    assert.equal(row.emailMarketingOptInLevel, 'CONFIRMED_OPT_IN');
    // Expiry: a new subscription's token, used after MARKETING_CONFIRMATION_TTL_HOURS.
    const s2 = await app.gql(
      REGISTER,
      { input: { email: 'late@example.com', password: 'password-1', acceptsEmailMarketing: true } },
      ANONYMOUS,
    );
    const late = (
      await app.prisma.outboxEvent.findMany({
        where: { name: 'customer.marketing_confirmation_requested', key: `customer:${s2.data!.register.customer.id}` },
      })
    )[0]!.payload as { token: string };
    clock += 73 * 3_600_000;
    assert.equal(result(await app.gql(CONFIRM, { t: late.token }, ANONYMOUS)).code, 'TOKEN_EXPIRED');
  });

  test('an admin records consent in batch, with its source; PENDING and SMS without a phone are refused whole', async () => {
    const [a, b] = await Promise.all([makeCustomer(t.prisma, { phone: '+4511111111' }), makeCustomer(t.prisma)]);
    const SET = `mutation($ids: [ID!], $input: CustomersMarketingConsentInput!) { updateCustomersMarketingConsent(ids: $ids, input: $input) {
      __typename ... on CustomersPayload { customers { id ${CONSENT} } } ... on Error { code field message } } }`;
    const pending = result(await t.gql(SET, { ids: [a!.id], input: { email: { state: 'PENDING' } } }));
    assert.deepEqual([pending.__typename, pending.field], ['ValidationError', 'input.email.state']);
    const phoneless = result(
      await t.gql(SET, {
        ids: [a!.id, b!.id],
        input: { email: { state: 'SUBSCRIBED' }, sms: { state: 'SUBSCRIBED' } },
      }),
    );
    assert.deepEqual([phoneless.__typename, phoneless.field], ['ValidationError', 'input.sms.state']);
    assert.match(phoneless.message as string, new RegExp(b!.id));
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: a!.id } })).emailMarketingState,
      'NOT_SUBSCRIBED',
      'all or nothing',
    );
    const ok = result(
      await t.gql(SET, {
        ids: [a!.id, b!.id],
        input: { email: { state: 'SUBSCRIBED', optInLevel: 'UNKNOWN', source: 'pos' } },
      }),
    );
    assert.deepEqual(
      (ok.customers as { emailMarketingConsent: { state: string; source: string } }[]).map((c) => [
        c.emailMarketingConsent.state,
        c.emailMarketingConsent.source,
      ]),
      [
        ['SUBSCRIBED', 'pos'],
        ['SUBSCRIBED', 'pos'],
      ],
    );
    const Q = `query($s: [MarketingState!]) { customers(filter: { emailMarketingState: $s, q: "" , groupIds: null }, first: 100) { edges { node { id } } } }`;
    const found = (await t.gql(Q, { s: ['SUBSCRIBED'] })).data!.customers.edges.map(
      (e: { node: { id: string } }) => e.node.id,
    );
    assert.ok(found.includes(a!.id) && found.includes(b!.id));
  });

  test('consent updates racing each other: the last one wins, and the timeline shows each change', async () => {
    const s = await register('racer@example.com');
    const calls = Array.from({ length: 12 }, (_, i) =>
      t.gql(
        `mutation($v: Boolean!) { updateMyMarketingConsent(input: { email: $v }) { __typename } }`,
        { v: i % 2 === 0 },
        bearer(s.accessToken),
      ),
    );
    for (const r of await Promise.all(calls)) assert.equal(result(r).__typename, 'CustomerPayload');
    const entries = await t.prisma.customerTimelineEntry.findMany({
      where: { customerId: s.customer.id, type: 'MARKETING_CONSENT_UPDATED' },
      orderBy: { id: 'asc' },
    });
    const states = entries.map((e) => (e.details as { state: string }).state);
    for (let i = 1; i < states.length; i++) assert.notEqual(states[i], states[i - 1], 'each entry is a change');
    const row = await t.prisma.customer.findUniqueOrThrow({ where: { id: s.customer.id } });
    assert.equal(row.emailMarketingState, states.at(-1), 'the row holds the last change');
  });
});

describe('account states', () => {
  const DISABLE = `mutation($ids: [ID!]) { disableCustomerAccounts(ids: $ids) { __typename ... on CustomersPayload { customers { id accountState disabledAt } } ... on Error { code } } }`;

  test('disabling ends every session and token at once; login says so only after a correct password; enabling lets them in', async () => {
    const s = await register('disable@example.com');
    const other = await login('disable@example.com');
    await t.gql(`mutation { generatePasswordToken(email: "disable@example.com") { __typename } }`, {}, ANONYMOUS);
    const reset = await tokenOf('customer.password_reset', s.customer.id);
    const verification = await tokenOf('customer.email_verification_requested', s.customer.id, 'token');
    const CHANGE = `mutation { requestEmailChange(newEmail: "off-new@example.com", currentPassword: "password-1") { __typename } }`;
    await t.gql(CHANGE, {}, bearer(s.accessToken));
    const change = await tokenOf('customer.email_change_requested', s.customer.id);
    const r = result(await t.gql(DISABLE, { ids: [s.customer.id] }));
    assert.equal((r.customers as { accountState: string }[])[0]!.accountState, 'DISABLED');
    for (const token of [s.accessToken, other.accessToken as string]) {
      const me = await t.gql(`{ me { id } }`, {}, bearer(token));
      assert.equal(me.status, 401);
    }
    const reused = await t.gql(
      `mutation($t: String!) { resetPassword(input: { email: "disable@example.com", token: $t, password: "password-9" }) { __typename ... on Error { code } } }`,
      { t: reset },
      ANONYMOUS,
    );
    assert.equal(result(reused).code, 'INVALID_TOKEN');
    assert.equal(
      result(
        await t.gql(
          `mutation($t: String!) { verifyEmail(token: $t) { __typename ... on Error { code } } }`,
          { t: verification },
          ANONYMOUS,
        ),
      ).code,
      'INVALID_TOKEN',
    );
    const confirm = `mutation($t: String!) { confirmEmailChange(token: $t) { __typename ... on Error { code } } }`;
    assert.equal(result(await t.gql(confirm, { t: change }, ANONYMOUS)).code, 'INVALID_TOKEN');
    assert.equal((await login('disable@example.com', 'wrong-password')).code, 'INVALID_CREDENTIALS', 'no enumeration');
    assert.equal((await login('disable@example.com')).code, 'ACCOUNT_DISABLED');
    await t.gql(`mutation { generatePasswordToken(email: "disable@example.com") { __typename } }`, {}, ANONYMOUS);
    assert.equal(
      await t.prisma.passwordResetToken.count({ where: { customerId: s.customer.id } }),
      0,
      'no reset token for a disabled account',
    );
    const enabled = result(
      await t.gql(
        `mutation($ids: [ID!]) { enableCustomerAccounts(ids: $ids) { ... on CustomersPayload { customers { accountState disabledAt } } } }`,
        { ids: [s.customer.id] },
      ),
    );
    assert.deepEqual(enabled.customers, [{ accountState: 'ENABLED', disabledAt: null }]);
    assert.equal((await login('disable@example.com')).__typename, 'Session');
    const guests = result(await t.gql(`query { customers(filter: { accountState: [DISABLED] }) { totalCount } }`));
    assert.equal(guests.totalCount, 0);
  });

  test('disabling a customer while they log in: the new session never survives', async () => {
    for (let round = 0; round < 5; round++) {
      const email = `race${round}@example.com`;
      const s = await register(email);
      const logins = Array.from({ length: 6 }, () => login(email));
      const disable = t.gql(DISABLE, { ids: [s.customer.id] });
      const sessions = (await Promise.all(logins)).filter((r) => r.__typename === 'Session');
      await disable;
      for (const session of sessions)
        assert.equal((await t.gql(`{ me { id } }`, {}, bearer(session.accessToken as string))).status, 401);
      assert.equal(await t.prisma.customerSession.count({ where: { customerId: s.customer.id } }), 0);
    }
  });

  test('inviting guests: INVITED with a token; accepting sets the password, proves the email, claims guests and signs in', async () => {
    const guest = await makeCustomer(t.prisma, { email: 'invitee@example.com' });
    const twin = await makeCustomer(t.prisma, { email: 'invitee@example.com' });
    const order = await makeOrder(t.prisma, twin.id, { email: 'invitee@example.com' });
    const INVITE = `mutation($ids: [ID!]!) { inviteCustomers(ids: $ids) { __typename ... on CustomersPayload { customers { id accountState hasAccount } } ... on Error { code field message } } }`;
    const both = result(await t.gql(INVITE, { ids: [guest.id, twin.id] }));
    assert.deepEqual(
      [both.__typename, both.code],
      ['EmailTakenError', 'EMAIL_TAKEN'],
      'two guests of one email cannot both be accounts',
    );
    const r = result(await t.gql(INVITE, { ids: [guest.id] }));
    assert.deepEqual(r.customers, [{ id: guest.id, accountState: 'INVITED', hasAccount: true }]);
    assert.equal((await login('invitee@example.com', '')).code, 'INVALID_CREDENTIALS');
    const first = await tokenOf('customer.invited', guest.id);
    clock += 60_000;
    await t.gql(INVITE, { ids: [guest.id] });
    const token = await tokenOf('customer.invited', guest.id);
    const ACCEPT = `mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p) { __typename ... on Session { accessToken customer { id emailVerifiedAt accountState } } ... on Error { code field } } }`;
    assert.equal(
      result(await t.gql(ACCEPT, { t: first, p: 'password-1' }, ANONYMOUS)).code,
      'INVALID_TOKEN',
      'a re-invitation replaces the token',
    );
    assert.deepEqual(result(await t.gql(ACCEPT, { t: token, p: 'short' }, ANONYMOUS)).field, 'password');
    const accepted = result(await t.gql(ACCEPT, { t: token, p: 'password-1' }, ANONYMOUS));
    assert.equal(accepted.__typename, 'Session');
    assert.equal((accepted.customer as { accountState: string }).accountState, 'ENABLED');
    assert.ok((accepted.customer as { emailVerifiedAt: string | null }).emailVerifiedAt);
    const orders = await t.gql(
      `{ me { orders { edges { node { id } } } } }`,
      {},
      bearer(accepted.accessToken as string),
    );
    assert.deepEqual(orders.data!.me.orders.edges, [{ node: { id: order.id } }], 'the guest twin’s order is claimed');
    assert.equal(
      result(await t.gql(ACCEPT, { t: token, p: 'password-1' }, ANONYMOUS)).code,
      'INVALID_TOKEN',
      'single use',
    );
    const again = result(await t.gql(INVITE, { ids: [guest.id] }));
    assert.deepEqual([again.__typename, again.code], ['AccountExistsError', 'ACCOUNT_EXISTS']);
    const registered = await register('already@example.com');
    assert.equal(result(await t.gql(INVITE, { ids: [registered.customer.id] })).code, 'ACCOUNT_EXISTS');
  });
});

describe('email change with proof', () => {
  const REQUEST = `mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, currentPassword: $p) { __typename ... on Error { code field } } }`;
  const CONFIRM = `mutation($t: String!) { confirmEmailChange(token: $t) { __typename ... on CustomerPayload { customer { email emailVerifiedAt } } ... on Error { code field } } }`;

  test('the current password, then a token to the new address and a notice to the old; confirming switches and ends the other sessions', async () => {
    const s = await register('old@example.com');
    const elsewhere = await login('old@example.com');
    assert.deepEqual(
      result(await t.gql(REQUEST, { e: 'new@example.com', p: 'wrong-password' }, bearer(s.accessToken))).field,
      'currentPassword',
    );
    assert.deepEqual(
      result(await t.gql(REQUEST, { e: 'not an email', p: 'password-1' }, bearer(s.accessToken))).field,
      'newEmail',
    );
    assert.equal(
      result(await t.gql(REQUEST, { e: 'New@Example.com', p: 'password-1' }, bearer(s.accessToken))).__typename,
      'OkPayload',
    );
    const [event] = await t.prisma.outboxEvent.findMany({
      where: { name: 'customer.email_change_requested', key: `customer:${s.customer.id}` },
    });
    const payload = event!.payload as { email: string; new_email: string; token: string };
    assert.deepEqual([payload.email, payload.new_email], ['old@example.com', 'new@example.com']);
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: s.customer.id } })).email,
      'old@example.com',
      'nothing changes yet',
    );
    assert.equal(
      result(await t.gql(REQUEST, { e: 'newer@example.com', p: 'password-1' }, bearer(s.accessToken))).code,
      'RATE_LIMITED',
    );
    const r = result(await t.gql(CONFIRM, { t: payload.token }, bearer(s.accessToken)));
    assert.equal((r.customer as { email: string }).email, 'new@example.com');
    assert.ok((r.customer as { emailVerifiedAt: string }).emailVerifiedAt);
    assert.equal(
      (await t.gql(`{ me { id } }`, {}, bearer(elsewhere.accessToken as string))).status,
      401,
      'other sessions end',
    );
    assert.equal(
      (await t.gql(`{ me { email } }`, {}, bearer(s.accessToken))).data!.me.email,
      'new@example.com',
      'this one stays',
    );
    assert.equal((await login('new@example.com')).__typename, 'Session');
  });

  test('two confirmations with one token: exactly one wins; another customer’s session cannot use it', async () => {
    const s = await register('twice@example.com');
    const mallory = await register('mallory@example.com');
    await t.gql(REQUEST, { e: 'twice-new@example.com', p: 'password-1' }, bearer(s.accessToken));
    const token = await tokenOf('customer.email_change_requested', s.customer.id);
    assert.equal(result(await t.gql(CONFIRM, { t: token }, bearer(mallory.accessToken))).code, 'INVALID_TOKEN');
    const results = await Promise.all(Array.from({ length: 8 }, () => t.gql(CONFIRM, { t: token }, ANONYMOUS)));
    const kinds = results.map((x) => result(x).__typename).sort();
    assert.deepEqual(kinds, ['CustomerPayload', ...Array(7).fill('InvalidTokenError')]);
    assert.equal((await timelineTypes(s.customer.id)).filter((type) => type === 'EMAIL_CHANGED').length, 1);
  });

  test('an email change racing a registration of the same address: exactly one gets it', async () => {
    for (let round = 0; round < 4; round++) {
      const email = `contested${round}@example.com`;
      const s = await register(`mover${round}@example.com`);
      await t.gql(REQUEST, { e: email, p: 'password-1' }, bearer(s.accessToken));
      const token = await tokenOf('customer.email_change_requested', s.customer.id);
      const [confirm, registration] = await Promise.all([
        t.gql(CONFIRM, { t: token }, ANONYMOUS),
        t.gql(REGISTER, { input: { email, password: 'password-1' } }, ANONYMOUS),
      ]);
      const winners = [result(confirm).__typename === 'CustomerPayload', result(registration).__typename === 'Session'];
      assert.deepEqual(winners.filter(Boolean).length, 1, JSON.stringify([result(confirm), result(registration)]));
      if (!winners[0]) assert.equal(result(confirm).code, 'EMAIL_TAKEN');
      assert.equal(await t.prisma.customer.count({ where: { email, hasAccount: true, deletedAt: null } }), 1);
    }
  });

  test('the takeover path is closed: a stolen session cannot move the account, even by reset', async () => {
    const s = await register('victim@example.com');
    const update = await t.gql(
      `mutation { updateMe(input: { email: "thief@example.com" }) { __typename } }`,
      {},
      bearer(s.accessToken),
    );
    assert.ok(update.errors, 'updateMe takes no email');
    assert.equal(
      result(await t.gql(REQUEST, { e: 'thief@example.com', p: 'guess-guess' }, bearer(s.accessToken))).code,
      'INVALID_CREDENTIALS',
    );
    // Guessing the password through the session counts as failed logins: blocked, even the right one.
    for (let i = 0; i < 4; i++)
      await t.gql(REQUEST, { e: 'thief@example.com', p: `guess-${i}-guess` }, bearer(s.accessToken));
    const blocked = await t.gql(REQUEST, { e: 'thief@example.com', p: 'password-1' }, bearer(s.accessToken));
    assert.equal(result(blocked).code, 'RATE_LIMITED');
    assert.equal((await login('victim@example.com')).code, 'RATE_LIMITED');
    assert.equal(await t.prisma.customerToken.count({ where: { customerId: s.customer.id } }), 0);
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: s.customer.id } })).email,
      'victim@example.com',
    );
  });

  test('an admin’s change is direct, clears the verification, and names the admin on the timeline', async () => {
    const s = await register('direct@example.com');
    await t.prisma.customer.update({ where: { id: s.customer.id }, data: { emailVerifiedAt: new Date(clock) } });
    const r = await t.gql(
      `mutation($id: ID!) { updateCustomers(ids: [$id], input: { email: "direct-new@example.com" }) { ... on CustomersPayload { customers { email emailVerifiedAt } } } }`,
      { id: s.customer.id },
      SECOND_ADMIN,
    );
    assert.deepEqual(result(r).customers, [{ email: 'direct-new@example.com', emailVerifiedAt: null }]);
    const [entry] = await t.prisma.customerTimelineEntry.findMany({
      where: { customerId: s.customer.id, type: 'EMAIL_CHANGED' },
    });
    assert.deepEqual([entry!.actorKind, entry!.actorName], ['ADMIN', 'second']);
  });
});
