import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isEmpty, seed } from '../prisma/seed.js';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { migratedDatabase } from './helpers.js';

async function seeded(customers: number) {
  const db = await openDatabase({ ...(await migratedDatabase()), dataDir: 'memory://' });
  after(() => db.close());
  await migrate(db);
  assert.equal(await isEmpty(db.prisma), true);
  const result = await seed(db, { customers });
  assert.equal(await isEmpty(db.prisma), false);
  return { db, prisma: db.prisma, result };
}

test('the same options give the same rows, IDs and timestamps included', async () => {
  const a = await seeded(40);
  const b = await seeded(40);
  assert.deepEqual(a.result, b.result);
  const dump = async (p: typeof a.prisma) => ({
    customers: await p.customer.findMany({ orderBy: { id: 'asc' } }),
    addresses: await p.address.findMany({ orderBy: { id: 'asc' } }),
    memberships: await p.customerGroupCustomer.findMany({ orderBy: { id: 'asc' } }),
    orders: await p.order.findMany({ orderBy: { id: 'asc' }, include: { items: { orderBy: { id: 'asc' } } } }),
  });
  assert.deepEqual(await dump(a.prisma), await dump(b.prisma));
});

test('realistic shape: 1-3 addresses, at most one default of each kind, 0-10 orders with consistent totals', async () => {
  const { prisma, result } = await seeded(60);
  assert.equal(result.customers, 60);
  assert.equal(await prisma.customer.count(), 60);
  const customers = await prisma.customer.findMany({
    include: { addresses: true, orders: { include: { items: true } } },
  });
  for (const c of customers) {
    assert.equal(c.email, c.email.trim().toLowerCase());
    assert.ok(c.addresses.length >= 1 && c.addresses.length <= 3, `${c.addresses.length} addresses`);
    assert.ok(c.addresses.filter((a) => a.isDefaultShipping).length <= 1);
    assert.ok(c.addresses.filter((a) => a.isDefaultBilling).length <= 1);
    assert.ok(c.orders.length <= 10);
    assert.equal(c.hasAccount, c.passwordHash !== null);
    for (const o of c.orders) {
      assert.equal(
        o.subtotal,
        o.items.reduce((sum, i) => sum + BigInt(i.quantity) * i.unitPrice, 0n),
      );
      assert.equal(o.total, o.subtotal + o.taxTotal + o.shippingTotal - o.discountTotal);
      assert.ok(o.items.length >= 1);
    }
  }
  assert.ok(customers.some((c) => c.hasAccount) && customers.some((c) => !c.hasAccount));
  assert.ok((await prisma.customerGroup.count()) >= 3);
  assert.ok(result.orders > 0 && result.memberships > 0);
  const byNumber = await prisma.order.findMany({
    orderBy: { displayId: 'asc' },
    select: { displayId: true, createdAt: true },
  });
  assert.deepEqual(
    byNumber.map((o) => o.displayId),
    byNumber.map((_, i) => i + 1),
    'order numbers 1 to n',
  );
  assert.ok(
    byNumber.every((o, i) => i === 0 || byNumber[i - 1]!.createdAt <= o.createdAt),
    'numbered in time order',
  );
});

test('every column the seed fills has values: none is dropped on the way to COPY', async () => {
  const { prisma } = await seeded(80);
  const columns = await prisma.$queryRawUnsafe<{ table: string; column: string }[]>(
    `SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY ($1::text[]) ORDER BY 1, 2`,
    ['customer_group', 'customer', 'customer_group_customer', 'customer_address', 'order', 'order_line_item'],
  );
  const empty: string[] = [];
  for (const { table, column } of columns) {
    const [row] = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count("${column}")::int AS n FROM "${table}"`);
    if (row!.n === 0) empty.push(`${table}.${column}`);
  }
  assert.deepEqual(empty, EMPTY);
});

test('a seed sets indexes, foreign keys and triggers aside only inside its transaction; a failed seed leaves nothing', async () => {
  const { db, prisma, result } = await seeded(30);
  const checks = () =>
    prisma.$queryRawUnsafe<{ kind: string; definition: string }[]>(
      `SELECT 'index' AS kind, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema()
       UNION ALL SELECT 'constraint', conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
       UNION ALL SELECT 'trigger', tgname || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
       ORDER BY 1, 2`,
    );
  const before = await checks();
  assert.ok(
    before.some((c) => c.kind === 'trigger' && c.definition === 'order_follow_customer_merge O'),
    JSON.stringify(before),
  );
  assert.ok(before.filter((c) => c.kind === 'constraint' && c.definition.includes('FOREIGN KEY')).length >= 5);

  // The same seed again: every ID is taken, the load fails, and nothing of it stays.
  const counts = async () => [
    await prisma.customer.count(),
    await prisma.order.count(),
    await prisma.orderLineItem.count(),
  ];
  const rows = await counts();
  await assert.rejects(seed(db, { customers: 30 }));
  assert.deepEqual(await counts(), rows);
  assert.deepEqual(await checks(), before);

  // Another seed into the non-empty database (what --force does) adds to it, and the checks hold after.
  const more = await seed(db, { customers: 20, seed: 7 });
  assert.equal(await prisma.customer.count(), result.customers + more.customers);
  assert.deepEqual(await checks(), before);
  const orphans = await prisma.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM order_line_item i LEFT JOIN "order" o ON o.id = i.order_id WHERE o.id IS NULL`,
  );
  assert.equal(orphans[0]!.n, 0);
  const [numbers] = await prisma.$queryRawUnsafe<{ max: number; next: bigint }[]>(
    `SELECT max(display_id) AS max, nextval(pg_get_serial_sequence('"order"', 'display_id')) AS next FROM "order"`,
  );
  assert.equal(Number(numbers!.next), numbers!.max + 1, 'the next order gets the next number');
});

/** Columns the sample data leaves empty on purpose: nothing is deleted or merged, no email verified. */
const EMPTY = [
  'customer.deleted_at',
  'customer.email_verified_at',
  'customer.erased_at',
  'customer.merged_into_id',
  'customer_address.deleted_at',
  'customer_group.deleted_at',
  'customer_group_customer.deleted_at',
];

test('a seeded database has planner statistics and visibility maps at once: the seed vacuums and analyzes what it loaded', async () => {
  const { db } = await seeded(30);
  const [visible] = await db.prisma.$queryRaw<{ pages: number; visible: number }[]>`
    SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE relname = 'customer'`;
  assert.ok(
    visible!.pages > 0 && visible!.visible === visible!.pages,
    `all ${visible!.pages} pages of customer visible (${visible!.visible})`,
  );
  const analyzed = await db.prisma.$queryRaw<{ tablename: string }[]>`
    SELECT DISTINCT tablename::text FROM pg_stats WHERE schemaname = current_schema() ORDER BY 1`;
  const tables = analyzed.map((row) => row.tablename);
  for (const table of [
    'customer',
    'customer_address',
    'customer_group',
    'customer_group_customer',
    'order',
    'order_line_item',
  ]) {
    assert.ok(tables.includes(table), `no statistics for ${table} (have: ${tables.join(', ')})`);
  }
});
