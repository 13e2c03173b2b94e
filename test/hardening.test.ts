import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import { loadEnv } from '../src/env.js';
import { createLogger } from '../src/logger.js';
import { loadPersistedOperations } from '../src/pipeline/index.js';
import { printSubgraphSdl } from '../src/schema/federation.js';
import { schema } from '../src/schema/index.js';
import { type App, type AppSettings, createApp, DEFAULT_SETTINGS, settingsFromEnv } from '../src/yoga.js';
import {
  ADMIN,
  ADMIN_KEY,
  ANONYMOUS,
  bearer,
  createTestApp,
  type GraphQLResponse,
  holdLock,
  makeCustomer,
  makeOrder,
  type TestApp,
} from './helpers.js';

const t: TestApp = await createTestApp();

/** Another app on the same database, with these settings (development unless they say otherwise). */
function variant(settings: Partial<AppSettings>, graphiql = true): App {
  return createApp({
    db: t.db,
    log: createLogger('silent'),
    graphiql,
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], bcryptCost: 4, ...settings },
  });
}

const production = variant({ production: true });

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };

async function post(app: App, body: unknown, headers: Record<string, string> = ADMIN): Promise<GraphQLResponse> {
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, ...(text ? JSON.parse(text) : {}) };
}

/** Sends the operation and asserts it was refused with `code` before any SQL statement ran. */
async function assertRefused(
  send: () => Promise<GraphQLResponse>,
  code: string,
  status = 400,
): Promise<GraphQLResponse> {
  const { result, statements, sql } = await t.countStatements(send);
  assert.deepEqual(
    result.errors?.map((e) => e.extensions?.code),
    [code],
    JSON.stringify(result.errors),
  );
  assert.equal(result.status, status);
  assert.equal(result.data, undefined, 'nothing executed');
  assert.equal(statements, 0, sql.join('\n'));
  return result;
}

const costOf = (r: GraphQLResponse) =>
  (r.extensions?.cost as { requested: number; maximum: number } | undefined)?.requested;

describe('limits checked before execution', () => {
  test('depth: MAX_DEPTH, even for a signed-in caller (no session lookup)', async () => {
    const deep = `{ customers { edges { node { orders { edges { node { customer { orders { edges { node { id } } } } } } } } } } }`;
    const r = await assertRefused(() => t.gql(deep), 'MAX_DEPTH');
    assert.match(r.errors![0]!.message, /depth limit of 10 exceeded, found 11/);
    await assertRefused(() => t.gql(deep, {}, bearer('cgs_not-a-real-session')), 'MAX_DEPTH');
    // Fragments do not add depth of their own, nor hide it.
    const viaFragments = `{ customers { ...C } } fragment C on CustomerConnection { edges { node { orders { ...O } } } }
      fragment O on CustomerOrdersConnection { edges { node { customer { orders { edges { node { id } } } } } } }`;
    await assertRefused(() => t.gql(viaFragments), 'MAX_DEPTH');
    const r10 = await t.gql(
      `{ customers { edges { node { orders { edges { node { customer { orders { totalCount } } } } } } } } }`,
    );
    assert.equal(r10.errors, undefined, JSON.stringify(r10.errors));
  });

  test('aliases: MAX_ALIASES above 15', async () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `c${i}: customers(first: 1) { totalCount }`).join(' ')} }`;
    await assertRefused(() => t.gql(aliases(16)), 'MAX_ALIASES');
    assert.equal((await t.gql(aliases(15))).errors, undefined);
  });

  test('tokens: MAX_TOKENS above 1000, while parsing', async () => {
    const r = await assertRefused(() => t.gql(`{ ${'__typename '.repeat(1000)}}`), 'MAX_TOKENS');
    assert.match(r.errors![0]!.message, /Token limit of 1000/);
    // Comments are not tokens.
    assert.equal((await t.gql(`# ${'x '.repeat(5000)}\n{ customers(first: 1) { totalCount } }`)).errors, undefined);
  });

  test('directives: MAX_DIRECTIVES above 20', async () => {
    const directives = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename @include(if: true)`).join(' ')} }`;
    await assertRefused(() => t.gql(directives(21)), 'MAX_DIRECTIVES');
    assert.equal((await t.gql(directives(20))).errors, undefined);
  });

  test('limits come from the settings', async () => {
    const strict = variant({ maxDepth: 3, maxAliases: 1, maxDirectives: 0, maxTokens: 100, maxCost: 10 });
    await assertRefused(() => post(strict, { query: '{ customers { edges { node { id } } } }' }), 'MAX_DEPTH');
    await assertRefused(
      () => post(strict, { query: '{ a: __typename b: customers { totalCount } c: customers { totalCount } }' }),
      'MAX_ALIASES',
    );
    await assertRefused(() => post(strict, { query: '{ __typename @skip(if: false) }' }), 'MAX_DIRECTIVES');
    await assertRefused(() => post(strict, { query: `{ ${'__typename '.repeat(101)}}` }), 'MAX_TOKENS');
    const ids = Array.from({ length: 11 }, (_, i) => `"cus_${i}"`).join(' ');
    await assertRefused(() => post(strict, { query: `{ nodes(ids: [${ids}]) { id } }` }), 'QUERY_TOO_COMPLEX');
  });
});

