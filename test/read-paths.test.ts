import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { GraphQLInputObjectType } from 'graphql';
import { type Database, openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { foldCase } from '../src/lib/fold-case.js';
import { createLogger } from '../src/logger.js';
import type { PlanDecision } from '../src/planner/index.js';
import { schema } from '../src/schema/index.js';
import { type App, createApp } from '../src/yoga.js';
import {
  ADMIN,
  ADMIN_KEY,
  addToGroup,
  createTestApp,
  makeAddress,
  makeCustomer,
  makeGroup,
  makeOrder,
  migratedDatabase,
  SERVER_URL,
} from './helpers.js';

// What the filters, timestamps and time zones promise, on both read paths: every query runs planned
// and on the Pothos path, the bodies must be byte-identical, and the answer must be the rule's
// (checked against the rows, not only against the other path).

const t = await createTestApp();
const log = createLogger((process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent');
const adminKeys = [{ name: 'tests', key: ADMIN_KEY }];
const decisions: PlanDecision[] = [];
const pair = (db: Database) => ({
  planned: createApp({
    db,
    log,
    settings: { adminKeys, bcryptCost: 4, readPlanner: true },
    onPlan: (d) => decisions.push(d),
  }),
  plain: createApp({ db, log, settings: { adminKeys, bcryptCost: 4, readPlanner: false } }),
});
const apps = pair(t.db);

async function send(app: App, query: string, variables: Record<string, unknown>) {
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...ADMIN },
    body: JSON.stringify({ query, variables }),
  });
  return `${response.status} ${await response.text()}`;
}

