// 4. SIGKILL during a 5,000-row batch: afterwards all of it or none of it is in the database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshDatabaseUrl, SERVER_URL } from '../helpers.js';
import { post, SHORT, sleep, startServer, withClient } from './support.js';

const onPostgres = SERVER_URL ? {} : { skip: 'needs a PostgreSQL server (DATABASE_URL): the server process is killed and the database examined after' };
const BATCH = 5_000;
const CREATE = `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename ... on Error { code message } } }`;
const ADD = `mutation($g: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $ids) { __typename ... on Error { code message } } }`;
/** Where in the batch's measured duration the kill lands. */
const KILL_POINTS = SHORT ? [0.5] : [0.1, 0.3, 0.5, 0.7, 0.9];

const count = (url: string, sql: string, params: unknown[] = []) =>
  withClient(url, async (c) => Number((await c.query(sql, params)).rows[0].n));

const customers = (tag: string) =>
  Array.from({ length: BATCH }, (_, i) => ({ email: `${tag}-${i}@example.com`, firstName: `F${i}`, metadata: { i } }));

test(`SIGKILL during createCustomers / addCustomersToGroup of ${BATCH}: all or none (kill points ${KILL_POINTS.join(', ')})`, onPostgres, async () => {
  const url = (await freshDatabaseUrl())!;
  let server = await startServer({ DATABASE_URL: url });
  // A complete run of each batch, to time it; its customers are the ones later added to groups.
  let started = Date.now();
  const created = await post(server.url, CREATE, { input: customers('base') });
  const createMs = Date.now() - started;
  assert.equal(created.body?.data?.createCustomers && (created.body.data.createCustomers as { __typename: string }).__typename, 'CustomersPayload');
  const ids = await withClient(url, async (c) => (await c.query<{ id: string }>("SELECT id FROM customer WHERE email LIKE 'base-%'")).rows.map((r) => r.id));
  const group = await post(server.url, 'mutation { createCustomerGroups(input: [{ name: "timing" }]) { ... on CustomerGroupsPayload { customerGroups { id } } } }');
  const timingGroup = (group.body?.data?.createCustomerGroups as { customerGroups: { id: string }[] }).customerGroups[0]!.id;
  started = Date.now();
  await post(server.url, ADD, { g: timingGroup, ids });
  const addMs = Date.now() - started;

  const outcomes: string[] = [];
  for (const [k, point] of KILL_POINTS.entries()) {
    const tag = `kill${k}`;
    const groupReply = await post(server.url, `mutation { createCustomerGroups(input: [{ name: "${tag}" }]) { ... on CustomerGroupsPayload { customerGroups { id } } } }`);
    const groupId = (groupReply.body?.data?.createCustomerGroups as { customerGroups: { id: string }[] }).customerGroups[0]!.id;

    // Each batch on its own, killed at `point` of its measured time.
    const killDuring = async (query: string, variables: Record<string, unknown>, ms: number) => {
      const inFlight = post(server.url, query, variables);
      await sleep(ms * point);
      server.child.kill('SIGKILL');
      const reply = await inFlight;
      await server.exited;
      server = await startServer({ DATABASE_URL: url });
      return reply.error ?? String(reply.status);
    };
    const createReply = await killDuring(CREATE, { input: customers(tag) }, createMs);
    const addReply = await killDuring(ADD, { g: groupId, ids }, addMs);

    const rows = await count(url, 'SELECT count(*) AS n FROM customer WHERE email LIKE $1', [`${tag}-%`]);
    const members = await count(url, 'SELECT count(*) AS n FROM customer_group_customer WHERE customer_group_id = $1', [groupId]);
    outcomes.push(`kill at ${Math.round(point * 100)}%: customers ${rows} (${createReply}), members ${members} (${addReply})`);
    assert.ok(rows === 0 || rows === BATCH, `createCustomers left ${rows} of ${BATCH}`);
    assert.ok(members === 0 || members === BATCH, `addCustomersToGroup left ${members} of ${BATCH}`);
  }
  console.log(JSON.stringify({ createMs, addMs, outcomes }));
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});
