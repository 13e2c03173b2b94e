// The federation SDL's metadata (src/schema/federation-metadata.ts): auth directives mirroring every
// scope-auth rule, the admin tag and what a public contract keeps, and @listSize giving a router
// our own cost.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { composeSchemaContract, composeServices as composeWithGuild } from '@theguild/federation-composition';
import {
  assertValidSchema,
  buildASTSchema,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  lexicographicSortSchema,
  parse,
  print,
  printSchema,
  type TypeNode,
} from 'graphql';
import { createLogger } from '../src/logger.js';
import { printSubgraphSdl, subgraphSchema } from '../src/schema/federation.js';
import { ADMIN_TAG } from '../src/schema/federation-metadata.js';
import { schema } from '../src/schema/index.js';
import { createApp } from '../src/yoga.js';
import { activityTypeDefs } from './fixtures/activity-subgraph.js';
import { type GatewayQuery, startApolloGateway, startHiveGateway } from './fixtures/gateway.js';
import { loyaltyTypeDefs } from './fixtures/loyalty-subgraph.js';
import { newsletterTypeDefs } from './fixtures/newsletter-subgraph.js';
import { reviewsTypeDefs } from './fixtures/reviews-subgraph.js';
import {
  ADMIN,
  ADMIN_KEY,
  createTestApp,
  type GraphQLResponse,
  makeAddress,
  makeCustomer,
  makeOrder,
} from './helpers.js';

const withAuth = subgraphSchema(schema, { typePrefix: '', nodeQuery: true, authDirectives: true });
const SDL = printSubgraphSdl(withAuth);

// Before any test is defined: a test defined earlier could start while the database is made.
const t = await createTestApp();
let hive: GatewayQuery;
before(async () => {
  const customer = await makeCustomer(t.prisma, { email: 'cost@example.com' });
  await makeAddress(t.prisma, customer.id);
  await makeOrder(t.prisma, customer.id);
  // Our subgraph alone (its @listSize and the routers' default weights), through Hive Gateway's
  // demand control with our operation weights (no base cost for a mutation) and cost in extensions.
  const composed = composeWithGuild([
    { name: 'customers', url: 'http://customers.internal/graphql', typeDefs: parse(printSubgraphSdl(schema)) },
  ]);
  assert.equal(composed.errors, undefined, composed.errors?.map((e) => e.message).join('\n'));
  hive = await startHiveGateway(
    composed.supergraphSdl!,
    { customers: (url, init) => t.app.fetch(url, init) },
    ['customers'],
    ADMIN,
    {
      demandControl: { includeExtensionMetadata: true, operationTypeCost: () => 0 },
    },
  );
});

const services = (customers: string) =>
  (
    [
      ['customers', parse(customers)],
      ['loyalty', loyaltyTypeDefs],
      ['newsletter', newsletterTypeDefs],
      ['reviews', reviewsTypeDefs],
      ['activity', activityTypeDefs],
    ] as const
  ).map(([name, typeDefs]) => ({ name, url: `http://${name}.internal/graphql`, typeDefs }));

/** Directive applications of an element of the printed SDL, as `@name(args)` strings. */
function directivesIn(document: DocumentNode) {
  const found = new Map<string, string[]>();
  const text = (directive: ConstDirectiveNode) => {
    const args = (directive.arguments ?? [])
      .map((a) => `${a.name.value}: ${JSON.stringify(constValue(a.value))}`)
      .join(', ');
    return `@${directive.name.value}${args ? `(${args})` : ''}`;
  };
  const note = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) =>
    found.set(coordinate, (directives ?? []).map(text));
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name) continue;
    const type = definition.name.value;
    note(type, 'directives' in definition ? (definition.directives as readonly ConstDirectiveNode[]) : undefined);
    if ('fields' in definition) {
      for (const field of definition.fields ?? []) {
        note(`${type}.${field.name.value}`, field.directives);
        for (const argument of 'arguments' in field ? (field.arguments ?? []) : [])
          note(`${type}.${field.name.value}(${argument.name.value}:)`, argument.directives);
      }
    }
  }
  return found;
}

