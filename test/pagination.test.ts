import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { newId } from '../src/lib/ids.js';
import { createTestApp, makeGroup, type TestApp } from './helpers.js';

const t: TestApp = await createTestApp();
const base = Date.parse('2026-01-01T00:00:00Z');
let customerIds: string[] = [];

before(async () => {
  // 120 customers, one second apart: newest first means index 119 comes first.
  await t.prisma.customer.createMany({
    data: Array.from({ length: 120 }, (_, i) => ({
      id: newId('Customer'),
      email: `page${String(i).padStart(3, '0')}@example.com`,
      createdAt: new Date(base + i * 1000),
    })),
  });
  customerIds = (await t.prisma.customer.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })).map(
    (c) => c.id,
  );
});

type Page = {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
};

async function page(args: Record<string, unknown>): Promise<Page> {
  const r = await t.gql(
    `query($first: Int, $after: String, $last: Int, $before: String) {
      customers(first: $first, after: $after, last: $last, before: $before) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }`,
    args,
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data!.customers;
}

const nodeIds = (p: Page) => p.edges.map((e) => e.node.id);

test('default page size is 15, with totalCount of all rows', async () => {
  const p = await page({});
  assert.equal(p.edges.length, 15);
  assert.equal(p.totalCount, 120);
  assert.deepEqual(nodeIds(p), customerIds.slice(0, 15));
  assert.equal(p.pageInfo.hasNextPage, true);
  assert.equal(p.pageInfo.hasPreviousPage, false);
});

test('first 100 is allowed; 101 is an error naming the argument', async () => {
  assert.equal((await page({ first: 100 })).edges.length, 100);
  const r = await t.gql(`{ customers(first: 101) { totalCount } }`);
  assert.equal(r.data, null);
  assert.equal(r.errors![0]!.extensions!.code, 'BAD_USER_INPUT');
  assert.equal(r.errors![0]!.extensions!.argumentName, 'first');
  assert.match(r.errors![0]!.message, /"first".*at most 100/);
  const last = await t.gql(`{ customers(last: 500) { totalCount } }`);
  assert.equal(last.errors![0]!.extensions!.argumentName, 'last');
});

test('nested connections have the same limit', async () => {
  const g = await makeGroup(t.prisma);
  const r = await t.gql(`query($id: ID!) { customerGroup(id: $id) { customers(first: 1000) { totalCount } } }`, {
    id: g.id,
  });
  assert.equal(r.errors![0]!.extensions!.argumentName, 'first');
});

test('forward pages with first/after walk every row exactly once', async () => {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const p: Page = await page({ first: 50, after });
    seen.push(...nodeIds(p));
    if (!p.pageInfo.hasNextPage) break;
    assert.equal(p.pageInfo.endCursor, p.edges.at(-1)!.cursor);
    after = p.pageInfo.endCursor;
  }
  assert.deepEqual(seen, customerIds);
});

test('backward pages with last/before', async () => {
  const tail = await page({ last: 10 });
  assert.deepEqual(nodeIds(tail), customerIds.slice(-10));
  assert.equal(tail.pageInfo.hasPreviousPage, true);
  assert.equal(tail.pageInfo.hasNextPage, false);
  const before = await page({ last: 10, before: tail.pageInfo.startCursor });
  assert.deepEqual(nodeIds(before), customerIds.slice(-20, -10));
});

test('a cursor stays on its row when rows are inserted before it (keyset, not offset)', async () => {
  const first = await page({ first: 10 });
  // Newer customers land at the front of the newest-first order.
  await t.prisma.customer.createMany({
    data: Array.from({ length: 5 }, (_, i) => ({
      id: newId('Customer'),
      email: `late${i}@example.com`,
      createdAt: new Date(base + 10_000_000 + i),
    })),
  });
  const second = await page({ first: 10, after: first.pageInfo.endCursor });
  assert.deepEqual(nodeIds(second), customerIds.slice(10, 20));
  await t.prisma.customer.deleteMany({ where: { email: { startsWith: 'late' } } });
});
