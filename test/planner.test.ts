import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import fc from 'fast-check';
import {
  GraphQLEnumType,
  type GraphQLField,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLObjectType,
  GraphQLScalarType,
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  Kind,
  parse,
} from 'graphql';
import { SESSION_TOKEN_PREFIX } from '../src/auth.js';
import { openDatabase } from '../src/db/index.js';
import { newId } from '../src/lib/ids.js';
import { newToken, sha256 } from '../src/lib/tokens.js';
import { createLogger } from '../src/logger.js';
import { isPlannableField, nodeIdColumns } from '../src/planner/compile.js';
import { DataModel } from '../src/planner/datamodel.js';
import type { PlanDecision } from '../src/planner/index.js';
import { schema } from '../src/schema/index.js';
import { type App, createApp } from '../src/yoga.js';
import {
  ADMIN,
  ADMIN_KEY,
  addToGroup,
  bearer,
  createTestApp,
  DATABASE_KIND,
  makeAddress,
  makeCustomer,
  makeGroup,
  makeOrder,
  migratedDatabase,
  type TestApp,
} from './helpers.js';

// The read planner must answer exactly as the Pothos path does: every operation here runs on both
// (two apps over one database, as admin) and the response bodies must be byte-identical.

const t: TestApp = await createTestApp();
let planned: App;
let plain: App;
const decisions: PlanDecision[] = [];
const ids: Record<string, string[]> = {
  Customer: [],
  CustomerGroup: [],
  Address: [],
  Order: [],
  CustomerGroupCustomer: [],
};

async function send(app: App, query: string, variables: Record<string, unknown> = {}, as = ADMIN) {
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...as },
    body: JSON.stringify({ query, variables }),
  });
  return `${response.status} ${await response.text()}`;
}

let last = '';

/**
 * Runs `query` on both paths (as the admin unless `as` says who); returns whether the planner
 * answered it (planned, and its statement did not fail).
 */
async function same(query: string, variables: Record<string, unknown> = {}, as = ADMIN): Promise<boolean> {
  decisions.length = 0;
  const ours = await send(planned, query, variables, as);
  last = ours;
  const wasPlanned = decisions.some((d) => d.planned) && !decisions.some((d) => !d.planned);
  const theirs = await send(plain, query, variables, as);
  assert.equal(
    ours,
    theirs,
    `planned (${wasPlanned}) and Pothos answers differ for\n${query}\n${JSON.stringify(variables)}`,
  );
  return wasPlanned;
}

const allSql: string[] = [];