function constValue(node: import('graphql').ConstValueNode): unknown {
  switch (node.kind) {
    case Kind.LIST:
      return node.values.map(constValue);
    case Kind.INT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    default:
      return null;
  }
}

// --- Auth: every scope-auth rule has its directive ---

/**
 * The expected directive of each rule form, spelled out rather than computed, so that a rule of a
 * new form fails here until someone decides what a router should do with it.
 */
const EXPECTED: Record<string, string[]> = {
  '{"admin":true}': ['@requiresScopes(scopes: [["admin"]])'],
  '{"customer":true}': ['@authenticated'],
  '{"$any":{"admin":true,"customer":true}}': ['@authenticated'],
  '{"public":true}': [],
  // `me`: null for an anonymous caller, so not for a router to refuse.
  '{"customer":true,"anonymous":true}': [],
  // Tags: a customer reads their own only with CUSTOMER_TAGS_VISIBLE, off by default, so by default
  // only an admin passes, and a router is told so (with the setting on, the router refuses what the
  // service would answer: docs/federation.md).
  '{"admin":true,"customerStaffData":true}': ['@requiresScopes(scopes: [["admin"]])'],
};

test('every field and type guarded by a scope-auth rule carries its directive in the SDL (admin: @requiresScopes, customer: @authenticated)', () => {
  const printed = directivesIn(parse(SDL));
  const checked = { admin: 0, customer: 0 };
  const hidden = new Set(['Query._entities', 'Query._service', '_Service', '_Entity', '_Any']);
  const check = (coordinate: string, scopes: unknown, onType: boolean) => {
    if (hidden.has(coordinate)) return;
    if (scopes === undefined) return;
    if (typeof scopes === 'function') {
      // The owner rule (admin, or the customer the row belongs to) is on types only, and has no directive.
      assert.ok(onType, `${coordinate}: a row-dependent rule on a field needs a federation metadata decision`);
      assert.ok(!printed.get(coordinate)!.some((d) => /@authenticated|@requiresScopes/.test(d)), coordinate);
      return;
    }
    const form = JSON.stringify(scopes);
    const expected = EXPECTED[form];
    assert.ok(expected, `${coordinate}: the rule ${form} has no expected federation metadata in this test`);
    const directives = printed.get(coordinate);
    assert.ok(directives, `${coordinate} is not in the SDL`);
    for (const directive of expected)
      assert.ok(
        directives.includes(directive),
        `${coordinate}: ${form} wants ${directive}, has ${directives.join(' ') || 'none'}`,
      );
    if (!expected.length) assert.ok(!directives.some((d) => /@authenticated|@requiresScopes/.test(d)), coordinate);
    if (expected.includes('@authenticated')) checked.customer++;
    if (form === '{"admin":true}') {
      checked.admin++;
      // An admin-only field is also left out of a storefront contract.
      if (!onType)
        assert.ok(directives.includes('@tag(name: "admin")'), `${coordinate}: admin-only without the admin tag`);
    }
  };
  const scopesOf = (element: { extensions?: unknown }) =>
    (element.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)?.pothosOptions?.authScopes;
  for (const type of Object.values(withAuth.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) check(type.name, scopesOf(type), true);
    if (isObjectType(type))
      for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, scopesOf(field), false);
  }
  // Admin-only: 40 root fields, Subscription.customerEvents, CustomerGroup.customers, Customer.createdBy, CustomerGroup.createdBy
  // and CustomerGroup.metadata, Customer.disabledAt, timeline, notes and tags, 14 payload and record types
  // (CustomerNote, CustomerTimelineEntry, CustomerTag, ErasedCustomersPayload, …) and the membership type; signed-in: node, nodes, myEvents,
  // CustomerEvent, 8 mutations, CustomerGroup, OrderLineItem and OrderAddress (`me` answers anyone: null when anonymous).
  assert.deepEqual(checked, { admin: 66, customer: 15 });
  // Never on an interface, which routers refuse.
  assert.doesNotMatch(SDL, /^interface [^\n]*@(authenticated|requiresScopes)/m);
});

