import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ADMIN, ADMIN_KEY, createTestApp, freshDatabaseUrl } from './helpers.js';
import { writePgliteDataFolder } from './template.js';

test('health, readiness and GraphiQL through the yoga app', async () => {
  const t = await createTestApp();
  assert.equal((await t.app.fetch('http://yoga/health')).status, 200);
  assert.equal((await t.app.fetch('http://yoga/ready')).status, 200);
  const page = await t.app.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /GraphiQL|graphiql/);
  assert.match(html, /customers\(first: 5\)/, 'the example query is preloaded');
  const response = await t.app.fetch('http://yoga/graphql?query=%7B__typename%7D', {
    headers: { 'x-request-id': 'req-123' },
  });
  assert.equal(response.headers.get('x-request-id'), 'req-123');
});

test('readiness is 503 with no error text once the database is gone', async () => {
  const t = await createTestApp();
  await t.db.close();
  const response = await t.app.fetch('http://yoga/ready');
  assert.equal(response.status, 503);
  assert.doesNotMatch(await response.text(), /closed|error|ECONN/i);
});

/** Starts `npm start`'s entry point as a real process and waits for its GraphiQL line. */
async function startServer(env: Record<string, string>) {
  // The server's database is the one `env` names, else the embedded one: never the suite's
  // DATABASE_URL, nor one in a developer's .env (an empty DATABASE_URL wins over .env).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, DATABASE_URL: '', PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    child.stdout.on('data', (d) => {
      output += d;
      const match = /GraphiQL: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A failed assertion must not leave the server running (and the test runner waiting for it).
  after(() => void child.kill('SIGKILL'));
  return { child, url, exited, output: () => output };
}

test('npm start: a fresh data folder is migrated, seeded, served; SIGTERM finishes in-flight work and exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'customer-graph-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = await freshDatabaseUrl();
  const server = await startServer({
    ADMIN_API_KEYS: `ci:${ADMIN_KEY}`,
    DATA_DIR: join(dataDir, 'pglite'),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, SEED_SAMPLE_DATA: 'true' } : {}),
  });
  const query = async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ADMIN },
      body: JSON.stringify({
        query: '{ customers(first: 3) { totalCount edges { node { email orders(first: 1) { totalCount } } } } }',
      }),
    });
    return (await response.json()) as { data: { customers: { totalCount: number; edges: unknown[] } } };
  };
  const body = await query();
  assert.ok(body.data.customers.totalCount > 0, 'sample data was loaded');
  assert.equal(body.data.customers.edges.length, 3);

  // A request whose headers have arrived but whose body has not is in flight when SIGTERM lands.
  const payload = JSON.stringify({ query: '{ customers(first: 3) { edges { node { email } } } }' });
  const inFlight = new Promise<string>((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...ADMIN };
    const req = request(server.url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => {
      server.child.kill('SIGTERM');
      setTimeout(() => req.end(payload), 300);
    }, 200);
  });
  const late = JSON.parse(await inFlight) as { data: { customers: { edges: unknown[] } } };
  assert.equal(late.data.customers.edges.length, 3, 'the request in flight at SIGTERM completed');
  assert.equal(await server.exited, 0, server.output());
  const lines = server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  assert.ok(
    lines.some((l) => JSON.parse(l).msg === 'request'),
    'requests are logged as JSON lines',
  );
});

test('npm start with no admin key in development: a key for the run is printed and preloaded in GraphiQL', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'customer-graph-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  await writePgliteDataFolder(join(dataDir, 'pglite'));
  const server = await startServer({
    DATA_DIR: join(dataDir, 'pglite'),
    ADMIN_API_KEYS: '',
    SEED_SAMPLE_DATA: 'false',
  });
  const key = await new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const match = /Admin key for this run \(preloaded in GraphiQL\): (\S+)/.exec(server.output());
      if (match) {
        clearInterval(poll);
        resolve(match[1]!);
      }
    }, 20);
    setTimeout(() => {
      clearInterval(poll);
      reject(new Error(server.output()));
    }, 5_000);
  });
  const page = await (await fetch(server.url, { headers: { accept: 'text/html' } })).text();
  assert.ok(page.includes(key), 'GraphiQL opens with the key in its headers');
  const body = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ customers { totalCount } }' }),
  }).then((r) => r.json() as Promise<{ data: { customers: { totalCount: number } } }>);
  assert.equal(body.data.customers.totalCount, 0);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});