interface Answer<T> {
  status: number;
  body: { data?: T; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
  wasPlanned: boolean;
}

/** The answer of both paths, which must be the same text; and whether the planner answered it. */
async function both<T = unknown>(
  query: string,
  variables: Record<string, unknown> = {},
  { planned, plain } = apps,
): Promise<Answer<T>> {
  decisions.length = 0;
  const ours = await send(planned, query, variables);
  const wasPlanned = decisions.length > 0 && decisions.every((d) => d.planned);
  const theirs = await send(plain, query, variables);
  assert.equal(
    ours,
    theirs,
    `planned (${wasPlanned}) and Pothos answers differ for\n${query}\n${JSON.stringify(variables)}`,
  );
  const space = ours.indexOf(' ');
  return {
    status: Number(ours.slice(0, space)),
    body: JSON.parse(ours.slice(space + 1)) as Answer<T>['body'],
    wasPlanned,
  };
}

/** `q` on one field, as docs/api.md says: a term of 1 or 2 characters matches its start, a longer one any part. */
const searched = (field: string, q: string) =>
  [...q].length < 3 ? foldCase(field).startsWith(foldCase(q)) : foldCase(field).includes(foldCase(q));

const groups: { id: string; name: string; createdAt: Date; updatedAt: Date }[] = [];
const customers: { id: string; email: string; hasAccount: boolean; createdAt: Date; groupIds: string[] }[] = [];

before(async () => {
  const p = t.prisma;
  const names = [
    'VIP',
    'Loyalty Bronze',
    'Newsletter',
    'Early Adopters',
    'Wholesale',
    '100% Off_Club',
    'back\\slash',
    'ÆBLEGRØD',
    'İstanbul',
  ];
  for (const [i, name] of names.entries()) {
    const at = new Date(Date.UTC(2026, 0, 1 + i));
    groups.push(await makeGroup(p, { name, createdAt: at, updatedAt: new Date(Date.UTC(2026, 1, 1 + (i % 3))) }));
  }
  // Emails as an import may have left them: not lower-cased, with LIKE's wildcards and escapes.
  const emails = [
    'Per%cent@Example.com',
    'perXcent@example.com',
    'under_score@example.com',
    'underXscore@example.com',
    'back\\slash@example.com',
    'ÆBLE@example.dk',
    'İpek@example.com.tr',
    'plain@example.com',
  ];
  for (const [i, email] of emails.entries()) {
    const phone = i % 3 === 0 ? null : `+45 12 34 56 ${70 + (i % 4)}`;
    const c = await makeCustomer(p, {
      email,
      hasAccount: i % 2 === 0,
      // Accounts: enabled, invited (no password), disabled, enabled.
      passwordHash: i % 2 === 0 && i % 8 !== 2 ? '$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnotar' : null,
      disabledAt: i === 4 ? new Date(Date.UTC(2026, 5, 1)) : null,
      tags: [['VIP', 'Wholesale'], ['vip'], [], ['Newsletter', 'wholesale', 'İstanbul']][i % 4],
      emailMarketingState: ['SUBSCRIBED', 'NOT_SUBSCRIBED', 'UNSUBSCRIBED', 'PENDING'][i % 4],
      smsMarketingState: i % 3 ? 'NOT_SUBSCRIBED' : 'PENDING',
      phone,
      phoneE164: phone?.replaceAll(' ', '') ?? null,
      createdAt: new Date(Date.UTC(2026, 2, 1 + i)),
      updatedAt: new Date(Date.UTC(2026, 3, 1 + (i % 3))),
    });
    const mine = groups.filter((_, g) => (g + i) % 3 === 0);
    for (const g of mine) await addToGroup(p, c.id, g.id);
    customers.push({
      id: c.id,
      email,
      hasAccount: i % 2 === 0,
      createdAt: c.createdAt,
      groupIds: mine.map((g) => g.id),
    });
    await makeAddress(p, c.id, {
      city: ['São_Paulo', 'SÃO%PAULO', 'Ærøskøbing', 'back\\slash'][i % 4],
      countryCode: i % 3 ? 'dk' : 'se',
      postalCode: `${2000 + (i % 2)}`,
    });
    await makeOrder(p, c.id, {
      email,
      status: (['pending', 'completed', 'canceled'] as const)[i % 3],
      fulfillmentStatus: i % 2 ? 'shipped' : 'not_fulfilled',
      paymentStatus: i % 4 ? 'captured' : 'not_paid',
      currencyCode: i % 2 ? 'usd' : 'eur',
      regionId: i % 3 ? 'reg_eu' : null,
      cartId: `cart_${i % 4}`,
      canceledAt: i % 3 === 2 ? new Date(Date.UTC(2026, 4, i)) : null,
      createdAt: new Date(Date.UTC(2026, 2, 1 + i)),
      updatedAt: new Date(Date.UTC(2026, 3, 1 + (i % 3))),
    });
  }
});

test('exact filters are exact: %, _ and \\ are themselves, case is folded, a trailing backslash is no error', async () => {
  const count = async (query: string, variables: Record<string, unknown>) => {
    const { status, body, wasPlanned } = await both(query, variables);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined);
    assert.ok(wasPlanned, `not planned: ${query}`);
    return Object.values(body.data as Record<string, { totalCount: number }>)[0]!.totalCount;
  };
  const byEmail = (value: string) =>
    count('query($v: String!) { customers(filter: { email: $v }) { totalCount } }', { v: value });
  assert.equal(await byEmail('%'), 0);
  assert.equal(await byEmail('_%'), 0);
  assert.equal(await byEmail('per%cent@example.COM'), 1);
  assert.equal(await byEmail('under_score@example.com'), 1);
  assert.equal(await byEmail('BACK\\slash@example.com'), 1);
  assert.equal(await byEmail('back\\'), 0);
  assert.equal(await byEmail('æble@EXAMPLE.dk'), 1);
  assert.equal(await byEmail('ipek@example.com.tr'), 1, 'İ folds to i');
  const orders = (value: string) =>
    count('query($v: String!) { orders(filter: { email: $v }) { totalCount } }', { v: value });
  assert.equal(await orders('%'), 0);
  assert.equal(await orders('PER%CENT@example.com'), 1);
  assert.equal(await orders('\\'), 0);
  const cities = (value: string) =>
    count('query($v: String!) { addresses(filter: { city: $v }) { totalCount } }', { v: value });
  assert.equal(await cities('_'), 0);
  assert.equal(await cities('são_paulo'), 2);
  assert.equal(await cities('são%paulo'), 2);
  assert.equal(await cities('SÃO_PAULO'), 2);
  assert.equal(await cities('ærøskøbing'), 2);
  assert.equal(await cities('back\\SLASH'), 2);
  const named = (value: string[]) =>
    count('query($v: [String!]) { customerGroups(filter: { name: $v }) { totalCount } }', { v: value });
  assert.equal(await named(['%']), 0);
  assert.equal(await named(['vip', 'loYAlTY bRonZE']), 2);
  assert.equal(await named(['100% off_club', 'BACK\\SLASH', 'æblegrød', 'istanbul']), 4);
});

test('fold_case in the database folds every code point as foldCase does', async () => {
  // The code points either side may change: those foldCase changes, and those in fold_case's table
  // (read from the function itself); every other one both leave alone. Plus a sample of the rest.
  const [source] = await t.db.query<{ src: string }>(
    `SELECT prosrc AS src FROM pg_proc WHERE proname = 'fold_case'`,
    [],
  );
  const table = /translate\(lower\(\$1 COLLATE "C"\), '([^']*)'/.exec(source!.src)?.[1];
  assert.ok(table && [...table].length > 1000, 'fold_case translates by its table');
  const chars = new Set<string>([...table]);
  for (let cp = 1; cp <= 0x10ffff; cp++) {
    const char = cp < 0xd800 || cp > 0xdfff ? String.fromCodePoint(cp) : '';
    if (char && (foldCase(char) !== char || cp % 97 === 0)) chars.add(char);
  }
  const [row] = await t.db.query<{ folded: string[] }>(
    'SELECT array_agg(fold_case(c) ORDER BY i) AS folded FROM unnest($1::text[]) WITH ORDINALITY AS u(c, i)',
    [[...chars]],
  );
  const differ = [...chars]
    .filter((c, i) => row!.folded[i] !== foldCase(c))
    .map((c) => `U+${c.codePointAt(0)!.toString(16)}`);
  assert.deepEqual(differ.slice(0, 20), [], `${differ.length} code points fold differently`);
  // And whole strings, as the filters fold them.
  const samples = fc.sample(
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\u0000', '')),
    2_000,
  );
  const [strings] = await t.db.query<{ folded: string[] }>(
    'SELECT array_agg(fold_case(c) ORDER BY i) AS folded FROM unnest($1::text[]) WITH ORDINALITY AS u(c, i)',
    [samples],
  );
  assert.deepEqual(strings!.folded, samples.map(foldCase));
});