test('without FEDERATION_AUTH_DIRECTIVES the SDL has no auth directives, and the same tags and list sizes', () => {
  const plain = printSubgraphSdl(schema);
  assert.doesNotMatch(plain, /@authenticated|@requiresScopes/);
  // Compared in graphql-js's layout, where every directive follows its element on one line.
  const strip = (sdl: string) =>
    print(parse(sdl))
      .replace(/ @authenticated| @requiresScopes\(scopes: \[\["admin"\]\]\)/g, '')
      .replace(/, "@authenticated", "@requiresScopes"/, '');
  assert.equal(strip(SDL), print(parse(plain)));
  assert.match(
    print(parse(SDL)),
    /^extend schema @link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.9", import: \["@key", "@shareable", "@tag", "@authenticated", "@requiresScopes", "@listSize"\]\)/,
  );
});

test('with the auth directives the subgraph composes with the fixture subgraphs in both composers, and the supergraph keeps them', () => {
  const guild = composeWithGuild(services(SDL));
  assert.equal(guild.errors, undefined, guild.errors?.map((e) => e.message).join('\n'));
  const apollo = composeWithApollo(services(SDL));
  assert.equal(apollo.errors, undefined, apollo.errors?.map((e) => e.message).join('\n'));
  for (const supergraph of [guild.supergraphSdl!, apollo.supergraphSdl!]) {
    const directives = directivesIn(parse(supergraph));
    assert.ok(directives.get('Query.customers')!.includes('@requiresScopes(scopes: [["admin"]])'), 'Query.customers');
    assert.ok(directives.get('Query.node')!.includes('@authenticated'), 'Query.node');
    assert.ok(directives.get('Customer.deletedAt')!.includes('@tag(name: "admin")'), 'Customer.deletedAt');
    assert.ok(
      directives.get('Customer.orders')!.some((d) => d.startsWith('@listSize(')),
      'Customer.orders',
    );
  }
});

test('why the auth directives are opt-in: @apollo/gateway refuses a supergraph that carries them', async () => {
  const composed = composeWithApollo(services(SDL));
  const unused = () => new Response('unused', { status: 500 });
  const apps = { customers: unused, loyalty: unused, newsletter: unused, reviews: unused, activity: unused };
  await assert.rejects(
    startApolloGateway(composed.supergraphSdl!, apps, [], {}),
    /authenticated\/v0\.1 is for: SECURITY but is unsupported/,
  );
  const plain = composeWithApollo(services(printSubgraphSdl(schema)));
  await startApolloGateway(plain.supergraphSdl!, apps, [], {});
});

// --- Contracts: the storefront API without anything tagged admin ---

/** Names of the supergraph's own machinery, which the API schema does not show. */
const MACHINERY =
  /^(join__|link__|link$|federation__|tag$|inaccessible$|authenticated$|requiresScopes$|policy$|cost$|listSize$|requiresScopes__|policy__|context$|fromContext$)/;

/**
 * A contract as a router builds one, by walking the supergraph: drop every element tagged with an
 * excluded tag, then every field whose type is gone, every type left without fields, and every type
 * the roots no longer reach, until nothing changes; then the API schema of what is left.
 */
