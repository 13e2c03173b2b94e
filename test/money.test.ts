import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'pg-sql2';
import { asciiUpper, currencyDigits } from '../src/lib/codes.js';
import { codeSql, formatMinorUnits, minorUnitsSql } from '../src/schema/money.js';
import { ADMIN, bearer, createTestApp, makeCustomer, makeOrder } from './helpers.js';

// Money and codes are written once per read path (money.ts): the TypeScript the Pothos path uses
// and the SQL the planner writes. These properties hold them to one answer on the real database,
// and the API shows an order of 100,000,000.00 exactly, on both paths.

const t = await createTestApp();

async function inSql<T>(fragment: ReturnType<typeof sql>): Promise<T> {
  const { text, values } = sql.compile(sql`SELECT ${fragment} AS v`);
  return (await t.db.query<{ v: T }>(text, values))[0]!.v;
}

test('minor units in a currency: the SQL and the TypeScript agree, digits as ISO 4217 says', async () => {
  assert.deepEqual(
    ['eur', 'JPY', 'kwd', 'clf', 'xyz'].map((code) => currencyDigits(code)),
    [2, 0, 3, 4, 2],
  );
  assert.equal(formatMinorUnits(10_000_000_000n, 'eur'), '100000000.00');
  assert.equal(formatMinorUnits(-5n, 'usd'), '-0.05');
  assert.equal(formatMinorUnits(1250n, 'jpy'), '1250');
  assert.equal(formatMinorUnits(1n, 'kwd'), '0.001');
  await fc.assert(
    fc.asyncProperty(
      fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
      fc.constantFrom('eur', 'USD', 'jpy', 'KWD', 'clf', 'huf', 'xyz', ''),
      async (minor, currency) => {
        const expected = formatMinorUnits(minor, currency);
        const got = await inSql<string>(minorUnitsSql(sql`${sql.value(String(minor))}::bigint`, sql.value(currency)));
        assert.equal(got, expected, `${minor} ${currency}`);
      },
    ),
    { numRuns: 200 },
  );
});

test('codes are shown upper-case the same way in SQL and TypeScript, whatever a row holds', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 6 }), async (value) => {
      fc.pre(!value.includes('\u0000'));
      assert.equal(await inSql<string>(codeSql(sql.value(value))), asciiUpper(value));
    }),
    { numRuns: 200 },
  );
});

test('an order of 100,000,000.00 and amounts in 0- and 3-digit currencies, exact on both read paths', async () => {
  const session = await t.gql(
    `mutation { register(input: { email: "rich@example.com", password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    { authorization: '' },
  );
  const customerId = session.data!.register.customer.id as string;
  const big = await makeOrder(t.prisma, customerId, {
    currencyCode: 'eur',
    subtotal: 10_000_000_000n,
    total: 10_000_000_000n,
    taxTotal: 0n,
    items: { create: [{ id: `ordli_${'B'.repeat(26)}`, title: 'Yacht', quantity: 2, unitPrice: 5_000_000_000n }] },
  });
  await makeOrder(t.prisma, customerId, { currencyCode: 'jpy', total: 1250n });
  await makeOrder(t.prisma, (await makeCustomer(t.prisma)).id, { currencyCode: 'kwd', total: 1234n });
  const query = `{ orders(first: 10) { edges { node { id currencyCode total { amount currencyCode } items { unitPrice { amount } total { amount } } } } } }`;
  const admin = await t.gql(query, {}, ADMIN);
  assert.equal(admin.errors, undefined, JSON.stringify(admin.errors));
  const byCurrency = Object.fromEntries(
    admin.data!.orders.edges.map((e: { node: { currencyCode: string; total: unknown } }) => [
      e.node.currencyCode,
      e.node.total,
    ]),
  );
  assert.deepEqual(byCurrency, {
    EUR: { amount: '100000000.00', currencyCode: 'EUR' },
    JPY: { amount: '1250', currencyCode: 'JPY' },
    KWD: { amount: '1.234', currencyCode: 'KWD' },
  });
  const yacht = admin.data!.orders.edges.find((e: { node: { id: string } }) => e.node.id === big.id).node.items[0];
  assert.deepEqual(yacht, { unitPrice: { amount: '50000000.00' }, total: { amount: '100000000.00' } });

  // The customer's own read (planned too) and node(id) on the loaders' path say the same.
  const token = session.data!.register.accessToken as string;
  const me = await t.gql(`{ me { orders(first: 5) { edges { node { id total { amount } } } } } }`, {}, bearer(token));
  assert.ok(
    me.data!.me.orders.edges.some(
      (e: { node: { id: string; total: { amount: string } } }) =>
        e.node.id === big.id && e.node.total.amount === '100000000.00',
    ),
  );
  const node = await t.gql(
    `query($id: ID!) { node(id: $id) { ... on Order { total { amount } items { total { amount currencyCode } } } } }`,
    { id: big.id },
    bearer(token),
  );
  assert.deepEqual(node.data!.node, {
    total: { amount: '100000000.00' },
    items: [{ total: { amount: '100000000.00', currencyCode: 'EUR' } }],
  });
});
