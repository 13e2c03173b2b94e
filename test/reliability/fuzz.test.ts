// 5. Property-based fuzzing of every mutation's input, generated from schema.graphql: typed values
// with hostile strings, wrong types in any position, invalid IDs, deep metadata; and raw bodies.
// No input may produce a 5xx, an unmasked error (stack, SQL, Prisma), a masked "Unexpected error."
// or, when the mutation fails, any change to the customer tables.
// Then whole documents: hostile strings written as GraphQL literals in every escape form (the NUL
// that a raw-text check missed came in as `\u{0}`), block strings, edge dates, variable defaults;
// and cursors, forged and real, in every connection a caller can page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import {
  ADMIN,
  ANONYMOUS,
  addToGroup,
  bearer,
  createTestApp,
  makeAddress,
  makeCustomer,
  makeGroup,
  makeOrder,
  type TestApp,
} from '../helpers.js';
import { SHORT } from './support.js';

const RUNS_PER_MUTATION = Number(process.env.FUZZ_RUNS ?? (SHORT ? 25 : 250));
const RAW_BODY_RUNS = SHORT ? 100 : 500;
const schema: GraphQLSchema = buildSchema(readFileSync('schema.graphql', 'utf8'));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---- values ----

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const hostileStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\t\n\r',
  '\u202Eevil',
  '\uFEFF',
  '\uD800',
  'Zalgo\u0301\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦',
  "'; DROP TABLE customer; --",
  '" OR 1=1 --',
  '%',
  '_',
  '\\',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: literal text, a Log4Shell lookup probe, not a template
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'a'.repeat(73),
  'é'.repeat(37),
  '😀'.repeat(19),
  'a'.repeat(72),
  'x'.repeat(256),
  'y'.repeat(100_001),
  'Mixed.Case@Example.COM',
  'no-at-sign',
  '@',
  'a@b',
  `${'l'.repeat(300)}@example.com`,
  'NaN',
  'null',
  'true',
  '-1',
  '1e309',
];
const stringArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.constantFrom(...hostileStrings), weight: 4 },
  { arbitrary: fc.emailAddress(), weight: 3 },
  { arbitrary: fc.integer({ min: 1_000, max: 120_000 }).map((n) => 'h'.repeat(n)), weight: 1 },
  // Passwords right at bcrypt's 72-byte limit, in multi-byte characters.
  {
    arbitrary: fc
      .string({ unit: 'grapheme', minLength: 18, maxLength: 40 })
      .filter((s) => utf8Bytes(s) >= 70 && utf8Bytes(s) <= 76),
    weight: 1,
  },
);

