// Shared pieces of the reliability tests: the real server as a child process, a private
// PostgreSQL cluster that can be stopped and started, HTTP calls, and small statistics.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { ADMIN, ADMIN_KEY } from '../helpers.js';

export const SHORT = process.env.RELIABILITY_SHORT === '1';
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Reply {
  status: number;
  /** Parsed body; null when it was not JSON. */
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  } | null;
  ms: number;
  /** A transport failure (reset, refused) instead of an HTTP answer. */
  error?: string;
}

/** One POST on a connection of its own (no keep-alive), so a shutdown cannot race an idle socket. */
export function post(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = ADMIN,
  timeoutMs = 30_000,
): Promise<Reply> {
  const payload = JSON.stringify({ query, variables });
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: Reply['body'] = null;
          try {
            body = JSON.parse(text) as Reply['body'];
          } catch {
            body = null;
          }
          resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started });
        });
        res.on('error', (e) => resolve({ status: 0, body: null, ms: performance.now() - started, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: null, ms: performance.now() - started, error: e.code ?? e.message }),
    );
    req.end(payload);
  });
}

export const errorCode = (reply: Reply) => String(reply.body?.errors?.[0]?.extensions?.code ?? '');

export async function getStatus(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
}

export interface ServerProcess {
  child: ChildProcess;
  /** GraphQL endpoint, e.g. http://127.0.0.1:1234/graphql */
  url: string;
  /** The same origin with another path: `/ready`, `/metrics`. */
  at(path: string): string;
  exited: Promise<number | null>;
  output(): string;
}

/** Starts src/server.ts as `npm start` does; resolves once it listens (or rejects with its output). */
export async function startServer(env: Record<string, string>, startTimeoutMs = 60_000): Promise<ServerProcess> {
  const { DATABASE_URL: _suite, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...inherited,
      PORT: '0',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ADMIN_API_KEYS: `ci:${ADMIN_KEY}`,
      BCRYPT_COST: '4',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), startTimeoutMs);
    child.stdout!.on('data', (d) => {
      output += d;
      const match = /GraphiQL: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return { child, url, at: (path) => new URL(path, url).toString(), exited, output: () => output };
}

/** Runs `fn` on one short-lived connection to the given database. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Adds `application_name` to a connection URL, so the service's sessions can be found in pg_stat_activity. */
export function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Why a private cluster cannot run here, or null when it can. */
export function privateClusterUnavailable(): string | null {
  if (!existsSync(join(PG_BIN, 'pg_ctl'))) return `no PostgreSQL 15 binaries in ${PG_BIN}`;
  if (process.getuid?.() !== 0) return 'needs root, to run initdb and pg_ctl as the postgres user';
  if (spawnSync('id', ['postgres']).status !== 0) return 'no postgres user';
  return null;
}

/** A throwaway PostgreSQL 15 cluster on its own port, which a test can stop (as a crash) and start. */
export function privateCluster(port: number) {
  const dir = mkdtempSync(join(tmpdir(), 'cg-reliability-pg-'));
  const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim();
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, Number(ids), gid);
  const data = join(dir, 'data');
  const asPostgres = (command: string, args: string[]) => {
    const result = spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}${result.stdout}`);
  };
  asPostgres('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync']);
  const ctl = (...args: string[]) => asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'log'), ...args]);
  const cluster = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start: () => ctl('-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'),
    /** `immediate`: the server processes are killed without a clean shutdown, as in a crash. */
    stop: (mode: 'immediate' | 'fast' = 'fast') => ctl('-w', '-m', mode, 'stop'),
  };
  after(() => {
    try {
      cluster.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return cluster;
}

/** The q-th quantile (0..1) of the values, by nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Reads one gauge from the Prometheus text of /metrics. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`no ${name} in /metrics`);
  return Number(match[1]);
}
