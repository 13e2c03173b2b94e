// 4. SIGKILL while a 5,000-row batch is inside PostgreSQL. Each kill point is made certain, not
// timed: another connection holds a lock the batch needs, and the kill comes only once
// pg_stat_activity and pg_locks show the server's session waiting behind it, mid-way. Afterwards a
// transaction that was open has committed nothing, and a single statement PostgreSQL already holds
// runs to its end: all or none, and which of the two is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabaseUrl, SERVER_URL } from '../helpers.js';
import { post, type ServerProcess, SHORT, sleep, startServer, withApplicationName, withClient } from './support.js';

const onPostgres = SERVER_URL
  ? {}
  : { skip: 'needs a PostgreSQL server (DATABASE_URL): the server process is killed and the database examined after' };
const BATCH = 5_000;
const APP = 'killed-batch-server';
const CREATE = `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename ... on Error { code message } } }`;
const ADD = `mutation($g: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $ids) { __typename ... on Error { code message } } }`;
/** Where in createCustomers' INSERT the kill lands: the row that waits, as a fraction of the batch. */
const INSERT_POINTS = SHORT ? [0.5] : [0.1, 0.5, 0.9];

const count = (url: string, sql: string, params: unknown[] = []) =>
  withClient(url, async (c) => Number((await c.query(sql, params)).rows[0].n));

const customers = (tag: string, account?: number) =>
  Array.from({ length: BATCH }, (_, i) => ({
    email: `${tag}-${i}@example.com`,
    firstName: `F${i}`,
    metadata: { i },
    ...(i === account ? { password: 'password-1' } : {}),
  }));

/** A transaction on a connection of its own that takes a lock with `sql` and keeps it until released. */
async function holdLock(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(sql, params);
  const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  return {
    pid,
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

interface Blocked {
  pid: number;
  state: string;
  inTransaction: boolean;
  /** The transaction has an ID: it has written (or locked) rows. */
  hasWritten: boolean;
  query: string;
  /** Tables it holds RowExclusiveLock on: it has inserted, updated or deleted in them. */
  writing: string[];
}

/** The server's session waiting behind the lock `blockerPid` holds, once there is one doing `what`. */
async function blockedBehind(url: string, blockerPid: number, what: (b: Blocked) => boolean): Promise<Blocked> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await withClient(
      url,
      async (c) =>
        (
          await c.query<Blocked>(
            `SELECT a.pid, a.state, a.xact_start IS NOT NULL AS "inTransaction", a.backend_xid IS NOT NULL AS "hasWritten", a.query,
           ARRAY(SELECT l.relation::regclass::text FROM pg_locks l
             WHERE l.pid = a.pid AND l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND l.granted ORDER BY 1) AS writing
         FROM pg_stat_activity a WHERE a.application_name = $1 AND $2 = ANY (pg_blocking_pids(a.pid))`,
            [APP, blockerPid],
          )
        ).rows,
    );
    const found = rows.find(what);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`the batch never waited behind the lock: ${JSON.stringify(rows)}`);
    await sleep(10);
  }
}

/** Until the killed server's sessions have ended (the waiting one ends once it runs on and finds its client gone). */
async function sessionsGone(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await count(url, 'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [APP])) > 0) {
    if (Date.now() > deadline) throw new Error('the killed server’s sessions did not end');
    await sleep(20);
  }
}

