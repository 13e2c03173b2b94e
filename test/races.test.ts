import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { ANONYMOUS, createTestApp } from './helpers.js';

// Many requests at once against one limit or one row: what arrives together must not slip past a
// check made before the write.

const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on Error { code }
} }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Error { code } } }`;
const GENERATE = `mutation($email: String!) { generatePasswordToken(email: $email) { ... on OkPayload { ok } } }`;

const tally = (types: string[]) => types.reduce<Record<string, number>>((n, type) => ({ ...n, [type]: (n[type] ?? 0) + 1 }), {});

describe('throttles under parallel requests', () => {
  test('12 parallel wrong-password logins for one email with a limit of 5: exactly 5 password checks, 7 RATE_LIMITED', async (tc) => {
    const t = await createTestApp({ settings: { loginFailuresPerEmail: 5, loginFailuresPerClient: 1000 } });
    await t.gql(REGISTER, { input: { email: 'burst@example.com', password: 'right-password' } }, ANONYMOUS);
    let checks = 0;
    const compare = bcrypt.compare;
    bcrypt.compare = ((...args: Parameters<typeof compare>) => (checks++, compare(...args))) as typeof compare;
    tc.after(() => void (bcrypt.compare = compare));
    const results = await Promise.all(
      Array.from({ length: 12 }, () => t.gql(LOGIN, { email: 'burst@example.com', password: 'wrong-password' }, ANONYMOUS)),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.login.__typename)), { InvalidCredentialsError: 5, RateLimitedError: 7 });
    assert.equal(checks, 5, 'bcrypt ran once per counted attempt');
  });

  test('40 parallel wrong logins from one client over many emails with a client limit of 30: exactly 30 checked', async () => {
    const t = await createTestApp({ settings: { loginFailuresPerEmail: 1000, loginFailuresPerClient: 30 } });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => t.gql(LOGIN, { email: `spray${i}@example.com`, password: 'wrong-password' }, ANONYMOUS)),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.login.__typename)), { InvalidCredentialsError: 30, RateLimitedError: 10 });
  });

  test('a successful login gives its count back: the email starts over, the client is not charged', async () => {
    const t = await createTestApp({ settings: { loginFailuresPerEmail: 3, loginFailuresPerClient: 3 } });
    await t.gql(REGISTER, { input: { email: 'often@example.com', password: 'right-password' } }, ANONYMOUS);
    const login = (password: string) => t.gql(LOGIN, { email: 'often@example.com', password }, ANONYMOUS).then((r) => r.data!.login.__typename);
    for (let i = 0; i < 10; i++) assert.equal(await login('right-password'), 'Session', `success ${i} is never throttled`);
    assert.equal(await login('wrong-password'), 'InvalidCredentialsError');
    assert.equal(await login('wrong-password'), 'InvalidCredentialsError');
    assert.equal(await login('right-password'), 'Session');
    // The client's count kept the two failures; the success took nothing.
    assert.equal(await login('wrong-password'), 'InvalidCredentialsError');
    assert.equal(await login('wrong-password'), 'RateLimitedError');
  });

  test('40 parallel registrations from one client with a limit of 30: exactly 30 accounts', async () => {
    const t = await createTestApp({ settings: { registrationsPerClientPerHour: 30 } });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => t.gql(REGISTER, { input: { email: `reg${i}@example.com`, password: 'password-1' } }, ANONYMOUS)),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.register.__typename)), { Session: 30, RateLimitedError: 10 });
    assert.equal(await t.prisma.customer.count(), 30);
  });

  test('20 parallel reset requests for one account: one token, one event', async () => {
    const t = await createTestApp();
    await t.gql(REGISTER, { input: { email: 'forgot@example.com', password: 'password-1' } }, ANONYMOUS);
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(GENERATE, { email: 'forgot@example.com' }, ANONYMOUS)));
    assert.ok(results.every((r) => r.data!.generatePasswordToken.ok === true));
    assert.equal(await t.prisma.outboxEvent.count({ where: { name: 'customer.password_reset' } }), 1);
    assert.equal(await t.prisma.passwordResetToken.count(), 1);
  });
});
