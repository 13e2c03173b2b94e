import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../src/lib/ids.js';
import { MAX_LIST_ITEMS } from '../src/pipeline/index.js';
import { createTestApp, type GraphQLResponse, type TestApp } from './helpers.js';

const t: TestApp = await createTestApp();

/** Bad input is a GraphQL error that names the argument, never a 500, a stack trace or SQL. */
function assertClearError(r: GraphQLResponse, argument: RegExp) {
  assert.notEqual(r.status, 500);
  assert.ok(r.errors?.length, 'an error is reported');
  const text = JSON.stringify(r.errors);
  assert.match(r.errors![0]!.message, argument);
  assert.doesNotMatch(text, /stack|\bat .*\.ts:\d+|SELECT|prisma|Unexpected error/i);
}

test('a malformed ID names the argument', async () => {
  for (const query of [
    `{ customer(id: "42") { id } }`,
    `{ customer(id: "cus_") { id } }`,
    `{ customer(id: "'; drop table customer; --") { id } }`,
    `{ customerGroup(id: "cus_01ABC") { id } }`,
    `{ address(id: "order_01ABC") { id } }`,
    `{ order(id: "cuaddr_01ABC") { id } }`,
    `{ node(id: "nonsense") { id } }`,
  ]) {
    const r = await t.gql(query);
    assertClearError(r, /"id"/);
    assert.equal(r.errors![0]!.extensions!.code, 'BAD_USER_INPUT', query);
  }
});

test('IDs inside filters are checked and named by their path', async () => {
  assertClearError(
    await t.gql(`{ customers(filter: { groupIds: ["cus_01ABC"] }) { totalCount } }`),
    /"filter\.groupIds"/,
  );
  assertClearError(await t.gql(`{ orders(filter: { ids: ["nope"] }) { totalCount } }`), /"filter\.ids"/);
  assertClearError(
    await t.gql(`{ addresses(filter: { customerId: "order_1" }) { totalCount } }`),
    /"filter\.customerId"/,
  );
  assertClearError(
    await t.gql(`{ customerGroupMemberships(filter: { customerIds: ["x"] }) { totalCount } }`),
    /"filter\.customerIds"/,
  );
});

test('more than 100 IDs in nodes() is refused', async () => {
  const ids = Array.from({ length: 101 }, (_, i) => `cus_${String(i).padStart(26, '0')}`);
  assertClearError(await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids }), /"ids".*at most 100/);
});

test('a cursor we did not issue names the argument', async () => {
  for (const cursor of ['zzz', 'not base64!', Buffer.from('cus_123').toString('base64'), '']) {
    const r = await t.gql(`query($c: String) { customers(after: $c) { totalCount } }`, { c: cursor });
    if (cursor === '') continue; // an empty cursor is treated as none
    assertClearError(r, /"after".*cursor/);
  }
  assertClearError(await t.gql(`{ orders(last: 2, before: "abc") { totalCount } }`), /"before"/);
});

test('an invalid date is rejected before execution, naming the value', async () => {
  const r = await t.gql(`{ customers(filter: { createdAt: { gt: "yesterday" } }) { totalCount } }`);
  assert.equal(r.status, 400);
  assertClearError(r, /DateTime.*yesterday/);
  const v = await t.gql(`query($d: DateTime) { orders(filter: { canceledAt: { lt: $d } }) { totalCount } }`, {
    d: '2026-13-45',
  });
  assertClearError(v, /\$d/);
});

/** Refused before any SQL, as BAD_USER_INPUT whose `argumentName` says where: an argument path, or a variable and the path inside it. */
async function assertBadValue(
  query: string,
  variables: Record<string, unknown>,
  argumentName: string,
  message: RegExp,
) {
  const { result: r, statements, sql } = await t.countStatements(() => t.gql(query, variables));
  assertClearError(r, message);
  assert.equal(r.status, 400, query);
  assert.deepEqual(
    r.errors!.map((e) => [e.extensions!.code, e.extensions!.argumentName]),
    [['BAD_USER_INPUT', argumentName]],
    `${query}: ${JSON.stringify(r.errors)}`,
  );
  assert.equal(r.data, undefined, 'nothing executed');
  assert.equal(statements, 0, sql.join('\n'));
}

