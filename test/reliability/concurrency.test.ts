// 3. Races: one email registered by 1,000 requests at once; overlapping additions to one group.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANONYMOUS, createTestApp, DATABASE_KIND, type GraphQLResponse, makeCustomer, makeGroup } from '../helpers.js';
import { SHORT } from './support.js';

const REGISTRATIONS = SHORT ? 300 : 1_000;

/** `Some.Body@Example.COM` with each letter's case chosen at random. */
const mixedCase = (email: string) =>
  [...email].map((c) => (Math.random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');

const tally = (responses: GraphQLResponse[], pick: (r: GraphQLResponse) => string) => {
  const counts: Record<string, number> = {};
  for (const r of responses) counts[pick(r)] = (counts[pick(r)] ?? 0) + 1;
  return counts;
};

test(`${REGISTRATIONS} concurrent register calls with one email in mixed case: one account, the rest EMAIL_TAKEN (${DATABASE_KIND})`, async () => {
  // A generous request timeout: this is about correctness under contention, not about capacity.
  const t = await createTestApp({ settings: { registrationsPerClientPerHour: 1_000_000, requestTimeoutMs: 60_000 } });
  const email = 'race.winner@example.com';
  const register = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Error { code } } }`;
  const started = Date.now();
  const responses = await Promise.all(
    Array.from({ length: REGISTRATIONS }, () =>
      t.gql(register, { input: { email: mixedCase(email), password: 'correct horse battery' } }, ANONYMOUS),
    ),
  );
  const outcomes = tally(responses, (r) => {
    const register = r.data?.register as { code?: string; __typename: string } | undefined;
    return `${r.status} ${r.errors?.[0]?.message ?? register?.code ?? register?.__typename}`;
  });
  console.log(JSON.stringify({ registrations: REGISTRATIONS, ms: Date.now() - started, outcomes }));
  assert.deepEqual(outcomes, { '200 Session': 1, '200 EMAIL_TAKEN': REGISTRATIONS - 1 });
  const rows = await t.prisma.customer.findMany({ where: { email: { equals: email, mode: 'insensitive' } } });
  assert.equal(rows.length, 1, 'exactly one customer row for the email');
});

test('overlapping concurrent addCustomersToGroup: every call succeeds, each customer is a member once', async () => {
  const t = await createTestApp();
  const customers = await Promise.all(Array.from({ length: 120 }, () => makeCustomer(t.prisma)));
  const group = await makeGroup(t.prisma);
  const add = `mutation($g: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $ids) { __typename ... on Error { code message } } }`;
  // 40 calls over sliding, overlapping windows of 40 customers, plus repeats of the same window.
  const windows = Array.from({ length: 40 }, (_, i) =>
    customers.slice((i * 7) % 80, ((i * 7) % 80) + 40).map((c) => c.id),
  );
  const responses = await Promise.all(
    [...windows, ...windows.slice(0, 10)].map((ids) => t.gql(add, { g: group.id, ids })),
  );
  const outcomes = tally(responses, (r) => {
    const added = r.data?.addCustomersToGroup as { __typename: string } | undefined;
    return `${r.status} ${r.errors?.[0]?.message ?? added?.__typename}`;
  });
  console.log(JSON.stringify({ calls: responses.length, outcomes }));
  assert.deepEqual(outcomes, { '200 CustomerGroupPayload': responses.length });
  const expected = new Set(windows.flat());
  const rows = await t.prisma.customerGroupCustomer.findMany({ where: { customerGroupId: group.id } });
  assert.equal(rows.length, expected.size, 'no duplicate memberships');
  assert.deepEqual(new Set(rows.map((r) => r.customerId)), expected);
});
