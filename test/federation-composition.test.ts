// Composition with subgraphs that declare the names we declare too, in both composers, and the
// settings that make it pass (FEDERATION_TYPE_PREFIX, FEDERATION_NODE_QUERY) at run time.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { composeServices as composeWithGuild } from '@theguild/federation-composition';
import { buildSchema, type DocumentNode, parse } from 'graphql';
import { createLogger } from '../src/logger.js';
import { ownTypeNames, printSubgraphSdl, subgraphSchema } from '../src/schema/federation.js';
import { schema } from '../src/schema/index.js';
import { createApp } from '../src/yoga.js';
import { activityTypeDefs } from './fixtures/activity-subgraph.js';
import { catalogTypeDefs, createCatalogSubgraph } from './fixtures/catalog-subgraph.js';
import { type GatewayQuery, startApolloGateway } from './fixtures/gateway.js';
import { loyaltyTypeDefs } from './fixtures/loyalty-subgraph.js';
import { newsletterTypeDefs } from './fixtures/newsletter-subgraph.js';
import { reviewsTypeDefs } from './fixtures/reviews-subgraph.js';
import { ADMIN, ADMIN_KEY, createTestApp, type GraphQLResponse, makeCustomer } from './helpers.js';

const PREFIX = 'CustomerGraph';
const OTHERS: [string, DocumentNode][] = [
  ['loyalty', loyaltyTypeDefs],
  ['newsletter', newsletterTypeDefs],
  ['reviews', reviewsTypeDefs],
  ['catalog', catalogTypeDefs],
];

function compose(customers: string) {
  const services = [['customers', parse(customers)] as const, ...OTHERS].map(([name, typeDefs]) => ({
    name,
    url: `http://${name}.internal/graphql`,
    typeDefs,
  }));
  const guild = composeWithGuild(services);
  const apollo = composeWithApollo(services);
  return {
    guild: { errors: (guild.errors ?? []).map((e) => e.message), supergraphSdl: guild.supergraphSdl },
    apollo: {
      errors: (apollo.errors ?? []).map((e) => e.message),
      supergraphSdl: apollo.errors ? undefined : apollo.supergraphSdl,
    },
  };
}

// A service with both settings, and a gateway over it and the catalog, for the run-time tests below
// (set up first: every top-level await comes before the first test).
const t = await createTestApp();
const prefixed = createApp({
  db: t.db,
  log: createLogger('silent'),
  settings: {
    adminKeys: [{ name: 'tests', key: ADMIN_KEY }],
    federationTypePrefix: PREFIX,
    federationNodeQuery: false,
  },
});
const gql = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await prefixed.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse;
};

let customerId = '';
let gateway: GatewayQuery;
before(async () => {
  customerId = (await makeCustomer(t.prisma, { email: 'prefixed@example.com' })).id;
  const sdl = (await gql(`{ _service { sdl } }`)).data!._service.sdl as string;
  const { guild } = compose(sdl);
  assert.deepEqual(guild.errors, []);
  const catalog = createCatalogSubgraph([{ id: 'prod_1', name: 'Mug', createdAt: new Date('2024-01-01T00:00:00Z') }]);
  const unused = () => new Response('not in this test', { status: 500 });
  gateway = await startApolloGateway(
    guild.supergraphSdl!,
    {
      customers: (url, init) => prefixed.fetch(url, init),
      catalog: (url, init) => catalog.fetch(url, init),
      loyalty: unused,
      newsletter: unused,
      reviews: unused,
    },
    ['customers'],
    ADMIN,
  );
});