test('every timestamp column holds years 1 to 9999 only: infinity, year 10000 and BC are refused by the database', async () => {
  const columns = await t.db.query<{ table_name: string; column_name: string; checked: boolean }>(
    `SELECT c.table_name::text, c.column_name::text, EXISTS (
       SELECT 1 FROM pg_constraint k
       WHERE k.conrelid = format('%I', c.table_name)::regclass AND k.contype = 'c'
         AND k.conname = c.table_name || '_' || c.column_name || '_in_range') AS checked
     FROM information_schema.columns c
     JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND tb.table_type = 'BASE TABLE'
       AND c.data_type = 'timestamp with time zone' AND c.table_name <> '_prisma_migrations'`,
    [],
  );
  assert.ok(columns.length >= 20, `${columns.length} timestamp columns`);
  assert.deepEqual(
    columns.filter((c) => !c.checked).map((c) => `${c.table_name}.${c.column_name}`),
    [],
  );
  const customer = customers[0]!.id;
  for (const value of [
    'infinity',
    '-infinity',
    '10000-01-01T00:00:00Z',
    '0044-03-15T00:00:00Z BC',
    '0001-12-31T23:59:59.999Z BC',
    '10000-01-01T00:00:00-01:00',
  ]) {
    for (const column of ['created_at', 'updated_at', 'deleted_at', 'email_verified_at']) {
      await assert.rejects(
        t.db.query(`UPDATE customer SET ${column} = $1::timestamptz WHERE id = $2`, [value, customer]),
        (error: Error & { code?: string; cause?: { code?: string } }) =>
          /check constraint|23514/.test(`${error.message} ${error.code} ${error.cause?.code}`),
        `${column} = ${value}`,
      );
    }
  }
  await assert.rejects(
    t.db.query(`UPDATE "order" SET canceled_at = 'infinity' WHERE email = $1`, [customers[0]!.email]),
    /check constraint/,
  );
});