function contract(supergraph: string, exclude: Set<string>): GraphQLSchema {
  const tagged = (node: { directives?: readonly ConstDirectiveNode[] }) =>
    (node.directives ?? []).some(
      (d) =>
        d.name.value === 'tag' && d.arguments?.some((a) => a.value.kind === Kind.STRING && exclude.has(a.value.value)),
    ) || (node.directives ?? []).some((d) => d.name.value === 'inaccessible');
  const named = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : named(type.type));
  type Named = Extract<DefinitionNode, { name: unknown }> & { name: { value: string } };
  let definitions = parse(supergraph).definitions.filter(
    (d): d is Named =>
      'name' in d &&
      !!d.name &&
      d.kind !== Kind.DIRECTIVE_DEFINITION &&
      !MACHINERY.test(d.name.value) &&
      !tagged(d as never),
  );
  const builtIn = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
  for (let changed = true; changed; ) {
    const before = JSON.stringify(
      definitions.map((d) => [d.name.value, 'fields' in d ? d.fields?.length : 0, 'types' in d ? d.types?.length : 0]),
    );
    const names = new Set([...builtIn, ...definitions.map((d) => d.name.value)]);
    const keep = <T extends { directives?: readonly ConstDirectiveNode[] }>(node: T, type?: TypeNode) =>
      !tagged(node) && (!type || names.has(named(type)));
    definitions = definitions.flatMap((d): Named[] => {
      if (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.INTERFACE_TYPE_DEFINITION) {
        const fields = (d.fields ?? [])
          .filter(
            (f) =>
              keep(f, f.type) &&
              (f.arguments ?? []).every((a) => keep(a, a.type) || a.type.kind !== Kind.NON_NULL_TYPE),
          )
          .map((f) => ({ ...f, arguments: (f.arguments ?? []).filter((a) => keep(a, a.type)) }));
        const interfaces = (d.interfaces ?? []).filter((i) => names.has(i.name.value));
        return fields.length ? [{ ...d, fields, interfaces } as Named] : [];
      }
      if (d.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
        const fields = (d.fields ?? []).filter((f) => keep(f, f.type));
        return fields.length ? [{ ...d, fields } as Named] : [];
      }
      if (d.kind === Kind.UNION_TYPE_DEFINITION) {
        const types = (d.types ?? []).filter((t) => names.has(t.name.value));
        return types.length ? [{ ...d, types } as Named] : [];
      }
      if (d.kind === Kind.ENUM_TYPE_DEFINITION)
        return [{ ...d, values: (d.values ?? []).filter((v) => keep(v)) } as Named];
      return [d];
    });
    // Reachability from the roots (and from implementations of reachable interfaces).
    const byName = new Map(definitions.map((d) => [d.name.value, d]));
    const reached = new Set<string>();
    const visit = (name: string) => {
      const d = byName.get(name);
      if (!d || reached.has(name)) return;
      reached.add(name);
      if ('fields' in d)
        for (const f of d.fields ?? []) {
          visit(named(f.type));
          for (const a of 'arguments' in f ? (f.arguments ?? []) : []) visit(named(a.type));
        }
      if ('types' in d) for (const t of d.types ?? []) visit(t.name.value);
      if ('interfaces' in d) for (const i of d.interfaces ?? []) visit(i.name.value);
      if (d.kind === Kind.INTERFACE_TYPE_DEFINITION) {
        for (const other of definitions)
          if ('interfaces' in other && other.interfaces?.some((i) => i.name.value === name)) visit(other.name.value);
      }
    };
    visit('Query');
    visit('Mutation');
    definitions = definitions.filter((d) => reached.has(d.name.value));
    changed =
      JSON.stringify(
        definitions.map((d) => [
          d.name.value,
          'fields' in d ? d.fields?.length : 0,
          'types' in d ? d.types?.length : 0,
        ]),
      ) !== before;
  }
  // The API schema: no directive applications but @deprecated and @specifiedBy.
  const strip = <T>(node: T): T =>
    JSON.parse(JSON.stringify(node), (key, value) =>
      key === 'directives' && Array.isArray(value)
        ? value.filter((d: ConstDirectiveNode) => ['deprecated', 'specifiedBy'].includes(d.name.value))
        : value,
    ) as T;
  const api = buildASTSchema({ kind: Kind.DOCUMENT, definitions: definitions.map(strip) }, { assumeValidSDL: true });
  assertValidSchema(api);
  return lexicographicSortSchema(api);
}

const fieldNames = (api: GraphQLSchema, type: string) => {
  const t = api.getType(type);
  return t && (isObjectType(t) || isInterfaceType(t) || isInputObjectType(t)) ? Object.keys(t.getFields()).sort() : [];
};