test('a literal that does not fit its type is BAD_USER_INPUT naming the argument path', async () => {
  await assertBadValue(
    `{ customers(filter: { createdAt: { gt: "yesterday" } }) { totalCount } }`,
    {},
    'filter.createdAt.gt',
    /^Invalid argument "filter\.createdAt\.gt": DateTime cannot represent .*yesterday/,
  );
  await assertBadValue(
    `{ orders(filter: { status: [PENDING, SHIPPED] }) { totalCount } }`,
    {},
    'filter.status[1]',
    /^Invalid argument "filter\.status\[1\]": Value "SHIPPED" does not exist/,
  );
  await assertBadValue(
    `{ customers(first: "ten") { totalCount } }`,
    {},
    'first',
    /^Invalid argument "first": Int cannot represent/,
  );
  await assertBadValue(`{ customer(id: 42.5) { id } }`, {}, 'id', /^Invalid argument "id": ID cannot represent/);
  await assertBadValue(
    `mutation { createCustomers(input: [{ email: "j@example.com", metadata: 5 }]) { __typename } }`,
    {},
    'input[0].metadata',
    /^Invalid argument "input\[0\]\.metadata": JSONObject cannot represent/,
  );
  await assertBadValue(
    `mutation { createCustomers(input: [{ firstName: "no email" }]) { __typename } }`,
    {},
    'input[0]',
    /^Invalid argument "input\[0\]": Field "CreateCustomerInput\.email" of required type "String!" was not provided/,
  );
  await assertBadValue(
    `query($d: DateTime = "never") { orders(filter: { canceledAt: { lt: $d } }) { totalCount } }`,
    {},
    '$d',
    /^Invalid argument "\$d": DateTime cannot represent/,
  );
});

test('a variable that does not fit its type is BAD_USER_INPUT naming the variable and the path inside it', async () => {
  const dates = `query($f: DateTime) { orders(filter: { canceledAt: { lt: $f } }) { totalCount } }`;
  await assertBadValue(
    dates,
    { f: '2026-13-45' },
    '$f',
    /^Variable "\$f" got invalid value "2026-13-45"; DateTime cannot represent/,
  );
  await assertBadValue(
    `query($id: ID!) { customer(id: $id) { id } }`,
    { id: { a: 1 } },
    '$id',
    /^Variable "\$id" got invalid value/,
  );
  await assertBadValue(
    `query($id: ID!) { customer(id: $id) { id } }`,
    {},
    '$id',
    /^Variable "\$id" of required type "ID!" was not provided/,
  );
  await assertBadValue(`query($id: ID!) { customer(id: $id) { id } }`, { id: null }, '$id', /must not be null/);
  await assertBadValue(
    `query($s: [OrderStatus!]) { orders(filter: { status: $s }) { totalCount } }`,
    { s: ['PENDING', 'SHIPPED'] },
    '$s[1]',
    /^Variable "\$s" got invalid value "SHIPPED" at "s\[1\]"/,
  );
  await assertBadValue(
    `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`,
    { input: [{ email: 'k@example.com' }, { email: 'l@example.com', metadata: [1] }] },
    '$input[1].metadata',
    /^Variable "\$input" got invalid value \[1\] at "input\[1\]\.metadata"; JSONObject cannot represent/,
  );
  await assertBadValue(
    `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
    { f: { createdAt: { gte: 'soon' } } },
    '$f.createdAt.gte',
    /DateTime cannot represent/,
  );
  await assertBadValue(
    `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
    { r: [{ __typename: 'Customer', id: 'cus_1' }, 5] },
    '$r[1]',
    /__typename/,
  );
  // A value that merely looks like a path cannot forge the name.
  await assertBadValue(dates, { f: 'x at "f.y"' }, '$f', /DateTime cannot represent/);
});

test('an instant before year 1 (PostgreSQL has no year 0) is bad input, not a database error', async () => {
  const query = `query($d: DateTime) { customers(filter: { createdAt: { gt: $d } }) { totalCount } }`;
  for (const d of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+23:59']) {
    await assertBadValue(query, { d }, '$d', /DateTime must be 0001-01-01T00:00:00\.000Z or later/);
  }
  await assertBadValue(
    `{ orders(filter: { canceledAt: { lt: "0000-06-01T00:00:00Z" } }) { totalCount } }`,
    {},
    'filter.canceledAt.lt',
    /^Invalid argument "filter\.canceledAt\.lt": DateTime must be/,
  );
  const earliest = await t.gql(query, { d: '0001-01-01T00:00:00Z' });
  assert.equal(earliest.errors, undefined, JSON.stringify(earliest.errors));
});