before(async () => {
  const log = createLogger((process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent');
  const adminKeys = [{ name: 'tests', key: ADMIN_KEY }];
  planned = createApp({
    db: t.db,
    log,
    settings: { adminKeys, bcryptCost: 4, readPlanner: true },
    onPlan: (decision) => {
      decisions.push(decision);
      if (decision.planned) allSql.push(decision.sql);
    },
  });
  plain = createApp({ db: t.db, log, settings: { adminKeys, bcryptCost: 4, readPlanner: false } });

  const p = t.prisma;
  const tie = new Date('2026-05-05T05:05:05.505Z');
  const groups = [];
  for (let i = 0; i < 4; i++)
    groups.push(
      await makeGroup(p, {
        name: i === 2 ? 'Wholesale "VIP" \\ 100%' : `Group ${i}`,
        metadata: i === 1 ? { tier: 2, nested: { b: 1.5, a: [1, 'x'] } } : undefined,
      }),
    );
  groups.push(await makeGroup(p, { name: 'Gone', deletedAt: new Date('2026-06-01T00:00:00Z') }));
  const odd = ["O'Brien", 'Zoë "Z" \\ back', 'tab\there', null, 'émile', '日本', 'line\nbreak', 'a_b%c'];
  for (let i = 0; i < 14; i++) {
    const c = await makeCustomer(p, {
      email: i === 3 ? `Mixed.Case${i}@Example.com` : `customer-${i}@example.com`,
      firstName: odd[i % odd.length],
      lastName: i % 3 ? `Last${i}` : null,
      companyName: i % 4 === 0 ? 'ACME_co' : null,
      phone: i % 5 === 0 ? '+45 1234' : null,
      hasAccount: i % 2 === 0,
      metadata: i % 3 === 0 ? { b: 1, a: { z: [1.5, 1.0, -0, 1e21], y: null }, ü: 'ß' } : i === 11 ? [1, 2] : undefined,
      createdAt: i < 4 ? tie : new Date(Date.UTC(2026, 0, 1 + i, i, i, i, i)),
      updatedAt: new Date(Date.UTC(2026, 2, 1 + (i % 5))),
      deletedAt: i === 11 ? new Date('2026-07-01T00:00:00Z') : null,
    });
    ids.Customer!.push(c.id);
    for (const g of groups.slice(0, (i % 4) + 1)) {
      const m = await addToGroup(p, c.id, g.id);
      ids.CustomerGroupCustomer!.push(m.id);
    }
    if (i % 6 === 5)
      await p.customerGroupCustomer.updateMany({
        where: { customerId: c.id, customerGroupId: groups[0]!.id },
        data: { deletedAt: new Date() },
      });
    for (let a = 0; a < (i % 3) + 1; a++) {
      const address = await makeAddress(p, c.id, {
        city: a === 0 ? 'København' : 'Aarhus',
        isDefaultShipping: a === 0,
        isDefaultBilling: a === 1,
        metadata: a === 1 ? { door: 'B' } : undefined,
        deletedAt: a === 2 && i % 2 ? new Date() : null,
        createdAt: a === 0 ? tie : undefined,
      });
      ids.Address!.push(address.id);
    }
    for (let o = 0; o < i % 4; o++) {
      const order = await makeOrder(p, i === 13 ? null : c.id, {
        status: (['pending', 'completed', 'canceled', 'archived'] as const)[o % 4],
        paymentStatus: o % 2 ? 'captured' : 'not_paid',
        fulfillmentStatus: o % 3 ? 'shipped' : 'not_fulfilled',
        canceledAt: o % 4 === 2 ? new Date('2026-04-04T04:04:04.004Z') : null,
        currencyCode: o % 2 ? 'usd' : 'eur',
        metadata: o === 1 ? { source: 'pos' } : undefined,
        shippingAddress: { city: 'Odense', firstName: 'Snap' },
        createdAt: o === 0 ? tie : new Date(Date.UTC(2026, 3, o + i)),
      });
      ids.Order!.push(order.id);
    }
  }
  ids.CustomerGroup = groups.map((g) => g.id);
});

const Q2 = 'id email groups { edges { node { id name } } } addresses { edges { node { id city } } }';

const shapes: [string, Record<string, unknown>?][] = [
  ['query Q1($id: ID!) { customer(id: $id) { id email firstName lastName hasAccount } }', { id: 'first-customer' }],
  [`query Q2($first: Int!) { customers(first: $first) { edges { cursor node { ${Q2} } } } }`, { first: 50 }],
  [
    `query Q2c($first: Int!) { customers(first: $first) { edges { cursor node { ${Q2} orders(first: 5) { edges { node { id total { amount currencyCode } } } } } } } }`,
    { first: 50 },
  ],
  [
    'query Q4($first: Int!) { orders(first: $first) { totalCount edges { node { id total { amount currencyCode } } } } }',
    { first: 50 },
  ],
  [
    '{ customers(first: 100, withDeleted: true) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id email firstName lastName companyName phone hasAccount createdBy createdAt updatedAt deletedAt } } } }',
  ],
  ['{ customers(first: 100, filter: { q: "customer-" }) { edges { node { id metadata } } } }'],
  [
    '{ customers(last: 3) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { email } } } }',
  ],
  [
    '{ customers(first: 0) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }',
  ],
  [
    '{ a: customers(orderBy: { field: FIRST_NAME }) { edges { cursor node { firstName } } } b: customers(orderBy: { field: FIRST_NAME, direction: DESC }, first: 20) { edges { cursor node { firstName } } } }',
  ],
  [
    '{ customers(orderBy: { field: EMAIL, direction: DESC }) { edges { cursor node { email } } } x: customers(orderBy: { field: LAST_NAME }) { edges { cursor } } }',
  ],
  ['{ customers(orderBy: { field: UPDATED_AT }) { edges { cursor node { updatedAt } } } }'],
  ['{ customers(filter: { q: "ACME_" }) { totalCount edges { node { email companyName } } } }'],
  ['{ customers(filter: { q: "a_b%" }) { totalCount } x: customers(filter: { q: "  " }) { totalCount } }'],
  ['{ customers(filter: { email: "mixed.case3@example.COM" }) { totalCount edges { node { email } } } }'],
  [
    '{ customers(filter: { hasAccount: false, createdAt: { gte: "2026-01-03T00:00:00Z", lt: "2026-01-12T00:00:00Z" } }) { totalCount edges { node { id createdAt } } } }',
  ],
  ['{ customers(filter: { updatedAt: { gt: "2026-03-02T00:00:00Z", lte: "2026-03-04T00:00:00Z" } }) { totalCount } }'],
  [
    '{ customerGroups(withDeleted: true, orderBy: { field: NAME }) { totalCount edges { cursor node { id name metadata createdBy createdAt updatedAt deletedAt __typename } } } }',
  ],
  [
    '{ customerGroups(filter: { q: "vip" }) { edges { node { name customers(first: 3, filter: { q: "example" }) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { email } } } } } } }',
  ],
  [
    '{ customerGroups(filter: { name: ["Group 0", "Group 1"] }, orderBy: { field: UPDATED_AT, direction: DESC }) { edges { node { name } } } }',
  ],
  [
    '{ addresses(first: 30) { totalCount edges { cursor node { id addressName isDefaultShipping isDefaultBilling company firstName lastName address1 address2 city countryCode province postalCode phone metadata createdAt updatedAt customer { id email } } } } }',
  ],
  [
    '{ addresses(filter: { city: "KØBENHAVN", countryCode: "DK" }) { totalCount } b: addresses(filter: { q: "aarhus", postalCode: "1001" }) { totalCount } }',
  ],
  [
    '{ orders(first: 100) { totalCount edges { cursor node { id displayId email status fulfillmentStatus paymentStatus currencyCode regionId cartId salesChannelId subtotal { amount currencyCode } taxTotal { amount currencyCode } shippingTotal { amount currencyCode } discountTotal { amount currencyCode } total { amount currencyCode } paidTotal { amount currencyCode } refundedTotal { amount } canceledAt metadata createdAt updatedAt items { id title quantity unitPrice { amount currencyCode } total { __typename amount } } } } } }',
  ],
  [
    '{ orders(filter: { status: [PENDING, CANCELED], paymentStatus: [NOT_PAID], currencyCode: "EUR" }) { totalCount edges { node { id status } } } }',
  ],
  [
    '{ orders(filter: { fulfillmentStatus: [SHIPPED], canceledAt: { gte: "2026-01-01T00:00:00Z" }, q: "example" }) { totalCount } x: orders(filter: { q: "1" }) { totalCount } }',
  ],
  [
    '{ customerGroupMemberships(first: 40) { totalCount edges { cursor node { id createdBy createdAt updatedAt customer { email } group { name } } } } }',
  ],
  [
    '{ customers(first: 20) { edges { node { groups(last: 2) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } } addresses(first: 1) { totalCount pageInfo { hasNextPage endCursor } } orders(filter: { status: [PENDING] }) { totalCount edges { cursor node { status } } } } } } }',
  ],
  [
    '{ customers { __typename totalCount edges { __typename node { __typename ... on Customer { email } ...F } } } } fragment F on Node { id ... on Customer { alias: hasAccount } }',
  ],
  [
    'query Skip($yes: Boolean = true) { customers(first: 2) { edges { node { id email @skip(if: $yes) firstName @include(if: $yes) } } } }',
  ],
];

test('the benchmark shapes and every filter, order and page argument: planned, and the same', async () => {
  const first = ids.Customer![0]!;
  let count = 0;
  for (const [query, variables] of shapes) {
    const vars = variables?.id ? { id: first } : variables;
    if (await same(query, vars)) count++;
    else assert.fail(`not planned: ${query}\n${JSON.stringify(decisions)}`);
    assert.match(last, /^200 \{"data":/, query);
    assert.doesNotMatch(last, /"errors"/, query);
  }
  assert.equal(count, shapes.length);
});

test('cursors: byte-identical, so a client can mix paths; every page after and before', async () => {
  for (const [connection, extra] of [
    ['customers', ''],
    ['customers', 'orderBy: { field: FIRST_NAME, direction: DESC }'],
    ['customers', 'orderBy: { field: LAST_NAME }'],
    ['customerGroups', 'withDeleted: true'],
    ['addresses', ''],
    ['orders', ''],
    ['customerGroupMemberships', ''],
  ]) {
    const page = `{ ${connection}(first: 100 ${extra}) { edges { cursor } } }`;
    const raw = await send(planned, page);
    const body = JSON.parse(raw.slice(4)) as { data: Record<string, { edges: { cursor: string }[] }> };
    const cursors = body.data[connection!]!.edges.map((e) => e.cursor);
    for (const cursor of cursors.filter((_, i) => i % 3 === 0)) {
      assert.ok(
        await same(
          `query($c: String) { ${connection}(first: 4, after: $c ${extra}) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }`,
          { c: cursor },
        ),
      );
      assert.ok(
        await same(
          `query($c: String) { ${connection}(last: 4, before: $c ${extra}) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }`,
          { c: cursor },
        ),
      );
      assert.ok(
        await same(
          `query($c: String, $d: String) { ${connection}(after: $c, before: $d ${extra}) { edges { cursor } } }`,
          { c: cursor, d: cursors.at(-1) },
        ),
      );
    }
  }
  // Nested connections page by their own cursors too.
  const nested = JSON.parse(
    (
      await send(planned, '{ customers(first: 100) { edges { node { id groups(first: 1) { edges { cursor } } } } } }')
    ).slice(4),
  );
  for (const edge of nested.data.customers.edges.slice(0, 6)) {
    for (const g of edge.node.groups.edges) {
      assert.ok(
        await same(
          `query($id: ID!, $c: String) { customer(id: $id) { groups(after: $c) { pageInfo { hasNextPage hasPreviousPage } edges { cursor node { name } } } } }`,
          { id: edge.node.id, c: g.cursor },
        ),
      );
    }
  }
});

test('lookups and node/nodes: planned, soft-deleted rows hidden as Pothos hides them', async () => {
  const every = Object.entries(ids).flatMap(([, list]) => list);
  for (const id of [...ids.Customer!, ...ids.CustomerGroup!, ...ids.Address!.slice(0, 8), ...ids.Order!.slice(0, 6)]) {
    assert.ok(
      await same(
        'query($id: ID!) { node(id: $id) { __typename id ... on Customer { email deletedAt } ... on CustomerGroup { name } ... on Address { city customer { id } } ... on Order { total { amount currencyCode } items { title unitPrice { amount } total { currencyCode } } } } }',
        { id },
      ),
    );
  }
  assert.ok(
    await same('query($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on Customer { email } } }', {
      ids: every.filter((id) => !id.startsWith('cusgc_')).slice(0, 40),
    }),
  );
  for (const id of ids.Customer!) {
    assert.ok(
      await same(
        'query($id: ID!) { customer(id: $id) { id email } c2: customer(id: $id, withDeleted: true) { id deletedAt } }',
        { id },
      ),
    );
  }
  for (const id of ids.CustomerGroup!) {
    assert.ok(
      await same(
        'query($id: ID!) { customerGroup(id: $id) { id name } g: customerGroup(id: $id, withDeleted: true) { id } }',
        { id },
      ),
    );
  }
  for (const id of ids.Address!.slice(0, 10))
    assert.ok(await same('query($id: ID!) { address(id: $id) { id city } }', { id }));
  for (const id of ids.Order!.slice(0, 10))
    assert.ok(
      await same('query($id: ID!) { order(id: $id) { id total { amount currencyCode } status currencyCode } }', { id }),
    );
});

test('text the planner writes itself is escaped as JSON.stringify escapes it: quotes, backslashes, control characters, non-ASCII', async () => {
  const awkward = [
    'say "hi"',
    'back\\slash \\"',
    'tab\tnew\nline\rcr',
    '\u0001\u001f\u007f',
    'é ß 中文 😀',
    'sep\u2028\u2029',
    '</script>',
    '',
  ];
  for (const [i, text] of awkward.entries()) {
    const customer = await makeCustomer(t.prisma, {
      firstName: text,
      lastName: i % 2 ? null : text,
      email: `awkward-${i}@example.com`,
      companyName: text,
    });
    await makeAddress(t.prisma, customer.id, { city: text });
    const query =
      'query($id: ID!) { customer(id: $id) { id firstName lastName companyName addresses { edges { node { city } } } } }';
    assert.ok(await same(query, { id: customer.id }), text);
    assert.equal(JSON.parse(last.slice(4)).data.customer.firstName, text);
  }
});

test('what the planner does not answer falls back and is still the same: argument errors, unknown fields, non-admins', async () => {
  const fallbacks = [
    '{ customers(first: 101) { totalCount } }',
    '{ customers(first: 1, last: 1) { totalCount } }',
    '{ customers(after: "nope") { totalCount } }',
    '{ customer(id: "cusgroup_1") { id } }',
    '{ node(id: "zzz_1") { id } }',
    '{ orders(first: 2) { edges { node { customer { id } } } } }',
    '{ __schema { queryType { name } } }',
  ];
  for (const query of fallbacks) assert.equal(await same(query), false, query);
  // A metadata value that is not an object: the planned statement fails, the Pothos path answers with its error.
  assert.equal(await same('{ customers(first: 100, withDeleted: true) { edges { node { email metadata } } } }'), false);
  assert.match(JSON.stringify(decisions), /"kind":"statement_failed"/);
  decisions.length = 0;
  await t.gql('{ customers { totalCount } }', {}, { authorization: '' });
  assert.equal(decisions.length, 0, 'anonymous requests are never planned');
});

/** Every query operation in the other test files that stands alone (no interpolation). */
function collectedOperations(): string[] {
  const found = new Set<string>();
  for (const file of readdirSync('test').filter((f) => f.endsWith('.test.ts') && f !== 'planner.test.ts')) {
    const source = readFileSync(`test/${file}`, 'utf8');
    for (const match of source.matchAll(/`([^`$]*\{[^`$]*)`|'((?:query|\{)[^'\n]*)'/g)) {
      const text = match[1] ?? match[2]!;
      try {
        const document = parse(text);
        if (document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === 'query'))
          found.add(text);
      } catch {
        // Not GraphQL.
      }
    }
  }
  return [...found];
}

test('every query operation of the other test files: the same on both paths', async () => {
  const operations = collectedOperations();
  assert.ok(operations.length > 30, `only ${operations.length} operations collected`);
  let count = 0;
  for (const query of operations) {
    if (await same(query, { id: ids.Customer![1], ids: ids.Customer!.slice(0, 3), first: 5 })) count++;
    else if (process.env.PLANNER_DEBUG) console.log('FALLBACK', JSON.stringify(decisions), query.slice(0, 200));
  }
  // The others are customers' own reads (`me`) and bad input, which the Pothos path answers.
  assert.ok(count >= 8, `only ${count} of ${operations.length} planned`);
});

// Generated operations: random selections walked from the schema's own types.

const SKIP_ROOT = new Set(['me', '_entities', '_service']);
const STRINGS = ['a', 'example', 'KØBENHAVN', 'group', '%', '_', '  ', "O'Brien", 'EUR', 'dk'];
const DATES = [
  '2026-01-01T00:00:00.000Z',
  '2026-01-08T08:08:08.008Z',
  '2026-05-05T05:05:05.505Z',
  '2026-12-31T00:00:00Z',
];

// The model an ID argument names, so that generated IDs are mostly of the right type.
const ID_OF: Record<string, string> = {
  customer: 'Customer',
  customerGroup: 'CustomerGroup',
  address: 'Address',
  order: 'Order',
  groupIds: 'CustomerGroup',
  customerIds: 'Customer',
  customerId: 'Customer',
};

class Walk {
  private aliases = 0;
  /** `plannable`: only fields the planner knows, with valid arguments (else: anything in the schema). */
  constructor(
    private readonly rnd: () => number,
    private readonly plannable?: (type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => boolean,
  ) {}
  private args(field: GraphQLField<unknown, unknown>, owner: string) {
    const args = field.args.filter(
      (a) =>
        isNonNullType(a.type) ||
        (!(this.plannable && (a.name === 'after' || a.name === 'before')) &&
          this.chance(a.name === 'first' ? 0.6 : 0.3)),
    );
    if (this.plannable && args.some((a) => a.name === 'first') && args.some((a) => a.name === 'last'))
      args.splice(
        args.findIndex((a) => a.name === 'last'),
        1,
      );
    return args.length ? `(${args.map((a) => `${a.name}: ${this.value(a.type, a.name, owner)}`).join(', ')})` : '';
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rnd() * list.length)]!;
  }
  chance(p: number) {
    return this.rnd() < p;
  }
  value(type: GraphQLInputType, name: string, owner: string): string | undefined {
    const inner = getNullableType(type);
    if (isListType(inner)) {
      const items = Array.from({ length: 1 + Math.floor(this.rnd() * 3) }, () =>
        this.value(inner.ofType, name, owner),
      ).filter((v) => v !== undefined);
      return `[${items.join(', ')}]`;
    }
    if (inner instanceof GraphQLEnumType) return this.pick(inner.getValues()).name;
    if (inner instanceof GraphQLInputObjectType) {
      const fields = Object.values(inner.getFields()).filter((f) => isNonNullType(f.type) || this.chance(0.4));
      return `{ ${fields.map((f) => `${f.name}: ${this.value(f.type, f.name, inner.name)}`).join(', ')} }`;
    }
    if (inner instanceof GraphQLScalarType) {
      switch (inner.name) {
        case 'ID': {
          const model =
            ID_OF[name] ??
            ID_OF[owner] ??
            (name === 'ids' ? { OrderFilter: 'Order', CustomerGroupFilter: 'CustomerGroup' }[owner] : undefined);
          const pool = this.plannable && model ? ids[model]! : Object.values(ids).flat();
          return JSON.stringify(this.plannable || this.chance(0.9) ? this.pick(pool) : 'cus_unknown');
        }
        case 'String':
          return JSON.stringify(this.pick(STRINGS));
        case 'Int':
          return String(name === 'first' || name === 'last' ? Math.floor(this.rnd() * 6) : Math.floor(this.rnd() * 20));
        case 'JSONObject':
          return undefined;
        case 'Boolean':
          return String(this.chance(0.5));
        case 'DateTime':
          return JSON.stringify(this.pick(DATES));
        default:
          return undefined;
      }
    }
    return undefined;
  }
  selection(type: GraphQLObjectType, depth: number): string {
    const fields = Object.values(type.getFields()).filter(
      (f) => !f.name.startsWith('_') && (!this.plannable || this.plannable(type, f)),
    );
    // A type none of whose fields the planner knows (a listing it answers on the Pothos path).
    if (!fields.length) return '__typename';
    const chosen = fields.filter(() => this.chance(0.35));
    if (!chosen.length) chosen.push(this.pick(fields));
    const parts: string[] = [];
    if (this.chance(0.2)) parts.push('__typename');
    for (const field of chosen) {
      const named = getNamedType(field.type);
      const argText = this.args(field, type.name);
      const alias = this.chance(0.15) ? `a${++this.aliases}: ` : '';
      const fragment = this.chance(0.1);
      const directive = fragment
        ? ''
        : this.chance(0.1)
          ? ' @include(if: $flag)'
          : this.chance(0.05)
            ? ' @skip(if: $flag)'
            : '';
      let text: string;
      if (named instanceof GraphQLObjectType) {
        if (depth > 4) continue;
        text = `${alias}${field.name}${argText}${directive} { ${this.selection(named, depth + 1)} }`;
      } else if (!(named instanceof GraphQLScalarType) && !(named instanceof GraphQLEnumType)) {
        if (depth > 4) continue;
        text = `${alias}${field.name}${argText}${directive} { __typename ... on Customer { id email } ... on Order { id total { amount } } }`;
      } else {
        text = `${alias}${field.name}${argText}${directive}`;
      }
      if (fragment) text = `... on ${type.name} { ${text} }`;
      parts.push(text);
    }
    return parts.length ? parts.join(' ') : '__typename';
  }
  operation(): string {
    const query = schema.getQueryType()!;
    const roots = Object.values(query.getFields()).filter(
      (f) =>
        !SKIP_ROOT.has(f.name) &&
        (!this.plannable ||
          (f.name !== 'nodes' &&
            // Roots the planner answers; the others (customerTags, exportCustomerData) are the Pothos path's.
            ['keysetList', 'lookup', 'nodeLookup'].some((key) => key in (f.extensions ?? {})))),
    );
    const parts = Array.from({ length: 1 + Math.floor(this.rnd() * 2) }, (_, i) => {
      const field = this.pick(roots);
      const argText = this.args(field, field.name);
      const named = getNamedType(field.type);
      const selection =
        named instanceof GraphQLObjectType
          ? this.selection(named, 1)
          : '__typename ... on Customer { id email } ... on CustomerGroup { name } ... on Order { total { amount currencyCode } }';
      return `r${i}: ${field.name}${argText} { ${selection} }`;
    });
    return `query Generated($flag: Boolean!) { ${parts.join(' ')} __typename @include(if: $flag) }`;
  }
}

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('generated selections over the whole schema (fast-check): the same on both paths', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer(), fc.boolean(), async (seed, flag) => {
      await same(new Walk(mulberry32(seed)).operation(), { flag });
    }),
    { numRuns: Number(process.env.PLANNER_RUNS ?? 100) },
  );
});

