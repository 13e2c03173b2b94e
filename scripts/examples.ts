// `npm run examples`: the README's storefront and admin walk-throughs, run against a server with
// the operations of examples/operations/*.graphql as a client would send them. Against `npm start`:
//   ADMIN_KEY=<the key it printed> npm run examples [-- http://127.0.0.1:4000/graphql]
// (the verification token comes from `npm run mailbox`'s file). test/clients.test.ts runs the same
// flows against the app in-process, so the examples stay true.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print } from 'graphql';
import { loadEnv } from '../src/env.js';

const OPERATIONS = fileURLToPath(new URL('../examples/operations/', import.meta.url));

/** Each named operation of the examples, as its own document. */
export function exampleOperations(): Map<string, string> {
  const operations = new Map<string, string>();
  for (const file of readdirSync(OPERATIONS).filter((name) => name.endsWith('.graphql'))) {
    for (const definition of parse(readFileSync(OPERATIONS + file, 'utf8')).definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION && definition.name)
        operations.set(definition.name.value, print(definition));
    }
  }
  return operations;
}

export type Post = (body: string, headers: Record<string, string>) => Promise<Response>;
// biome-ignore lint/suspicious/noExplicitAny: read as a client without generated types reads JSON
type Data = Record<string, any>;

function client(post: Post) {
  const operations = exampleOperations();
  return async (name: string, variables: Record<string, unknown>, token?: string): Promise<Data> => {
    const query = operations.get(name);
    if (!query) throw new Error(`no example operation ${name}`);
    const response = await post(JSON.stringify({ query, variables, operationName: name }), {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    const body = (await response.json()) as { data?: Data; errors?: unknown[] };
    if (body.errors) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
    return body.data!;
  };
}

/** Register → verify the email → add an address → the account page. Returns what the page showed. */
export async function storefrontFlow(post: Post, email: string, readToken: (email: string) => Promise<string>) {
  const send = client(post);
  const { register } = await send('Register', { input: { email, password: 'a-long-password-1', firstName: 'Ada' } });
  if (register.__typename !== 'Session') throw new Error(`Register: ${JSON.stringify(register)}`);
  const session = register.accessToken as string;
  const { verifyEmail } = await send('VerifyEmail', { token: await readToken(email) });
  if (verifyEmail.__typename !== 'CustomerPayload') throw new Error(`VerifyEmail: ${JSON.stringify(verifyEmail)}`);
  const { addMyAddress } = await send(
    'AddAddress',
    { input: { city: 'Aarhus', countryCode: 'dk', isDefaultShipping: true } },
    session,
  );
  if (addMyAddress.__typename !== 'AddressPayload') throw new Error(`AddAddress: ${JSON.stringify(addMyAddress)}`);
  const { me } = await send('AccountPage', {}, session);
  return { customerId: register.customer.id as string, verifiedAt: verifyEmail.customer.emailVerifiedAt, me };
}

/** Search → page through the results → put them all in a new group at once. */
export async function adminFlow(post: Post, adminKey: string, q: string, groupName: string) {
  const send = client(post);
  const ids: string[] = [];
  let after: string | null = null;
  let count: { count: number; precision: string } | undefined;
  do {
    const { customers }: Data = await send('SearchCustomers', { q, first: 2, after }, adminKey);
    count ??= customers.count;
    ids.push(...customers.edges.map((edge: { node: { id: string } }) => edge.node.id));
    after = customers.pageInfo.hasNextPage ? customers.pageInfo.endCursor : null;
  } while (after);
  const { createCustomerGroups } = await send('CreateGroup', { name: groupName }, adminKey);
  const groupId = createCustomerGroups.customerGroups[0].id as string;
  const { addCustomersToGroup } = await send('AddToGroup', { groupId, customerIds: ids }, adminKey);
  return { found: ids, count, members: addCustomersToGroup.customerGroup.customers.totalCount as number };
}

/** The newest token mailed to `email`, from the development mailbox (waits for the outbox worker). */
async function mailedToken(email: string): Promise<string> {
  const file = loadEnv().MAILBOX_FILE;
  for (let waited = 0; waited < 10_000; waited += 250) {
    const mail = existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { payload: { email?: string; token: string } })
          .filter((entry) => entry.payload.email === email)
      : [];
    if (mail.length) return mail.at(-1)!.payload.token;
    await sleep(250);
  }
  throw new Error(`no mail for ${email} in ${file}: is the server running in development, with the log sink?`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const url = process.argv[2] ?? 'http://127.0.0.1:4000/graphql';
  const adminKey = process.env.ADMIN_KEY;
  if (!adminKey) throw new Error('Set ADMIN_KEY to the admin key `npm start` printed.');
  const post: Post = (body, headers) => fetch(url, { method: 'POST', body, headers });
  const email = `example-${Date.now()}@example.com`;
  const storefront = await storefrontFlow(post, email, mailedToken);
  console.log('storefront:', JSON.stringify(storefront, null, 2));
  const admin = await adminFlow(post, adminKey, 'example-', `Examples ${Date.now()}`);
  console.log('admin:', JSON.stringify(admin, null, 2));
}
