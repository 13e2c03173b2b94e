import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { maskError, useTracing } from '../src/observability.js';
import { createApp } from '../src/yoga.js';
import { ADMIN, ADMIN_KEY, ANONYMOUS, DATABASE_KIND, freshDatabaseUrl, migratedDatabase } from './helpers.js';

const onPostgres =
  DATABASE_KIND === 'postgres'
    ? {}
    : { skip: 'a database outage and pool exhaustion are PostgreSQL matters (run with DATABASE_URL)' };

/** A TCP proxy in front of PostgreSQL that the test can cut and restore: the database "goes away". */
async function cuttableProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server!.close(() => resolve());
    });
  await start();
  after(() => server?.close());
  const url = new URL(target);
  url.port = String(port);
  return { url: url.toString(), cut, restore: start };
}

function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger('trace', stream) };
}

async function appOn(
  source: { url?: string; initialData?: Blob },
  options: { poolSize?: number; connectTimeoutMs?: number } = {},
) {
  const db = await openDatabase({
    ...source,
    dataDir: 'memory://',
    poolSize: options.poolSize ?? 2,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
  });
  after(() => db.close());
  await migrate(db);
  const { lines, log } = memoryLog();
  const app = createApp({
    db,
    log,
    metrics: true,
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], bcryptCost: 4 },
  });
  const gql = async (query: string, headers: Record<string, string> = ADMIN) => {
    const response = await app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string } }[];
      },
    };
  };
  return { db, app, gql, lines };
}

test(
  'the database going away: 503 SERVICE_UNAVAILABLE within seconds, readiness 503, and recovery without a restart',
  onPostgres,
  async () => {
    const proxy = await cuttableProxy(new URL((await migratedDatabase()).url!));
    const { app, gql } = await appOn({ url: proxy.url });
    assert.equal((await gql('{ customers { totalCount } }')).status, 200);

    await proxy.cut();
    const started = Date.now();
    const down = await gql('{ customers { totalCount } }');
    assert.ok(Date.now() - started < 5000, 'fails fast instead of hanging');
    assert.equal(down.status, 503);
    assert.equal(down.body.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE');
    assert.doesNotMatch(JSON.stringify(down.body), /ECONN|terminated|127\.0\.0\.1|postgres/i);
    const ready = await app.fetch('http://yoga/ready');
    assert.equal(ready.status, 503);

    await proxy.restore();
    const deadline = Date.now() + 10_000;
    let back = await gql('{ customers { totalCount } }');
    while (back.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      back = await gql('{ customers { totalCount } }');
    }
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal((await app.fetch('http://yoga/ready')).status, 200);
  },
);

test(
  'an exhausted pool answers SERVICE_UNAVAILABLE after the connection wait timeout, not a hang',
  onPostgres,
  async () => {
    const { db, gql } = await appOn(await migratedDatabase(), { poolSize: 1, connectTimeoutMs: 300 });
    // Prisma queries start only when awaited or then-ed: start this one now, to hold the only connection.
    const holding = db.prisma.$queryRaw`SELECT 1 AS slept FROM pg_sleep(1.5)`.then(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const r = await gql('{ customers { totalCount } }');
    assert.ok(Date.now() - started < 1200, `waited ${Date.now() - started} ms`);
    assert.equal(r.body.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE');
    await holding;
    assert.equal((await gql('{ customers { totalCount } }')).status, 200);
  },
);

test('/metrics: requests and durations per operation, errors by code, pool usage', async () => {
  const { app, gql } = await appOn(await migratedDatabase());
  await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify({ query: 'query ListCustomers { customers { totalCount } }' }),
  });
  await gql('{ customers { totalCount } }', ANONYMOUS);
  const text = await (await app.fetch('http://yoga/metrics')).text();
  assert.match(text, /graphql_envelop_request_duration_bucket\{[^}]*operationName="ListCustomers"/);
  assert.match(text, /graphql_envelop_request\{[^}]*operationName="ListCustomers"/);
  assert.match(text, /graphql_errors_total\{code="UNAUTHENTICATED"/);
  if (DATABASE_KIND === 'postgres') assert.match(text, /db_pool_connections\{state="max"\} 2/);
  // Per-phase and per-deprecated-field metrics cost CPU on every request and are off.
  assert.doesNotMatch(text, /graphql_envelop_(phase_|deprecated_field|execute_resolver|request_time_summary)/);
});

test('log lines carry the request ID and never a password, token or hash', async () => {
  const { app, lines } = await appOn(await migratedDatabase());
  const call = (query: string, variables: Record<string, unknown>, requestId: string) =>
    app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query, variables }),
    });
  const secret = 'Sup3r-secret-pass';
  const reg = (await (
    await call(
      'mutation($p: String!) { register(input: { email: "log@example.com", password: $p }) { ... on Session { accessToken } } }',
      { p: secret },
      'req-register',
    )
  ).json()) as { data: { register: { accessToken: string } } };
  await call(
    'mutation($p: String!) { login(email: "log@example.com", password: $p) { __typename } }',
    { p: 'wrong-one-x' },
    'req-login',
  );
  const token = reg.data.register.accessToken;
  const text = JSON.stringify(lines);
  assert.ok(lines.length > 0);
  for (const needle of [secret, 'wrong-one-x', token, '$2b$'])
    assert.ok(!text.includes(needle), `log contains ${needle}`);
  const requestLines = lines.filter((l) => l.msg === 'request');
  assert.deepEqual(
    requestLines.map((l) => l.requestId),
    ['req-register', 'req-login'],
  );
  // Every line logged while serving a request is tagged with it.
  assert.ok(lines.filter((l) => l.requestId === undefined).every((l) => l.msg !== 'request'));
});

