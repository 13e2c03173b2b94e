// A broker outage longer than the NATS client's own reconnect attempts (ten, two seconds apart):
// NATS or Redis killed for 25 s (short) or a minute under a steady write load, with three outbox
// workers (three pools on PostgreSQL). Every event reaches the broker once, each customer's and
// group's in commit order, and delivery resumes within seconds of the broker's return, without a
// restart. (npm test's test/event-delivery.test.ts does the same with a few seconds of outage.)
import { after, test } from 'node:test';
import { openDatabase } from '../../src/db/index.js';
import { migrate } from '../../src/db/migrate.js';
import { NATS_SERVER, privateNats, privateRedis, REDIS_SERVER, requireBinary } from '../brokers.js';
import { LOADED_MACHINE_MARGIN_MS, outageUnderLoad } from '../event-load.js';
import { migratedDatabase } from '../helpers.js';
import { SHORT } from './support.js';

const OUTAGE_MS = SHORT ? 25_000 : 60_000;

const source = await migratedDatabase();
const db = await openDatabase({ ...source, dataDir: 'memory://', poolSize: 5 });
after(() => db.close());
await migrate(db);
const others =
  db.kind === 'postgres' ? await Promise.all([1, 2].map(() => openDatabase({ url: source.url, poolSize: 3 }))) : [];
after(() => Promise.all(others.map((o) => o.close())));
const prismas = others.length ? [db.prisma, ...others.map((o) => o.prisma)] : [db.prisma, db.prisma, db.prisma];

for (const [kind, binary, start] of [
  ['nats', NATS_SERVER, privateNats],
  ['redis', REDIS_SERVER, privateRedis],
] as const) {
  test(`${kind} killed for ${OUTAGE_MS / 1000} s under load: every event once, in order per key, delivery resumed within 3 s of its return`, async (t) => {
    if (!requireBinary(t, binary)) return;
    await db.prisma.outboxEvent.deleteMany();
    const broker = await start();
    await broker.start();
    const result = await outageUnderLoad(kind, broker, prismas, {
      beforeMs: 2_000,
      outageMs: OUTAGE_MS,
      afterMs: 2_000,
      resumeWithinMs: 3_000,
      pauseMs: 50,
    });
    t.diagnostic(
      `${result.events} events; ${result.backlog} waiting at the broker's return: delivery resumed ${result.resumedMs} ms after it, all delivered after ${result.drainedMs} ms`,
    );
    if (result.overBudget)
      t.diagnostic(`over the 3 s budget, within the loaded machine's margin of ${LOADED_MACHINE_MARGIN_MS} ms`);
  });
}
