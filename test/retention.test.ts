import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { type RetentionOptions, startRetentionJob } from '../src/db/retention.js';
import { newId } from '../src/lib/ids.js';
import { createLogger } from '../src/logger.js';
import { makeCustomer, migratedDatabase } from './helpers.js';

const source = await migratedDatabase();
const db = await openDatabase({ ...source, dataDir: 'memory://', poolSize: 5 });
after(() => db.close());
await migrate(db);
const prisma = db.prisma;
const silent = createLogger('silent');
const HOUR = 3_600_000;

beforeEach(async () => {
  await prisma.customerSession.deleteMany();
  await prisma.passwordResetToken.deleteMany();
  await prisma.rateLimit.deleteMany();
  await prisma.outboxEvent.deleteMany();
});

function job(options: Partial<RetentionOptions> = {}) {
  const started = startRetentionJob({ prisma, log: silent, intervalMs: 0, ...options });
  after(() => started.stop());
  return started;
}

/** `n` sessions of new customers, each expiring at `expiresAt`. Returns their IDs. */
async function sessions(n: number, expiresAt: Date): Promise<string[]> {
  const customer = await makeCustomer(prisma);
  const rows = Array.from({ length: n }, () => ({
    id: newId('CustomerSession'),
    customerId: customer.id,
    tokenHash: newId('CustomerSession'),
    expiresAt,
  }));
  await prisma.customerSession.createMany({ data: rows });
  return rows.map((r) => r.id);
}

test('deletes expired sessions, reset tokens, rate-limit rows and old delivered events; keeps live ones', async (t) => {
  const now = Date.now();
  const expiredSessions = await sessions(5, new Date(now - 1));
  const liveSessions = await sessions(2, new Date(now + HOUR));
  const [expiredReset, liveReset] = [await makeCustomer(prisma), await makeCustomer(prisma)];
  await prisma.passwordResetToken.createMany({
    data: [
      {
        customerId: expiredReset.id,
        tokenHash: 'a'.repeat(64),
        createdAt: new Date(now - HOUR),
        expiresAt: new Date(now - 1),
      },
      {
        customerId: liveReset.id,
        tokenHash: 'b'.repeat(64),
        createdAt: new Date(now),
        expiresAt: new Date(now + HOUR),
      },
    ],
  });
  await prisma.rateLimit.createMany({
    data: [
      { key: 'login-email:gone@example.com', points: 3, expire: BigInt(now - 1) },
      { key: 'login-email:blocked@example.com', points: 6, expire: BigInt(now + HOUR) },
    ],
  });
  const event = (deliveredAt: Date | null, id = newId('OutboxEvent')) => ({
    id,
    name: 'customer.updated',
    payload: {},
    deliveredAt,
    key: `customer:${id}`,
    seq: 1,
  });
  const events = [
    event(new Date(now - 200 * HOUR)),
    event(new Date(now - 169 * HOUR)),
    event(new Date(now - HOUR)),
    event(null),
  ];
  await prisma.outboxEvent.createMany({ data: events });

  // Batches of 2: every kind takes several statements.
  const first = await job({ batchSize: 2, deliveredEventsRetentionHours: 168 }).run();
  t.diagnostic(`trimmed: ${JSON.stringify(first)}`);
  assert.deepEqual(first, {
    sessions: 5,
    resetTokens: 1,
    tokens: 0,
    rateLimits: 1,
    deliveredEvents: 2,
    timelineEntries: 0,
  });
  assert.deepEqual(
    (await prisma.customerSession.findMany({ orderBy: { id: 'asc' } })).map((s) => s.id),
    liveSessions.sort(),
  );
  assert.equal(await prisma.customerSession.count({ where: { id: { in: expiredSessions } } }), 0);
  assert.deepEqual(
    (await prisma.passwordResetToken.findMany()).map((r) => r.customerId),
    [liveReset.id],
  );
  assert.deepEqual(
    (await prisma.rateLimit.findMany()).map((r) => r.key),
    ['login-email:blocked@example.com'],
  );
  assert.deepEqual(
    (await prisma.outboxEvent.findMany({ orderBy: { id: 'asc' } })).map((e) => e.id),
    [events[2]!.id, events[3]!.id].sort(),
    'recent delivered and undelivered events stay',
  );
  assert.deepEqual(
    await job().run(),
    { sessions: 0, resetTokens: 0, tokens: 0, rateLimits: 0, deliveredEvents: 0, timelineEntries: 0 },
    'a second run finds nothing',
  );
});

test('two instances at once delete every expired row exactly once between them', async (t) => {
  // On PostgreSQL a second pool is a second instance; PGlite is one process, so they share it.
  let other = prisma;
  if (db.kind === 'postgres') {
    const second = await openDatabase({ url: source.url, poolSize: 5 });
    t.after(() => second.close());
    other = second.prisma;
  }
  const expired = await sessions(500, new Date(Date.now() - 1));
  const live = await sessions(20, new Date(Date.now() + HOUR));
  const [a, b] = await Promise.all([job({ batchSize: 25 }).run(), job({ batchSize: 25, prisma: other }).run()]);
  t.diagnostic(`instance A trimmed ${a.sessions} sessions, instance B ${b.sessions}`);
  assert.equal(a.sessions + b.sessions, expired.length);
  assert.equal(await prisma.customerSession.count(), live.length);
});

test('the job runs by itself every interval and stops', async () => {
  await sessions(3, new Date(Date.now() - 1));
  const started = job({ intervalMs: 20 });
  for (let i = 0; i < 100 && (await prisma.customerSession.count()) > 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(await prisma.customerSession.count(), 0);
  await started.stop();
  await sessions(2, new Date(Date.now() - 1));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await prisma.customerSession.count(), 2, 'a stopped job deletes nothing');
});