describe('query cost', () => {
  const page = (first: string) => `{ customers${first} { edges { node { id email } } } }`;

  test('is reported in extensions and grows with first/last: 1 per object, edges and nodes once per item', async () => {
    const costs = [];
    for (const first of ['(first: 1)', '(first: 10)', '', '(last: 50)', '(first: 100)']) {
      const r = await t.gql(page(first));
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      assert.deepEqual(r.extensions?.cost, { requested: costOf(r), maximum: 5000 });
      costs.push(costOf(r));
    }
    // customers (1) + n × (edge 1 + node 1); no first/last means the default page of 15.
    assert.deepEqual(costs, [3, 21, 31, 101, 201]);
    const variables = await t.gql(`query($n: Int) { customers(first: $n) { edges { node { id } } } }`, { n: 40 });
    assert.equal(costOf(variables), 81, 'variables count like literals');
    const defaulted = await t.gql(`query($n: Int = 7) { customers(first: $n) { edges { node { id } } } }`);
    assert.equal(costOf(defaulted), 15, "a variable's default counts");
    const nodes = (ids: string[]) => t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids });
    const customer = await makeCustomer(t.prisma);
    assert.equal(
      costOf(await nodes([customer.id, customer.id, customer.id])),
      3,
      'a list is as long as its list argument',
    );
    assert.equal(costOf(await nodes([])), 0);
    assert.equal(costOf(await t.gql('{ __typename customers { totalCount pageInfo { hasNextPage } } }')), 2);
  });

  test('nested connections multiply: 100 × 100 is refused before execution, 10 × 5 runs', async () => {
    const c = await makeCustomer(t.prisma);
    await makeOrder(t.prisma, c.id);
    const nested = (outer: number, inner: number) =>
      `{ customers(first: ${outer}) { edges { node { id orders(first: ${inner}) { edges { node { id displayId } } } } } } }`;
    const refused = await assertRefused(() => t.gql(nested(100, 100)), 'QUERY_TOO_COMPLEX');
    assert.deepEqual(refused.errors![0]!.extensions!.cost, { requested: 20301, maximum: 5000 });
    assert.deepEqual(refused.extensions?.cost, { requested: 20301, maximum: 5000 });
    assert.match(refused.errors![0]!.message, /cost 20301 is above the maximum of 5000/);
    // The same through variables and fragments.
    await assertRefused(
      () =>
        t.gql(
          `query($a: Int, $b: Int) { customers(first: $a) { ...C } } fragment C on CustomerConnection { edges { node { orders(first: $b) { edges { node { id } } } } } }`,
          { a: 100, b: 100 },
        ),
      'QUERY_TOO_COMPLEX',
    );
    for (const [outer, inner, cost] of [
      [10, 5, 131],
      [5, 10, 116],
    ] as const) {
      const r = await t.gql(nested(outer, inner));
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      assert.equal(costOf(r), cost);
      assert.ok(r.data!.customers.edges.length >= 1);
    }
  });

  test('a fragment spread many times over is counted without exponential work', async () => {
    // Each fragment spreads the next twice: 2^12 copies of `id` if expanded.
    const fragments = Array.from(
      { length: 12 },
      (_, i) =>
        `fragment F${i} on Customer { ${i === 11 ? 'id' : `...F${i + 1} groups(first: 1) { totalCount } ...F${i + 1}`} }`,
    ).join('\n');
    const started = performance.now();
    const r = await t.gql(`{ customers(first: 1) { edges { node { ...F0 } } } }\n${fragments}`);
    assert.ok(performance.now() - started < 2000);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  });
});