test('with the defaults, a Relay subgraph with its own node, Error and ValidationError does not compose, for the stated reasons', () => {
  const { guild, apollo } = compose(printSubgraphSdl(schema));
  for (const errors of [guild.errors, apollo.errors]) {
    assert.ok(errors.length > 0);
    // PageInfo is @shareable on our side, so it is not among them.
    assert.ok(
      errors.every((message) => !/PageInfo/.test(message)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((message) => /Query\.node/.test(message)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((message) => /ValidationError|Error\.path/.test(message)),
      errors.join('\n'),
    );
  }
});

test(`FEDERATION_TYPE_PREFIX=${PREFIX} and FEDERATION_NODE_QUERY=false compose with every colliding name, in both composers`, () => {
  const sdl = printSubgraphSdl(subgraphSchema(schema, { typePrefix: PREFIX, nodeQuery: false }));
  const { guild, apollo } = compose(sdl);
  assert.deepEqual(guild.errors, []);
  assert.deepEqual(apollo.errors, []);
  for (const supergraph of [guild.supergraphSdl!, apollo.supergraphSdl!]) {
    const api = buildSchema(supergraph, { assumeValidSDL: true });
    for (const name of [
      'PageInfo',
      'Node',
      'DateTime',
      'Error',
      'ErrorCode',
      'ValidationError',
      `${PREFIX}Error`,
      `${PREFIX}ErrorCode`,
      `${PREFIX}ValidationError`,
    ]) {
      assert.ok(api.getType(name), `${name} in the supergraph`);
    }
  }
});

test('Node is an entity interface while node is offered: a Node @interfaceObject subgraph composes in both composers, and not without it', () => {
  const withActivity = (customers: string) => {
    const services = [
      ['customers', parse(customers)] as const,
      ['activity', activityTypeDefs] as const,
      ['reviews', reviewsTypeDefs] as const,
    ].map(([name, typeDefs]) => ({ name, url: `http://${name}.internal/graphql`, typeDefs }));
    return { guild: composeWithGuild(services), apollo: composeWithApollo(services) };
  };
  const offered = withActivity(printSubgraphSdl(schema));
  assert.equal(offered.guild.errors, undefined, offered.guild.errors?.map((e) => e.message).join('\n'));
  assert.equal(offered.apollo.errors, undefined, offered.apollo.errors?.map((e) => e.message).join('\n'));
  for (const supergraph of [offered.guild.supergraphSdl!, offered.apollo.supergraphSdl!]) {
    const api = buildSchema(supergraph, { assumeValidSDL: true });
    const customer = api.getType('Customer') as import('graphql').GraphQLObjectType;
    assert.ok(customer.getFields().viewCount, 'Customer.viewCount from the activity subgraph');
    assert.match(supergraph, /isInterfaceObject: true/);
  }
  // With FEDERATION_NODE_QUERY=false our Node is a plain interface: nothing for @interfaceObject to extend.
  const plain = withActivity(printSubgraphSdl(subgraphSchema(schema, { typePrefix: '', nodeQuery: false })));
  for (const errors of [plain.guild.errors, plain.apollo.errors]) {
    assert.ok(errors?.length);
    assert.ok(
      errors.every((e) =>
        /no subgraph can be reached to resolve the implementation type of @interfaceObject type "Node"/.test(e.message),
      ),
      errors.join('\n'),
    );
  }
});

test('the prefix renames exactly the Error interface, ErrorCode and the Error types; nothing else changes', () => {
  const own = ownTypeNames(schema);
  assert.ok(
    own.includes('Error') &&
      own.includes('ErrorCode') &&
      own.includes('ValidationError') &&
      own.includes('ForbiddenError'),
  );
  assert.ok(
    own.every((name) => name === 'Error' || name === 'ErrorCode' || name.endsWith('Error')),
    own.join(),
  );
  const prefixed = subgraphSchema(schema, { typePrefix: PREFIX, nodeQuery: true });
  // (graphql-tools drops the built-in Float, which nothing uses.)
  const names = (of: typeof schema) =>
    Object.keys(of.getTypeMap())
      .filter((name) => name !== 'Float')
      .sort();
  const before = names(schema);
  const after = names(prefixed);
  assert.deepEqual(after, before.map((name) => (own.includes(name) ? `${PREFIX}${name}` : name)).sort());
  assert.equal(subgraphSchema(schema, { typePrefix: PREFIX, nodeQuery: true }), prefixed, 'built once');
  assert.equal(subgraphSchema(schema), schema);
});

test('the prefixed service answers with the prefixed names; node stays for direct clients but leaves the SDL', async () => {
  const sdl = (await gql(`{ _service { sdl } }`)).data!._service.sdl as string;
  assert.equal(sdl, printSubgraphSdl(subgraphSchema(schema, { typePrefix: PREFIX, nodeQuery: false })));
  assert.match(sdl, /type CustomerGraphValidationError implements CustomerGraphError/);
  assert.doesNotMatch(sdl, /^\s+node\(id: ID!\): Node$/m);

  const r = await gql(`mutation { createCustomers(input: [{ email: "not-an-email" }]) {
    __typename ... on CustomerGraphError { code } } }`);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.deepEqual(r.data!.createCustomers, { __typename: `${PREFIX}ValidationError`, code: 'VALIDATION' });

  const node = await gql(`query($id: ID!) { node(id: $id) { __typename id } }`, { id: customerId });
  assert.deepEqual(node.data!.node, { __typename: 'Customer', id: customerId });
});

test('through a gateway: both subgraphs’ PageInfo, both ValidationErrors, one DateTime, and node from the catalog', async () => {
  const r = await gateway(`{
    products(first: 1) { edges { node { id name createdAt } } pageInfo { hasNextPage endCursor } }
    customers(first: 1, filter: { email: "prefixed@example.com" }) { edges { node { id createdAt } } pageInfo { hasNextPage endCursor } }
    node(id: "prod_1") { __typename id ... on Product { name } }
  }`);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.deepEqual(r.data!.products, {
    edges: [{ node: { id: 'prod_1', name: 'Mug', createdAt: '2024-01-01T00:00:00.000Z' } }],
    pageInfo: { hasNextPage: false, endCursor: 'prod_1' },
  });
  assert.equal(r.data!.customers.edges[0].node.id, customerId);
  assert.equal(r.data!.customers.pageInfo.hasNextPage, false);
  assert.deepEqual(r.data!.node, { __typename: 'Product', id: 'prod_1', name: 'Mug' });

  const failures = await gateway(`mutation {
    addProduct(name: " ") { __typename ... on ValidationError { path code } }
    createCustomers(input: [{ email: "not-an-email" }]) { __typename ... on CustomerGraphValidationError { field code } }
  }`);
  assert.equal(failures.errors, undefined, JSON.stringify(failures.errors));
  assert.deepEqual(failures.data!.addProduct, { __typename: 'ValidationError', path: ['name'], code: 'INVALID' });
  assert.equal(failures.data!.createCustomers.__typename, `${PREFIX}ValidationError`);
  assert.equal(failures.data!.createCustomers.code, 'VALIDATION');
});