test(`a list of more than ${MAX_LIST_ITEMS} items is bad input, not a statement PostgreSQL refuses`, async () => {
  const ids = (n: number, type: 'Order' | 'Customer' | 'CustomerGroup') => Array.from({ length: n }, () => newId(type));
  await assertNulOrListRefused(
    `query($ids: [ID!]) { orders(filter: { ids: $ids }) { totalCount } }`,
    { ids: ids(70_000, 'Order') },
    '$ids',
    /at most 10000 items in a list, got 70000/,
  );
  await assertNulOrListRefused(
    `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
    { f: { groupIds: ids(MAX_LIST_ITEMS + 1, 'CustomerGroup') } },
    '$f.groupIds',
    /got 10001/,
  );
  await assertNulOrListRefused(
    `query($c: [ID!]) { customerGroupMemberships(filter: { customerIds: $c }) { totalCount } }`,
    { c: ids(65_536, 'Customer') },
    '$c',
    /got 65536/,
  );
  // Up to the limit, a filter runs.
  const r = await t.gql(`query($ids: [ID!]) { orders(filter: { ids: $ids }) { totalCount } }`, {
    ids: ids(MAX_LIST_ITEMS, 'Order'),
  });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.equal(r.data!.orders.totalCount, 0);
});

test('negative or conflicting page arguments are errors, not 500s', async () => {
  assertClearError(await t.gql(`{ customers(first: -1) { totalCount } }`), /first/);
  assertClearError(await t.gql(`{ customers(last: -3) { totalCount } }`), /"last".*zero or more/);
  assertClearError(await t.gql(`{ customers(first: 2, last: 2) { totalCount } }`), /"last".*"first"/);
  // A cursor of the old, row-naming format is not one of ours any more.
  assertClearError(
    await t.gql(`{ customers(first: 2, before: "R1BDOlM6Y3VzXzE=") { totalCount } }`),
    /"before".*cursor/,
  );
});

test('an unknown enum value or field is a validation error', async () => {
  const r = await t.gql(`{ orders(filter: { status: [SHIPPED] }) { totalCount } }`);
  assert.equal(r.status, 400);
  assertClearError(r, /SHIPPED/);
  assertClearError(await t.gql(`{ customers { edges { node { passwordHash } } } }`), /passwordHash/);
});

test('malformed requests get 4xx (GraphQL over HTTP, graphql-response+json), never 500', async () => {
  for (const body of ['{', '{"query": 42}', '{"variables": {}}', 'null']) {
    const response = await t.app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body,
    });
    assert.ok(response.status >= 400 && response.status < 500, `${body} -> ${response.status}`);
    assert.doesNotMatch(await response.text(), /stack|\.ts:\d+/);
  }
});

test('a NUL character anywhere in the input is a clear 400, not an unexpected error', async () => {
  const viaVariables = await t.gql(
    `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`,
    { input: [{ email: 'nul@example.com', firstName: 'A\u0000B' }] },
  );
  assertClearError(viaVariables, /NUL/);
  assert.equal(viaVariables.errors![0]!.extensions!.code, 'BAD_USER_INPUT');
  assert.equal(viaVariables.errors![0]!.extensions!.argumentName, '$input[0].firstName');
  const viaMetadata = await t.gql(
    `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`,
    { input: [{ email: 'nul2@example.com', metadata: { 'k\u0000': 1 } }] },
  );
  assertClearError(viaMetadata, /NUL/);
  assert.equal(viaMetadata.errors![0]!.extensions!.argumentName, '$input[0].metadata');
  assert.equal(await t.prisma.customer.count({ where: { email: { startsWith: 'nul' } } }), 0);
});

/** Refused before anything runs, with BAD_USER_INPUT naming where the NUL is. */
function assertNulRefused(
  query: string,
  variables: Record<string, unknown>,
  argumentName: string | undefined,
  headers?: Record<string, string>,
) {
  return assertNulOrListRefused(query, variables, argumentName, /NUL/, headers);
}

async function assertNulOrListRefused(
  query: string,
  variables: Record<string, unknown>,
  argumentName: string | undefined,
  message: RegExp,
  headers?: Record<string, string>,
) {
  const { result: r, statements, sql } = await t.countStatements(() => t.gql(query, variables, headers));
  assertClearError(r, message);
  assert.deepEqual(
    r.errors!.map((e) => e.extensions!.code),
    ['BAD_USER_INPUT'],
    `${query} ${JSON.stringify(r.errors)}`,
  );
  assert.equal(r.errors![0]!.extensions!.argumentName, argumentName, query);
  if (argumentName)
    assert.match(r.errors![0]!.message, new RegExp(`^Invalid argument "${argumentName.replace(/[$[\].]/g, '\\$&')}"`));
  assert.equal(r.data, undefined, 'nothing executed');
  assert.equal(statements, 0, sql.join('\n'));
}

test('a NUL written in any escape form in the document is refused, even for anonymous login', async () => {
  const anonymous = { authorization: '' };
  const login = (email: string) => `mutation { login(email: ${email}, password: "password-1") { __typename } }`;
  // In the document's own syntax: a GraphQL string escape, not a JSON one.
  for (const nulEscape of ['\\u0000', '\\u{0}', '\\u{000000}', '\\u{00}']) {
    await assertNulRefused(login(`"a${nulEscape}b@example.com"`), {}, 'email', anonymous);
  }
  // Nested input fields and list items are named by their path.
  await assertNulRefused(
    `mutation { createCustomers(input: [{ email: "ok@example.com" }, { email: "x@example.com", firstName: "A\\u{0}" }]) { __typename } }`,
    {},
    'input[1].firstName',
  );
  await assertNulRefused(
    `mutation { createCustomers(input: [{ email: "m@example.com", metadata: { tags: ["a", "\\u0000"] } }]) { __typename } }`,
    {},
    'input[0].metadata.tags[1]',
  );
  await assertNulRefused(`{ customers(filter: { q: "\\u{0}" }) { totalCount } }`, {}, 'filter.q');
  // A variable's default value is part of the document too.
  await assertNulRefused(`query($q: String = "a\\u0000") { customers(filter: { q: $q }) { totalCount } }`, {}, '$q');
  // A raw NUL cannot be written in a document at all (not even in a block string or a comment).
  await assertNulRefused(`{ customers(filter: { q: """a\u0000b""" }) { totalCount } }`, {}, undefined);
  await assertNulRefused(`{ customers { totalCount } } # \u0000`, {}, undefined);
  // In variables: nested, in lists, in JSON keys and values.
  await assertNulRefused(
    `mutation($e: String!) { login(email: $e, password: "password-1") { __typename } }`,
    { e: 'a\u0000@example.com' },
    '$e',
    anonymous,
  );
  await assertNulRefused(
    `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
    { f: { groupIds: ['cusgroup_1', 'cusgroup_\u0000'] } },
    '$f.groupIds[1]',
  );
  await assertNulRefused(
    `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
    { r: [{ __typename: 'Customer', email: '\u0000' }] },
    '$r[0].email',
  );
});

test('text that only looks like an escaped NUL is ordinary text', async () => {
  // A backslash followed by "u0000": in a JSON variable, an escaped backslash in a string, a block string.
  for (const [query, variables] of [
    [`query($q: String) { customers(filter: { q: $q }) { totalCount } }`, { q: 'C:\\u0000' }],
    [`{ customers(filter: { q: "C:\\\\u0000" }) { totalCount } }`, {}],
    [`{ customers(filter: { q: """C:\\u0000""" }) { totalCount } }`, {}],
  ] as const) {
    const r = await t.gql(query, variables);
    assert.equal(r.errors, undefined, `${query}: ${JSON.stringify(r.errors)}`);
    assert.equal(r.data!.customers.totalCount, 0);
  }
});

test('a very long login email is just wrong credentials', async () => {
  const r = await t.gql(
    `mutation($e: String!) { login(email: $e, password: "password-1") { __typename } }`,
    { e: `${'x'.repeat(300)}@example.com` },
    { authorization: '' },
  );
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.equal(r.data!.login.__typename, 'InvalidCredentialsError');
});
