import assert from 'node:assert/strict';
import { test } from 'node:test';
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
  assertClearError(await t.gql(`{ customers(filter: { groupIds: ["cus_01ABC"] }) { totalCount } }`), /"filter\.groupIds"/);
  assertClearError(await t.gql(`{ orders(filter: { ids: ["nope"] }) { totalCount } }`), /"filter\.ids"/);
  assertClearError(await t.gql(`{ addresses(filter: { customerId: "order_1" }) { totalCount } }`), /"filter\.customerId"/);
  assertClearError(await t.gql(`{ customerGroupMemberships(filter: { customerIds: ["x"] }) { totalCount } }`), /"filter\.customerIds"/);
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
  const v = await t.gql(`query($d: DateTime) { orders(filter: { canceledAt: { lt: $d } }) { totalCount } }`, { d: '2026-13-45' });
  assertClearError(v, /\$d/);
});

test('negative or conflicting page arguments are errors, not 500s', async () => {
  assertClearError(await t.gql(`{ customers(first: -1) { totalCount } }`), /first/);
  assertClearError(await t.gql(`{ customers(last: -3) { totalCount } }`), /"last".*zero or more/);
  assertClearError(await t.gql(`{ customers(first: 2, last: 2) { totalCount } }`), /"last".*"first"/);
  // A cursor of the old, row-naming format is not one of ours any more.
  assertClearError(await t.gql(`{ customers(first: 2, before: "R1BDOlM6Y3VzXzE=") { totalCount } }`), /"before".*cursor/);
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
  const viaVariables = await t.gql(`mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`, { input: [{ email: 'nul@example.com', firstName: 'A\u0000B' }] });
  assertClearError(viaVariables, /NUL/);
  assert.equal(viaVariables.errors![0]!.extensions!.code, 'BAD_USER_INPUT');
  const viaMetadata = await t.gql(`mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`, { input: [{ email: 'nul2@example.com', metadata: { 'k\u0000': 1 } }] });
  assertClearError(viaMetadata, /NUL/);
  assert.equal(await t.prisma.customer.count({ where: { email: { startsWith: 'nul' } } }), 0);
});

test('a very long login email is just wrong credentials', async () => {
  const r = await t.gql(`mutation($e: String!) { login(email: $e, password: "password-1") { __typename } }`, { e: `${'x'.repeat(300)}@example.com` }, { authorization: '' });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.equal(r.data!.login.__typename, 'InvalidCredentialsError');
});
