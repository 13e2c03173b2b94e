import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { isDatabaseUnavailable } from './db/errors.js';
import { openDatabase } from './db/index.js';
import { migrate } from './db/migrate.js';
import { startRetentionJob } from './db/retention.js';
import { loadEnv } from './env.js';
import { createSink } from './events/sinks.js';
import { startOutboxWorker } from './events/worker.js';
import { createLogger } from './logger.js';
import { consoleTracing } from './observability.js';
import { exitOnStartupError, StartupError } from './startup-error.js';
import { serveWebSockets } from './websocket.js';
import { createApp, GRAPHQL_PATH, graphiqlShown, settingsFromEnv } from './yoga.js';

/** What a failed listen means to the person starting the server, in one line. */
function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): StartupError | NodeJS.ErrnoException {
  if (error.code === 'EADDRINUSE')
    return new StartupError(
      `port ${port} on ${host} is already in use: stop what holds it, or set PORT (PORT=0 picks a free one)`,
    );
  if (error.code === 'EACCES')
    return new StartupError(`not allowed to listen on port ${port} on ${host}: set PORT to 1024 or above`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new StartupError(`cannot listen on HOST=${host}: no such local address`);
  return error;
}

function listen(server: Server, port: number, host: string) {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenProblem(error, host, port));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

// Settings and the port are checked before the database opens and the worker starts, so that a
// mistake ends the command at once with one line (the real listen below reports a lost race the same way).
let env: ReturnType<typeof loadEnv>;
try {
  env = loadEnv();
} catch (error) {
  exitOnStartupError(error);
}
if (env.PORT !== 0) {
  const probe = createServer();
  await listen(probe, env.PORT, env.HOST).catch(exitOnStartupError);
  await new Promise((resolve) => probe.close(resolve));
}
const log = createLogger(env.LOG_LEVEL);

const db = await openDatabase({
  url: env.DATABASE_URL,
  dataDir: env.DATA_DIR,
  poolSize: env.DB_POOL_SIZE,
  connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
  statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
}).catch(exitOnStartupError);
log.info({ database: db.kind === 'postgres' ? 'postgresql' : `embedded (${env.DATA_DIR})` }, 'database opened');

// A database that is still starting (or briefly away) must not end the process: retry with backoff.
async function migrateWhenReachable() {
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
    try {
      return await migrate(db);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      log.warn({ attempt, retryInMs: delay }, 'database unreachable at start-up; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
const { applied, modified } = await migrateWhenReachable();
if (applied.length) log.info({ applied }, 'migrations applied');
if (modified.length) log.warn({ modified }, 'applied migrations whose files have changed since');

// Sample data by default only on the embedded database: never write to a real server unasked.
// (Imported here: the fake-data library is not loaded where no sample data is wanted.)
if (env.SEED_SAMPLE_DATA ?? db.kind === 'pglite') {
  const { isEmpty, seed } = await import('../prisma/seed.js');
  if (await isEmpty(db.prisma)) log.info(await seed(db), 'sample data loaded');
}

// Returns at once: a broker's sink connects (and reconnects) in the background, so the server starts,
// serves and writes events into the outbox while NATS or Redis is down.
const sink = await createSink(env, log);
const outbox = startOutboxWorker({ prisma: db.prisma, sink, log, pollMs: env.OUTBOX_POLL_MS });
log.info({ sink: sink.name }, 'outbox worker started');
const retention = startRetentionJob({
  prisma: db.prisma,
  log,
  intervalMs: env.RETENTION_INTERVAL_MS,
  batchSize: env.RETENTION_BATCH_SIZE,
  deliveredEventsRetentionHours: env.DELIVERED_EVENTS_RETENTION_HOURS,
  timelineRetentionDays: env.TIMELINE_RETENTION_DAYS,
});

// A newcomer's `npm start` must be able to explore at once: outside production, with no admin key
// configured, one is made for this run, printed, and preloaded into GraphiQL.
const devAdminKey =
  env.NODE_ENV !== 'production' && env.ADMIN_API_KEYS.length === 0
    ? `dev-${randomBytes(18).toString('base64url')}`
    : null;
const adminKeys = devAdminKey ? [{ name: 'dev', key: devAdminKey }] : env.ADMIN_API_KEYS;

const settings = { ...settingsFromEnv(env), adminKeys };
// GraphiQL's bundled page (no CDN), loaded only when it is served.
const renderGraphiQL = graphiqlShown(settings)
  ? (await import('@graphql-yoga/render-graphiql')).renderGraphiQL
  : undefined;

let stopping = false;
const yoga = createApp({
  db,
  log,
  graphiql: devAdminKey ? { headers: { Authorization: `Bearer ${devAdminKey}` } } : true,
  renderGraphiQL,
  settings,
  isReady: () => !stopping,
  metrics: env.METRICS,
  plugins: env.OTEL_TRACES === 'console' ? [await consoleTracing()] : [],
});
// The request ID the log lines of a request carry: the caller's, if it is sane.
const server = createServer((req, res) => {
  const given = req.headers['x-request-id'];
  req.headers['x-request-id'] = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  void yoga(req, res);
});
const websockets = serveWebSockets(server, yoga);

try {
  await listen(server, env.PORT, env.HOST);
} catch (error) {
  await outbox.stop();
  await sink.close();
  await db.close();
  exitOnStartupError(error);
}
{
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
  const url = `http://${host}:${port}${GRAPHQL_PATH}`;
  log.info({ url, pid: process.pid }, 'listening');
  if (process.stdout.isTTY || env.NODE_ENV !== 'production') {
    console.log(`\n  GraphiQL: ${url}`);
    if (devAdminKey) console.log(`  Admin key for this run (preloaded in GraphiQL): ${devAdminKey}`);
    console.log('');
  }
}

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  // Readiness is 503 from now on; keep accepting for SHUTDOWN_DRAIN_MS so that a load balancer stops
  // routing here, and connections already queued are served instead of reset when the listener closes.
  log.info({ signal, drainMs: env.SHUTDOWN_DRAIN_MS }, 'shutting down: draining, then no new connections');
  await new Promise((resolve) => setTimeout(resolve, env.SHUTDOWN_DRAIN_MS));
  const force = setTimeout(() => {
    log.warn('in-flight requests did not finish in time; closing their connections');
    server.closeAllConnections();
  }, env.SHUTDOWN_TIMEOUT_MS);
  force.unref();
  // Subscriptions end now (their streams and sockets close); requests in flight finish.
  await yoga.dispose();
  await websockets.close();
  server.close(async () => {
    clearTimeout(force);
    // Requests are done, so no new events are written. The worker only finishes the batch it is
    // delivering: events still due stay in the outbox for the next start (or another instance).
    // Then the retention job; last the sink and the database they use.
    await outbox.stop();
    await retention.stop();
    await sink.close();
    await db.close();
    log.info('stopped');
    process.exit(0);
  });
  // Closes the keep-alive connections idle at this moment (close() itself does too since Node 19).
  // Those busy with a request get until the force timer above, SHUTDOWN_TIMEOUT_MS from here.
  server.closeIdleConnections();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