test('generated selections of what the planner knows (fast-check): planned, and the same on both paths', async () => {
  const dm = new DataModel();
  const env = { nodeIds: await nodeIdColumns(schema, dm) };
  const plannable = (type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) =>
    isPlannableField(env, type, field);
  let plannedRuns = 0;
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer(), fc.boolean(), async (seed, flag) => {
      runs++;
      const query = new Walk(mulberry32(seed), plannable).operation();
      if (await same(query, { flag })) plannedRuns++;
      else if (process.env.PLANNER_DEBUG) console.log('GEN-FALLBACK', JSON.stringify(decisions), query);
    }),
    { numRuns: Number(process.env.PLANNER_RUNS ?? 150) },
  );
  // Some still fall back: a cost or depth refusal, or an ID of a soft-deleted row's other table.
  assert.ok(plannedRuns > runs * 0.7, `only ${plannedRuns} of ${runs} generated operations were planned`);
});

/** A signed-in session of a registered customer, as `login` stores it. */
async function sessionOf(customerId: string) {
  const token = newToken(SESSION_TOKEN_PREFIX);
  await t.prisma.customerSession.create({
    data: {
      id: newId('CustomerSession'),
      customerId,
      tokenHash: sha256(token),
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  });
  return bearer(token);
}

test("a customer's `me`: planned under the owner rule, the same as the Pothos path, never another's rows", async () => {
  const registered = ids.Customer!.filter((_, i) => i % 2 === 0 && i !== 12);
  const plannedQueries = [
    // The benchmark's storefront shape.
    '{ me { id email orders(first: 10) { edges { node { id items { id } } } } addresses { edges { node { id city } } } } }',
    '{ me { __typename id email firstName lastName companyName phone hasAccount metadata emailVerifiedAt createdAt updatedAt deletedAt } }',
    '{ me { orders(first: 2) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id displayId status paymentStatus total { amount currencyCode } currencyCode canceledAt metadata createdAt items { id title quantity unitPrice { amount currencyCode } total { amount } } } } } } }',
    '{ me { orders(last: 1) { edges { node { id } } } addresses(first: 1) { edges { cursor node { id city isDefaultShipping metadata } } } } }',
    '{ me { defaultShippingAddress { id city } defaultBillingAddress { id postalCode } } }',
  ];
  const fallbacks = [
    '{ me { createdBy } }', // admins only: scope-auth refuses it
    '{ me { id } customers { totalCount } }', // an admin's list
    '{ me { orders(first: 1) { edges { node { shippingAddress { city } } } } } }', // a resolver of its own
    '{ customer(id: "cus_x") { id } }',
  ];
  for (const customerId of registered) {
    const as = await sessionOf(customerId);
    for (const query of plannedQueries) {
      assert.equal(
        await same(query, {}, as),
        true,
        `not planned for a customer: ${query}\n${JSON.stringify(decisions)}`,
      );
      const body = JSON.parse(last.slice(last.indexOf(' ') + 1)) as { data: { me: Record<string, unknown> } };
      const text = JSON.stringify(body.data.me);
      // Only their own rows: the orders and addresses of others never appear.
      for (const other of ids.Customer!.filter((id) => id !== customerId)) assert.ok(!text.includes(other));
    }
    for (const query of fallbacks) assert.equal(await same(query, {}, as), false, query);
  }
  // The planned statements check each owned row's owner against the viewer (bound when run).
  decisions.length = 0;
  await send(planned, plannedQueries[0]!, {}, await sessionOf(registered[0]!));
  const [decision] = decisions;
  assert.ok(decision?.planned);
  assert.equal((decision.sql.match(/THEN .* ELSE \('planner:not-an-object:owner:'/g) ?? []).length > 0, true);
  for (const column of ['"id" = $', '"customer_id" = $'])
    assert.ok(decision.sql.includes(column), `no owner check on ${column}`);
});

test('federation `_entities`: planned for admins and customers, the same as the loaders', async () => {
  const p = t.prisma;
  // Guests sharing an email with an account and with each other: the preferred row must be the same.
  await makeCustomer(p, {
    email: 'Customer-0@example.com',
    hasAccount: false,
    createdAt: new Date('2027-01-01T00:00:00Z'),
  });
  const tie = new Date('2026-02-02T00:00:00Z');
  for (const email of ['shared@example.com', 'Shared@Example.com', 'SHARED@example.com'])
    await makeCustomer(p, { email, hasAccount: false, createdAt: tie });
  const query = `query($r: [_Any!]!) { _entities(representations: $r) { __typename
    ... on Customer { id email hasAccount groups { totalCount edges { node { id name } } } defaultShippingAddress { id city } }
    ... on CustomerGroup { id name } ... on Address { id city isDefaultBilling } ... on Order { id displayId items { id title } } } }`;
  const typed = (type: string, list: string[]) => list.map((id) => ({ __typename: type, id }));
  const representations = [
    ...typed('Customer', ids.Customer!),
    ...['customer-0@EXAMPLE.com', ' shared@example.com ', 'mixed.case3@example.com', 'nobody@example.com'].map(
      (email) => ({ __typename: 'Customer', email }),
    ),
    ...typed('CustomerGroup', ids.CustomerGroup!),
    ...typed('Address', ids.Address!.slice(0, 8)),
    ...typed('Order', ids.Order!.slice(0, 8)),
    ...typed('Node', [ids.Customer![1]!, ids.Order![0]!]),
    ...typed('Customer', [ids.Order![0]!, 'cus_unknown', ids.Customer![0]!]),
  ];
  assert.equal(await same(query, { r: representations }), true, JSON.stringify(decisions));
  const found = (JSON.parse(last.slice(last.indexOf(' ') + 1)) as { data: { _entities: unknown[] } }).data._entities;
  assert.equal(found.length, representations.length);
  assert.ok(found.filter(Boolean).length > 30, 'most representations name live rows');
  assert.equal(await same(query, { r: [] }), true);
  for (const customerId of [ids.Customer![0]!, ids.Customer![2]!]) {
    const as = await sessionOf(customerId);
    assert.equal(await same(query, { r: representations }, as), true, JSON.stringify(decisions));
  }
  // A representation the resolver refuses at its position: the loaders' path answers.
  assert.equal(await same(query, { r: [{ __typename: 'Nope', id: 'x' }, ...representations.slice(0, 2)] }), false);
  assert.equal(await same(query, { r: [{ __typename: 'Customer' }] }), false);
});

test("Relay node and nodes: planned for admins and customers, the same as the loaders, others' rows null", async () => {
  const p = t.prisma;
  const items = (await p.orderLineItem.findMany({ select: { id: true }, take: 6 })).map((i) => i.id);
  const memberships = (await p.customerGroupCustomer.findMany({ select: { id: true }, take: 4 })).map((m) => m.id);
  const all = [
    ...ids.Customer!,
    ...ids.CustomerGroup!,
    ...ids.Address!.slice(0, 8),
    ...ids.Order!.slice(0, 8),
    ...items,
    ...memberships,
    'cus_0000000000000000000000000Z',
  ];
  const query = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
    ... on Customer { email groups { totalCount } } ... on CustomerGroup { name } ... on Address { city }
    ... on Order { displayId items { id title } } ... on OrderLineItem { title quantity } ... on CustomerGroupMembership { createdAt } } }`;
  const answers = async (as: { authorization: string }) => {
    const found: { id: string }[] = [];
    for (let i = 0; i < all.length; i += 100) {
      const chunk = all.slice(i, i + 100);
      assert.equal(await same(query, { ids: chunk }, as), true, JSON.stringify(decisions));
      found.push(
        ...(JSON.parse(last.slice(last.indexOf(' ') + 1)) as { data: { nodes: { id: string }[] } }).data.nodes,
      );
    }
    return found;
  };
  const admin = await answers(ADMIN);
  assert.ok(admin.filter(Boolean).length > all.length * 0.8, 'most IDs name live rows');
  const single =
    'query($id: ID!) { node(id: $id) { __typename id ... on Order { total { amount currencyCode } } ... on Address { city countryCode } } }';
  for (const id of [ids.Order![0]!, ids.Address![0]!, items[0]!, 'order_0000000000000000000000000Z'])
    assert.equal(await same(single, { id }), true, id);
  const customerId = ids.Customer![2]!;
  const customer = await answers(await sessionOf(customerId));
  const own = customer.filter(Boolean).map((row) => row.id);
  assert.ok(own.includes(customerId) && own.length > 1, JSON.stringify(own));
  const owned = new Set([
    customerId,
    ...(await p.address.findMany({ where: { customerId }, select: { id: true } })).map((a) => a.id),
    ...(await p.order.findMany({ where: { customerId }, select: { id: true } })).map((o) => o.id),
    ...(await p.orderLineItem.findMany({ where: { order: { customerId } }, select: { id: true } })).map((i) => i.id),
    ...(await p.customerGroup.findMany({ where: { customers: { some: { customerId, deletedAt: null } } } })).map(
      (g) => g.id,
    ),
  ]);
  for (const id of own) assert.ok(owned.has(id), `a customer's nodes answered ${id}, not theirs`);
});