test('an unexpected error is masked for the client and logged, with the request ID and where it happened', async () => {
  const { app, db, lines } = await appOn(await migratedDatabase());
  await db.prisma.$executeRawUnsafe('ALTER TABLE customer_group RENAME TO customer_group_gone');
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-broken', ...ADMIN },
    body: JSON.stringify({ query: '{ customerGroups { edges { node { id } } } }' }),
  });
  const body = (await response.json()) as { errors: { message: string }[] };
  assert.deepEqual(
    body.errors.map((e) => e.message),
    ['Unexpected error.'],
  );
  const logged = lines.filter((l) => l.msg === 'unexpected error');
  assert.equal(logged.length, 1, JSON.stringify(lines));
  assert.equal(logged[0]!.requestId, 'req-broken');
  assert.equal(logged[0]!.path, 'customerGroups');
  assert.match(JSON.stringify(logged[0]!.err), /customer_group/);
});

test('OpenTelemetry: each operation produces spans when tracing is on', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const db = await openDatabase({ ...(await migratedDatabase()), dataDir: 'memory://' });
  after(() => db.close());
  await migrate(db);
  const app = createApp({
    db,
    log: createLogger('silent'),
    plugins: [useTracing(provider)],
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }] },
  });
  await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify({ query: 'query Traced { customers { totalCount } }' }),
  });
  const names = exporter.getFinishedSpans().map((s) => s.name);
  assert.ok(
    names.some((n) => /Traced/.test(n)),
    names.join(', '),
  );
});

test(
  'a statement over DB_STATEMENT_TIMEOUT_MS is cancelled by PostgreSQL and reported as TIMEOUT',
  onPostgres,
  async () => {
    const db = await openDatabase({ url: await freshDatabaseUrl(), poolSize: 1, statementTimeoutMs: 200 });
    after(() => db.close());
    const started = Date.now();
    const error = await db.prisma.$queryRaw`SELECT 1 AS slept FROM pg_sleep(2)`.then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(Date.now() - started < 1500, 'cancelled at the timeout');
    assert.ok(error, 'the slow statement failed');
    const masked = maskError(error, 'Unexpected error.');
    // 57014: the statement ran out of time; the database itself is fine (test/db-failures.test.ts has every mapping).
    assert.equal((masked as { extensions?: { code?: string } }).extensions?.code, 'TIMEOUT');
  },
);
