import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadEnv } from '../src/env.js';
import { DEFAULT_SETTINGS, settingsFromEnv } from '../src/yoga.js';
import { ADMIN, ANONYMOUS, bearer, createTestApp, DATABASE_KIND } from './helpers.js';

// JSON input (metadata, federation representations) is bounded in depth before anything reads it
// deeply: graphql-scalars' JSONObject parses a value by recursion, so a value nested deep enough
// overflowed the stack into "Unexpected error.". Refused as BAD_USER_INPUT naming where it is.

const t = await createTestApp({ settings: { registrationsPerClientPerHour: 1000 } });

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { __typename ... on Error { code } } }`;
const UPDATE_ME = `mutation($input: UpdateMeInput!) { updateMe(input: $input) { __typename ... on Error { code } } }`;

let n = 0;
const email = () => `deep${++n}@example.com`;

// JSON text written by hand: JSON.stringify itself recurses, and overflows on these values.
const RAW = Symbol('raw JSON');
type Raw = { [RAW]: string };
const raw = (text: string): Raw => ({ [RAW]: text });

/** An object `levels` deep: `{"a":{"a":…{}}}`. */
const nestedObjects = (levels: number) => raw(`${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`);

/** An object holding arrays, `levels` deep in all: `{"a":[[…[]…]]}`. */
const nestedArrays = (levels: number) => raw(`{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`);

/** JSON.stringify, but a `raw` value goes in as its text. */
function toJson(value: unknown): string {
  if (value && typeof value === 'object' && RAW in value) return (value as Raw)[RAW];
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

async function send(query: string, variables: Record<string, unknown> | undefined, headers: Record<string, string>) {
  const body = `{"query":${JSON.stringify(query)}${variables ? `,"variables":${toJson(variables)}` : ''}}`;
  const response = await t.app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });
  return {
    status: response.status,
    bodyBytes: body.length,
    ...((await response.json()) as {
      data?: { updateMe: { __typename: string } } | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    }),
  };
}

function assertRefused(
  r: { status: number; data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  argumentName: string,
) {
  assert.ok(r.errors?.length, `refused: ${JSON.stringify(r).slice(0, 300)}`);
  assert.deepEqual(
    r.errors.map((e) => [e.extensions?.code, e.extensions?.argumentName]),
    [['BAD_USER_INPUT', argumentName]],
    JSON.stringify(r.errors).slice(0, 500),
  );
  assert.match(
    r.errors[0]!.message,
    new RegExp(`"${argumentName.replace(/[$[\]]/g, '\\$&')}".*nested more than 32 levels`),
  );
}

async function session(): Promise<Record<string, string>> {
  const r = await t.gql(
    `mutation($input: RegisterInput!) { register(input: $input) { ... on Session { accessToken } } }`,
    { input: { email: email(), password: 'password-1' } },
    ANONYMOUS,
  );
  return bearer(r.data!.register.accessToken);
}

describe(`${DATABASE_KIND}: deeply nested JSON input`, () => {
  test('anonymous register with metadata 49,000 arrays deep (under 100 KB): BAD_USER_INPUT at $input.metadata', async () => {
    const input = { email: email(), password: 'password-1', metadata: nestedArrays(49_000) };
    const r = await send(REGISTER, { input }, ANONYMOUS);
    assert.ok(r.bodyBytes < 100_000, `${r.bodyBytes} bytes`);
    assertRefused(r, '$input.metadata');
    assert.equal(await t.prisma.customer.count({ where: { email: input.email } }), 0);
  });

  test("a customer's updateMe with metadata 16,000 objects deep: BAD_USER_INPUT at $input.metadata", async () => {
    const headers = await session();
    const r = await send(UPDATE_ME, { input: { metadata: nestedObjects(16_000) } }, headers);
    assert.ok(r.bodyBytes < 100_000, `${r.bodyBytes} bytes`);
    assertRefused(r, '$input.metadata');
  });

  test('the limit is 32 levels: 32 are stored, 33 refused', async () => {
    const headers = await session();
    const ok = await send(UPDATE_ME, { input: { metadata: nestedObjects(32) } }, headers);
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    assert.equal(ok.data!.updateMe.__typename, 'CustomerPayload');
    assertRefused(await send(UPDATE_ME, { input: { metadata: nestedObjects(33) } }, headers), '$input.metadata');
    assertRefused(await send(UPDATE_ME, { input: { metadata: nestedArrays(33) } }, headers), '$input.metadata');
    // The refusal is not cached with the document: the same document with other variables runs.
    const again = await send(UPDATE_ME, { input: { metadata: nestedObjects(2) } }, headers);
    assert.equal(again.data?.updateMe?.__typename, 'CustomerPayload', JSON.stringify(again.errors));
  });

  test("an admin's read with an undeclared variable 20,000 deep: BAD_USER_INPUT at $junk, not an internal error", async () => {
    const r = await send(`query { customers(first: 1) { totalCount } }`, { junk: nestedArrays(20_000) }, ADMIN);
    assertRefused(r, '$junk');
  });

  test('an admin batch names the item: $input[1].metadata', async () => {
    const r = await send(
      `mutation($input: [CreateCustomerInput!]!) { createCustomers(input: $input) { __typename } }`,
      {
        input: [
          { email: email(), metadata: { a: 1 } },
          { email: email(), metadata: nestedObjects(5_000) },
        ],
      },
      ADMIN,
    );
    assertRefused(r, '$input[1].metadata');
  });

  test('a literal in the document: BAD_USER_INPUT at input.metadata', async () => {
    const headers = await session();
    const literal = (levels: number) => `${'{a: '.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
    const r = await t.gql(
      `mutation { updateMe(input: { metadata: ${literal(40)} }) { __typename } }`,
      undefined,
      headers,
    );
    assertRefused(r, 'input.metadata');
    const ok = await t.gql(
      `mutation { updateMe(input: { metadata: ${literal(32)} }) { __typename } }`,
      undefined,
      headers,
    );
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
  });

  test('federation representations are JSON too: BAD_USER_INPUT at $r[0]', async () => {
    const r = await send(
      `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
      {
        r: [{ __typename: 'Customer', id: 'cus_01', extra: nestedArrays(20_000) }],
      },
      ADMIN,
    );
    assertRefused(r, '$r[0]');
  });
});

test('MAX_JSON_DEPTH is a setting: default 32 in env.ts, AppSettings and .env.example', () => {
  assert.equal(settingsFromEnv(loadEnv({})).maxJsonDepth, 32);
  assert.equal(DEFAULT_SETTINGS.maxJsonDepth, 32);
  assert.match(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'), /^MAX_JSON_DEPTH=32$/m);
  assert.equal(settingsFromEnv(loadEnv({ MAX_JSON_DEPTH: '8' })).maxJsonDepth, 8);
});
