import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sha256 } from '../src/lib/tokens.js';
import { ANONYMOUS, bearer, createTestApp, makeCustomer, makeOrder, type TestApp } from './helpers.js';

let clock = Date.parse('2026-06-01T12:00:00Z');
const t: TestApp = await createTestApp({
  now: () => new Date(clock),
  settings: { registrationsPerClientPerHour: 10_000, loginFailuresPerEmail: 3, loginFailuresPerClient: 1000 },
});

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) {
  __typename
  ... on Session { accessToken expiresAt customer { id email hasAccount firstName } }
  ... on Error { code field message }
} }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on Session { accessToken customer { id } } ... on Error { code field message } ... on RateLimitedError { retryAfterSeconds }
} }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) {
  __typename ... on CustomerPayload { customer { id email } } ... on Error { code field }
} }`;
const ME = `{ me { id email firstName lastName phone companyName metadata } }`;

const register = (input: Record<string, unknown>, headers = ANONYMOUS) =>
  t.gql(REGISTER, { input }, headers).then((r) => r.data!.register);
const login = (email: string, password: string) =>
  t.gql(LOGIN, { email, password }, ANONYMOUS).then((r) => r.data!.login);
const events = (name: string, id?: string) =>
  t.prisma.outboxEvent.findMany({
    where: { name, ...(id ? { payload: { path: ['id'], equals: id } } : {}) },
    orderBy: { id: 'asc' },
  });

describe('register', () => {
  test('creates an account with a trimmed, lower-cased email, signs in, and emits customer.created once', async () => {
    const r = await register({ email: '  Ada@Example.COM ', password: 'correct horse', firstName: 'Ada' });
    assert.equal(r.__typename, 'Session');
    assert.equal(r.customer.email, 'ada@example.com');
    assert.equal(r.customer.hasAccount, true);
    assert.match(r.accessToken, /^cgs_[A-Za-z0-9_-]{43}$/);
    const me = await t.gql(ME, {}, bearer(r.accessToken));
    assert.equal(me.data!.me.id, r.customer.id);
    assert.equal((await events('customer.created', r.customer.id)).length, 1);
    const row = await t.prisma.customer.findUniqueOrThrow({ where: { id: r.customer.id } });
    assert.match(row.passwordHash!, /^\$2[aby]\$04\$/, 'stored as a bcrypt hash');
    const session = await t.prisma.customerSession.findFirstOrThrow({ where: { customerId: r.customer.id } });
    assert.equal(session.tokenHash, sha256(r.accessToken), 'only the token hash is stored');
  });

  test('a guest with that email stays a guest: the account is a new row that sees none of its orders', async () => {
    const guest = await makeCustomer(t.prisma, { email: 'guest@example.com' });
    await makeOrder(t.prisma, guest.id, { email: 'guest@example.com' });
    const r = await register({ email: 'GUEST@example.com', password: 'password-1', firstName: 'Gus' });
    assert.notEqual(r.customer.id, guest.id);
    assert.equal(r.customer.firstName, 'Gus');
    const me = await t.gql(`{ me { orders { totalCount edges { node { id } } } } }`, {}, bearer(r.accessToken));
    assert.deepEqual(me.data!.me.orders, { totalCount: 0, edges: [] });
    assert.equal((await events('customer.created', r.customer.id)).length, 1);
    assert.equal((await t.prisma.customer.findUniqueOrThrow({ where: { id: guest.id } })).hasAccount, false);
  });

  test('an email that has an account gets EMAIL_TAKEN and changes nothing', async () => {
    await register({ email: 'taken@example.com', password: 'password-1' });
    const before = await t.prisma.outboxEvent.count();
    const r = await register({ email: 'Taken@Example.com', password: 'password-2' });
    assert.deepEqual(
      { type: r.__typename, code: r.code, field: r.field },
      { type: 'EmailTakenError', code: 'EMAIL_TAKEN', field: 'email' },
    );
    assert.equal(await t.prisma.customer.count({ where: { email: 'taken@example.com' } }), 1);
    assert.equal(await t.prisma.outboxEvent.count(), before, 'no event for a rolled-back change');
  });

  test('200 concurrent registrations of one email in different cases: exactly one account, the rest EMAIL_TAKEN', async () => {
    const cases = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0 ? 'Race@Example.com' : i % 3 === 1 ? 'race@example.com' : 'RACE@EXAMPLE.COM',
    );
    const results = await Promise.all(
      cases.map((email) => t.gql(REGISTER, { input: { email, password: 'password-1' } }, ANONYMOUS)),
    );
    assert.ok(
      results.every((r) => r.status === 200 && r.errors === undefined),
      JSON.stringify(results.find((r) => r.errors)),
    );
    const types = results.map((r) => r.data!.register.__typename);
    assert.equal(types.filter((x) => x === 'Session').length, 1);
    assert.equal(types.filter((x) => x === 'EmailTakenError').length, 199);
    assert.equal(await t.prisma.customer.count({ where: { email: 'race@example.com' } }), 1);
  });

  test('passwords are 8 to 72 bytes of UTF-8: 73 bytes is PASSWORD_TOO_LONG, never truncated', async () => {
    const e72 = 'é'.repeat(36);
    assert.equal(Buffer.byteLength(e72), 72);
    const ok = await register({ email: 'bytes72@example.com', password: e72 });
    assert.equal(ok.__typename, 'Session');
    const long = await register({ email: 'bytes73@example.com', password: `${e72}a` });
    assert.deepEqual(
      { type: long.__typename, code: long.code, field: long.field },
      { type: 'PasswordTooLongError', code: 'PASSWORD_TOO_LONG', field: 'password' },
    );
    const short = await register({ email: 'short@example.com', password: '1234567' });
    assert.deepEqual({ type: short.__typename, field: short.field }, { type: 'ValidationError', field: 'password' });
    // bcrypt alone would accept the 72-byte prefix of a longer password; we never see one.
    assert.equal((await login('bytes72@example.com', `${e72}zzz`)).__typename, 'InvalidCredentialsError');
    assert.equal(
      await t.prisma.customer.count({ where: { email: { in: ['bytes73@example.com', 'short@example.com'] } } }),
      0,
    );
  });

  test('a malformed email names the field', async () => {
    const r = await register({ email: 'not-an-email', password: 'password-1' });
    assert.deepEqual({ type: r.__typename, field: r.field }, { type: 'ValidationError', field: 'email' });
  });

  test('registration is rate-limited per client', async () => {
    const limited = await createTestApp({ settings: { registrationsPerClientPerHour: 3 } });
    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(
        (await limited.gql(REGISTER, { input: { email: `r${i}@example.com`, password: 'password-1' } }, ANONYMOUS))
          .data!.register,
      );
    }
    assert.deepEqual(
      results.map((r) => r.__typename),
      ['Session', 'Session', 'Session', 'RateLimitedError', 'RateLimitedError'],
    );
    assert.equal(results[3].code, 'RATE_LIMITED');
  });
});

describe('login and logout', () => {
  test('unknown email, guest email and wrong password get the identical answer', async () => {
    await register({ email: 'login@example.com', password: 'right-password' });
    await makeCustomer(t.prisma, { email: 'onlyguest@example.com' });
    const wrong = await login('login@example.com', 'wrong-password');
    const unknown = await login('nobody@example.com', 'wrong-password');
    const guest = await login('onlyguest@example.com', 'wrong-password');
    assert.equal(wrong.__typename, 'InvalidCredentialsError');
    assert.deepEqual(unknown, wrong);
    assert.deepEqual(guest, wrong);
    const ok = await login('  LOGIN@example.com ', 'right-password');
    assert.equal(ok.__typename, 'Session');
  });

  test('repeated failures for an email are throttled, and while blocked even the right password is refused', async () => {
    await register({ email: 'throttle@example.com', password: 'right-password' });
    for (let i = 0; i < 3; i++)
      assert.equal((await login('throttle@example.com', 'nope-nope')).__typename, 'InvalidCredentialsError');
    const blocked = await login('throttle@example.com', 'right-password');
    assert.equal(blocked.__typename, 'RateLimitedError');
    assert.equal(blocked.code, 'RATE_LIMITED');
    assert.ok(blocked.retryAfterSeconds > 0);
    // Another email is not blocked by this one (until the per-client limit).
    await register({ email: 'other@example.com', password: 'right-password' });
    assert.equal((await login('other@example.com', 'right-password')).__typename, 'Session');
  });

  test('repeated failures from one client across many emails are throttled', async () => {
    const app = await createTestApp({ settings: { loginFailuresPerClient: 4, loginFailuresPerEmail: 100 } });
    const types = [];
    for (let i = 0; i < 6; i++) {
      types.push(
        (await app.gql(LOGIN, { email: `spray${i}@example.com`, password: 'guess-guess' }, ANONYMOUS)).data!.login
          .__typename,
      );
    }
    assert.deepEqual(types, [
      'InvalidCredentialsError',
      'InvalidCredentialsError',
      'InvalidCredentialsError',
      'InvalidCredentialsError',
      'RateLimitedError',
      'RateLimitedError',
    ]);
  });

  test('logout revokes that session only', async () => {
    const r = await register({ email: 'logout@example.com', password: 'password-1' });
    const second = await login('logout@example.com', 'password-1');
    const out = await t.gql(`mutation { logout { ok } }`, {}, bearer(r.accessToken));
    assert.equal(out.data!.logout.ok, true);
    const ended = await t.gql(ME, {}, bearer(r.accessToken));
    assert.deepEqual([ended.status, ended.errors![0]!.extensions!.code], [401, 'UNAUTHENTICATED']);
    assert.equal((await t.gql(ME, {}, bearer(second.accessToken))).data!.me.id, r.customer.id);
  });

  test('an expired session is refused with 401 UNAUTHENTICATED, not read as anonymous', async () => {
    const r = await register({ email: 'expiring@example.com', password: 'password-1' });
    clock += 31 * 24 * 3_600_000;
    const expired = await t.gql(ME, {}, bearer(r.accessToken));
    assert.deepEqual(
      [expired.status, expired.data, expired.errors![0]!.extensions!.code],
      [401, undefined, 'UNAUTHENTICATED'],
    );
  });
});

describe('password reset', () => {
  const generate = (email: string) =>
    t.gql(
      `mutation($email: String!) { generatePasswordToken(email: $email) { __typename ... on OkPayload { ok } } }`,
      { email },
      ANONYMOUS,
    );
  async function tokenFor(customerId: string): Promise<string> {
    const all = await events('customer.password_reset', customerId);
    return (all.at(-1)!.payload as { token: string }).token;
  }

  test('answers the same for an account, a guest and an unknown email; only the account gets a token', async () => {
    const account = await register({ email: 'reset@example.com', password: 'old-password' });
    const guest = await makeCustomer(t.prisma, { email: 'resetguest@example.com' });
    const answers = [
      await generate('reset@example.com'),
      await generate('resetguest@example.com'),
      await generate('ghost@example.com'),
    ];
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    assert.deepEqual(answers[0]!.data, { generatePasswordToken: { __typename: 'OkPayload', ok: true } });
    assert.equal((await events('customer.password_reset', account.customer.id)).length, 1);
    assert.equal((await events('customer.password_reset', guest.id)).length, 0);
    const token = await tokenFor(account.customer.id);
    assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 random bits');
    const row = await t.prisma.passwordResetToken.findUniqueOrThrow({ where: { customerId: account.customer.id } });
    assert.equal(row.tokenHash, sha256(token), 'only the SHA-256 is stored');
    assert.equal(row.expiresAt.getTime() - row.createdAt.getTime(), 15 * 60_000);
  });

  test('one request a minute per customer; a new token replaces the old one', async () => {
    const account = await register({ email: 'again@example.com', password: 'old-password' });
    await generate('again@example.com');
    const first = await tokenFor(account.customer.id);
    await generate('again@example.com');
    assert.equal(
      (await events('customer.password_reset', account.customer.id)).length,
      1,
      'a second request within a minute is ignored',
    );
    clock += 61_000;
    await generate('again@example.com');
    const second = await tokenFor(account.customer.id);
    assert.notEqual(second, first);
    const old = await t.gql(
      RESET,
      { input: { email: 'again@example.com', token: first, password: 'new-password' } },
      ANONYMOUS,
    );
    assert.equal(old.data!.resetPassword.__typename, 'InvalidTokenError');
  });

  test('a reset sets the password, ends every session, and the token cannot be used twice', async () => {
    const account = await register({ email: 'flow@example.com', password: 'old-password' });
    const other = await login('flow@example.com', 'old-password');
    await generate('flow@example.com');
    const token = await tokenFor(account.customer.id);
    const r = await t.gql(RESET, { input: { email: 'FLOW@example.com', token, password: 'new-password' } }, ANONYMOUS);
    assert.equal(r.data!.resetPassword.__typename, 'CustomerPayload');
    assert.equal(r.data!.resetPassword.customer.id, account.customer.id);
    assert.equal((await login('flow@example.com', 'old-password')).__typename, 'InvalidCredentialsError');
    assert.equal((await login('flow@example.com', 'new-password')).__typename, 'Session');
    for (const old of [account.accessToken, other.accessToken]) {
      assert.equal(
        (await t.gql(ME, {}, bearer(old))).errors![0]!.extensions!.code,
        'UNAUTHENTICATED',
        'old sessions end',
      );
    }
    const again = await t.gql(
      RESET,
      { input: { email: 'flow@example.com', token, password: 'third-password' } },
      ANONYMOUS,
    );
    assert.equal(again.data!.resetPassword.__typename, 'InvalidTokenError');
    assert.equal((await login('flow@example.com', 'new-password')).__typename, 'Session');
  });

  test('two concurrent uses of one token: exactly one succeeds', async () => {
    const account = await register({ email: 'twice@example.com', password: 'old-password' });
    await generate('twice@example.com');
    const token = await tokenFor(account.customer.id);
    const [a, b] = await Promise.all(
      ['first-password', 'second-password'].map((password) =>
        t.gql(RESET, { input: { email: 'twice@example.com', token, password } }, ANONYMOUS),
      ),
    );
    const types = [a!.data!.resetPassword.__typename, b!.data!.resetPassword.__typename].sort();
    assert.deepEqual(types, ['CustomerPayload', 'InvalidTokenError']);
    const winner = a!.data!.resetPassword.__typename === 'CustomerPayload' ? 'first-password' : 'second-password';
    assert.equal((await login('twice@example.com', winner)).__typename, 'Session');
  });

  test('expired, wrong-email and malformed tokens get typed errors and change nothing', async () => {
    const account = await register({ email: 'expired@example.com', password: 'old-password' });
    await register({ email: 'someoneelse@example.com', password: 'old-password' });
    await generate('expired@example.com');
    const token = await tokenFor(account.customer.id);
    const wrongEmail = await t.gql(
      RESET,
      { input: { email: 'someoneelse@example.com', token, password: 'new-password' } },
      ANONYMOUS,
    );
    assert.deepEqual(wrongEmail.data!.resetPassword, {
      __typename: 'InvalidTokenError',
      code: 'INVALID_TOKEN',
      field: 'token',
    });
    for (const bad of ['', 'short', `${token}x`, token.replace(/./, (c) => (c === 'A' ? 'B' : 'A'))]) {
      const r = await t.gql(
        RESET,
        { input: { email: 'expired@example.com', token: bad, password: 'new-password' } },
        ANONYMOUS,
      );
      assert.equal(r.data!.resetPassword.__typename, 'InvalidTokenError', bad);
    }
    clock += 15 * 60_000 + 1;
    const expired = await t.gql(
      RESET,
      { input: { email: 'expired@example.com', token, password: 'new-password' } },
      ANONYMOUS,
    );
    assert.deepEqual(expired.data!.resetPassword, {
      __typename: 'TokenExpiredError',
      code: 'TOKEN_EXPIRED',
      field: 'token',
    });
    assert.equal((await login('expired@example.com', 'old-password')).__typename, 'Session', 'nothing changed');
    const tooLong = await t.gql(
      RESET,
      { input: { email: 'expired@example.com', token, password: 'x'.repeat(73) } },
      ANONYMOUS,
    );
    assert.equal(tooLong.data!.resetPassword.__typename, 'PasswordTooLongError');
  });
});

describe('updateMe', () => {
  const UPDATE = `mutation($input: UpdateMeInput!) { updateMe(input: $input) {
    __typename ... on CustomerPayload { customer { email firstName lastName phone companyName metadata } } ... on Error { code field }
  } }`;

  test('changes names, phone, company; merges metadata, a null key removes it; emits customer.updated', async () => {
    const s = await register({ email: 'me@example.com', password: 'password-1', metadata: { a: 1, b: 2 } });
    const r = await t.gql(
      UPDATE,
      {
        input: {
          firstName: ' Ada ',
          lastName: 'L',
          phone: '+45 1234',
          companyName: 'ACME',
          metadata: { b: null, c: 3 },
        },
      },
      bearer(s.accessToken),
    );
    assert.deepEqual(r.data!.updateMe.customer, {
      email: 'me@example.com',
      firstName: 'Ada',
      lastName: 'L',
      phone: '+45 1234',
      companyName: 'ACME',
      metadata: { a: 1, c: 3 },
    });
    const updated = await events('customer.updated', s.customer.id);
    assert.equal(updated.length, 1);
  });

  test('a session alone cannot move the email: updateMe has no email field (requestEmailChange does it)', async () => {
    const s = await register({ email: 'stays@example.com', password: 'password-1' });
    const r = await t.gql(UPDATE, { input: { email: 'thief@example.com' } }, bearer(s.accessToken));
    assert.equal(r.data, undefined);
    assert.match(r.errors![0]!.message, /"email" is not defined by type "UpdateMeInput"/);
    assert.equal(
      (await t.prisma.customer.findUniqueOrThrow({ where: { id: s.customer.id } })).email,
      'stays@example.com',
    );
  });

  test('a password change needs the current password and ends every other session', async () => {
    const s = await register({ email: 'change@example.com', password: 'password-1' });
    const other = await login('change@example.com', 'password-1');
    const wrong = await t.gql(
      UPDATE,
      { input: { password: { current: 'nope-nope', new: 'password-2' } } },
      bearer(s.accessToken),
    );
    assert.deepEqual(wrong.data!.updateMe, {
      __typename: 'InvalidCredentialsError',
      code: 'INVALID_CREDENTIALS',
      field: 'password.current',
    });
    const ok = await t.gql(
      UPDATE,
      { input: { password: { current: 'password-1', new: 'password-2' } } },
      bearer(s.accessToken),
    );
    assert.equal(ok.data!.updateMe.__typename, 'CustomerPayload');
    assert.equal(
      (await t.gql(ME, {}, bearer(s.accessToken))).data!.me.email,
      'change@example.com',
      'this session stays',
    );
    assert.equal(
      (await t.gql(ME, {}, bearer(other.accessToken))).errors![0]!.extensions!.code,
      'UNAUTHENTICATED',
      'others end',
    );
    assert.equal((await login('change@example.com', 'password-2')).__typename, 'Session');
  });

  test('a password change ends an outstanding reset token', async () => {
    const s = await register({ email: 'change-token@example.com', password: 'password-1' });
    await t.gql(
      `mutation { generatePasswordToken(email: "change-token@example.com") { ... on OkPayload { ok } } }`,
      {},
      ANONYMOUS,
    );
    const token = ((await events('customer.password_reset', s.customer.id))[0]!.payload as { token: string }).token;
    const ok = await t.gql(
      UPDATE,
      { input: { password: { current: 'password-1', new: 'password-2' } } },
      bearer(s.accessToken),
    );
    assert.equal(ok.data!.updateMe.__typename, 'CustomerPayload');
    const reset = await t.gql(
      RESET,
      { input: { email: 'change-token@example.com', token, password: 'password-3' } },
      ANONYMOUS,
    );
    assert.equal(reset.data!.resetPassword.__typename, 'InvalidTokenError');
    assert.equal((await login('change-token@example.com', 'password-2')).__typename, 'Session');
  });
});

describe('own addresses', () => {
  const ADD = `mutation($input: AddressInput!) { addMyAddress(input: $input) { __typename ... on AddressPayload { address { id isDefaultShipping isDefaultBilling city countryCode } } ... on Error { code field } } }`;
  const DEFAULTS = `{ me { defaultShippingAddress { id } defaultBillingAddress { id } addresses { totalCount } } }`;

  test('add, make default (the previous default is unset), update, delete (no default is promoted)', async () => {
    const s = await register({ email: 'addr@example.com', password: 'password-1' });
    const as = bearer(s.accessToken);
    const home = (
      await t.gql(
        ADD,
        { input: { city: 'Aarhus', countryCode: 'DK', isDefaultShipping: true, isDefaultBilling: true } },
        as,
      )
    ).data!.addMyAddress.address;
    assert.equal(home.countryCode, 'DK');
    const work = (await t.gql(ADD, { input: { city: 'Odense', countryCode: 'dk', isDefaultShipping: true } }, as)).data!
      .addMyAddress.address;
    let d = (await t.gql(DEFAULTS, {}, as)).data!.me;
    assert.deepEqual([d.defaultShippingAddress.id, d.defaultBillingAddress.id], [work.id, home.id]);
    const upd = await t.gql(
      `mutation($id: ID!) { updateMyAddress(id: $id, input: { isDefaultBilling: true, city: "Vejle" }) { ... on AddressPayload { address { city isDefaultBilling } } } }`,
      { id: work.id },
      as,
    );
    assert.deepEqual(upd.data!.updateMyAddress.address, { city: 'Vejle', isDefaultBilling: true });
    d = (await t.gql(DEFAULTS, {}, as)).data!.me;
    assert.equal(d.defaultBillingAddress.id, work.id);
    const del = await t.gql(
      `mutation($id: ID!) { deleteMyAddress(id: $id) { ... on DeletedPayload { deletedId } } }`,
      { id: work.id },
      as,
    );
    assert.equal(del.data!.deleteMyAddress.deletedId, work.id);
    d = (await t.gql(DEFAULTS, {}, as)).data!.me;
    assert.deepEqual(d, { defaultShippingAddress: null, defaultBillingAddress: null, addresses: { totalCount: 1 } });
    // ISO 3166-1 assigned codes only (UK is reserved, GB is the code), in either case.
    for (const countryCode of ['Denmark', 'xx', 'UK']) {
      const bad = await t.gql(ADD, { input: { countryCode } }, as);
      assert.deepEqual(
        bad.data!.addMyAddress,
        { __typename: 'ValidationError', code: 'VALIDATION', field: 'countryCode' },
        countryCode,
      );
    }
    const gb = await t.gql(ADD, { input: { countryCode: 'gB' } }, as);
    assert.equal(gb.data!.addMyAddress.address.countryCode, 'GB');
  });

  test('concurrent default changes leave exactly one default', async () => {
    const s = await register({ email: 'race-addr@example.com', password: 'password-1' });
    const as = bearer(s.accessToken);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.gql(ADD, { input: { city: `C${i}`, isDefaultShipping: true } }, as)),
    );
    assert.equal(await t.prisma.address.count({ where: { customerId: s.customer.id, isDefaultShipping: true } }), 1);
    assert.equal(await t.prisma.address.count({ where: { customerId: s.customer.id } }), 10);
  });

  test('at most 100 addresses per customer', async () => {
    const s = await register({ email: 'many@example.com', password: 'password-1' });
    await t.prisma.address.createMany({
      data: Array.from({ length: 100 }, (_, i) => ({
        id: `cuaddr_MANY${String(i).padStart(22, '0')}`,
        customerId: s.customer.id,
        city: `X${i}`,
      })),
    });
    const r = await t.gql(ADD, { input: { city: 'One too many' } }, bearer(s.accessToken));
    assert.deepEqual(r.data!.addMyAddress, { __typename: 'LimitExceededError', code: 'LIMIT_EXCEEDED', field: null });
  });
});