test('a contract excluding the admin tag is the storefront API: no admin queries, mutations, deletedAt or metadata', () => {
  const composed = composeWithApollo(services(SDL));
  assert.equal(composed.errors, undefined, composed.errors?.map((e) => e.message).join('\n'));
  const full = contract(composed.supergraphSdl, new Set());
  const storefront = contract(composed.supergraphSdl, new Set([ADMIN_TAG]));
  const printed = printSchema(storefront);

  // What a storefront uses stays, with the other subgraphs' fields.
  assert.deepEqual(fieldNames(storefront, 'Query'), [
    'loyaltyLeaderboard',
    'me',
    'mostViewed',
    'newsletterSubscriptions',
    'node',
    'nodes',
    'reviews',
  ]);
  assert.deepEqual(fieldNames(storefront, 'Mutation'), [
    'acceptInvitation',
    'addMyAddress',
    'confirmEmailChange',
    'confirmMarketingConsent',
    'deleteMyAddress',
    'generatePasswordToken',
    'login',
    'logout',
    'register',
    'requestEmailChange',
    'requestEmailVerification',
    'resetPassword',
    'unsubscribe',
    'updateMe',
    'updateMyAddress',
    'updateMyMarketingConsent',
    'verifyEmail',
  ]);
  for (const field of ['tags', 'timeline', 'notes', 'disabledAt'])
    assert.ok(!fieldNames(storefront, 'Customer').includes(field), `Customer.${field} is staff data`);
  for (const field of [
    'email',
    'firstName',
    'orders',
    'addresses',
    'groups',
    'defaultShippingAddress',
    'loyaltyPoints',
    'reviewCount',
    'viewCount',
    'accountState',
    'emailMarketingConsent',
  ]) {
    assert.ok(fieldNames(storefront, 'Customer').includes(field), `Customer.${field}`);
  }
  for (const field of ['total', 'items', 'shippingAddress', 'status'])
    assert.ok(fieldNames(storefront, 'Order').includes(field), `Order.${field}`);
  assert.ok(fieldNames(storefront, 'CustomerGroup').includes('name'));

  // What only an admin may reach is gone: the admin roots, the members of a group, and the types
  // only they reached (payloads, memberships, the admin filters).
  for (const field of ['customers', 'customer', 'customerGroups', 'orders', 'addresses', 'customerGroupMemberships']) {
    assert.ok(fieldNames(full, 'Query').includes(field), `full Query.${field}`);
    assert.ok(!fieldNames(storefront, 'Query').includes(field), `storefront Query.${field}`);
  }
  for (const mutation of [
    'createCustomers',
    'mergeCustomers',
    'softDeleteCustomers',
    'addCustomersToGroup',
    'deleteAddresses',
  ]) {
    assert.ok(!fieldNames(storefront, 'Mutation').includes(mutation), mutation);
  }
  assert.ok(!fieldNames(storefront, 'CustomerGroup').includes('customers'));
  // Which admin key created a row is the admins' business.
  assert.ok(!fieldNames(storefront, 'Customer').includes('createdBy'));
  assert.ok(!fieldNames(storefront, 'CustomerGroup').includes('createdBy'));
  // (CustomerGroupMembership stays, as an implementation of Node: a customer's node(id) of one is null.)
  for (const type of ['CustomersPayload', 'CustomerConnection', 'MergeCustomersPayload', 'CreateCustomerInput']) {
    assert.ok(full.getType(type), `full ${type}`);
    assert.equal(storefront.getType(type), undefined, type);
  }
  // Back-office data: deletedAt and metadata (outputs and inputs alike) and the JSONObject scalar.
  // (Descriptions may still mention them: UpdateMeInput's says how `metadata` merges.)
  assert.doesNotMatch(printed, /^\s+(deletedAt|metadata)\b|JSONObject/m);
  assert.match(printSchema(full), /deletedAt: DateTime/);
  assert.deepEqual(fieldNames(storefront, 'UpdateMeInput'), [
    'companyName',
    'firstName',
    'lastName',
    'password',
    'phone',
  ]);
});