test("generated selections under a customer's `me` (fast-check): the same on both paths", async () => {
  const as = await sessionOf(ids.Customer![4]!);
  const customer = schema.getType('Customer') as GraphQLObjectType;
  let plannedRuns = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer(), fc.boolean(), async (seed, flag) => {
      const walk = new Walk(mulberry32(seed));
      if (await same(`query Generated($flag: Boolean!) { me { ${walk.selection(customer, 1)} } }`, { flag }, as))
        plannedRuns++;
    }),
    { numRuns: Number(process.env.PLANNER_RUNS ?? 100) },
  );
  assert.ok(plannedRuns > 0, 'no generated selection under me was planned');
});

test('planned SQL never names the password hash, and a planned read is one statement', async () => {
  assert.ok(allSql.length > 50);
  for (const sql of allSql) assert.doesNotMatch(sql, /password_hash|token_hash/);
  const { statements, result } = await t.countStatements(() =>
    send(
      planned,
      `{ customers(first: 50) { totalCount edges { node { ${Q2} orders(first: 5) { totalCount edges { node { id total { amount currencyCode } items { id } } } } } } } }`,
    ),
  );
  assert.equal(statements, 1, result);
  // Plans are cached per document and variables: the second answer comes from the cached plan.
  const query = `query Cached($first: Int!) { customers(first: $first) { edges { cursor node { ${Q2} } } } }`;
  for (let i = 0; i < 3; i++) assert.ok(await same(query, { first: 7 }));
});

