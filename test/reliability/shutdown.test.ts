// 2. SIGTERM at steady load: every request in flight completes, exit 0, no database session left.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { freshDatabaseUrl, SERVER_URL } from '../helpers.js';
import { post, type Reply, sleep, startServer, withApplicationName, withClient } from './support.js';

const onPostgres = SERVER_URL
  ? {}
  : { skip: 'needs a PostgreSQL server (DATABASE_URL) to see the connections left behind' };

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Error { code } } }`;
const READ = '{ customers(first: 20) { totalCount edges { node { email groups(first: 3) { totalCount } } } } }';

test(
  'SIGTERM under steady load: every answer a 200, exit code 0, no connection left in pg_stat_activity',
  onPostgres,
  async () => {
    const appName = `cg-reliability-${randomBytes(4).toString('hex')}`;
    const databaseUrl = (await freshDatabaseUrl())!;
    // bcrypt at cost 10 with two at a time keeps registrations queued, so many requests are in flight.
    const server = await startServer({
      DATABASE_URL: withApplicationName(databaseUrl, appName),
      BCRYPT_COST: '10',
      REGISTRATIONS_PER_CLIENT_PER_HOUR: '100000',
    });
    const sent: Promise<Reply>[] = [];
    const sentAt: number[] = [];
    let stopping = false;
    let n = 0;
    const workers = Array.from({ length: 24 }, async (_, w) => {
      while (!stopping) {
        const reply =
          w % 3 === 0
            ? post(
                server.url,
                REGISTER,
                { input: { email: `sigterm${n++}@example.com`, password: 'long-enough-pass' } },
                {},
              )
            : post(server.url, READ);
        sent.push(reply);
        sentAt.push(performance.now());
        await reply;
      }
    });
    await sleep(SHORT_LOAD_MS);
    const sessions = await withClient(databaseUrl, async (c) =>
      Number(
        (await c.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [appName])).rows[0].n,
      ),
    );

    stopping = true; // no request is sent after the signal
    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    const replies = await Promise.all(sent);
    await Promise.all(workers);
    const code = await server.exited;

    // A backend can take a moment to go after its client hung up.
    let left = -1;
    for (let i = 0; i < 20 && left !== 0; i++) {
      left = await withClient(databaseUrl, async (c) =>
        Number(
          (await c.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [appName])).rows[0]
            .n,
        ),
      );
      if (left) await sleep(100);
    }
    const answered = replies.filter((r) => !r.error);
    const unanswered = replies.map((r, i) => ({ r, before: signalledAt - sentAt[i]! })).filter(({ r }) => r.error);
    const bad = answered.filter((r) => r.status !== 200 || r.body?.errors);
    result.unanswered = [...new Set(unanswered.map(({ r }) => r.error!))];
    console.log(
      JSON.stringify({
        requests: replies.length,
        answered200: answered.length - bad.length,
        unanswered: unanswered.length,
        transportErrors: result.unanswered,
        unansweredSentUpToMsBeforeSignal: Math.round(Math.max(0, ...unanswered.map((u) => u.before))),
        exitCode: code,
        sessionsUnderLoad: sessions,
        sessionsAfterExit: left,
      }),
    );
    assert.ok(sessions > 0, 'the service was seen in pg_stat_activity under load');
    assert.deepEqual(
      bad.map((r) => r.status),
      [],
      'every answer is a 200 without errors',
    );
    assert.equal(code, 0, server.output());
    assert.equal(left, 0, 'no database session is left after exit');
  },
);

const SHORT_LOAD_MS = 3_000;
const result: { unanswered: string[] | null } = { unanswered: null };

test('SIGTERM under steady load: no request sent before the signal is reset', onPostgres, () =>
  assert.deepEqual(result.unanswered, []),
);