test('the contract walk agrees with @theguild/federation-composition’s own contracts', () => {
  const composed = composeWithApollo(services(SDL));
  const ours = contract(composed.supergraphSdl!, new Set([ADMIN_TAG]));
  const theirs = composeSchemaContract(services(SDL), { include: new Set(), exclude: new Set([ADMIN_TAG]) }, true);
  assert.equal(theirs.errors, undefined, theirs.errors?.map((e) => e.message).join('\n'));
  const api = contract(theirs.supergraphSdl!, new Set());
  const shape = (s: GraphQLSchema) =>
    Object.values(s.getTypeMap())
      .filter((t) => !t.name.startsWith('__'))
      .map(
        (t) =>
          `${t.name}: ${
            isObjectType(t) || isInterfaceType(t) || isInputObjectType(t)
              ? Object.keys(t.getFields()).sort().join(' ')
              : isUnionType(t)
                ? t
                    .getTypes()
                    .map((m) => m.name)
                    .sort()
                    .join(' | ')
                : ''
          }`,
      )
      .sort();
  assert.deepEqual(shape(api), shape(ours));
});

// --- Demand control: a router's estimate is our own cost ---

test('Hive Gateway’s demand control, reading our @listSize, estimates exactly our cost (with explicit page sizes)', async () => {
  const queries: [string, Record<string, unknown>][] = [
    [`{ customers(first: 10) { edges { node { id orders(first: 5) { edges { node { id } } } } } } }`, {}],
    [
      `query($n: Int!) { customers(first: $n) { totalCount pageInfo { hasNextPage } edges { cursor node { email defaultShippingAddress { city } groups(first: 3) { edges { node { name } } } } } } }`,
      { n: 40 },
    ],
    [`{ orders(last: 7) { edges { node { id items { title } customer { email } shippingAddress { city } } } } }`, {}],
    [
      `{ customerGroups(first: 2) { edges { node { customers(first: 100) { edges { node { addresses(first: 4) { edges { node { city } } } } } } } } } }`,
      {},
    ],
    [
      `query($id: ID!) { customer(id: $id) { email orders(first: 20) { totalCount edges { node { items { title } } } } } }`,
      { id: 'cus_01NOSUCHCUSTOMER' },
    ],
  ];
  for (const [query, variables] of queries) {
    const direct = await t.gql(query, variables, ADMIN);
    assert.equal(direct.errors, undefined, JSON.stringify(direct.errors));
    const ours = (direct.extensions!.cost as { requested: number }).requested;
    const viaHive = await hive(query, variables, ADMIN);
    assert.equal(viaHive.errors, undefined, JSON.stringify(viaHive.errors));
    assert.deepEqual(viaHive.data, direct.data);
    assert.equal((viaHive.extensions!.cost as { estimated: number }).estimated, ours, query);
  }
  // The example of docs/operations.md ("Cost") and docs/federation.md ("Demand control").
  const example = await t.gql(
    `{ customers(first: 10) { edges { node { orders(first: 5) { edges { node { id } } } } } } }`,
    {},
    ADMIN,
  );
  assert.equal((example.extensions!.cost as { requested: number }).requested, 131);
});

test('where no page size is given, @listSize says assumedSize 15 (ours, and the IBM spec’s reading); Hive Gateway 2.12 counts 1 there', async () => {
  const query = `{ customers { edges { node { id } } } }`;
  const direct = await t.gql(query, {}, ADMIN);
  assert.equal((direct.extensions!.cost as { requested: number }).requested, 1 + 15 * 2);
  const viaHive = await hive(query, {}, ADMIN);
  assert.equal((viaHive.extensions!.cost as { estimated: number }).estimated, 1 + 1 * 2);
  assert.match(
    SDL,
    /customers\([^)]*\): CustomerConnection! @tag\(name: "admin"\) @requiresScopes\(scopes: \[\["admin"\]\]\) @listSize\(slicingArguments: \["first", "last"\], sizedFields: \["edges"\], assumedSize: 15, requireOneSlicingArgument: false\)/,
  );
});

test('an app with FEDERATION_AUTH_DIRECTIVES serves that SDL from _service', async () => {
  const app = createApp({
    db: t.db,
    log: createLogger('silent'),
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], federationAuthDirectives: true },
  });
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const r = (await response.json()) as GraphQLResponse;
  assert.equal(r.data!._service.sdl, SDL);
});
