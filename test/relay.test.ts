import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { isObjectType } from 'graphql';
import {
  type ConcreteRequest,
  ConnectionHandler,
  commitLocalUpdate,
  commitMutation,
  Environment,
  fetchQuery,
  type GraphQLTaggedNode,
  Network,
  RecordSource,
  Store,
} from 'relay-runtime';
import { schema } from '../src/schema/index.js';
import { ANONYMOUS, bearer, createTestApp, makeAddress, makeOrder } from './helpers.js';

// A Relay storefront against the real server: relay-compiler 21 compiles examples/relay's
// operations against the committed schema, and relay-runtime pages `me { orders @connection }`
// through node(id), refetches an address and deletes one with @deleteRecord, with Relay's own
// warnings watched for IDs that are not globally unique.

const t = await createTestApp();
const relayCompiler = createRequire(import.meta.url)('relay-compiler') as string;
const root = fileURLToPath(new URL('..', import.meta.url));
let workdir = '';
let token = '';
let customerId = '';
const orderIds: string[] = [];
const addressIds: string[] = [];

/** A generated artifact, as the app would import it (TypeScript to JavaScript with esbuild, as the suite runs). */
async function artifact(name: string): Promise<ConcreteRequest> {
  const file = path.join(workdir, 'src', '__generated__', `${name}.graphql`);
  const { code } = await transform(await readFile(`${file}.ts`, 'utf8'), { loader: 'ts', format: 'esm' });
  await writeFile(`${file}.mjs`, code);
  return (await import(`${file}.mjs`)).default;
}

function environment(headers: Record<string, string>) {
  const network = Network.create(async (params, variables) => {
    const response = await t.app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: params.text, variables }),
    });
    return response.json();
  });
  return new Environment({ network, store: new Store(new RecordSource()) });
}

/** What Relay warns about while `fn` runs (its `warning` module writes through console.error). */
async function relayWarnings(fn: () => Promise<void>): Promise<string[]> {
  const said: string[] = [];
  const { error, warn } = console;
  console.error = (...args: unknown[]) => said.push(args.map(String).join(' '));
  console.warn = console.error;
  try {
    await fn();
  } finally {
    Object.assign(console, { error, warn });
  }
  return said;
}