describe('introspection, GraphiQL and suggestions', () => {
  // What GraphiQL sends to load its schema: deeper than MAX_DEPTH, and not cheap.
  const INTROSPECTION = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
  });

  test('introspection works in development, past the depth and cost limits', async () => {
    const r = await t.gql(INTROSPECTION, {}, ANONYMOUS);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.ok(r.data!.__schema.types.some((type: { name: string }) => type.name === 'Customer'));
    assert.equal(costOf(r), 0);
  });

  test('production refuses introspection (INTROSPECTION_DISABLED) and serves no GraphiQL', async () => {
    await assertRefused(() => post(production, { query: INTROSPECTION }), 'INTROSPECTION_DISABLED');
    await assertRefused(
      () => post(production, { query: '{ __type(name: "Customer") { fields { name } } }' }),
      'INTROSPECTION_DISABLED',
    );
    assert.deepEqual((await post(production, { query: '{ __typename }' })).data, { __typename: 'Query' });
    const page = await production.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
    assert.doesNotMatch(await page.text(), /graphiql/i);
    assert.notEqual(page.status, 200);
  });

  test('production with GRAPHIQL=true serves GraphiQL and, by default, the introspection it needs; INTROSPECTION=true alone allows it', async () => {
    const withGraphiql = variant({ production: true, graphiql: true });
    const page = await withGraphiql.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /graphiql/i);
    assert.equal((await post(withGraphiql, { query: INTROSPECTION })).errors, undefined);
    assert.equal(
      (await post(variant({ production: true, introspection: true }), { query: INTROSPECTION })).errors,
      undefined,
    );
    const noIntrospection = variant({ production: true, graphiql: true, introspection: false });
    await assertRefused(() => post(noIntrospection, { query: INTROSPECTION }), 'INTROSPECTION_DISABLED');
    // createApp's own `graphiql: false` still wins.
    const off = variant({ production: true, graphiql: true }, false);
    assert.doesNotMatch(
      await (await off.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } })).text(),
      /graphiql/i,
    );
  });

  test('federation’s _service follows introspection: in production only with FEDERATION_SDL_KEY', async () => {
    const sdlKey = 'federation-sdl-key-0123456789abcdef';
    const sdl = printSubgraphSdl(schema);
    const asks = [
      '{ _service { sdl } }',
      '{ s: _service { sdl } }',
      '{ ...F } fragment F on Query { _service { sdl } }',
      'query { __typename ... on Query { _service { sdl } } }',
    ];
    const keyed = variant({ production: true, federationSdlKey: sdlKey });
    for (const query of asks) {
      // A wrong key too: refused by the introspection rule before its token is looked at.
      for (const headers of [
        ANONYMOUS,
        ADMIN,
        bearer('federation-sdl-key-0123456789abcdeX'),
        { authorization: sdlKey },
      ]) {
        const r = await assertRefused(() => post(keyed, { query }, headers), 'INTROSPECTION_DISABLED');
        assert.equal(r.errors![0]!.message, 'Introspection is disabled on this server.');
      }
      const withKey = await post(keyed, { query }, bearer(sdlKey));
      assert.equal(withKey.errors, undefined, JSON.stringify(withKey.errors));
      assert.equal(
        (Object.values(withKey.data!).find((v) => typeof v === 'object') as { sdl: string }).sdl,
        sdl,
        query,
      );
      // Without a key configured, nobody gets it.
      await assertRefused(() => post(production, { query }, bearer(sdlKey)), 'INTROSPECTION_DISABLED');
    }
    // The key unlocks nothing else: introspection stays refused, and it is no admin key.
    await assertRefused(
      () => post(keyed, { query: '{ __schema { queryType { name } } }' }, bearer(sdlKey)),
      'INTROSPECTION_DISABLED',
    );
    const data = await post(keyed, { query: '{ customers { totalCount } }' }, bearer(sdlKey));
    assert.deepEqual(
      data.errors?.map((e) => e.extensions?.code),
      ['UNAUTHENTICATED'],
    );
    // Wherever introspection is on, anyone may ask: development, or production with INTROSPECTION=true.
    for (const app of [variant({}), variant({ production: true, introspection: true })]) {
      const r = await post(app, { query: '{ _service { sdl } }' }, ANONYMOUS);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      assert.equal(r.data!._service.sdl, sdl);
    }
  });

  test('production removes "Did you mean ...?" from every error; development keeps it', async () => {
    const typo = `{ customers { edges { node { emial } } } orders(filter: { status: [PENDNG] }) { totalCount } }`;
    const dev = (await t.gql(typo)).errors!.map((e) => e.message).join('\n');
    assert.match(dev, /Did you mean "email"/);
    assert.match(dev, /Did you mean the enum value "PENDING"/);
    const prod = await post(production, { query: typo });
    assert.equal(prod.status, 400);
    assert.deepEqual(
      prod.errors!.map((e) => e.message),
      [
        'Cannot query field "emial" on type "Customer".',
        'Invalid argument "filter.status[0]": Value "PENDNG" does not exist in "OrderStatus" enum.',
      ],
    );
    const variable = await post(production, {
      query: 'query($s: [OrderStatus!]) { orders(filter: { status: $s }) { totalCount } }',
      variables: { s: ['PENDNG'] },
    });
    assert.ok(variable.errors?.length);
    assert.doesNotMatch(JSON.stringify(variable.errors), /Did you mean|PENDING/);
  });

  test('production masks unexpected errors without originalError, even when NODE_ENV says development', async () => {
    const own = await createTestApp({ settings: { production: true } });
    await own.db.close();
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    try {
      const r = await own.gql('{ customers { totalCount } }');
      assert.ok(r.errors?.length);
      const text = JSON.stringify(r);
      assert.doesNotMatch(text, /originalError|stack|\.ts:\d+|prisma|PGlite|ECONN/i);
    } finally {
      if (previous === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = previous;
    }
  });
});

