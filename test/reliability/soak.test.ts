// 6. A soak at a steady request rate: no errors, p99 latency stable, memory flat after warm-up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshDatabaseUrl, SERVER_URL } from '../helpers.js';
import { metric, post, quantile, type Reply, SHORT, sleep, startServer } from './support.js';

const onPostgres = SERVER_URL ? {} : { skip: 'needs a PostgreSQL server (DATABASE_URL)' };
const SECONDS = Number(process.env.SOAK_SECONDS ?? (SHORT ? 20 : 600));
const RATE = Number(process.env.SOAK_RATE ?? 40); // requests per second
const WARM_UP_S = Math.min(60, SECONDS / 5);
const WINDOW_S = Math.min(60, SECONDS / 4);

const READ =
  '{ customers(first: 10, orderBy: { field: CREATED_AT, direction: DESC }) { totalCount edges { node { email groups(first: 2) { totalCount } } } } }';
const CREATE = `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename ... on Error { code } ... on CustomersPayload { customers { id } } } }`;
const ADD = `mutation($g: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $ids) { __typename ... on Error { code } } }`;

test(`soak: ${RATE} req/s for ${SECONDS} s: no errors, p99 of the last ${WINDOW_S} s near the first's, RSS growth under 10% after warm-up`, {
  ...onPostgres,
  timeout: (SECONDS + 120) * 1000,
}, async () => {
  const server = await startServer({ DATABASE_URL: (await freshDatabaseUrl())!, LOG_LEVEL: 'error' });
  const group = await post(
    server.url,
    'mutation { createCustomerGroups(input: [{ name: "soak" }]) { ... on CustomerGroupsPayload { customerGroups { id } } } }',
  );
  const created = group.body?.data?.createCustomerGroups as { customerGroups?: { id: string }[] } | undefined;
  const groupId = created?.customerGroups?.[0]?.id;
  assert.ok(groupId, `group created: ${JSON.stringify(group)}`);
  const createdIds: string[] = [];

  const samples: { at: number; reply: Reply }[] = [];
  const rss: { at: number; bytes: number }[] = [];
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const inFlight = new Set<Promise<void>>();
  let n = 0;
  const sampler = setInterval(() => {
    void metric(server.at('/metrics'), 'process_resident_memory_bytes').then(
      (bytes) => rss.push({ at: elapsed(), bytes }),
      () => undefined,
    );
  }, 2_000);

  // Open loop: requests leave on schedule whether or not earlier ones have been answered.
  while (elapsed() < SECONDS) {
    const i = n++;
    const at = elapsed();
    const call =
      i % 10 < 7 || createdIds.length === 0
        ? post(server.url, READ)
        : i % 10 < 9
          ? post(server.url, CREATE, {
              input: [{ email: `soak-${i}@example.com`, firstName: 'Soak', metadata: { i } }],
            })
          : post(server.url, ADD, { g: groupId, ids: createdIds.slice(-50) });
    const p = call.then((reply) => {
      samples.push({ at, reply });
      const created = reply.body?.data?.createCustomers as { customers?: { id: string }[] } | undefined;
      for (const c of created?.customers ?? []) createdIds.push(c.id);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    await sleep(Math.max(0, started + (n * 1000) / RATE - Date.now()));
  }
  await Promise.all(inFlight);
  clearInterval(sampler);

  const errors = samples.filter(
    (s) =>
      s.reply.status !== 200 ||
      s.reply.body?.errors ||
      /Error$/.test(JSON.stringify(s.reply.body?.data ?? {}).match(/"__typename":"(\w+)"/)?.[1] ?? ''),
  );
  const window = (from: number, to: number) => samples.filter((s) => s.at >= from && s.at < to).map((s) => s.reply.ms);
  const first = window(WARM_UP_S, WARM_UP_S + WINDOW_S);
  const last = window(SECONDS - WINDOW_S, SECONDS);
  const p99First = quantile(first, 0.99);
  const p99Last = quantile(last, 0.99);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rssFirst = mean(rss.filter((r) => r.at >= WARM_UP_S && r.at < WARM_UP_S + WINDOW_S).map((r) => r.bytes));
  const rssLast = mean(rss.filter((r) => r.at >= SECONDS - WINDOW_S).map((r) => r.bytes));
  const growth = (rssLast - rssFirst) / rssFirst;
  console.log(
    JSON.stringify({
      seconds: SECONDS,
      requests: samples.length,
      achievedRate: Math.round(samples.length / SECONDS),
      errors: errors.length,
      p50Ms: Math.round(
        quantile(
          samples.map((s) => s.reply.ms),
          0.5,
        ),
      ),
      p99FirstMs: Math.round(p99First),
      p99LastMs: Math.round(p99Last),
      rssFirstMB: Math.round(rssFirst / 2 ** 20),
      rssLastMB: Math.round(rssLast / 2 ** 20),
      rssGrowthPct: Math.round(growth * 1000) / 10,
    }),
  );
  assert.deepEqual(
    errors.slice(0, 3).map((s) => `${s.reply.status} ${s.reply.error ?? JSON.stringify(s.reply.body).slice(0, 200)}`),
    [],
  );
  assert.ok(p99Last <= Math.max(2 * p99First, p99First + 25), `p99 went from ${p99First} ms to ${p99Last} ms`);
  assert.ok(growth < 0.1, `RSS grew ${(growth * 100).toFixed(1)}% after warm-up`);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});
