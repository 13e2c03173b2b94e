// Where a read's time goes, in process and one request at a time (no load, no HTTP socket):
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:breakdown
// For Q2 and Q2c (the shapes of bench/run.ts) it measures, per request:
//   - the whole request through the real app (yoga.fetch, production settings, an admin key);
//   - the database: the durations Prisma reports for the request's statements (driver + server);
//   - Prisma alone: the same Prisma calls the request made, replayed without GraphQL;
//   - GraphQL execution alone: graphql-js executing the same document over the finished response
//     as plain objects (schema.graphql, default resolvers): what any graphql-js server pays.
// What is left is ours and our libraries': Pothos' resolver wrappers (auth, errors, relation
// mapping), connection building, yoga's envelope and the JSON. A throwaway database is seeded.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, execute, parse } from 'graphql';
import { seed } from '../prisma/seed.js';
import { withThrowawayDatabase } from '../scripts/throwaway-database.js';
import type { Database } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { createApp } from '../src/yoga.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 2_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const WARMUP = 100;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

const Q2_FIELDS = 'id email groups { edges { node { id name } } } addresses { edges { node { id city } } }';
const SHAPES = {
  Q2: `query Q2($first: Int!) { customers(first: $first) { edges { cursor node { ${Q2_FIELDS} } } } }`,
  Q2c: `query Q2c($first: Int!) { customers(first: $first) { edges { cursor node { ${Q2_FIELDS} orders(first: 5) { edges { node { id total { amount currencyCode } } } } } } } }`,
};

type Captured = { model: string; operation: string; args: unknown };

/** Mean wall and CPU milliseconds of `fn` over RUNS calls, after WARMUP. */
async function measure(fn: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < RUNS; i++) await fn();
  const wall = (performance.now() - started) / RUNS;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 / RUNS };
}

/** BENCH_PROFILE=dir: a CPU profile of each shape's whole-request runs, as <dir>/<shape>.cpuprofile. */
async function profiled<T>(shape: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${shape}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** BENCH_EXPLAIN=1: each statement of the request with PostgreSQL's plan and timings. */
async function explain(db: Database, shape: string, statements: { sql: string; params: string }[]) {
  const session = await db.session();
  try {
    for (const { sql, params } of statements) {
      const plan = await session.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
        JSON.parse(params) as unknown[],
      );
      console.log(`\n${shape}: ${sql}\n${plan.map((row) => row['QUERY PLAN']).join('\n')}\n`);
    }
  } finally {
    await session.release();
  }
}

await withThrowawayDatabase(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres', async (db) => {
  await migrate(db);
  await seed(db, { customers: CUSTOMERS });
  await db.prisma.$executeRawUnsafe('ANALYZE');

  // The app's Prisma calls are recorded through a query extension on the client it is given.
  let capture: Captured[] | undefined;
  const recording = db.prisma.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        capture?.push({ model: model!, operation, args });
        return query(args);
      },
    },
  });
  let dbMs = 0;
  let statements: { sql: string; params: string }[] | undefined;
  db.prisma.$on('query', (event) => {
    dbMs += event.duration;
    statements?.push({ sql: event.query, params: event.params });
  });
  const app = createApp({
    db: { ...db, prisma: recording as unknown as Database['prisma'] },
    log: createLogger('silent'),
    settings: { production: true, adminKeys: [{ name: 'bench', key: ADMIN_KEY }] },
  });
  const schema = buildSchema(readFileSync(join(ROOT, 'schema.graphql'), 'utf8'));

  console.log(
    `${CUSTOMERS} customers, ${RUNS} sequential requests per measurement (after ${WARMUP} to warm up), mean per request\n`,
  );
  console.log(
    '| shape | whole request ms (CPU) | database ms | Prisma alone ms (CPU) | GraphQL execution alone ms | rest: Pothos, yoga, JSON ms |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [shape, query] of Object.entries(SHAPES)) {
    const body = JSON.stringify({ query, variables: { first: 50 } });
    const request = async () => {
      const response = await app.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        body,
      });
      return response.text();
    };

    capture = [];
    statements = [];
    const first = JSON.parse(await request()) as { data?: unknown; errors?: unknown };
    if (first.errors || !first.data) throw new Error(`${shape}: ${JSON.stringify(first.errors)}`);
    const calls = capture;
    capture = undefined;
    if (process.env.BENCH_EXPLAIN) await explain(db, shape, statements);
    statements = undefined;

    dbMs = 0;
    const whole = await profiled(shape, () => measure(request));
    const database = dbMs / (RUNS + WARMUP);

    const client = db.prisma as unknown as Record<string, Record<string, (args: unknown) => Promise<unknown>>>;
    const delegate = (c: Captured) => client[c.model[0]!.toLowerCase() + c.model.slice(1)]![c.operation]!;
    const prismaAlone = await measure(() => Promise.all(calls.map((c) => delegate(c)(c.args))));

    const document = parse(query);
    const execution = await measure(async () => {
      const result = await execute({ schema, document, rootValue: first.data, variableValues: { first: 50 } });
      return JSON.stringify(result);
    });

    const rest = whole.wall - prismaAlone.wall - execution.wall;
    console.log(
      `| ${shape} (${calls.length} Prisma call${calls.length === 1 ? '' : 's'}) | ${whole.wall.toFixed(2)} (${whole.cpu.toFixed(2)}) | ${database.toFixed(2)} | ${prismaAlone.wall.toFixed(2)} (${prismaAlone.cpu.toFixed(2)}) | ${execution.wall.toFixed(2)} | ${rest.toFixed(2)} |`,
    );
  }
});