describe('one password check per request', () => {
  const LOGIN = (alias: string, email: string) =>
    `${alias}: login(email: "${email}", password: "password-1") { __typename }`;

  test('two aliased logins are refused before execution; one runs', async () => {
    const r = await assertRefused(
      () => t.gql(`mutation { ${LOGIN('a', 'a@example.com')} ${LOGIN('b', 'b@example.com')} }`, {}, ANONYMOUS),
      'TOO_MANY_PASSWORD_CHECKS',
    );
    assert.match(r.errors![0]!.message, /At most 1 password-checking mutation .* this one has 2/);
    const one = await t.countStatements(() => t.gql(`mutation { ${LOGIN('a', 'a@example.com')} }`, {}, ANONYMOUS));
    assert.equal(one.result.data!.a.__typename, 'InvalidCredentialsError');
    assert.ok(one.statements > 0);
  });

  test('counted through fragments, across login/register/resetPassword, and for updateMe only with a password', async () => {
    await assertRefused(
      () =>
        t.gql(
          `mutation { ...M } fragment M on Mutation { ${LOGIN('a', 'a@example.com')} ... on Mutation { register(input: { email: "r@example.com", password: "password-1" }) { __typename } } }`,
          {},
          ANONYMOUS,
        ),
      'TOO_MANY_PASSWORD_CHECKS',
    );
    await assertRefused(
      () =>
        t.gql(
          `mutation { resetPassword(input: { email: "a@example.com", token: "x", password: "password-2" }) { __typename } ${LOGIN('b', 'b@example.com')} }`,
          {},
          ANONYMOUS,
        ),
      'TOO_MANY_PASSWORD_CHECKS',
    );
    const withPassword = `mutation($input: UpdateMeInput!) { updateMe(input: $input) { __typename } ${LOGIN('b', 'b@example.com')} }`;
    await assertRefused(
      () => t.gql(withPassword, { input: { password: { current: 'password-1', new: 'password-2' } } }, ANONYMOUS),
      'TOO_MANY_PASSWORD_CHECKS',
    );
    const withoutPassword = await t.gql(withPassword, { input: { firstName: 'A' } }, ANONYMOUS);
    assert.equal(withoutPassword.data!.b.__typename, 'InvalidCredentialsError');
    // The same field twice under one response key runs once, so it is one check.
    const merged = await t.gql(
      `mutation { ${LOGIN('a', 'a@example.com')} ${LOGIN('a', 'a@example.com')} }`,
      {},
      ANONYMOUS,
    );
    assert.equal(merged.data!.a.__typename, 'InvalidCredentialsError');
  });
});