test('the first and last instants of the range read, filter and page alike on both paths', async () => {
  const first = await makeCustomer(t.prisma, { email: 'first-instant@example.com' });
  const last = await makeCustomer(t.prisma, { email: 'last-instant@example.com' });
  await t.db.query(
    `UPDATE customer SET created_at = '0001-01-01T00:00:00Z', updated_at = '9999-12-31T23:59:59.999Z' WHERE id = $1`,
    [first.id],
  );
  await t.db.query(
    `UPDATE customer SET created_at = '9999-12-31T23:59:59.999Z', deleted_at = '0001-01-01T00:00:00Z' WHERE id = $1`,
    [last.id],
  );
  for (const direction of ['ASC', 'DESC']) {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      type Page = { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      // Annotated rather than `both<…>(…)`: `after` comes from the last answer, a cycle TS cannot type.
      const { body }: Answer<{ customers: Page }> = await both(
        `query($after: String) { customers(first: 3, after: $after, withDeleted: true, orderBy: { field: CREATED_AT, direction: ${direction} }) {
           pageInfo { hasNextPage endCursor } edges { cursor node { id createdAt updatedAt deletedAt } } } }`,
        { after },
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const { edges, pageInfo } = body.data!.customers;
      seen.push(...edges.map((e) => e.node.id));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    assert.equal(new Set(seen).size, seen.length, 'no row twice');
    assert.equal(seen.length, customers.length + 2);
    assert.equal(seen[direction === 'ASC' ? 0 : seen.length - 1], first.id);
    assert.equal(seen[direction === 'ASC' ? seen.length - 1 : 0], last.id);
  }
  const { body } =
    await both(`{ customers(withDeleted: true, filter: { createdAt: { lte: "0001-01-01T00:00:00Z" } }) { edges { node { createdAt updatedAt } } }
    later: customers(withDeleted: true, filter: { createdAt: { gt: "9999-12-31T23:59:59.998Z" } }) { edges { node { createdAt deletedAt } } } }`);
  assert.deepEqual(body.data, {
    customers: { edges: [{ node: { createdAt: '0001-01-01T00:00:00.000Z', updatedAt: '9999-12-31T23:59:59.999Z' } }] },
    later: { edges: [{ node: { createdAt: '9999-12-31T23:59:59.999Z', deletedAt: '0001-01-01T00:00:00.000Z' } }] },
  });
  await t.prisma.customer.deleteMany({ where: { id: { in: [first.id, last.id] } } });
});

/** A migrated database whose default TimeZone is far from UTC (+05:45), opened anew so that its sessions start with it. */
async function farFromUtc(): Promise<Database> {
  const setZone = `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'Asia/Kathmandu'); END $$`;
  if (SERVER_URL) {
    const source = await migratedDatabase();
    const setup = await openDatabase({ ...source, poolSize: 1 });
    await setup.query(setZone, []);
    await setup.close();
    // A URL that sets session options of its own keeps them, and the zone stays pinned.
    const url = new URL(source.url!);
    url.searchParams.set('options', '-c application_name=cg-zone-test -c TimeZone=Asia/Kathmandu');
    return openDatabase({ url: url.toString(), poolSize: 3, statementEvents: true });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-kathmandu-'));
  const setup = await openDatabase({ ...(await migratedDatabase()), dataDir });
  await setup.query(setZone, []);
  await setup.close();
  return openDatabase({ dataDir, statementEvents: true });
}

test('on a database whose TimeZone is Asia/Kathmandu, reads, writes, filters, cursors and defaults are UTC on both paths', async () => {
  const db = await farFromUtc();
  after(() => db.close());
  await migrate(db);
  const [setting] = await db.query<{ zone: string }>(
    `SELECT s.setconfig::text AS zone FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()`,
    [],
  );
  assert.match(setting!.zone, /Asia\/Kathmandu/, 'the database default is set');
  for (const zone of [
    await db.query<{ z: string }>('SHOW TimeZone', []).then((r) => Object.values(r[0]!)[0]),
    await db.prisma.$queryRawUnsafe<Record<string, string>[]>('SHOW TimeZone').then((r) => Object.values(r[0]!)[0]),
    await db.queryClient.query({ text: 'SHOW TimeZone' }).then((r) => Object.values(r.rows[0] as object)[0]),
  ]) {
    assert.equal(zone, 'UTC');
  }
  if (SERVER_URL) {
    const [name] = await db.query<{ application_name: string }>('SHOW application_name', []);
    assert.equal(name!.application_name, 'cg-zone-test', "the URL's own options are kept");
  }
  const zoned = pair(db);
  // Written by SQL with an explicit offset, by Prisma from a Date, and by the column's default.
  const bySql = await makeCustomer(db.prisma, { email: 'by-sql@example.com' });
  await db.query(`UPDATE customer SET created_at = '2026-06-01T12:00:00+00' WHERE id = $1`, [bySql.id]);
  const byPrisma = await makeCustomer(db.prisma, {
    email: 'by-prisma@example.com',
    createdAt: new Date('2026-06-01T12:00:00.001Z'),
  });
  const [written] = await db.query<{ at: string }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at FROM customer WHERE id = $1`,
    [byPrisma.id],
  );
  assert.equal(written!.at, '2026-06-01T12:00:00.001', 'Prisma wrote the instant it was given');
  await db.query(
    `INSERT INTO customer (id, email) VALUES ('cus_01KDEFAULTZONE0000000000000', 'by-default@example.com')`,
    [],
  );
  const [defaulted] = await db.query<{ at: string; age: number }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, extract(epoch FROM now() - created_at)::float8 AS age FROM customer WHERE email = 'by-default@example.com'`,
    [],
  );
  assert.ok(Math.abs(defaulted!.age) < 60);

  const { body } = await both<{
    customers: { edges: { cursor: string; node: { email: string; createdAt: string } }[] };
    at: unknown;
  }>(
    `{ customers(first: 10, orderBy: { field: CREATED_AT }) { edges { cursor node { email createdAt } } }
       at: customers(filter: { createdAt: { gte: "2026-06-01T12:00:00Z", lt: "2026-06-01T12:00:00.001Z" } }) { totalCount edges { node { email } } } }`,
    {},
    zoned,
  );
  const edges = body.data!.customers.edges;
  assert.deepEqual(
    edges.map((e) => [e.node.email, e.node.createdAt]),
    [
      ['by-sql@example.com', '2026-06-01T12:00:00.000Z'],
      ['by-prisma@example.com', '2026-06-01T12:00:00.001Z'],
      ['by-default@example.com', defaulted!.at],
    ],
  );
  assert.deepEqual(body.data!.at, { totalCount: 1, edges: [{ node: { email: 'by-sql@example.com' } }] });
  const next = await both<{ customers: { edges: { node: { email: string } }[] } }>(
    'query($after: String) { customers(first: 10, after: $after, orderBy: { field: CREATED_AT }) { edges { node { email } } } }',
    { after: edges[0]!.cursor },
    zoned,
  );
  assert.deepEqual(
    next.body.data!.customers.edges.map((e) => e.node.email),
    ['by-prisma@example.com', 'by-default@example.com'],
  );
});

test("one request's errors come in one order, by path, however its fields settle", async () => {
  const odd = await makeCustomer(t.prisma, { email: 'odd-metadata@example.com', metadata: [1, 2] });
  try {
    // `a` fails after its statement, `z` before any: execution records `z` first.
    const query = `{ a: customers(first: 100, filter: { email: "odd-metadata@example.com" }) { edges { node { metadata } } }
      m: customer(id: "cusgroup_1") { id }
      z: order(id: "cus_1") { id } }`;
    const first = await both(query);
    const paths = first.body.errors!.map((e: { path?: (string | number)[] }) => (e.path ?? []).join('.'));
    assert.deepEqual(paths, [...paths].sort(), 'by path');
    assert.equal(paths.length, 3, JSON.stringify(first.body));
    assert.equal(paths[0], 'a.edges.0.node.metadata');
    for (let i = 0; i < 10; i++) assert.deepEqual((await both(query)).body, first.body);
  } finally {
    await t.prisma.customer.delete({ where: { id: odd.id } });
  }
});

test('text holding NUL is refused the same way on both paths, in every exact filter and search; a search term any control character', async () => {
  for (const [query, variables] of [
    ['query($v: String!) { customers(filter: { email: $v }) { totalCount } }', { v: 'a\u0000b@example.com' }],
    ['query($v: [String!]) { customerGroups(filter: { name: $v }) { totalCount } }', { v: ['VIP', 'x\u0000'] }],
    ['query($v: String!) { addresses(filter: { city: $v }) { totalCount } }', { v: '\u0000' }],
    ['{ orders(filter: { q: "a\\u0000" }) { totalCount } }', {}],
  ] as const) {
    const { body } = await both(query, variables);
    assert.equal(body.data, undefined, query);
    assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(body));
  }
  // U+001F separates the fields of addresses' search column: a term holding it could span two.
  for (const [list, q] of [
    ['addresses', 'main\u001fst'],
    ['customers', 'a\tb'],
    ['orders', '\u007f'],
  ]) {
    const { body } = await both(`query($q: String!) { ${list}(filter: { q: $q }) { totalCount } }`, { q });
    assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(body));
    assert.equal(body.errors?.[0]?.extensions?.argumentName, 'filter.q');
  }
});