/** Deep JSON: an object nested `depth` levels, with a hostile leaf. */
const deepObject = fc.tuple(fc.integer({ min: 1, max: 2_000 }), stringArb).map(([depth, leaf]) => {
  let value: Json = leaf;
  for (let i = 0; i < depth; i++) value = { [`k${i % 3}`]: value };
  return value;
});
const jsonObjectArb: fc.Arbitrary<Json> = fc.oneof(
  fc.dictionary(stringArb, fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>, { maxKeys: 6 }),
  deepObject,
  fc.constantFrom<Json>(
    { __proto__: { admin: true } } as Json,
    { constructor: { prototype: {} } },
    { '': null, '\u0000': '\u0000' },
  ),
);
/** Anything JSON can hold, for a value of the wrong type in any position. */
const wrongTypeArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53, -(2 ** 31) - 1, 1e308),
  stringArb,
  fc.array(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxLength: 3 }),
  fc.object({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** RFC 3339 date-times as DateTime accepts them (four-digit years, offsets), edge years favoured: 0000, 0001, 9999. */
const dateTimeArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.constantFrom(0, 1, 1969, 1970, 2038, 9999), fc.integer({ min: 0, max: 9999 })),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 31 }),
    fc.integer({ min: 0, max: 23 }),
    fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 60 }),
    fc.oneof(
      fc.constant(''),
      fc.integer({ min: 0, max: 999_999_999 }).map((n) => `.${n}`),
    ),
    fc.oneof(
      fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+23:59', '-23:59'),
      fc
        .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`),
    ),
  )
  .map(
    ([y, mo, d, h, mi, se, frac, off]) =>
      `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(se)}${frac}${off}`,
  );

function idArb(realIds: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...realIds), weight: 5 },
    {
      arbitrary: fc.constantFrom(
        'cus_',
        'cus_01ARZ3NDEKTSV4RRFFQ69G5FAV',
        'cusgroup_0',
        'order_1',
        'cuaddr_x!',
        'nope_1',
        '_',
        `cus_${'Z'.repeat(65)}`,
      ),
      weight: 2,
    },
    { arbitrary: stringArb, weight: 2 },
    { arbitrary: fc.constantFrom(...realIds).map((id) => id.toUpperCase()), weight: 1 },
  );
}

/** A value for a GraphQL input type: mostly of that type, sometimes of the wrong one. */
function valueArb(type: GraphQLInputType, ids: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<Json | undefined> {
  const typed = typedArb(type, ids, depth);
  return fc.oneof({ arbitrary: typed, weight: 15 }, { arbitrary: wrongTypeArb, weight: 1 });
}

/** A short valid-looking value of the list's item type, so a 5,001-item list stays a small body. */
function smallArb(type: GraphQLInputType, ids: fc.Arbitrary<string>): fc.Arbitrary<Json> {
  const item = getNamedType(type);
  if (item.name === 'ID') return ids;
  if (isInputObjectType(item)) {
    const fields = Object.values(item.getFields()).filter((f) => isNonNullType(f.type));
    return fc.record(
      Object.fromEntries(fields.map((f) => [f.name, getNamedType(f.type).name === 'ID' ? ids : fc.emailAddress()])),
    );
  }
  return fc.string({ maxLength: 8 });
}

function typedArb(type: GraphQLInputType, ids: fc.Arbitrary<string>, depth: number): fc.Arbitrary<Json | undefined> {
  if (isNonNullType(type)) return typedArb(type.ofType, ids, depth);
  if (isListType(type)) {
    return fc.oneof(
      { arbitrary: fc.array(valueArb(type.ofType, ids, depth + 1), { maxLength: 6 }), weight: 6 },
      // Long lists of one small value: batch limits, duplicates.
      // (Elements kept small: 5,001 copies of a 120k-character string would not even fit in a JS string.)
      {
        arbitrary: fc
          .tuple(
            smallArb(type.ofType, ids).filter((v) => JSON.stringify(v ?? null).length <= 64),
            fc.constantFrom(100, 5_001),
          )
          .map(([v, n]) => Array.from({ length: n }, () => v)),
        weight: 1,
      },
    ) as fc.Arbitrary<Json>;
  }
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(type.getFields());
    const record: Record<string, fc.Arbitrary<Json | undefined>> = {};
    for (const f of fields) record[f.name] = valueArb(f.type, ids, depth + 1);
    const required = fields.filter((f) => isNonNullType(f.type)).map((f) => f.name);
    return fc.record(record, { requiredKeys: required }) as fc.Arbitrary<Json>;
  }
  if (isEnumType(type)) return fc.oneof(fc.constantFrom(...type.getValues().map((v) => v.name)), stringArb);
  switch (type.name) {
    case 'ID':
      return ids;
    case 'Boolean':
      return fc.boolean();
    case 'Int':
      return fc.oneof(fc.integer({ min: -5, max: 200 }), fc.integer());
    case 'DateTime':
      return fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        dateTimeArb,
        stringArb,
      );
    case 'JSONObject':
      return jsonObjectArb;
    default:
      return stringArb;
  }
}

// ---- operations ----

type Auth = 'admin' | 'customer' | 'anonymous';
const authOf = (name: string): Auth =>
  /My|Me$|^logout$/.test(name)
    ? 'customer'
    : /^(register|login|generatePasswordToken|resetPassword)$/.test(name)
      ? 'anonymous'
      : 'admin';

function documentFor(field: GraphQLField<unknown, unknown>): string {
  const vars = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const result = getNamedType(field.type);
  const hasErrors =
    isAbstractType(result) &&
    schema.getPossibleTypes(result).some((t) => t.getInterfaces().some((i) => i.name === 'Error'));
  const selection = hasErrors ? '__typename ... on Error { code message field }' : '__typename';
  assert.ok(isAbstractType(result) || isObjectType(result));
  return `mutation Fuzz${vars ? `(${vars})` : ''} { result: ${field.name}${args ? `(${args})` : ''} { ${selection} } }`;
}

// ---- checks ----

// `syntax error at`: PostgreSQL's ("at or near", "at end of input"); GraphQL's own "Syntax Error:" is a typed 400.
const LEAK =
  /prisma|stack|\bselect\b.+\bfrom\b|insert into|violates|constraint|relation "|syntax error at|\.ts:\d+|node_modules|invalid byte sequence|ECONN/i;

interface Finding {
  mutation: string;
  problem: string;
  input: string;
}

async function snapshot(t: TestApp): Promise<string> {
  const parts = ['customer', 'customer_address', 'customer_group', 'customer_group_customer'].map(
    (table) =>
      `(SELECT count(*) || '/' || count(deleted_at) || '/' || coalesce(max(updated_at)::text, '') FROM ${table})`,
  );
  const rows = await t.prisma.$queryRawUnsafe<{ s: string }[]>(`SELECT ${parts.join(` || ' ' || `)} AS s`);
  return rows[0]!.s;
}

interface Body {
  data?: { result?: { __typename?: string } } | null;
  errors?: { message?: string; extensions?: Record<string, unknown> }[];
}

async function send(t: TestApp, body: string, headers: Record<string, string>) {
  const response = await t.app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });
  const text = await response.text();
  let parsed: Body | null = null;
  try {
    parsed = JSON.parse(text) as Body;
  } catch {
    parsed = null;
  }
  return { status: response.status, text, body: parsed };
}

function problemsOf(reply: Awaited<ReturnType<typeof send>>): string[] {
  const problems: string[] = [];
  if (reply.status >= 500) problems.push(`HTTP ${reply.status}`);
  for (const e of reply.body?.errors ?? []) {
    const message = String(e.message ?? '');
    if (LEAK.test(message.slice(0, 2_000))) problems.push(`message: ${message.slice(0, 160)}`);
    if (/"stack(trace)?"|\bat .+:\d+:\d+/.test(JSON.stringify(e.extensions ?? {})))
      problems.push('error extensions carry a stack');
    if (e.extensions?.code === 'INTERNAL_SERVER_ERROR' || message === 'Unexpected error.')
      problems.push(`masked 500-class error: ${message.slice(0, 80)}`);
  }
  if (!reply.body && reply.status < 400) problems.push(`non-JSON ${reply.status}: ${reply.text.slice(0, 80)}`);
  return problems;
}

const failed = (reply: Awaited<ReturnType<typeof send>>) =>
  !reply.body?.data?.result ||
  (reply.body.errors?.length ?? 0) > 0 ||
  /Error$/.test(reply.body.data.result.__typename ?? '');

const shorten = (value: unknown) => {
  const text = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v,
  );
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
};

// ---- the test ----

test(`fuzzing every mutation (${RUNS_PER_MUTATION} runs each) and raw bodies (${RAW_BODY_RUNS}): no 5xx, no leaks, no partial writes`, {
  timeout: 30 * 60_000,
}, async () => {
  // Production settings: what the public endpoint runs with (masked errors without details).
  const t = await createTestApp({
    settings: {
      production: true,
      registrationsPerClientPerHour: 1_000_000,
      loginFailuresPerClient: 1_000_000,
      loginFailuresPerEmail: 1_000_000,
    },
  });
  const customers = await Promise.all(Array.from({ length: 6 }, () => makeCustomer(t.prisma)));
  const groups = await Promise.all(Array.from({ length: 3 }, () => makeGroup(t.prisma)));
  const addresses = await Promise.all(customers.map((c) => makeAddress(t.prisma, c.id)));
  await addToGroup(t.prisma, customers[0]!.id, groups[0]!.id);
  const ids = idArb([...customers, ...groups, ...addresses].map((r) => r.id));

  let n = 0;
  /** A customer of its own for each customer-scoped run: runs may change the email, password or sessions. */
  const customerHeaders = async () => {
    const r = await t.gql<{ register: { accessToken: string } }>(
      `mutation($i: RegisterInput!) { register(input: $i) { ... on Session { accessToken } } }`,
      { i: { email: `fuzz-${n++}@example.com`, password: 'fuzz-password-1' } },
      ANONYMOUS,
    );
    const token = r.data?.register.accessToken;
    assert.ok(token, JSON.stringify(r));
    const own = await t.gql<{ addMyAddress: { address: { id: string } } }>(
      'mutation { addMyAddress(input: { city: "Aarhus" }) { ... on AddressPayload { address { id } } } }',
      {},
      bearer(token),
    );
    return { headers: bearer(token), ownAddress: own.data?.addMyAddress.address.id };
  };

  const findings: Finding[] = [];
  const counts: Record<string, number> = {};
  const timings: Record<string, number> = {};
  for (const field of Object.values(schema.getMutationType()!.getFields())) {
    const fieldStarted = Date.now();
    const document = documentFor(field);
    const auth = authOf(field.name);
    const record: Record<string, fc.Arbitrary<Json | undefined>> = {};
    for (const a of field.args) record[a.name] = valueArb(a.type, ids);
    const variablesArb = fc.oneof(
      { arbitrary: fc.record(record, { requiredKeys: [] }), weight: 20 },
      { arbitrary: wrongTypeArb, weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(variablesArb, fc.boolean(), async (generated, useOwnAddress) => {
        // A failure of the harness itself is a finding with its input, not a thrown property:
        // fast-check would shrink (and print) inputs of megabytes.
        try {
          let variables: Json | undefined = generated as Json;
          let headers: Record<string, string> = auth === 'admin' ? ADMIN : ANONYMOUS;
          if (auth === 'customer') {
            const customer = await customerHeaders();
            headers = customer.headers;
            if (
              useOwnAddress &&
              variables &&
              typeof variables === 'object' &&
              !Array.isArray(variables) &&
              'id' in variables
            ) {
              variables = { ...variables, id: customer.ownAddress ?? null };
            }
          }
          const before = await snapshot(t);
          const reply = await send(t, JSON.stringify({ query: document, variables }), headers);
          const problems = problemsOf(reply);
          if (failed(reply) && (await snapshot(t)) !== before)
            problems.push(
              `failed (${reply.body?.data?.result?.__typename ?? reply.body?.errors?.[0]?.message?.slice(0, 60)}) but changed the tables`,
            );
          for (const problem of problems) findings.push({ mutation: field.name, problem, input: shorten(variables) });
        } catch (error) {
          findings.push({
            mutation: field.name,
            problem: `harness error: ${String(error).slice(0, 300)}`,
            input: shorten(generated as Json),
          });
        }
        counts[field.name] = (counts[field.name] ?? 0) + 1;
      }),
      { numRuns: RUNS_PER_MUTATION, endOnFailure: true },
    );
    timings[field.name] = Date.now() - fieldStarted;
  }

  // Raw bodies: malformed JSON, wrong shapes, variables of every kind against a real document.
  const rawBody = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    wrongTypeArb.map((variables) =>
      JSON.stringify({ query: documentFor(schema.getMutationType()!.getFields().createCustomers!), variables }),
    ),
    fc.constantFrom(
      '{"query": "mutation {',
      '{"query": 1}',
      '{"query": "{ __typename }", "variables": "x"}',
      '[{"query":"{__typename}"}]',
      '{"query":"mutation { logout { __typename } }","extensions":{"persistedQuery":{"sha256Hash":"x"}}}',
    ),
  );
  await fc.assert(
    fc.asyncProperty(rawBody, async (body) => {
      const reply = await send(t, body, ADMIN);
      for (const problem of problemsOf(reply)) findings.push({ mutation: '(raw body)', problem, input: shorten(body) });
      counts['(raw body)'] = (counts['(raw body)'] ?? 0) + 1;
    }),
    { numRuns: RAW_BODY_RUNS, endOnFailure: true },
  );

  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const distinct = new Map<string, Finding & { times: number }>();
  for (const f of findings) {
    const key = `${f.mutation}: ${f.problem.replace(/\d+/g, 'N')}`;
    const seen = distinct.get(key);
    if (seen) seen.times++;
    else distinct.set(key, { ...f, times: 1 });
  }
  console.log(
    JSON.stringify({
      totalRuns: total,
      mutations: Object.keys(counts).length - 1,
      findings: findings.length,
      msPerMutation: timings,
    }),
  );
  for (const f of distinct.values())
    console.log(`FINDING x${f.times} ${f.mutation}: ${f.problem}\n    input: ${f.input}`);
  assert.equal(findings.length, 0, `${findings.length} findings in ${total} runs (listed above)`);
});

// ---- documents: string literals in every escape form ----

const DOCUMENT_RUNS = Number(process.env.FUZZ_DOCUMENT_RUNS ?? (SHORT ? 40 : 400));
const CURSOR_RUNS = Number(process.env.FUZZ_CURSOR_RUNS ?? (SHORT ? 60 : 600));

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const fixedWidth = (unit: number, upper: boolean) => `\\u${upper ? hex(unit, 4).toUpperCase() : hex(unit, 4)}`;

/** One character as the GraphQL lexer may read it: raw, `\uXXXX` (a surrogate pair beyond the BMP), `\u{…}` zero-padded or not, or a short escape. */
function encodeChar(char: string, form: number, padding: number): string {
  const cp = char.codePointAt(0)!;
  const rawAllowed = (cp >= 0x20 || cp === 0x09) && char !== '"' && char !== '\\';
  switch (form) {
    case 0:
    case 1:
    case 2:
      // Form 0 writes the character raw where the lexer allows it, else as form 1 does.
      if (form === 0 && rawAllowed) return char;
      return char.length === 2
        ? fixedWidth(char.charCodeAt(0), form === 2) + fixedWidth(char.charCodeAt(1), form === 2)
        : fixedWidth(cp, form === 2);
    case 3:
      return `\\u{${'0'.repeat(padding)}${hex(cp, 1)}}`;
    default:
      return SHORT_ESCAPES[char] ?? `\\u{${hex(cp, 1)}}`;
  }
}

/** Malformed escapes and stray characters: syntax errors, which must stay 400s. */
const brokenEscapes = [
  '\\u{110000}',
  '\\u{}',
  '\\uZZZZ',
  '\\x00',
  '\\u{0',
  '\\uD800',
  '\\u{D800}',
  '\\',
  '\n',
  '\u0000',
  '\\u{0000000000000}',
];

/** A GraphQL string literal (or block string) for a hostile string, each character in a form of its own. */
const literalArb: fc.Arbitrary<string> = fc
  .oneof(
    stringArb.filter((s) => s.length <= 2_000),
    fc.constantFrom('\u0000', 'a\u0000', '\u0000\u0000', 'é\u0000😀', 'x'),
  )
  .chain((text) => {
    const chars = [...text];
    return fc.oneof(
      {
        arbitrary: fc
          .array(fc.tuple(fc.nat(4), fc.nat(4)), { minLength: chars.length, maxLength: chars.length })
          .map((forms) => `"${chars.map((c, i) => encodeChar(c, forms[i]![0], forms[i]![1])).join('')}"`),
        weight: 8,
      },
      // Block strings take no escapes (but \""") and may hold raw line breaks and quotes.
      { arbitrary: fc.constant(`"""${text.replace(/"""/g, '\\"""')}"""`), weight: 2 },
      {
        arbitrary: fc
          .tuple(fc.nat(chars.length), fc.constantFrom(...brokenEscapes))
          .map(
            ([at, broken]) =>
              `"${[...chars.slice(0, at), broken, ...chars.slice(at)].map((c) => (c === broken ? c : encodeChar(c, 1, 0))).join('')}"`,
          ),
        weight: 1,
      },
    );
  });

interface Template {
  name: string;
  auth: Auth;
  /** The document with `literals` generated string literals in it (or one using variables). */
  document: (literals: string[]) => string;
  literals: number;
  variables?: fc.Arbitrary<Json>;
  /** With `variables`: write the generated values into the document instead of sending them. */
  literalDocument?: (values: Record<string, string>) => string;
}

const TEMPLATES: Template[] = [
  {
    name: 'login',
    auth: 'anonymous',
    literals: 2,
    document: ([e, p]) => `mutation { result: login(email: ${e}, password: ${p}) { __typename } }`,
  },
  {
    name: 'generatePasswordToken',
    auth: 'anonymous',
    literals: 1,
    document: ([e]) => `mutation { result: generatePasswordToken(email: ${e}) { __typename } }`,
  },
  {
    name: 'customers(filter)',
    auth: 'admin',
    literals: 2,
    document: ([q, e]) => `{ result: customers(first: 5, filter: { q: ${q}, email: ${e} }) { totalCount } }`,
  },
  { name: 'customer(id)', auth: 'admin', literals: 1, document: ([id]) => `{ result: customer(id: ${id}) { id } }` },
  {
    name: 'orders(DateTime)',
    auth: 'admin',
    literals: 2,
    document: ([d, c]) => `{ result: orders(filter: { createdAt: { gt: ${d} }, currencyCode: ${c} }) { totalCount } }`,
  },
  {
    name: 'DateTime literals',
    auth: 'admin',
    literals: 0,
    document: () => '',
    variables: fc.tuple(dateTimeArb, dateTimeArb).map(([a, b]) => ({ a, b })),
    literalDocument: ({ a, b }) =>
      `{ result: customers(filter: { createdAt: { gt: ${JSON.stringify(a)}, lte: ${JSON.stringify(b)} } }) { totalCount } }`,
  },
  {
    name: 'createCustomers',
    auth: 'admin',
    literals: 3,
    document: ([e, f, m]) =>
      `mutation { result: createCustomers(input: [{ email: ${e}, firstName: ${f}, metadata: { note: ${m}, list: [${m}] } }]) { __typename ... on Error { code } } }`,
  },
  {
    name: 'updateMe',
    auth: 'customer',
    literals: 2,
    document: ([f, m]) =>
      `mutation { result: updateMe(input: { firstName: ${f}, metadata: { note: ${m} } }) { __typename ... on Error { code } } }`,
  },
  {
    name: 'variable default',
    auth: 'admin',
    literals: 1,
    document: ([q]) => `query($q: String = ${q}) { result: customers(filter: { q: $q }) { totalCount } }`,
  },
  {
    name: 'variables',
    auth: 'admin',
    literals: 0,
    document: () =>
      `query($q: String, $e: String, $d: DateTime, $ids: [ID!]) { result: customers(filter: { q: $q, email: $e, createdAt: { lt: $d }, groupIds: $ids }) { totalCount } }`,
    variables: fc.record(
      {
        q: fc.oneof(stringArb, wrongTypeArb),
        e: stringArb,
        d: fc.oneof(dateTimeArb, stringArb, wrongTypeArb),
        ids: fc.oneof(fc.array(stringArb, { maxLength: 3 }), wrongTypeArb),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Json>,
  },
];

// ---- cursors ----

const CURSOR_PREFIXES = ['GPC:', 'GPC:S:', 'GPC:N:', 'GPC:D:', 'GPC:J:', 'GPC:B:', 'GPC:X:', 'gpc:S:', ''];
const base64 = (s: string, url: boolean) => Buffer.from(s, 'utf8').toString(url ? 'base64url' : 'base64');

function cursorArb(realIds: string[], realCursors: string[]): fc.Arbitrary<string> {
  const payload = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.constantFrom(...realIds),
    fc.integer().map(String),
    fc.constantFrom(
      'NaN',
      '1e309',
      '-0',
      '',
      '9'.repeat(40),
      '2026-13-45T00:00:00Z',
      '[]',
      '{"id":{"gt":""}}',
      '["cus_1",null]',
    ),
    fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid Date' : d.toISOString())),
  );
  return fc.oneof(
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...CURSOR_PREFIXES), payload, fc.boolean())
        .map(([prefix, p, url]) => base64(prefix + p, url)),
      weight: 6,
    },
    { arbitrary: fc.constantFrom(...realCursors), weight: 2 },
    // Our own shape, base64url of [version, connection, order, sort value, id], with any of them off.
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom<Json>(1, 2, 0, '1', null),
          fc.constantFrom<Json>('customers', 'Customer.orders', 'CustomerGroup.customers', 'orders', ''),
          fc.constantFrom<Json>('createdAt:desc', 'id:asc', 'email:asc', 'createdAt:asc'),
          fc.oneof(
            fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>,
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
          fc.oneof(fc.constantFrom<Json>(...realIds), fc.string({ maxLength: 30 }) as fc.Arbitrary<Json>),
        )
        .chain((parts) =>
          fc
            .tuple(fc.boolean(), fc.subarray(parts, { minLength: 3 }))
            .map(([whole, kept]) => base64(JSON.stringify(whole ? parts : kept), true)),
        ),
      weight: 4,
    },
    // A real cursor with one character changed, or cut short.
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...realCursors), fc.nat(), fc.constantFrom('A', '/', '+', '=', '-', '_', '!'))
        .map(([c, at, ch]) => c.slice(0, at % c.length) + ch + c.slice((at % c.length) + 1)),
      weight: 2,
    },
    {
      arbitrary: fc.tuple(fc.constantFrom(...realCursors), fc.nat()).map(([c, at]) => c.slice(0, at % c.length)),
      weight: 1,
    },
    { arbitrary: fc.base64String({ maxLength: 80 }), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64')), weight: 2 },
    { arbitrary: stringArb, weight: 2 },
  );
}

/** A connection's page arguments: mostly one cursor, sometimes both, with or without first/last. */
function pageArb(cursors: fc.Arbitrary<string>): fc.Arbitrary<Record<string, Json>> {
  const size = fc.option(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 100, 101, 2 ** 31 - 1)), {
    nil: undefined,
  });
  return fc.record(
    {
      after: fc.option(cursors, { nil: undefined }),
      before: fc.option(cursors, { nil: undefined }),
      first: size,
      last: size,
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, Json>>;
}

const PAGE_VARIABLES = '$after: String, $before: String, $first: Int, $last: Int';
const PAGE_ARGS = 'after: $after, before: $before, first: $first, last: $last';
const PAGE_SELECTION =
  '{ totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }';

interface CursorTarget {
  name: string;
  auth: Auth;
  document: (args: string) => string;
  variables: string;
}
const CURSOR_TARGETS: CursorTarget[] = [
  {
    name: 'customers',
    auth: 'admin',
    variables: '',
    document: (args) => `{ result: customers(${args}) ${PAGE_SELECTION} }`,
  },
  {
    name: 'me.orders',
    auth: 'customer',
    variables: '',
    document: (args) => `{ result: me { orders(${args}) ${PAGE_SELECTION} } }`,
  },
  {
    name: 'customerGroup.customers',
    auth: 'admin',
    variables: '$group: ID!',
    document: (args) => `{ result: customerGroup(id: $group) { customers(${args}) ${PAGE_SELECTION} } }`,
  },
];

/** The page arguments written into the document: cursors as escaped literals, sizes as numbers. */
function literalPageArgs(page: Record<string, Json>, encode: (s: string) => string): string {
  return Object.entries(page)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? encode(v) : JSON.stringify(v)}`)
    .join(', ');
}

test(`fuzzing documents (${DOCUMENT_RUNS} runs per form: literals in every escape form, block strings, variables) and cursors (${CURSOR_RUNS} runs per connection): no 5xx, no leaks, no writes`, {
  timeout: 30 * 60_000,
}, async (tc) => {
  const t = await createTestApp({
    settings: {
      production: true,
      loginFailuresPerClient: 1_000_000,
      loginFailuresPerEmail: 1_000_000,
      registrationsPerClientPerHour: 1_000_000,
    },
  });
  const customers = await Promise.all(Array.from({ length: 6 }, () => makeCustomer(t.prisma)));
  const group = await makeGroup(t.prisma);
  for (const c of customers.slice(0, 4)) await addToGroup(t.prisma, c.id, group.id);
  const session = await t.gql<{ register: { accessToken: string; customer: { id: string } } }>(
    `mutation { register(input: { email: "fuzz-documents@example.com", password: "fuzz-password-1" }) { ... on Session { accessToken customer { id } } } }`,
    {},
    ANONYMOUS,
  );
  const token = session.data!.register.accessToken;
  const me = session.data!.register.customer.id;
  const orders: { id: string }[] = [];
  for (let i = 0; i < 4; i++) orders.push(await makeOrder(t.prisma, me));
  const headersFor = (auth: Auth) => (auth === 'admin' ? ADMIN : auth === 'customer' ? bearer(token) : ANONYMOUS);

  let findings: Finding[] = [];
  const record = (where: string, problems: string[], input: unknown) => {
    for (const problem of problems) findings.push({ mutation: where, problem, input: shorten(input) });
  };
  /** Lists each distinct finding once, then fails if there were any. */
  const report = (runs: number) => {
    const distinct = new Map<string, Finding & { times: number }>();
    for (const f of findings) {
      const key = `${f.mutation}: ${f.problem.replace(/\d+/g, 'N')}`;
      const seen = distinct.get(key);
      if (seen) seen.times++;
      else distinct.set(key, { ...f, times: 1 });
    }
    console.log(JSON.stringify({ runs, findings: findings.length }));
    for (const f of distinct.values())
      console.log(`FINDING x${f.times} ${f.mutation}: ${f.problem}\n    input: ${f.input}`);
    const count = findings.length;
    findings = [];
    assert.equal(count, 0, `${count} findings in ${runs} runs (listed above)`);
  };

  await tc.test('documents', async () => {
    for (const template of TEMPLATES) {
      const arb = template.variables
        ? template.variables.map((variables) =>
            template.literalDocument
              ? { document: template.literalDocument(variables as Record<string, string>), variables: {} as Json }
              : { document: template.document([]), variables },
          )
        : fc
            .array(literalArb, { minLength: template.literals, maxLength: template.literals })
            .map((literals) => ({ document: template.document(literals), variables: {} as Json }));
      await fc.assert(
        fc.asyncProperty(arb, async ({ document, variables }) => {
          try {
            const before = await snapshot(t);
            const reply = await send(t, JSON.stringify({ query: document, variables }), headersFor(template.auth));
            const problems = problemsOf(reply);
            if (failed(reply) && (await snapshot(t)) !== before) problems.push('failed but changed the tables');
            record(template.name, problems, { document, variables });
          } catch (error) {
            record(template.name, [`harness error: ${String(error).slice(0, 300)}`], document);
          }
        }),
        { numRuns: DOCUMENT_RUNS, endOnFailure: true },
      );
    }
    report(DOCUMENT_RUNS * TEMPLATES.length);
  });

  // Forged cursors (old `GPC:` ones, base64 of JSON of the wrong shape, real ones altered) are
  // BAD_USER_INPUT naming after/before, never a masked 500.
  await tc.test('cursors', async () => {
    const cursorsOf = async (query: string, headers: Record<string, string>, variables: Record<string, unknown> = {}) =>
      JSON.stringify((await t.gql(query, variables, headers)).data)
        .match(/"cursor":"[^"]+"/g)
        ?.map((c) => c.slice(10, -1)) ?? [];
    const realCursors = [
      ...(await cursorsOf(`{ customers(first: 3) { edges { cursor } } }`, ADMIN)),
      ...(await cursorsOf(`{ me { orders(first: 3) { edges { cursor } } } }`, bearer(token))),
      ...(await cursorsOf(
        `query($g: ID!) { customerGroup(id: $g) { customers(first: 3) { edges { cursor } } } }`,
        ADMIN,
        { g: group.id },
      )),
    ];
    assert.ok(realCursors.length >= 9, JSON.stringify(realCursors));
    const cursors = cursorArb([...customers.map((c) => c.id), ...orders.map((o) => o.id), group.id], realCursors);
    for (const target of CURSOR_TARGETS) {
      const variables = [PAGE_VARIABLES, target.variables].filter(Boolean).join(', ');
      const asVariables = `query Page(${variables}) ${target.document(PAGE_ARGS)}`;
      const fixed = target.variables ? { group: group.id } : {};
      await fc.assert(
        fc.asyncProperty(
          pageArb(cursors),
          fc.boolean(),
          fc.array(fc.tuple(fc.nat(4), fc.nat(4)), { minLength: 200, maxLength: 200 }),
          async (page, literal, forms) => {
            const encode = (s: string) =>
              `"${[...s].map((c, i) => encodeChar(c, forms[i % 200]![0], forms[i % 200]![1])).join('')}"`;
            const document = literal
              ? `query Page${target.variables ? `(${target.variables})` : ''} ${target.document(literalPageArgs(page, encode))}`
              : asVariables;
            const body = { query: document, variables: literal ? fixed : { ...page, ...fixed } };
            try {
              const before = await snapshot(t);
              const reply = await send(t, JSON.stringify(body), headersFor(target.auth));
              const problems = problemsOf(reply);
              if ((await snapshot(t)) !== before) problems.push('a query changed the tables');
              record(target.name, problems, body);
            } catch (error) {
              record(target.name, [`harness error: ${String(error).slice(0, 300)}`], body);
            }
          },
        ),
        { numRuns: CURSOR_RUNS, endOnFailure: true },
      );
    }
    report(CURSOR_RUNS * CURSOR_TARGETS.length);
  });
});