test('on PostgreSQL, planned statements are prepared once per connection, at most as many as the setting allows', {
  skip: DATABASE_KIND !== 'postgres' && 'PGlite has one connection and nothing to prepare',
}, async () => {
  const queries = [
    '{ customers(first: 2) { totalCount } }',
    '{ orders(first: 2) { totalCount } }',
    '{ customerGroups(first: 2) { totalCount } }',
  ];
  for (const cap of [2, 0]) {
    // One pooled connection, so the catalogue of prepared statements seen is the planner's.
    const db = await openDatabase({ url: (await migratedDatabase()).url, poolSize: 1 });
    try {
      const app = createApp({
        db,
        log: createLogger('silent'),
        settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], plannerPreparedStatements: cap },
      });
      // First a search, whose pattern is planned for its value on every run: never prepared.
      const search = '{ customers(filter: { q: "zzqxv" }) { totalCount } }';
      for (const query of [search, search, ...queries, ...queries]) {
        const response = await app.fetch('http://yoga/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ADMIN },
          body: JSON.stringify({ query }),
        });
        assert.equal(response.status, 200, await response.text());
      }
      const { rows } = await db.queryClient.query({
        text: "SELECT name, statement LIKE '%LIKE%' AS pattern FROM pg_prepared_statements WHERE name LIKE 'cg\\_%'",
      });
      assert.equal(rows.length, cap, `cap ${cap}: ${JSON.stringify(rows)}`);
      assert.deepEqual(
        rows.filter((row) => (row as { pattern: boolean }).pattern),
        [],
        'no search prepared',
      );
    } finally {
      await db.close();
    }
  }
});