describe('HTTP protections', () => {
  test('CSRF in production: a GET or simple POST needs a non-simple header; JSON POSTs are fine', async () => {
    const get = (headers: Record<string, string>) =>
      production.fetch('http://yoga/graphql?query=%7B__typename%7D', { headers });
    const refused = await get({});
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as GraphQLResponse).errors![0]!.extensions!.code, 'CSRF_HEADER_REQUIRED');
    for (const header of ['x-graphql-csrf', 'x-graphql-yoga-csrf', 'apollo-require-preflight']) {
      const allowed = await get({ [header]: '1' });
      assert.equal(allowed.status, 200, header);
    }
    const form = await production.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D',
    });
    assert.equal(form.status, 403);
    const text = await production.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"query":"{__typename}"}',
    });
    assert.equal(text.status, 403);
    assert.deepEqual((await post(production, { query: '{ customers { totalCount } }' })).errors, undefined);
    // Off outside production unless asked for.
    assert.equal((await t.app.fetch('http://yoga/graphql?query=%7B__typename%7D')).status, 200);
    assert.equal(
      (await variant({ csrfPrevention: true }).fetch('http://yoga/graphql?query=%7B__typename%7D')).status,
      403,
    );
  });

  test('a body over MAX_BODY_BYTES is 413 before parsing; an admin key allows ADMIN_MAX_BODY_BYTES', async () => {
    const body = JSON.stringify({ query: `# ${'x'.repeat(200_000)}\n{ __typename }` });
    const { result, statements } = await t.countStatements(async () =>
      t.app.fetch('http://yoga/graphql', { method: 'POST', headers: { ...JSON_HEADERS, ...ANONYMOUS }, body }),
    );
    assert.equal(result.status, 413);
    assert.equal(((await result.json()) as GraphQLResponse).errors![0]!.extensions!.code, 'REQUEST_ENTITY_TOO_LARGE');
    assert.equal(statements, 0);
    const declared = await t.app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    assert.equal(declared.status, 413);
    const admin = await post(t.app, body, ADMIN);
    assert.deepEqual(admin.data, { __typename: 'Query' });
    const small = variant({ adminMaxBodyBytes: 150_000 });
    assert.equal((await post(small, body, ADMIN)).status, 413);
  });

  test("over HTTP: a sized body is judged by its Content-Length, a chunked one by counting, each against its caller's limit", async () => {
    const app = variant({ maxBodyBytes: 1_000, adminMaxBodyBytes: 4_000 });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => server.close());
    const { port } = server.address() as AddressInfo;
    const send = (body: string, headers: Record<string, string>, chunked: boolean) =>
      new Promise<{ status: number; code: unknown }>((resolve, reject) => {
        const req = request(
          { port, method: 'POST', path: '/graphql', headers: { ...JSON_HEADERS, ...headers } },
          (res) => {
            let text = '';
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                code: (JSON.parse(text) as GraphQLResponse).errors?.[0]?.extensions?.code,
              }),
            );
          },
        );
        req.on('error', reject);
        if (chunked) {
          // Several writes without a Content-Length: node sends Transfer-Encoding: chunked.
          for (let i = 0; i < body.length; i += 500) req.write(body.slice(i, i + 500));
        } else {
          req.setHeader('content-length', Buffer.byteLength(body));
          req.write(body);
        }
        req.end();
      });
    const sized = (n: number) => JSON.stringify({ query: `# ${'x'.repeat(n)}\n{ __typename }` });
    for (const chunked of [false, true]) {
      assert.deepEqual(
        await send(sized(500), ANONYMOUS, chunked),
        { status: 200, code: undefined },
        `small, chunked=${chunked}`,
      );
      assert.deepEqual(
        await send(sized(2_000), ANONYMOUS, chunked),
        { status: 413, code: 'REQUEST_ENTITY_TOO_LARGE' },
        `anonymous, chunked=${chunked}`,
      );
      assert.deepEqual(
        await send(sized(2_000), ADMIN, chunked),
        { status: 200, code: undefined },
        `admin, chunked=${chunked}`,
      );
      assert.deepEqual(
        await send(sized(5_000), ADMIN, chunked),
        { status: 413, code: 'REQUEST_ENTITY_TOO_LARGE' },
        `admin over, chunked=${chunked}`,
      );
    }
    // A Content-Length that is not one number is refused, not read past.
    for (const length of ['-1', '10, 10', 'ten']) {
      const response = await app.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'content-length': length },
        body: sized(10),
      });
      assert.equal(response.status, 400, length);
    }
  });

  test('an operation running past REQUEST_TIMEOUT_MS is stopped with TIMEOUT (504)', async () => {
    const app = variant({ requestTimeoutMs: 250 });
    // Hold a lock the query needs, so it cannot finish until we let go.
    const lock = await holdLock(t.prisma, 'LOCK TABLE customer IN ACCESS EXCLUSIVE MODE');
    let r: GraphQLResponse;
    const started = performance.now();
    try {
      r = await post(app, { query: '{ customers { totalCount } }' });
    } finally {
      await lock.release();
    }
    const elapsed = performance.now() - started;
    assert.equal(r.status, 504);
    assert.deepEqual(
      r.errors!.map((e) => e.extensions?.code),
      ['TIMEOUT'],
    );
    assert.match(r.errors![0]!.message, /longer than 250 ms/);
    assert.ok(elapsed < 5000, `answered after ${elapsed} ms`);
    // Once the database is free the same operation completes.
    assert.equal((await post(app, { query: '{ customers { totalCount } }' })).errors, undefined);
  });
});

