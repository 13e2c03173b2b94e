// exportCustomerData (issue 30): every row of every table that refers to a customer is in the
// export. The rows are found by walking the data model's relations, so a new table is covered
// without being listed here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getDatamodel } from '../src/generated/pothos-types.js';
import { ADMIN, ANONYMOUS, bearer, createTestApp, makeAddress, makeCustomer, makeGroup, makeOrder } from './helpers.js';

const t = await createTestApp({ settings: { registrationsPerClientPerHour: 10_000 } });

interface Field {
  name: string;
  kind: string;
  type: string;
  relationFromFields?: readonly string[];
  relationToFields?: readonly string[];
}
const MODELS = getDatamodel().datamodel.models as unknown as Record<string, { fields: Field[] }>;
const SECRET = new Set(['passwordHash', 'tokenHash']);
const delegate = (model: string) =>
  (t.prisma as unknown as Record<string, { findMany(q: object): Promise<Record<string, unknown>[]> }>)[
    model[0]!.toLowerCase() + model.slice(1)
  ]!;

/** Every row that refers, through foreign keys and in any number of steps, to the customer. */
async function referringRows(customerId: string) {
  const found: { model: string; row: Record<string, unknown> }[] = [];
  const seen = new Set<string>([`Customer ${customerId}`]);
  let frontier: { model: string; row: Record<string, unknown> }[] = [{ model: 'Customer', row: { id: customerId } }];
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const [model, { fields }] of Object.entries(MODELS)) {
      for (const field of fields) {
        if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
        const parents = frontier.filter((f) => f.model === field.type);
        if (!parents.length) continue;
        const [fk] = field.relationFromFields;
        const [key] = field.relationToFields ?? ['id'];
        const rows = await delegate(model).findMany({ where: { [fk!]: { in: parents.map((p) => p.row[key!]) } } });
        for (const row of rows) {
          const identity = `${model} ${JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
          if (seen.has(identity)) continue;
          seen.add(identity);
          found.push({ model, row });
          next.push({ model, row });
        }
      }
    }
    frontier = next;
  }
  return found;
}

/** The values of a row a reader would look for: its text, numbers and instants (not its secrets). */
function values(row: Record<string, unknown>): string[] {
  return Object.entries(row).flatMap(([key, value]) => {
    if (SECRET.has(key) || value === null || typeof value === 'boolean') return [];
    if (value instanceof Date) return [value.toISOString()];
    if (typeof value === 'bigint') return [`"${value}"`];
    if (typeof value === 'string' || typeof value === 'number') return [JSON.stringify(value)];
    return [JSON.stringify(value)]; // JSON columns, arrays: as jsonb reads them back
  });
}

test('the export holds every row of every table that refers to the customer, and no secret', async () => {
  const REGISTER = `mutation { register(input: { email: "subject@example.com", password: "password-1", acceptsEmailMarketing: true }) {
    ... on Session { accessToken customer { id } } } }`;
  const reg = (await t.gql(REGISTER, {}, ANONYMOUS)).data!.register;
  const id = reg.customer.id as string;
  const me = bearer(reg.accessToken);
  await t.gql(`mutation { addMyAddress(input: { city: "Aarhus", address1: "1 Subject St" }) { __typename } }`, {}, me);
  await t.gql(
    `mutation { requestEmailChange(newEmail: "subject-new@example.com", currentPassword: "password-1") { __typename } }`,
    {},
    me,
  );
  await t.gql(`mutation { generatePasswordToken(email: "subject@example.com") { __typename } }`, {}, ANONYMOUS);
  const group = await makeGroup(t.prisma, { name: 'Export VIP' });
  await t.gql(`mutation($c: ID!, $g: ID!) { addCustomersToGroup(groupId: $g, customerIds: [$c]) { __typename } }`, {
    c: id,
    g: group.id,
  });
  await makeOrder(t.prisma, id, {
    email: 'subject@example.com',
    shippingAddress: { city: 'Aarhus', postal_code: '8000' },
  });
  await t.gql(`mutation($id: ID!) { addCustomerNote(customerId: $id, body: "Asked for their data") { __typename } }`, {
    id,
  });
  await t.gql(`mutation($id: ID!) { addCustomerTags(ids: [$id], tags: ["GDPR"]) { __typename } }`, { id });
  // A guest of the same person, merged in, with an address left behind and an order that moved.
  const guest = await makeCustomer(t.prisma, { email: 'subject-guest@example.com', phone: '+4599999999' });
  await makeAddress(t.prisma, guest.id, { city: 'Odense' });
  await makeOrder(t.prisma, guest.id, { email: 'subject-guest@example.com' });
  const merged = await t.gql(
    `mutation($t: ID!, $s: ID!) { mergeCustomers(targetId: $t, sourceIds: [$s]) { __typename } }`,
    { t: id, s: guest.id },
  );
  assert.equal(merged.data!.mergeCustomers.__typename, 'MergeCustomersPayload');
  // Someone else's rows must not come along.
  const other = await makeCustomer(t.prisma, { email: 'bystander@example.com' });
  await makeOrder(t.prisma, other.id, { email: 'bystander@example.com' });

  const r = await t.gql(`query($id: ID!) { exportCustomerData(customerId: $id) }`, { id }, ADMIN);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const text = JSON.stringify(r.data!.exportCustomerData);

  const rows = await referringRows(id);
  const models = new Set(rows.map((r) => r.model));
  for (const model of [
    'Address',
    'Order',
    'OrderLineItem',
    'CustomerGroupCustomer',
    'CustomerSession',
    'PasswordResetToken',
    'EmailVerificationToken',
    'CustomerToken',
    'CustomerNote',
    'CustomerTimelineEntry',
    'Customer',
  ])
    assert.ok(models.has(model), `the seeded customer has ${model} rows to find`);
  for (const { model, row } of rows) {
    for (const value of values(row))
      assert.ok(text.includes(value), `${model} ${String(row.id ?? '')}: ${value} is in the export`);
  }
  assert.ok(text.includes('"Export VIP"'), 'memberships name their group');
  assert.ok(!text.includes('bystander@example.com'));
  // Secrets: no password hash, no token digest, no live token from an undelivered event.
  const secrets = [
    ...(await t.prisma.customerSession.findMany({ where: { customerId: id } })).map((s) => s.tokenHash),
    (await t.prisma.customer.findUniqueOrThrow({ where: { id } })).passwordHash!,
  ];
  for (const secret of secrets) assert.ok(!text.includes(secret));
  for (const event of await t.prisma.outboxEvent.findMany({ where: { key: `customer:${id}` } })) {
    const token = (event.payload as { token?: string }).token;
    if (token) assert.ok(!text.includes(token), `${event.name}'s token`);
  }
  assert.match(text, /"hasPassword":true/);
  assert.match(text, /"name":"customer.email_change_requested"/);
});

test('exportCustomerData: admins only; an unknown ID is null; a malformed one names the argument', async () => {
  const r = await t.gql(`{ exportCustomerData(customerId: "cus_01UNKNOWN") }`);
  assert.deepEqual(r.data, { exportCustomerData: null });
  const bad = await t.gql(`{ exportCustomerData(customerId: "order_1") }`);
  assert.equal(bad.errors![0]!.extensions!.code, 'BAD_USER_INPUT');
  const anonymous = await t.gql(`{ exportCustomerData(customerId: "cus_01UNKNOWN") }`, {}, ANONYMOUS);
  assert.equal(anonymous.errors![0]!.extensions!.code, 'UNAUTHENTICATED');
});
