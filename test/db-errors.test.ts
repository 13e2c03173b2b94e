import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { UNIQUE, uniqueViolated } from '../src/db/errors.js';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { DATABASE_KIND, makeCustomer, makeGroup, migratedDatabase } from './helpers.js';

// Each driver reports the violated index in its own place (adapter-pg by name, the PGlite adapter
// only in PostgreSQL's message); services compare names, so every path must yield the same one.

const db = await openDatabase({ ...(await migratedDatabase()), dataDir: 'memory://' });
after(() => db.close());
await migrate(db);
const prisma = db.prisma;

async function failure(write: () => Promise<unknown>): Promise<unknown> {
  try {
    await write();
  } catch (error) {
    return error;
  }
  assert.fail('the write succeeded');
}

test(`${DATABASE_KIND}: the unique index names are the schema's`, () => {
  const schema = readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8');
  for (const name of Object.values(UNIQUE)) assert.match(schema, new RegExp(`map: "${name}"`));
});

test(`${DATABASE_KIND}: a Prisma write, in or out of a transaction, names the index it broke`, async () => {
  const taken = await makeCustomer(prisma, { hasAccount: true });
  const other = await makeCustomer(prisma, { hasAccount: true });
  const group = await makeGroup(prisma);
  const data = { id: 'cus_dup', email: taken.email, hasAccount: true };
  assert.equal(uniqueViolated(await failure(() => prisma.customer.create({ data }))), UNIQUE.accountEmail);
  assert.equal(
    uniqueViolated(await failure(() => prisma.customer.createManyAndReturn({ data: [data] }))),
    UNIQUE.accountEmail,
  );
  const update = () =>
    prisma.$transaction((tx) => tx.customer.updateMany({ where: { id: other.id }, data: { email: taken.email } }));
  assert.equal(uniqueViolated(await failure(update)), UNIQUE.accountEmail);
  const rename = () => prisma.customerGroup.create({ data: { id: 'grp_dup', name: group.name } });
  assert.equal(uniqueViolated(await failure(rename)), UNIQUE.groupName);
});

test(`${DATABASE_KIND}: a statement outside Prisma names it too; other errors name nothing`, async () => {
  const taken = await makeCustomer(prisma, { hasAccount: true });
  const session = await db.session();
  try {
    const insert = () =>
      session.query(`INSERT INTO customer (id, email, has_account, updated_at) VALUES ('cus_raw', $1, true, now())`, [
        taken.email,
      ]);
    assert.equal(uniqueViolated(await failure(insert)), UNIQUE.accountEmail);
  } finally {
    await session.release();
  }
  assert.equal(
    uniqueViolated(
      await failure(() => prisma.customer.update({ where: { id: 'cus_missing' }, data: { firstName: 'x' } })),
    ),
    undefined,
  );
  assert.equal(uniqueViolated(new Error('duplicate key value violates unique constraint "x"')), undefined);
});

test(`${DATABASE_KIND}: a transaction refused at COMMIT (a deferred constraint) is an error, and nothing of it is written`, async () => {
  const customer = await makeCustomer(prisma);
  const group = await makeGroup(prisma);
  await prisma.customerGroupCustomer.create({
    data: { id: `cusgc_${customer.id.slice(4)}`, customerId: customer.id, customerGroupId: group.id },
  });
  // Soft-deleting a customer whose membership stays live breaks a constraint checked at COMMIT.
  const error = await failure(() =>
    prisma.$transaction(async (tx) => {
      await tx.customer.update({ where: { id: customer.id }, data: { deletedAt: new Date(), firstName: 'Changed' } });
    }),
  );
  assert.match(String(error), /live membership|memberships/i);
  const row = await prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
  assert.deepEqual([row.deletedAt, row.firstName], [null, customer.firstName]);
});