describe('persisted operations', () => {
  const QUERY = '{ customers(first: 1) { totalCount } }';
  const HASH = createHash('sha256').update(QUERY).digest('hex');
  const store = new Map([[HASH, QUERY]]);
  const byHash = (hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

  test('a known hash runs, an unknown one is PERSISTED_QUERY_NOT_IN_LIST; other operations still run by default', async () => {
    const app = variant({ persistedOperations: store });
    const known = await post(app, byHash(HASH));
    assert.equal(known.errors, undefined, JSON.stringify(known.errors));
    assert.equal(typeof known.data!.customers.totalCount, 'number');
    const unknown = await assertRefused(() => post(app, byHash('0'.repeat(64))), 'PERSISTED_QUERY_NOT_IN_LIST');
    assert.equal(unknown.errors![0]!.message, 'PersistedQueryNotFound');
    await assertRefused(() => post(app, byHash('constructor')), 'PERSISTED_QUERY_NOT_IN_LIST');
    assert.equal((await post(app, { query: '{ __typename }' })).errors, undefined);
  });

  test('PERSISTED_OPERATIONS_ONLY refuses any other document (CANNOT_SEND_PQ_ID_AND_BODY)', async () => {
    const app = variant({ persistedOperations: store, persistedOperationsOnly: true });
    await assertRefused(() => post(app, { query: '{ customers { totalCount } }' }), 'CANNOT_SEND_PQ_ID_AND_BODY');
    assert.equal((await post(app, byHash(HASH))).errors, undefined);
    assert.throws(() => variant({ persistedOperationsOnly: true }), /PERSISTED_OPERATIONS_FILE/);
  });

  test('the store is a JSON file of hash → document, checked at start; settingsFromEnv maps every setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'persisted-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'operations.json');
    writeFileSync(file, JSON.stringify({ [HASH]: QUERY }));
    assert.deepEqual([...loadPersistedOperations(file)], [[HASH, QUERY]]);

    const env = loadEnv({
      NODE_ENV: 'production',
      PERSISTED_OPERATIONS_FILE: file,
      PERSISTED_OPERATIONS_ONLY: 'true',
      MAX_COST: '300',
      REQUEST_TIMEOUT_MS: '2500',
      GRAPHIQL: 'true',
      FEDERATION_SDL_KEY: 'federation-sdl-key-0123456789abcdef',
    });
    const settings = settingsFromEnv(env);
    assert.equal(settings.production, true);
    assert.equal(settings.persistedOperationsOnly, true);
    assert.equal(settings.persistedOperations?.get(HASH), QUERY);
    assert.deepEqual(
      [settings.maxCost, settings.requestTimeoutMs, settings.graphiql, settings.introspection],
      [300, 2500, true, undefined],
    );
    assert.equal(settings.federationSdlKey, 'federation-sdl-key-0123456789abcdef');
    assert.throws(() => loadEnv({ FEDERATION_SDL_KEY: 'short' }), /FEDERATION_SDL_KEY: at least 24 characters/);
    const app = createApp({
      db: t.db,
      log: createLogger('silent'),
      settings: { ...settings, adminKeys: [{ name: 'tests', key: ADMIN_KEY }] },
    });
    assert.equal((await post(app, byHash(HASH))).errors, undefined);

    writeFileSync(file, JSON.stringify({ abc: '{ customers { ' }));
    assert.throws(() => loadPersistedOperations(file), /"abc" does not parse/);
    writeFileSync(file, JSON.stringify([QUERY]));
    assert.throws(() => loadPersistedOperations(file), /JSON object/);
  });
});