test('q: one or two characters match the start of a field, more any part; wildcards are literal; over 100 characters is bad input', async () => {
  const search = async (q: string) => {
    const { body, wasPlanned } = await both<{ customers: { edges: { node: { email: string } }[] } }>(
      'query($q: String!) { customers(first: 100, filter: { q: $q }) { totalCount edges { node { email } } } }',
      { q },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.ok(wasPlanned, `q ${q} planned`);
    return body.data!.customers.edges.map((e) => e.node.email).sort();
  };
  const emails = customers.map((c) => c.email);
  const starting = (prefix: string) => emails.filter((e) => foldCase(e).startsWith(foldCase(prefix)));
  const containing = (part: string) => emails.filter((e) => foldCase(e).includes(foldCase(part)));
  // The factories' names are First<n>/Last<n>: neither starts with nor holds these.
  assert.deepEqual(await search('pe'), starting('pe').sort());
  assert.deepEqual(await search('UN'), starting('un').sort());
  assert.deepEqual(await search('er'), [], 'two characters inside a field match nothing');
  assert.deepEqual(await search('%'), []);
  assert.deepEqual(await search('_s'), []);
  assert.deepEqual(await search('rXc'), containing('rxc').sort());
  assert.deepEqual(await search('r_s'), containing('r_s').sort());
  assert.deepEqual(await search('@example.com'), containing('@example.com').sort());
  const long = 'x'.repeat(100);
  assert.deepEqual(await search(long), []);
  const refused = await both('query($q: String!) { customers(filter: { q: $q }) { totalCount } }', { q: `${long}x` });
  assert.equal(refused.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.equal(refused.body.errors?.[0]?.extensions?.argumentName, 'filter.q');
});

/** Whether `at` lies in a DateTimeFilter given as strings. */
const inRange = (at: Date | null, range: Record<string, string>) =>
  at !== null &&
  Object.entries(range).every(([op, bound]) => {
    const [x, y] = [at.getTime(), Date.parse(bound)];
    return op === 'gt' ? x > y : op === 'gte' ? x >= y : op === 'lt' ? x < y : x <= y;
  });

/**
 * Every pair of a filter's fields, each with each of its values, on both paths, against the rows.
 * The fields come from the schema: a filter field added without values here fails the test.
 */
async function everyPair<Row extends { id: string }>(options: {
  filterType: string;
  list: string;
  values: Record<string, unknown[]>;
  rows: Row[];
  holds: (row: Row, field: string, value: unknown) => boolean;
}) {
  const type = schema.getType(options.filterType) as GraphQLInputObjectType;
  assert.deepEqual(
    Object.keys(options.values).sort(),
    Object.keys(type.getFields()).sort(),
    `values for every field of ${options.filterType}`,
  );
  const keys = Object.keys(options.values);
  const query = `query($f: ${options.filterType}) { ${options.list}(filter: $f, first: 100) { totalCount edges { node { id } } } }`;
  const reads: { filter: Record<string, unknown>; body: string }[] = [];
  for (const [i, a] of keys.entries()) {
    for (const b of keys.slice(i + 1)) {
      for (const va of options.values[a]!) {
        for (const vb of options.values[b]!) {
          const filter = { [a]: va, [b]: vb };
          const { body } = await both<Record<string, { totalCount: number; edges: { node: { id: string } }[] }>>(
            query,
            {
              f: filter,
            },
          );
          assert.equal(body.errors, undefined, `${JSON.stringify(filter)}: ${JSON.stringify(body.errors)}`);
          const expected = options.rows
            .filter((row) => options.holds(row, a, va) && options.holds(row, b, vb))
            .map((row) => row.id)
            .sort();
          assert.deepEqual(
            body.data![options.list]!.edges.map((e) => e.node.id).sort(),
            expected,
            JSON.stringify(filter),
          );
          assert.equal(body.data![options.list]!.totalCount, expected.length);
          reads.push({ filter, body: JSON.stringify(body) });
        }
      }
    }
  }
  return { query, reads };
}

test('every pair of every group, customer, order and address filter field (read from the schema) answers what the rows say', async () => {
  await everyPair({
    filterType: 'CustomerGroupFilter',
    list: 'customerGroups',
    rows: await t.prisma.customerGroup.findMany({ where: { deletedAt: null } }),
    values: {
      q: ['Y', 'Er', '%', 'æble'],
      name: [['vip', 'loYAlTY bRonZE'], ['NEWSLETTER', 'early adopters', 'Wholesale'], ['100% OFF_CLUB']],
      ids: [[groups[0]!.id, groups[2]!.id, groups[5]!.id]],
      createdAt: [{ gte: '2026-01-03T00:00:00Z', lt: '2026-01-07T00:00:00Z' }],
      updatedAt: [{ gt: '2026-02-01T00:00:00Z' }],
    },
    holds: (g, field, value) => {
      if (field === 'q') return searched(g.name, value as string);
      if (field === 'name') return (value as string[]).some((n) => foldCase(n) === foldCase(g.name));
      if (field === 'ids') return (value as string[]).includes(g.id);
      return inRange(field === 'createdAt' ? g.createdAt : g.updatedAt, value as Record<string, string>);
    },
  });
  const people = await t.prisma.customer.findMany({ where: { deletedAt: null } });
  const memberships = await t.prisma.customerGroupCustomer.findMany({ where: { deletedAt: null } });
  await everyPair({
    filterType: 'CustomerFilter',
    list: 'customers',
    rows: people,
    values: {
      q: ['cent', 'un', 'zzqxv'],
      email: ['PER%CENT@example.com', 'underXscore@EXAMPLE.com'],
      phone: ['+45 12 34 56 71', '+4512345673'],
      hasAccount: [true, false],
      groupIds: [[groups[0]!.id], [groups[1]!.id, groups[4]!.id]],
      createdAt: [{ gte: '2026-03-02T00:00:00Z', lt: '2026-03-06T00:00:00Z' }],
      updatedAt: [{ gt: '2026-04-01T00:00:00Z' }],
      tags: [
        { any: ['vip', 'NEWSLETTER'] },
        { all: ['VIP', 'wholesale'] },
        { none: ['vip'] },
        { any: ['Wholesale'], none: ['vip'], all: ['istanbul'] },
      ],
      accountState: [['ENABLED'], ['DISABLED', 'INVITED']],
      emailMarketingState: [['SUBSCRIBED'], ['NOT_SUBSCRIBED', 'PENDING']],
      smsMarketingState: [['PENDING']],
    },
    holds: (c, field, value) => {
      if (field === 'tags') {
        const has = (tag: string) => c.tags.some((mine) => foldCase(mine) === foldCase(tag));
        const { any, all, none } = value as Record<string, string[] | undefined>;
        return (!any || any.some(has)) && (!all || all.every(has)) && !none?.some(has);
      }
      if (field === 'accountState') return c.accountState !== null && (value as string[]).includes(c.accountState);
      if (field === 'emailMarketingState') return (value as string[]).includes(c.emailMarketingState);
      if (field === 'smsMarketingState') return (value as string[]).includes(c.smsMarketingState);
      if (field === 'q')
        return [c.email, c.firstName, c.lastName, c.companyName, c.phone].some(
          (f) => f !== null && searched(f, value as string),
        );
      if (field === 'email') return foldCase(c.email) === foldCase(value as string);
      if (field === 'phone') return c.phoneE164 === (value as string).replaceAll(' ', '');
      if (field === 'hasAccount') return c.hasAccount === value;
      if (field === 'groupIds')
        return memberships.some((m) => m.customerId === c.id && (value as string[]).includes(m.customerGroupId));
      return inRange(field === 'createdAt' ? c.createdAt : c.updatedAt, value as Record<string, string>);
    },
  });
  const orders = await t.prisma.order.findMany();
  const orderReads = await everyPair({
    filterType: 'OrderFilter',
    list: 'orders',
    rows: orders,
    values: {
      q: ['cent', 'UN', String(orders[2]!.displayId), orders[3]!.id],
      ids: [orders.slice(0, 4).map((o) => o.id)],
      status: [['PENDING'], ['COMPLETED', 'CANCELED']],
      fulfillmentStatus: [['SHIPPED']],
      paymentStatus: [['NOT_PAID']],
      displayId: [orders[1]!.displayId],
      cartId: ['cart_1'],
      email: ['UNDER_SCORE@example.com', '%'],
      regionId: ['reg_eu'],
      currencyCode: ['EUR'],
      createdAt: [{ lt: '2026-03-04T00:00:00Z' }],
      updatedAt: [{ gte: '2026-04-02T00:00:00Z' }],
      canceledAt: [{ gte: '2026-05-01T00:00:00Z' }],
    },
    holds: (o, field, value) => {
      switch (field) {
        case 'q':
          return searched(o.email, value as string) || o.id === value || String(o.displayId) === value;
        case 'ids':
          return (value as string[]).includes(o.id);
        case 'status':
        case 'fulfillmentStatus':
        case 'paymentStatus':
          return (value as string[]).includes(String(o[field]).toUpperCase());
        case 'displayId':
          return o.displayId === value;
        case 'cartId':
        case 'regionId':
          return o[field] === value;
        case 'email':
          return foldCase(o.email) === foldCase(value as string);
        case 'currencyCode':
          return o.currencyCode === (value as string).toLowerCase();
        default:
          return inRange(o[field as 'createdAt' | 'updatedAt' | 'canceledAt'], value as Record<string, string>);
      }
    },
  });
  // The same reads, all at once on each path, answer as they did one at a time.
  for (const app of [apps.planned, apps.plain]) {
    const concurrent = await Promise.all(
      orderReads.reads.map(({ filter }) => send(app, orderReads.query, { f: filter })),
    );
    assert.deepEqual(
      concurrent.map((text) => JSON.stringify(JSON.parse(text.slice(text.indexOf(' ') + 1)))),
      orderReads.reads.map((read) => read.body),
    );
  }
  const addresses = await t.prisma.address.findMany({ where: { deletedAt: null, customer: { deletedAt: null } } });
  await everyPair({
    filterType: 'AddressFilter',
    list: 'addresses',
    rows: addresses,
    values: {
      customerId: [people[0]!.id, people[1]!.id],
      city: ['são_paulo', 'ÆRØSKØBING'],
      countryCode: ['SE', 'dk'],
      postalCode: ['2001'],
      q: ['main', 'sã', '%', 'KØ', 'ain st'],
    },
    holds: (a, field, value) => {
      if (field === 'customerId') return a.customerId === value;
      if (field === 'city') return a.city !== null && foldCase(a.city) === foldCase(value as string);
      if (field === 'countryCode') return a.countryCode === (value as string).toLowerCase();
      if (field === 'postalCode') return a.postalCode === value;
      return [
        a.addressName,
        a.company,
        a.firstName,
        a.lastName,
        a.address1,
        a.address2,
        a.city,
        a.postalCode,
        a.phone,
      ].some((f) => f !== null && searched(f, value as string));
    },
  });
});

test('the customer record (timeline, notes, tags, consent, account state) reads alike on both paths, and is planned', async () => {
  const c = customers[1]!;
  const note = await t.gql(
    `mutation($id: ID!) { addCustomerNote(customerId: $id, body: "Ærlig talt") { ... on CustomerNotePayload { note { id } } } }`,
    { id: c.id },
  );
  assert.ok(note.data!.addCustomerNote.note.id);
  await t.gql(`mutation($id: ID!) { addCustomerTags(ids: [$id], tags: ["Gold"]) { __typename } }`, { id: c.id });
  await t.gql(`mutation($id: ID!) { updateCustomers(ids: [$id], input: { firstName: "Rename" }) { __typename } }`, {
    id: c.id,
  });
  const query = `query($id: ID!, $types: [CustomerTimelineEntryType!]) { customer(id: $id) {
    id accountState disabledAt tags
    emailMarketingConsent { state optInLevel consentUpdatedAt source __typename }
    smsMarketingConsent { state }
    timeline(first: 5, filter: { types: $types, actorKinds: [ADMIN] }) { totalCount
      edges { cursor node { id type occurredAt actor { kind name __typename } details mergedFromId note { body author customer { id } } } }
      pageInfo { hasNextPage endCursor } }
    notes(first: 2) { totalCount edges { node { id body author createdAt updatedAt } } }
  } customers(filter: { accountState: [ENABLED], tags: { any: ["vip"] } }, first: 3) { edges { node { id accountState tags } } } }`;
  for (const types of [null, ['NOTE_ADDED', 'TAGS_ADDED'], ['PROFILE_UPDATED']]) {
    const answer = await both(query, { id: c.id, types });
    assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
    assert.ok(answer.wasPlanned, `planned: ${JSON.stringify(types)}`);
  }
  const all = await both<{ customer: { timeline: { totalCount: number } } }>(query, { id: c.id, types: null });
  assert.equal(all.body.data!.customer.timeline.totalCount, 3);
  // The tags in use: an aggregate the Pothos path answers (a counted fallback), the same either way.
  const tags = await both<{ customerTags: { edges: { node: { tag: string } }[] } }>(
    `{ customerTags(first: 3, q: "w") { edges { cursor node { tag customerCount } } pageInfo { hasNextPage endCursor } } }`,
  );
  assert.equal(tags.wasPlanned, false);
  assert.deepEqual(
    tags.body.data!.customerTags.edges.map((e) => e.node.tag),
    ['Wholesale'],
  );
});

test("federation's email key folds case as the email filter does, so an imported mixed-case email is found", async () => {
  const imported = customers.find((c) => c.email === 'ÆBLE@example.dk')!;
  const r = await t.gql<{ _entities: ({ id: string } | null)[] }>(
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id } } }',
    {
      r: [
        { __typename: 'Customer', email: ' æble@EXAMPLE.DK ' },
        { __typename: 'Customer', email: 'PER%CENT@example.com' },
        { __typename: 'Customer', email: '%' },
      ],
    },
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.deepEqual(r.data?._entities, [{ id: imported.id }, { id: customers[0]!.id }, null]);
});

