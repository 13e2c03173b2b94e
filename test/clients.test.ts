import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isObjectType, isScalarType, specifiedScalarTypes } from 'graphql';
import { adminFlow, type Post, storefrontFlow } from '../scripts/examples.js';
import { schema } from '../src/schema/index.js';
import { ERROR_CATALOGUE } from '../src/services/errors.js';
import { ADMIN_KEY, createTestApp, makeCustomer } from './helpers.js';

// The client kits in examples/ against the real schema and server: GraphQL Code Generator's client
// preset with every scalar mapped (strictScalars) and Apollo Client's possibleTypes, and the
// README's storefront and admin walk-throughs (scripts/examples.ts) run end to end.

const t = await createTestApp();
const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the project, so that the config's plugins resolve from its node_modules.
await mkdir(path.join(root, 'node_modules', '.cache'), { recursive: true });
const workdir = await mkdtemp(path.join(root, 'node_modules', '.cache', 'codegen-'));
after(() => rm(workdir, { recursive: true, force: true }));

const post: Post = async (body, headers) => t.app.fetch('http://yoga/graphql', { method: 'POST', body, headers });

test('codegen’s client preset types every operation with every scalar mapped, and possibleTypes covers the errors and nodes', async () => {
  await cp(path.join(root, 'examples'), path.join(workdir, 'examples'), { recursive: true });
  await cp(path.join(root, 'schema.graphql'), path.join(workdir, 'schema.graphql'));
  // The package's bin (its exports map leaves it out): node_modules/.bin/graphql-codegen.
  const cli = path.join(root, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js');
  await promisify(execFile)(process.execPath, [cli, '--config', 'codegen.ts'], {
    cwd: path.join(workdir, 'examples'),
  }).catch((error) => {
    throw new Error(`graphql-codegen failed: ${error.stdout}${error.stderr}`);
  });
  const generated = await readFile(path.join(workdir, 'examples', 'generated', 'graphql.ts'), 'utf8');
  const custom = Object.values(schema.getTypeMap())
    .filter((type) => isScalarType(type) && !specifiedScalarTypes.some((s) => s.name === type.name))
    .map((type) => type.name);
  assert.deepEqual(custom.sort(), ['CountryCode', 'CurrencyCode', 'DateTime', 'Decimal', 'JSONObject', '_Any']);
  // strictScalars made codegen fail on a scalar the config leaves out (it did on `_Any`); the
  // operations' types show the mapping.
  const accountPage = /export type AccountPageQuery = (.*);/.exec(generated)?.[1] ?? '';
  for (const typed of [
    'createdAt: string',
    'total: { amount: string, currencyCode: string }',
    'countryCode: string | null',
    '} | null }', // `me` is nullable
  ])
    assert.ok(accountPage.includes(typed), `AccountPageQuery has ${typed}: ${accountPage}`);

  const { possibleTypes } = JSON.parse(
    await readFile(path.join(workdir, 'examples', 'generated', 'possible-types.json'), 'utf8'),
  ) as { possibleTypes: Record<string, string[]> };
  assert.deepEqual(possibleTypes.Error!.sort(), ERROR_CATALOGUE.map((error) => error.name).sort());
  const nodes = Object.values(schema.getTypeMap()).filter(
    (type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node'),
  );
  assert.deepEqual(possibleTypes.Node!.sort(), nodes.map((type) => type.name).sort());
});

test('the storefront walk-through: register, verify the email, add an address, read the account page', async () => {
  const email = 'walkthrough@example.com';
  const readToken = async (to: string) => {
    const events = await t.prisma.outboxEvent.findMany({ where: { name: 'customer.email_verification_requested' } });
    const mail = events.map((event) => event.payload as { email: string; token: string }).filter((p) => p.email === to);
    return mail.at(-1)!.token;
  };
  const { customerId, verifiedAt, me } = await storefrontFlow(post, email, readToken);
  assert.ok(verifiedAt);
  assert.equal(me.id, customerId);
  assert.equal(me.email, email);
  assert.deepEqual(
    me.addresses.edges.map((edge: { node: object }) => edge.node),
    [{ id: me.addresses.edges[0].node.id, city: 'Aarhus', countryCode: 'DK', isDefaultShipping: true }],
  );
  assert.deepEqual(me.orders, { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
});

test('the admin walk-through: search, page through the results, add them all to a new group at once', async () => {
  for (let i = 0; i < 5; i++) await makeCustomer(t.prisma, { email: `walk-admin-${i}@example.com` });
  const { found, count, members } = await adminFlow(post, ADMIN_KEY, 'walk-admin-', 'Walk-through');
  assert.equal(found.length, 5);
  assert.equal(new Set(found).size, 5);
  assert.deepEqual(count, { count: 5, precision: 'EXACT' });
  assert.equal(members, 5);
});