before(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'relay-'));
  await cp(path.join(root, 'examples', 'relay'), workdir, { recursive: true });
  const config = JSON.parse(await readFile(path.join(workdir, 'relay.config.json'), 'utf8'));
  config.schema = path.join(root, 'schema.graphql');
  await writeFile(path.join(workdir, 'relay.config.json'), JSON.stringify(config));
  await mkdir(path.join(workdir, 'src', '__generated__'));
  await promisify(execFile)(relayCompiler, [], { cwd: workdir }).catch((error) => {
    throw new Error(`relay-compiler failed: ${error.stderr || error.stdout}`);
  });

  const session = await t.gql(
    `mutation { register(input: { email: "relay@example.com", password: "password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  token = session.data!.register.accessToken;
  customerId = session.data!.register.customer.id;
  for (let i = 0; i < 5; i++) {
    const order = await makeOrder(t.prisma, customerId, { createdAt: new Date(Date.UTC(2026, 0, 10 - i)) });
    orderIds.push(order.id);
  }
  for (const city of ['Aarhus', 'Odense']) addressIds.push((await makeAddress(t.prisma, customerId, { city })).id);
});

after(() => rm(workdir, { recursive: true, force: true }));

test('every object with an `id` is a Node: IDs are globally unique, as Relay’s store needs', () => {
  const offenders = Object.values(schema.getTypeMap())
    .filter((type) => isObjectType(type) && !type.name.startsWith('__') && 'id' in type.getFields())
    .filter((type) => isObjectType(type) && !type.getInterfaces().some((i) => i.name === 'Node'))
    .map((type) => type.name);
  assert.deepEqual(offenders, []);
});

test('a Relay storefront pages `me { orders @connection }` through node(id), as a signed-in customer', async () => {
  const env = environment(bearer(token));
  /** The orders connection as Relay's store holds it, merged page after page. */
  const connection = () => {
    let read = { ids: [] as string[], endCursor: null as string | null, hasNextPage: false };
    commitLocalUpdate(env, (store) => {
      const orders = ConnectionHandler.getConnection(store.get(customerId)!, 'storefrontOrders_orders')!;
      const pageInfo = orders.getLinkedRecord('pageInfo')!;
      read = {
        ids: orders.getLinkedRecords('edges')!.map((edge) => edge!.getLinkedRecord('node')!.getDataID()),
        endCursor: pageInfo.getValue('endCursor') as string,
        hasNextPage: pageInfo.getValue('hasNextPage') as boolean,
      };
    });
    return read;
  };
  const warnings = await relayWarnings(async () => {
    await fetchQuery(env, await artifact('storefrontMeQuery'), {}).toPromise();
    assert.deepEqual(connection().ids, orderIds.slice(0, 2));
    const pagination = await artifact('storefrontOrdersPaginationQuery');
    while (connection().hasNextPage) {
      await fetchQuery(env, pagination, { id: customerId, count: 2, cursor: connection().endCursor }).toPromise();
    }
    assert.deepEqual(connection().ids, orderIds, 'newest first, every order once, merged by Relay');
  });
  assert.deepEqual(warnings, []);
});

test('a Relay storefront refetches its address by node(id), and a deleted one leaves the store', async () => {
  const env = environment(bearer(token));
  const warnings = await relayWarnings(async () => {
    await fetchQuery(env, await artifact('storefrontMeQuery'), {}).toPromise();
    await t.prisma.address.update({ where: { id: addressIds[0] }, data: { city: 'Aalborg' } });
    const refetched = await fetchQuery(env, await artifact('storefrontAddressRefetchQuery'), {
      id: addressIds[0],
    }).toPromise();
    assert.ok((refetched as { node: unknown }).node);
    assert.equal(env.getStore().getSource().get(addressIds[0]!)?.city, 'Aalborg');

    const deleted = await new Promise<{ deleteMyAddress: { __typename: string; deletedId?: string } }>(
      (resolve, reject) =>
        artifact('storefrontDeleteAddressMutation').then((mutation) =>
          commitMutation(env, {
            mutation: mutation as unknown as GraphQLTaggedNode,
            variables: { id: addressIds[1] },
            onCompleted: (response) => resolve(response as never),
            onError: reject,
          }),
        ),
    );
    assert.equal(deleted.deleteMyAddress.__typename, 'DeletedPayload');
    assert.equal(deleted.deleteMyAddress.deletedId, addressIds[1]);
    assert.equal(env.getStore().getSource().get(addressIds[1]!), null, '@deleteRecord removed it');
    // The surviving address's record kept its own type.
    commitLocalUpdate(env, (store) => {
      assert.equal(store.get(addressIds[0]!)?.getType(), 'Address');
      const me = store.get(customerId)!;
      assert.equal(
        ConnectionHandler.getConnection(me, 'storefrontOrders_orders')?.getType(),
        'CustomerOrdersConnection',
      );
    });
  });
  assert.deepEqual(warnings, []);
});

test('node(id) of another customer’s row answers as an unknown ID would, for Relay too', async () => {
  const other = await t.gql(
    `mutation { register(input: { email: "relay-other@example.com", password: "password-1" }) { ... on Session { accessToken } } }`,
    {},
    ANONYMOUS,
  );
  const env = environment(bearer(other.data!.register.accessToken));
  const refetch = await artifact('storefrontAddressRefetchQuery');
  const theirs = await fetchQuery(env, refetch, { id: addressIds[0] }).toPromise();
  const unknown = await fetchQuery(env, refetch, { id: 'cuaddr_0000000000000000000000000Z' }).toPromise();
  assert.deepEqual(theirs, { node: null });
  assert.deepEqual(unknown, { node: null });
});
