import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { type Database, openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { type App, createApp } from '../src/yoga.js';
import { ANONYMOUS, bearer, DATABASE_KIND, migratedDatabase } from './helpers.js';

// Every "at most N per period" rule, under a burst split between several instances of the service
// on one database (each with its own pool, as behind a load balancer): the count is decided by
// the database in one statement, never by a read in one instance before a write. On PGlite, one
// instance (one in-process database) with the same parallel requests.

const INSTANCES = DATABASE_KIND === 'postgres' ? 3 : 1;
let clock = Date.parse('2026-07-01T12:00:00Z');

const source = await migratedDatabase();
const apps: App[] = [];
const dbs: Database[] = [];
for (let i = 0; i < INSTANCES; i++) {
  const db = await openDatabase({ ...source, dataDir: 'memory://', poolSize: 4, connectTimeoutMs: 30_000 });
  after(() => db.close());
  if (i === 0) await migrate(db);
  dbs.push(db);
  apps.push(
    createApp({
      db,
      log: createLogger('silent'),
      now: () => new Date(clock),
      settings: {
        bcryptCost: 4,
        loginFailuresPerEmail: 5,
        loginFailuresPerClient: 30,
        registrationsPerClientPerHour: 30,
        trustProxy: true,
        sendVerificationOnRegister: false,
      },
    }),
  );
}
const prisma = dbs[0]!.prisma;

let turn = 0;
/** Sends to the instances in turn, as a round-robin load balancer does. */
async function gql<T>(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const app = apps[turn++ % apps.length]!;
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: T | null; errors?: unknown[] };
}

const from = (client: string) => ({ ...ANONYMOUS, 'x-forwarded-for': client });
const tally = (types: string[]) => {
  const n: Record<string, number> = {};
  for (const type of types) n[type] = (n[type] ?? 0) + 1;
  return n;
};
const burst = <T>(n: number, fn: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Session { accessToken customer { id } } ... on Error { code } } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { __typename } }`;

async function register(email: string, client: string) {
  const r = await gql<{ register: { __typename: string; accessToken: string; customer: { id: string } } }>(
    REGISTER,
    { input: { email, password: 'right-password' } },
    from(client),
  );
  assert.equal(r.data?.register?.__typename, 'Session', JSON.stringify(r));
  return { id: r.data!.register.customer.id, token: r.data!.register.accessToken };
}

const events = (name: string, key: string, id: string) =>
  prisma.outboxEvent.count({ where: { name, payload: { path: [key], equals: id } } });

describe(`${DATABASE_KIND}: at most N per period, under a burst over ${INSTANCES} instance(s)`, () => {
  test('requestEmailVerification, at most one a minute: 12 parallel requests send exactly 1 event, and a minute later 1 more', async () => {
    const { id, token } = await register('verify-burst@example.com', '10.9.0.1');
    const request = () =>
      gql<{ requestEmailVerification: { ok: boolean } }>(
        `mutation { requestEmailVerification { ... on OkPayload { ok } } }`,
        {},
        bearer(token),
      );
    const first = await burst(12, request);
    assert.ok(
      first.every((r) => r.data?.requestEmailVerification?.ok === true),
      JSON.stringify(first.find((r) => !r.data)),
    );
    assert.equal(await events('customer.email_verification_requested', 'customerId', id), 1);
    assert.equal(await prisma.emailVerificationToken.count({ where: { customerId: id } }), 1);

    clock += 30_000;
    await burst(12, request);
    assert.equal(await events('customer.email_verification_requested', 'customerId', id), 1, 'still within the minute');

    clock += 31_000;
    await burst(12, request);
    assert.equal(
      await events('customer.email_verification_requested', 'customerId', id),
      2,
      'one more after the minute',
    );
    assert.equal(await prisma.emailVerificationToken.count({ where: { customerId: id } }), 1);
  });

  test('generatePasswordToken, at most one a minute: 12 parallel requests make exactly 1 token and 1 event', async () => {
    const { id } = await register('reset-burst@example.com', '10.9.0.2');
    const results = await burst(12, () =>
      gql<{ generatePasswordToken: { ok: boolean } }>(
        `mutation($email: String!) { generatePasswordToken(email: $email) { ... on OkPayload { ok } } }`,
        { email: 'reset-burst@example.com' },
        from('10.9.0.2'),
      ),
    );
    assert.ok(results.every((r) => r.data?.generatePasswordToken?.ok === true));
    assert.equal(await events('customer.password_reset', 'id', id), 1);
    assert.equal(await prisma.passwordResetToken.count({ where: { customerId: id } }), 1);
  });

  test('LOGIN_FAILURES_PER_EMAIL 5: 12 parallel wrong logins for one email: exactly 5 password checks, 7 RateLimitedError', async (tc) => {
    await register('login-burst@example.com', '10.9.0.3');
    let checks = 0;
    const compare = bcrypt.compare;
    bcrypt.compare = ((...args: Parameters<typeof compare>) => {
      checks++;
      return compare(...args);
    }) as typeof compare;
    tc.after(() => {
      bcrypt.compare = compare;
    });
    // A client each, so that only the per-email limit applies.
    const results = await burst(12, (i) =>
      gql<{ login: { __typename: string } }>(
        LOGIN,
        { email: 'login-burst@example.com', password: 'wrong-password' },
        from(`10.9.1.${i}`),
      ),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.login.__typename)), {
      InvalidCredentialsError: 5,
      RateLimitedError: 7,
    });
    assert.equal(checks, 5);
  });

  test('LOGIN_FAILURES_PER_CLIENT 30: 40 parallel wrong logins from one client over many emails: exactly 30 checked', async () => {
    const results = await burst(40, (i) =>
      gql<{ login: { __typename: string } }>(
        LOGIN,
        { email: `spray-burst${i}@example.com`, password: 'wrong-password' },
        from('10.9.0.4'),
      ),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.login.__typename)), {
      InvalidCredentialsError: 30,
      RateLimitedError: 10,
    });
  });

  test('REGISTRATIONS_PER_CLIENT_PER_HOUR 30: 40 parallel registrations from one client: exactly 30 accounts', async () => {
    const results = await burst(40, (i) =>
      gql<{ register: { __typename: string } }>(
        REGISTER,
        { input: { email: `reg-burst${i}@example.com`, password: 'password-1' } },
        from('10.9.0.5'),
      ),
    );
    assert.deepEqual(tally(results.map((r) => r.data!.register.__typename)), { Session: 30, RateLimitedError: 10 });
    assert.equal(await prisma.customer.count({ where: { email: { startsWith: 'reg-burst' } } }), 30);
  });
});
