// addCustomersToGroup through the real app: wall time (median of runs) and SQL statements, for
// batch sizes of 1,000 and 5,000 on the database DATABASE_URL names (a throwaway one is created).
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:membership
import { migrate } from '../src/db/migrate.js';
import { loadEnv } from '../src/env.js';
import { newId } from '../src/lib/ids.js';
import { createLogger } from '../src/logger.js';
import { createApp } from '../src/yoga.js';
import { withThrowawayDatabase } from './throwaway-database.js';

// DATABASE_URL from the environment or .env, as every script reads it.
await withThrowawayDatabase(loadEnv().DATABASE_URL, async (db) => {
  await migrate(db);
  const key = 'bench-admin-key-0123456789abcdef';
  const app = createApp({ db, log: createLogger('silent'), settings: { adminKeys: [{ name: 'bench', key }] } });
  const customers = Array.from({ length: 5000 }, (_, i) => ({ id: newId('Customer'), email: `m${i}@example.com` }));
  await db.prisma.customer.createMany({ data: customers });
  const ADD = 'mutation($g: ID!, $c: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $c) { __typename } }';
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const size of [1000, 5000]) {
    const times: number[] = [];
    let statements = 0;
    for (let run = 0; run < 6; run++) {
      const group = await db.prisma.customerGroup.create({
        data: { id: newId('CustomerGroup'), name: `bench ${size} ${run}` },
      });
      let count = 0;
      const stop = db.onStatement(() => count++);
      const started = performance.now();
      const response = await app.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: ADD, variables: { g: group.id, c: customers.slice(0, size).map((c) => c.id) } }),
      });
      const body = (await response.json()) as { data?: { addCustomersToGroup: { __typename: string } } };
      const ms = performance.now() - started;
      stop();
      if (body.data?.addCustomersToGroup.__typename !== 'CustomerGroupPayload') throw new Error(JSON.stringify(body));
      if (run > 0) times.push(ms); // the first run warms up
      statements = count;
    }
    console.log(
      `addCustomersToGroup ${size} ids on ${db.kind}: median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}, 5 runs), ${statements} SQL statements`,
    );
  }
});
