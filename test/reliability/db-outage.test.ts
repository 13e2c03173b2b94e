// 1. The database stops (crash-like) under load, and comes back; and the server starts while it is down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  errorCode,
  getStatus,
  post,
  privateCluster,
  privateClusterUnavailable,
  type Reply,
  sleep,
  startServer,
} from './support.js';

const unavailable = privateClusterUnavailable();
const needsCluster = unavailable ? { skip: unavailable } : {};
const QUERY = '{ customers(first: 5) { totalCount edges { node { email } } } }';
const PORT = Number(process.env.RELIABILITY_PG_PORT ?? 55433);

/** Workers that keep requests going until stopped; each reply is kept with the time it was sent. */
function steadyLoad(url: string, workers: number) {
  const replies: { sentAt: number; reply: Reply }[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const sentAt = Date.now();
      replies.push({ sentAt, reply: await post(url, QUERY) });
      await sleep(20);
    }
  });
  return {
    replies,
    stop: async () => {
      running = false;
      return await Promise.all(loops);
    },
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(100);
  }
  return null;
}

test(
  'database stopped under load: 503 SERVICE_UNAVAILABLE within seconds, /ready 503, ready again after restart, no crash',
  needsCluster,
  async () => {
    const cluster = privateCluster(PORT);
    cluster.start();
    const server = await startServer({ DATABASE_URL: cluster.url, DB_CONNECT_TIMEOUT_MS: '2000' });
    const load = steadyLoad(server.url, 8);
    await sleep(1_500);
    assert.ok(
      load.replies.length > 0 && load.replies.every((r) => r.reply.status === 200),
      'healthy before the outage',
    );

    const stoppedAt = Date.now();
    cluster.stop('immediate');
    const firstFailure = await waitFor(
      async () => load.replies.some((r) => r.sentAt >= stoppedAt && r.reply.status === 503),
      10_000,
    );
    await sleep(3_000);
    const during = load.replies.filter((r) => r.sentAt >= stoppedAt + 500);
    const readyDown = await getStatus(server.at('/ready'));
    const slowest = Math.max(...during.map((r) => r.reply.ms));
    const codes = new Set(during.map((r) => `${r.reply.status} ${errorCode(r.reply)} ${r.reply.error ?? ''}`.trim()));

    const startedAt = Date.now();
    cluster.start();
    const recovery = await waitFor(async () => (await getStatus(server.at('/ready'))) === 200, 10_000);
    const recovered = recovery === null ? 0 : Date.now() - stoppedAt;
    await sleep(1_000);
    await load.stop();
    const after = load.replies.filter((r) => r.sentAt >= startedAt + (recovery ?? 0) + 200);

    console.log(
      JSON.stringify({
        firstFailureMs: firstFailure,
        slowestDuringOutageMs: Math.round(slowest),
        outageAnswers: [...codes],
        readyDuringOutage: readyDown,
        readyAfterStartMs: recovery,
        outageTotalMs: recovered,
        requests: load.replies.length,
      }),
    );
    assert.ok(firstFailure !== null && firstFailure < 5_000, `first 503 after ${firstFailure} ms`);
    assert.deepEqual(
      [...codes],
      ['503 SERVICE_UNAVAILABLE'],
      'every request during the outage is a 503 SERVICE_UNAVAILABLE',
    );
    assert.ok(slowest < 5_000, `a request took ${slowest} ms during the outage`);
    assert.equal(readyDown, 503);
    assert.ok(recovery !== null && recovery < 10_000, `ready again after ${recovery} ms`);
    assert.ok(after.length > 0 && after.every((r) => r.reply.status === 200), 'requests succeed after recovery');
    assert.equal(server.child.exitCode, null, 'the server process is still running');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  },
);

test(
  'started while the database is down: does not exit (readiness 503 if it listens), serves within 10 s of the database starting',
  needsCluster,
  async () => {
    const cluster = privateCluster(PORT + 1);
    const starting = startServer({ DATABASE_URL: cluster.url, DB_CONNECT_TIMEOUT_MS: '1000' }, 60_000);
    const state: { listening: boolean; exited: string | null } = { listening: false, exited: null };
    starting.then(
      () => (state.listening = true),
      (e: Error) => (state.exited = e.message.split('\n')[0]!),
    );
    await sleep(5_000);
    console.log(JSON.stringify({ startedWhileDown: state }));
    assert.equal(state.exited, null, 'the server must not exit because the database is down at start-up');
    if (state.listening)
      assert.equal(await getStatus((await starting).at('/ready')), 503, 'not ready while the database is down');

    const startedAt = Date.now();
    cluster.start();
    const server = await starting;
    await waitFor(async () => (await getStatus(server.at('/ready'))) === 200, 10_000);
    assert.ok(Date.now() - startedAt < 10_000, `ready ${Date.now() - startedAt} ms after the database started`);
    assert.equal((await post(server.url, QUERY)).status, 200);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  },
);