test('every hardening setting has its default in env.ts, AppSettings and .env.example', () => {
  const defaults = settingsFromEnv(loadEnv({}));
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const line = (name: string) => new RegExp(`^#? ?${name}=(.*)$`, 'm').exec(example)?.[1];
  const settings: [string, keyof typeof defaults][] = [
    ['MAX_DEPTH', 'maxDepth'],
    ['MAX_ALIASES', 'maxAliases'],
    ['MAX_TOKENS', 'maxTokens'],
    ['MAX_DIRECTIVES', 'maxDirectives'],
    ['MAX_COST', 'maxCost'],
    ['PASSWORD_CHECKS_PER_REQUEST', 'passwordChecksPerRequest'],
    ['MAX_BODY_BYTES', 'maxBodyBytes'],
    ['ADMIN_MAX_BODY_BYTES', 'adminMaxBodyBytes'],
    ['REQUEST_TIMEOUT_MS', 'requestTimeoutMs'],
  ];
  for (const [name, key] of settings) {
    assert.equal(defaults[key], DEFAULT_SETTINGS[key], name);
    assert.equal(line(name), String(DEFAULT_SETTINGS[key]), `.env.example: ${name}`);
  }
  for (const name of [
    'INTROSPECTION',
    'GRAPHIQL',
    'CSRF_PREVENTION',
    'PERSISTED_OPERATIONS_FILE',
    'FEDERATION_SDL_KEY',
  ]) {
    assert.equal(line(name), '', `.env.example: ${name} (unset by default)`);
  }
  assert.equal(line('PERSISTED_OPERATIONS_ONLY'), 'false');
  assert.equal(defaults.persistedOperationsOnly, false);
  assert.equal(defaults.federationSdlKey, DEFAULT_SETTINGS.federationSdlKey);
});