test(
  `SIGKILL during createCustomers / addCustomersToGroup of ${BATCH}, at kill points proven from the database: an open transaction commits nothing, a statement already sent commits whole`,
  onPostgres,
  async () => {
    const url = (await freshDatabaseUrl())!;
    const serverUrl = withApplicationName(url, APP);
    let server: ServerProcess = await startServer({ DATABASE_URL: serverUrl });
    const created = await post(server.url, CREATE, { input: customers('base') });
    assert.equal(
      (created.body?.data?.createCustomers as { __typename: string } | undefined)?.__typename,
      'CustomersPayload',
      JSON.stringify(created.body),
    );
    const ids = await withClient(url, async (c) =>
      (await c.query<{ id: string }>("SELECT id FROM customer WHERE email LIKE 'base-%'")).rows.map((r) => r.id),
    );
    assert.equal(ids.length, BATCH);
    const events = (name: string) => count(url, 'SELECT count(*) AS n FROM outbox_event WHERE name = $1', [name]);

    const outcomes: string[] = [];
    /** Sends the batch, waits until it is blocked as `what` says, kills the server, lets the database run on, restarts. */
    const killWhileBlocked = async (
      query: string,
      variables: Record<string, unknown>,
      lock: Awaited<ReturnType<typeof holdLock>>,
      what: (b: Blocked) => boolean,
    ) => {
      const inFlight = post(server.url, query, variables, undefined, 120_000);
      const blocked = await blockedBehind(url, lock.pid, what);
      server.child.kill('SIGKILL');
      const reply = await inFlight;
      await server.exited;
      await lock.release();
      await sessionsGone(url);
      server = await startServer({ DATABASE_URL: serverUrl });
      return { blocked, reply: reply.error ?? `HTTP ${reply.status}` };
    };

    // 1. In the middle of the customers' INSERT: row `at` has the email of an account another
    // transaction is inserting, so the INSERT waits on that row with the rows before it written.
    for (const point of INSERT_POINTS) {
      const tag = `insert${Math.round(point * 100)}`;
      const at = Math.floor(BATCH * point);
      const createdBefore = await events('customer.created');
      const lock = await holdLock(
        url,
        `INSERT INTO customer (id, email, has_account) VALUES ('cus_blocker${tag}', $1, true)`,
        [`${tag}-${at}@example.com`],
      );
      const { blocked, reply } = await killWhileBlocked(CREATE, { input: customers(tag, at) }, lock, (b) =>
        b.writing.includes('customer'),
      );
      assert.ok(
        blocked.inTransaction && blocked.hasWritten && /^INSERT INTO "public"\."customer"/.test(blocked.query),
        `killed inside the INSERT: ${JSON.stringify(blocked)}`,
      );
      const rows = await count(url, 'SELECT count(*) AS n FROM customer WHERE email LIKE $1', [`${tag}-%`]);
      outcomes.push(`createCustomers killed at row ${at} of its INSERT: ${rows} customers (${reply})`);
      assert.equal(rows, 0, `createCustomers killed with its transaction open left ${rows} of ${BATCH}`);
      assert.equal(await events('customer.created'), createdBefore, 'and no event');
    }

    // 2. All the customers inserted, the events not yet: the event INSERT waits for outbox_event.
    {
      const createdBefore = await events('customer.created');
      const lock = await holdLock(url, 'LOCK TABLE outbox_event IN SHARE MODE');
      const { blocked, reply } = await killWhileBlocked(CREATE, { input: customers('events') }, lock, (b) =>
        b.writing.includes('customer'),
      );
      assert.ok(
        blocked.inTransaction && blocked.hasWritten && /outbox_event/.test(blocked.query),
        `killed between the rows and their events: ${JSON.stringify(blocked)}`,
      );
      const rows = await count(url, "SELECT count(*) AS n FROM customer WHERE email LIKE 'events-%'");
      outcomes.push(`createCustomers killed before its events: ${rows} customers (${reply})`);
      assert.equal(rows, 0, `createCustomers killed with ${BATCH} rows written but not committed left ${rows}`);
      assert.equal(await events('customer.created'), createdBefore, 'and no event');
    }

    // 3. addCustomersToGroup is one statement (atomic without a transaction): killed while it waits
    // for the group's row, it is already PostgreSQL's, which runs it to its end and commits it whole
    // (a session notices its client has gone only when it next reads or writes to it, unless
    // client_connection_check_interval is set, which this test relies on not being).
    {
      assert.equal(
        await withClient(
          url,
          async (c) =>
            (await c.query('SHOW client_connection_check_interval')).rows[0].client_connection_check_interval,
        ),
        '0',
      );
      const reply = await post(
        server.url,
        `mutation { createCustomerGroups(input: [{ name: "killed" }]) { ... on CustomerGroupsPayload { customerGroups { id } } } }`,
      );
      const created = reply.body?.data?.createCustomerGroups as { customerGroups?: { id: string }[] } | undefined;
      const groupId = created?.customerGroups?.[0]?.id;
      assert.ok(groupId, `group created: ${JSON.stringify(reply)}`);
      const updatedBefore = await events('customer_group.updated');
      const lock = await holdLock(url, 'SELECT id FROM customer_group WHERE id = $1 FOR UPDATE', [groupId]);
      const { blocked, reply: addReply } = await killWhileBlocked(ADD, { g: groupId, ids }, lock, (b) =>
        /INSERT INTO customer_group_customer/.test(b.query),
      );
      assert.equal(blocked.state, 'active', `killed while its statement ran: ${JSON.stringify(blocked)}`);
      const members = await count(
        url,
        'SELECT count(*) AS n FROM customer_group_customer WHERE customer_group_id = $1 AND deleted_at IS NULL',
        [groupId],
      );
      outcomes.push(`addCustomersToGroup killed inside its statement: ${members} members (${addReply})`);
      assert.equal(members, BATCH, `the statement PostgreSQL held left ${members} of ${BATCH}`);
      assert.equal(await events('customer_group.updated'), updatedBefore + 1, 'with its one event');
    }

    console.log(JSON.stringify({ outcomes }));
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  },
);
