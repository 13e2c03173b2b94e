import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { Client, fetchExchange, gql as urqlGql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { buildSchema, getIntrospectionQuery, graphqlSync, type IntrospectionQuery, isAbstractType } from 'graphql';
import { ANONYMOUS, createTestApp, makeOrder } from './helpers.js';

// Apollo Client 4 and urql 6 with graphcache, the normalized caches storefronts use, against the
// real server: the typed errors read through `... on Error` once the cache knows the unions'
// members (possibleTypes, or the schema), and `me { orders }` pages merge into one connection.

const t = await createTestApp();
const sdl = readFileSync(fileURLToPath(new URL('../schema.graphql', import.meta.url)), 'utf8');
const schema = buildSchema(sdl);
let token = '';
const fetch = (async (url: string, init: RequestInit) => t.app.fetch(url, init)) as typeof globalThis.fetch;

/** What examples/codegen.ts's fragment matcher writes: every abstract type's members. */
const possibleTypes = Object.fromEntries(
  Object.values(schema.getTypeMap())
    .filter(isAbstractType)
    .map((type) => [type.name, schema.getPossibleTypes(type).map((member) => member.name)]),
);

before(async () => {
  const session = await t.gql(
    `mutation { register(input: { email: "caches@example.com", password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  token = session.data!.register.accessToken;
  const customerId = session.data!.register.customer.id;
  for (let i = 0; i < 5; i++) await makeOrder(t.prisma, customerId, { createdAt: new Date(Date.UTC(2026, 2, 9 - i)) });
});

const ADD = `mutation AddAddress($input: AddressInput!) {
  addMyAddress(input: $input) { __typename ... on AddressPayload { address { id city } } ... on Error { code field message } }
}`;
const ORDERS = `query Orders($after: String) { me { id orders(first: 2, after: $after) {
  edges { cursor node { id displayId total { amount currencyCode } } } pageInfo { hasNextPage endCursor } } } }`;

test('Apollo Client 4: with possibleTypes a typed error reads through `... on Error`; relayStylePagination merges pages', async () => {
  const client = (types?: Record<string, string[]>) =>
    new ApolloClient({
      link: new HttpLink({ uri: 'http://yoga/graphql', fetch, headers: { authorization: `Bearer ${token}` } }),
      cache: new InMemoryCache({
        ...(types ? { possibleTypes: types } : {}),
        typePolicies: { Customer: { fields: { orders: relayStylePagination(['filter']) } } },
      }),
    });
  const bad = { input: { city: 'Nowhere', countryCode: 'xx' } };
  type Added = { addMyAddress: { __typename: string; code?: string; field?: string; message?: string } };
  const typed = await client(possibleTypes).mutate<Added>({ mutation: gql(ADD), variables: bad });
  assert.deepEqual(typed.data, {
    addMyAddress: {
      __typename: 'ValidationError',
      code: 'VALIDATION',
      field: 'countryCode',
      message: typed.data!.addMyAddress.message,
    },
  });
  // The same without possibleTypes: the cache cannot tell that ValidationError is an Error.
  const untyped = await client().mutate<Added>({ mutation: gql(ADD), variables: bad });
  assert.equal(untyped.data!.addMyAddress.code, undefined);

  const apollo = client(possibleTypes);
  const first = await apollo.query({ query: gql(ORDERS) });
  const page = (first.data as { me: { orders: { pageInfo: { endCursor: string } } } }).me.orders;
  // As fetchMore does: the next page from the network, merged by the field policy.
  const more = await apollo.query({
    query: gql(ORDERS),
    variables: { after: page.pageInfo.endCursor },
    fetchPolicy: 'network-only',
  });
  assert.equal(more.error, undefined);
  const merged = apollo.readQuery<{ me: { orders: { edges: unknown[] } } }>({ query: gql(ORDERS) });
  assert.equal(merged!.me.orders.edges.length, 4, 'two pages merged into one connection');
});

test('urql 6 with graphcache: given the schema, typed errors and relayPagination work the same', async () => {
  const introspection = graphqlSync({ schema, source: getIntrospectionQuery() }).data as unknown as IntrospectionQuery;
  const client = new Client({
    url: 'http://yoga/graphql',
    fetch,
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    exchanges: [
      cacheExchange({ schema: introspection, resolvers: { Customer: { orders: relayPagination() } } }),
      fetchExchange,
    ],
  });
  const typed = await client.mutation(urqlGql(ADD), { input: { city: 'Nowhere', countryCode: 'UK' } }).toPromise();
  assert.equal(typed.error, undefined);
  assert.deepEqual(
    { ...typed.data.addMyAddress, message: undefined },
    { __typename: 'ValidationError', code: 'VALIDATION', field: 'countryCode', message: undefined },
  );
  const first = await client.query(urqlGql(ORDERS), {}).toPromise();
  const cursor = first.data.me.orders.pageInfo.endCursor;
  const second = await client.query(urqlGql(ORDERS), { after: cursor }).toPromise();
  assert.equal(second.data.me.orders.edges.length, 4, 'relayPagination merged both pages');
  assert.equal(second.data.me.orders.edges[0].node.total.currencyCode, 'EUR');
});
