import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../src/db/index.js';
import { maskError } from '../src/observability.js';
import { createTestApp, DATABASE_KIND, type TestApp } from './helpers.js';

// A database or driver failure that is not a domain error gets a typed answer, TIMEOUT (504) or
// SERVICE_UNAVAILABLE (503), never "Unexpected error.", and a valid batch is not cut by a
// transaction timeout of Prisma's own that knew nothing of the request's (REQUEST_TIMEOUT_MS).
// Failures are produced by a test-only trigger each test creates on its own database: a delay
// (pg_sleep) or an error with the SQLSTATE under test (RAISE … USING ERRCODE), so both databases
// produce them the same way.

const CREATE = `mutation($input: [CreateCustomerInput!]!) {
  createCustomers(input: $input) { __typename ... on CustomersPayload { customers { id } } ... on Error { code } }
}`;

/** Runs `fn` while every INSERT statement into customer first runs `body` (PL/pgSQL). */
async function withInsertTrigger<T>(prisma: Database['prisma'], body: string, fn: () => Promise<T>): Promise<T> {
  await prisma.$executeRawUnsafe(
    `CREATE OR REPLACE FUNCTION test_injected() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} RETURN NULL; END $$`,
  );
  await prisma.$executeRawUnsafe(
    'CREATE TRIGGER test_injected BEFORE INSERT ON customer FOR EACH STATEMENT EXECUTE FUNCTION test_injected()',
  );
  try {
    return await fn();
  } finally {
    await prisma.$executeRawUnsafe('DROP TRIGGER test_injected ON customer');
  }
}

let batches = 0;
const batch = (size: number) => {
  const n = ++batches;
  return Array.from({ length: size }, (_, i) => ({ email: `b${n}-${i}@example.com`, firstName: `F${i}` }));
};
const created = (t: TestApp, n: number) => t.prisma.customer.count({ where: { email: { startsWith: `b${n}-` } } });

// Longer than Prisma's default interactive transaction timeout (5,000 ms).
const PAST_PRISMA_DEFAULT = 'PERFORM pg_sleep(5.5);';

describe(`${DATABASE_KIND}: one transaction deadline, the request's`, async () => {
  const t = await createTestApp({ settings: { requestTimeoutMs: 30_000 } });
  const unbounded = await createTestApp({ settings: { requestTimeoutMs: 0 } });

  test('a batch of 5,000 (the largest allowed) whose transaction runs past 5 s, within REQUEST_TIMEOUT_MS (30 s): created', async () => {
    const input = batch(5_000);
    const r = await withInsertTrigger(t.prisma, PAST_PRISMA_DEFAULT, () => t.gql(CREATE, { input }));
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data!.createCustomers.__typename, 'CustomersPayload');
    assert.equal(r.data!.createCustomers.customers.length, 5_000);
    assert.equal(await created(t, batches), 5_000);
  });

  test('with REQUEST_TIMEOUT_MS=0, the same batch past 5 s: created', async () => {
    const input = batch(5_000);
    const r = await withInsertTrigger(unbounded.prisma, PAST_PRISMA_DEFAULT, () => unbounded.gql(CREATE, { input }));
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data!.createCustomers.customers.length, 5_000);
    assert.equal(await created(unbounded, batches), 5_000);
  });

  test('an interactive transaction past a tiny timeout: TIMEOUT, not "Unexpected error."', async () => {
    const error = await t.prisma
      .$transaction(
        async (tx) => {
          await sleep(300);
          await tx.$queryRaw`SELECT 1`;
        },
        { timeout: 50 },
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(error, 'the transaction expired');
    const masked = maskError(error, 'Unexpected error.') as {
      message: string;
      extensions?: { code?: string; http?: { status?: number } };
    };
    assert.equal(masked.extensions?.code, 'TIMEOUT', masked.message);
    assert.equal(masked.extensions?.http?.status, 504);
  });
});

describe(`${DATABASE_KIND}: each database failure, through a mutation`, async () => {
  const t = await createTestApp();
  // SQLSTATE, what it stands for, the answer.
  const cases: [string, string, 'TIMEOUT' | 'SERVICE_UNAVAILABLE'][] = [
    ['57014', 'statement timeout (query_canceled)', 'TIMEOUT'],
    ['55P03', 'lock timeout (lock_not_available)', 'TIMEOUT'],
    ['25P03', 'idle in transaction session timeout', 'TIMEOUT'],
    ['40001', 'serialization failure', 'SERVICE_UNAVAILABLE'],
    ['40P01', 'deadlock detected', 'SERVICE_UNAVAILABLE'],
    ['57P01', 'admin shutdown', 'SERVICE_UNAVAILABLE'],
    ['57P03', 'cannot connect now', 'SERVICE_UNAVAILABLE'],
    ['53300', 'too many connections', 'SERVICE_UNAVAILABLE'],
    ['53200', 'out of memory', 'SERVICE_UNAVAILABLE'],
    ['08006', 'connection failure', 'SERVICE_UNAVAILABLE'],
    ['58030', 'I/O error', 'SERVICE_UNAVAILABLE'],
  ];
  for (const [sqlstate, what, code] of cases) {
    test(`${sqlstate} ${what}: ${code} (HTTP ${code === 'TIMEOUT' ? 504 : 503}), nothing written`, async () => {
      const input = batch(3);
      const r = await withInsertTrigger(
        t.prisma,
        `RAISE EXCEPTION 'injected ${what}' USING ERRCODE = '${sqlstate}';`,
        () => t.gql(CREATE, { input }),
      );
      assert.deepEqual(
        r.errors?.map((e) => e.extensions?.code),
        [code],
        JSON.stringify(r.errors),
      );
      assert.equal(r.status, code === 'TIMEOUT' ? 504 : 503);
      assert.deepEqual(r.errors![0]!.path, ['createCustomers']);
      assert.doesNotMatch(r.errors![0]!.message, /injected/, 'the database message is not sent');
      assert.equal(await created(t, batches), 0);
    });
  }

  test('an error that is neither (a raised P0001): still masked as "Unexpected error."', async () => {
    const r = await withInsertTrigger(t.prisma, `RAISE EXCEPTION 'injected';`, () =>
      t.gql(CREATE, { input: batch(1) }),
    );
    assert.deepEqual(
      r.errors?.map((e) => [e.message, e.extensions?.code]),
      [['Unexpected error.', 'INTERNAL_SERVER_ERROR']],
    );
  });
});