test('count(limit:) is exact up to its limit and a lower bound past it, on every connection and both paths', async () => {
  const live = await t.prisma.customer.count({ where: { deletedAt: null } });
  const { body, wasPlanned } = await both<{
    exact: unknown;
    bound: unknown;
    one: unknown;
    plenty: unknown;
    groups: {
      count: unknown;
      edges: { node: { customers: { count: { count: number; precision: string }; totalCount: number } } }[];
    };
  }>(`{
    exact: customers { count(limit: ${live}) { count precision } totalCount }
    bound: customers(filter: { hasAccount: true }) { count(limit: 2) { __typename count precision } }
    one: customers { count(limit: 1) { precision } }
    plenty: customers { count { count precision } }
    groups: customerGroups(first: 2) { count(limit: 3) { count precision } edges { node { customers(first: 1) { count(limit: 1) { count precision } totalCount } } } }
    orders { count(limit: 100000) { count } }
  }`);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.ok(wasPlanned);
  const accounts = await t.prisma.customer.count({ where: { deletedAt: null, hasAccount: true } });
  assert.ok(accounts > 2 && live > 1);
  assert.deepEqual(body.data!.exact, { count: { count: live, precision: 'EXACT' }, totalCount: live });
  assert.deepEqual(body.data!.bound, { count: { __typename: 'Count', count: 2, precision: 'AT_LEAST' } });
  assert.deepEqual(body.data!.one, { count: { precision: 'AT_LEAST' } });
  assert.deepEqual(body.data!.plenty, { count: { count: live, precision: 'EXACT' } });
  assert.deepEqual(body.data!.groups.count, { count: 3, precision: 'AT_LEAST' });
  for (const edge of body.data!.groups.edges) {
    const { count, totalCount } = edge.node.customers;
    assert.deepEqual(
      count,
      totalCount > 1 ? { count: 1, precision: 'AT_LEAST' } : { count: totalCount, precision: 'EXACT' },
    );
  }
  for (const limit of [0, -1, 100_001]) {
    const refused = await both(`{ customers { count(limit: ${limit}) { count } } }`);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', String(limit));
    assert.equal(refused.body.errors?.[0]?.extensions?.argumentName, 'limit');
  }
});

test('count(limit:) reads at most limit + 1 rows: one statement on either path, whatever the table holds', async () => {
  for (const readPlanner of [true, false]) {
    const app = readPlanner ? apps.planned : apps.plain;
    const { statements, sql } = await t.countStatements(() =>
      send(app, '{ customers(filter: { hasAccount: true }) { count(limit: 2) { count precision } } }', {}),
    );
    assert.equal(statements, 1, sql.join('\n'));
    assert.match(sql[0]!, /LIMIT/i, 'bounded in SQL');
  }
});
