import { existsSync } from 'node:fs';
import { z } from 'zod';
import { StartupError } from './startup-error.js';

// Every setting is declared here once: its name, type, default and description. `.env.example` and
// docs/settings.md's table are generated from these declarations (`npm run settings:print`), and
// CI fails when they have drifted (`npm run settings:check`).

// A boolean: true/1 or false/0; empty is false. The default is given as text, so that it is
// declared on the input side, where the generated files read it.
const flagText = z.enum(['true', 'false', '1', '0', '']);
const toBoolean = (v: z.infer<typeof flagText>) => v === 'true' || v === '1';
const flag = (fallback: boolean) => flagText.default(fallback ? 'true' : 'false').transform(toBoolean);
/** A boolean whose absence means something of its own (its description says what). */
const optionalFlag = flagText.transform(toBoolean).optional();

const server = {
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('`production`: masked errors, no GraphiQL or introspection, CSRF prevention.'),
  HOST: z
    .string()
    .default('127.0.0.1')
    .describe('Interface to listen on; `0.0.0.0` to accept connections from other machines.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000).describe('Port to listen on; `0` picks a free one.'),
  // Empty is unset: `DATABASE_URL=` in the environment picks the embedded database whatever .env says.
  DATABASE_URL: z
    .union([z.literal('').transform(() => undefined), z.string().url()])
    .optional()
    .describe(
      'A PostgreSQL server, e.g. `postgresql://user:pass@host:5432/db`. Unset or empty: the embedded PGlite database ' +
        '(`DATABASE_URL= npm start` overrides a URL in `.env`).',
    ),
  DATA_DIR: z
    .string()
    .default('.data/pglite')
    .describe('Folder of the embedded database (used only without `DATABASE_URL`).'),
  DB_POOL_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(10)
    .describe('Most PostgreSQL connections this process opens.'),
  DB_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(3_000)
    .describe('How long a query waits for a pooled connection before failing with 503 `SERVICE_UNAVAILABLE`.'),
  DB_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15_000)
    .describe('PostgreSQL `statement_timeout` for every connection (0 = none); a cancelled statement is a 503.'),
  METRICS: flag(true).describe('Prometheus metrics at `/metrics`.'),
  OTEL_TRACES: z
    .enum(['off', 'console'])
    .default('off')
    .describe('OpenTelemetry spans: `console` prints them to stdout.'),
  SEED_SAMPLE_DATA: optionalFlag.describe(
    'Load sample data into an empty database at start-up. Unset: true on the embedded database, false on PostgreSQL.',
  ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino level. Logs are JSON lines on stdout.'),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('How long SIGTERM waits for in-flight requests before closing their connections.'),
  SHUTDOWN_DRAIN_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1_000)
    .describe(
      'After SIGTERM, how long `/ready` answers 503 while requests are still served (so that a load balancer stops ' +
        'routing here) before the listener closes.',
    ),
};

const accounts = {
  ADMIN_API_KEYS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const keys = value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      return keys.map((entry) => {
        const at = entry.indexOf(':');
        if (at < 1 || entry.length - at - 1 < 24) {
          ctx.addIssue({ code: 'custom', message: 'each entry is name:key, with a key of at least 24 characters' });
        }
        return { name: entry.slice(0, at), key: entry.slice(at + 1) };
      });
    })
    .describe(
      'Admin API keys, comma-separated `name:key` pairs (keys of 24+ characters), sent as `Authorization: Bearer <key>`. ' +
        'Only their SHA-256 is kept in memory; the name is recorded as created_by on rows an admin creates. ' +
        'Empty outside production: `npm start` makes one for the run and prints it.',
    ),
  BCRYPT_COST: z.coerce
    .number()
    .int()
    .min(4)
    .max(15)
    .default(12)
    .describe('bcrypt work factor for customer passwords (about 180 ms per hash at 12 on a 2-core machine).'),
  BCRYPT_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(2)
    .describe('bcrypt operations allowed at once; the rest queue, so a login burst cannot starve other requests.'),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 30)
    .describe('How long a customer session (bearer token from register/login) lasts.'),
  EMAIL_VERIFICATION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24)
    .describe('How long an email-verification token (sent as `customer.email_verification_requested`) stays valid.'),
  SEND_VERIFICATION_ON_REGISTER: flag(true).describe('`register` sends the first verification token itself.'),
  REQUIRE_VERIFIED_EMAIL_FOR_LOGIN: flag(false).describe(
    '`login` refuses (`EmailNotVerifiedError`, after a correct password) until the email is verified.',
  ),
  CUSTOMER_TAGS_VISIBLE: flag(false).describe(
    'A signed-in customer may read their own `tags` (staff data: off, only admins read them).',
  ),
  MARKETING_CONFIRMED_OPT_IN: flag(false).describe(
    'Subscribing to email marketing is `PENDING` until the customer confirms with a token sent as `customer.marketing_confirmation_requested` (double opt-in).',
  ),
  MARKETING_CONFIRMATION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(72)
    .describe('How long a marketing confirmation token stays valid.'),
  MARKETING_UNSUBSCRIBE_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe(
      'Signs the unsubscribe tokens of marketing events (HMAC-SHA256), the same on every instance. Unset: a random secret per process, so links stop working on restart (set it in production).',
    ),
  INVITATION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 7)
    .describe('How long an invitation token (`customer.invited`) stays valid.'),
  PHONE_DEFAULT_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as US or DK')
    .default('US')
    .describe(
      'The region (ISO 3166-1 alpha-2) a phone number without a leading + is read in, for exact phone lookups (E.164).',
    ),
  TRUST_PROXY: flag(false).describe(
    'Take the client address from `X-Forwarded-For` (only behind a proxy you control).',
  ),
  LOGIN_FAILURES_PER_EMAIL: z.coerce
    .number()
    .int()
    .min(1)
    .default(5)
    .describe('Failed logins per email before that email is blocked.'),
  LOGIN_FAILURES_PER_CLIENT: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe('Failed logins per client address before that client is blocked.'),
  LOGIN_BLOCK_MINUTES: z.coerce.number().int().min(1).default(15).describe('How long those login blocks last.'),
  REGISTRATIONS_PER_CLIENT_PER_HOUR: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('Registrations per client address per hour.'),
};

const events = {
  EVENT_SINK: z
    .enum(['log', 'nats', 'redis'])
    .default('log')
    .describe(
      'Where domain events go: `nats` is JetStream, `redis` Redis Streams. Outside production the `log` sink prints ' +
        "each event's payload, reset tokens included; in production never.",
    ),
  MAILBOX_FILE: z
    .string()
    .default('.data/mailbox.jsonl')
    .describe(
      'Outside production, with the `log` sink: where the events a mail sender would send (email verification, ' +
        'password reset) are appended, tokens included, for `npm run mailbox` to print. Empty: none. Never in production.',
    ),
  NATS_URL: z.string().default('nats://127.0.0.1:4222').describe('The NATS server of the JetStream sink.'),
  NATS_STREAM: z.string().default('CUSTOMER_EVENTS').describe('The JetStream stream events are published to.'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379').describe('The Redis server of the Redis Streams sink.'),
  REDIS_STREAM: z.string().default('customer-events').describe('The Redis stream events are added to.'),
  OUTBOX_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(500)
    .describe('How often the outbox worker looks for undelivered events.'),
  SUBSCRIPTION_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(200)
    .describe('While anyone subscribes: how often this process looks for newly delivered events to send them.'),
  MAX_SUBSCRIPTIONS_PER_KEY: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe(
      'Open subscriptions one admin key may hold on this process; one more is refused (TOO_MANY_SUBSCRIPTIONS).',
    ),
};

// Retention (src/db/retention.ts); safe with several instances.
const retention = {
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(600_000)
    .describe(
      'How often expired sessions, reset tokens and rate-limit counters, and old delivered events, are deleted (0 = never).',
    ),
  RETENTION_BATCH_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(1_000)
    .describe('Most rows one retention `DELETE` removes.'),
  DELIVERED_EVENTS_RETENTION_HOURS: z.coerce
    .number()
    .min(0)
    .default(168)
    .describe('How long delivered outbox events are kept.'),
  TIMELINE_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('How long customers’ timeline entries are kept (0 = for good).'),
};

// Public endpoint hardening (src/pipeline/); docs/operations.md "Limits". Each limit refuses the whole operation
// before it runs, with its own extensions.code.
const hardening = {
  GRAPHIQL: optionalFlag.describe('Serve GraphiQL. Unset: on outside production.'),
  INTROSPECTION: optionalFlag.describe(
    'Answer introspection (`__schema`, `__type`). Unset: on outside production; in production only if `GRAPHIQL=true`.',
  ),
  CSRF_PREVENTION: optionalFlag.describe(
    'Require a Content-Type of application/json or an `x-graphql-csrf` header on GETs and form-like POSTs. ' +
      'Unset: on in production only.',
  ),
  FEDERATION_SDL_KEY: z
    .string()
    .min(24, 'at least 24 characters')
    .optional()
    .describe(
      "Federation's `_service { sdl }` is the whole schema, so it follows `INTROSPECTION`; while that is off, only a " +
        'request with this key as `Authorization: Bearer <key>` (24+ characters) gets it: give it to the supergraph ' +
        "build (rover, a gateway's IntrospectAndCompose), not an admin key. Unset: nobody.",
    ),
  FEDERATION_TYPE_PREFIX: z
    .string()
    .regex(/^([A-Z][A-Za-z0-9]*)?$/, 'a GraphQL name starting with a capital, e.g. Customers')
    .default('')
    .describe(
      "In a supergraph: a prefix for this service's own type names (`Error`, `ErrorCode` and every `…Error` type), " +
        'which other subgraphs are likely to declare differently, e.g. `Customers` makes `CustomersError`. Empty: the ' +
        'names as in schema.graphql. Set it before the first composition: it renames the API. See "In a supergraph".',
    ),
  FEDERATION_NODE_QUERY: flag(true).describe(
    "Offer Relay's `node`/`nodes` to the supergraph (and `Node` as an entity interface); they resolve this " +
      "service's IDs only. `false` where another subgraph serves `Query.node`.",
  ),
  FEDERATION_AUTH_DIRECTIVES: flag(false).describe(
    'Print `@authenticated`/`@requiresScopes` in the subgraph SDL, for a router that enforces them (GraphOS Router, ' +
      'Hive Gateway); `@apollo/gateway` refuses a supergraph with them. See "In a supergraph".',
  ),
  MAX_DEPTH: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe("Deepest field nesting (GraphiQL's introspection query is not counted)."),
  MAX_ALIASES: z.coerce.number().int().min(0).default(15).describe('Aliased fields per operation.'),
  MAX_TOKENS: z.coerce.number().int().min(100).default(1000).describe('Lexical tokens per document.'),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).default(20).describe('Directives per operation.'),
  MAX_COST: z.coerce
    .number()
    .int()
    .min(1)
    .default(5000)
    .describe(
      "Highest query cost (`QUERY_TOO_COMPLEX`): 1 per object field, and a connection's edges/nodes once per item of " +
        'first/last (default 15, at most 100), so nested connections multiply. Every response reports ' +
        '`extensions.cost { requested, maximum }`.',
    ),
  MAX_ENTITY_REPRESENTATIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1000)
    .describe(
      'Distinct federation entity representations one `_entities` call resolves; positions beyond it get an error each ' +
        '(`BAD_USER_INPUT` at `_entities.N`), the others still resolve. Repeats are free. See "In a supergraph".',
    ),
  MAX_JSON_DEPTH: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(32)
    .describe(
      'Levels of objects and arrays one JSON input value (metadata, federation representations) may nest, in variables ' +
        'or in the document; deeper is `BAD_USER_INPUT` naming where it is.',
    ),
  PASSWORD_CHECKS_PER_REQUEST: z.coerce
    .number()
    .int()
    .min(1)
    .default(1)
    .describe(
      'login / register / resetPassword / acceptInvitation / requestEmailChange / updateMe-with-password mutations per request, so that aliases cannot multiply ' +
        'password guesses (`TOO_MANY_PASSWORD_CHECKS`).',
    ),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(100_000)
    .describe('Largest request body in bytes (413 `REQUEST_ENTITY_TOO_LARGE`) of a request without an admin key.'),
  ADMIN_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(5_000_000)
    .describe('Largest request body in bytes of a request with an admin key (batches of up to 5,000 items).'),
  REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe(
      'Longest an operation may run before it is stopped with `TIMEOUT` (HTTP 504); 0 = no limit. A mutation stopped ' +
        'this way is rolled back (its transactions check the deadline before COMMIT).',
    ),
  PERSISTED_OPERATIONS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Trusted documents: a JSON file mapping each sha256 hash to its GraphQL document, sent as ' +
        "`extensions.persistedQuery { version: 1, sha256Hash }` (Apollo's format). Unset: none.",
    ),
  PERSISTED_OPERATIONS_ONLY: flag(false).describe(
    'With a file: refuse every operation not in it (`CANNOT_SEND_PQ_ID_AND_BODY`).',
  ),
};

const planner = {
  READ_PLANNER: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      'Answer admins\' queries with the read planner (src/planner/); `off`: every query on the Pothos path. See "Read planner".',
    ),
  PLANNER_PREPARED_STATEMENTS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(200)
    .describe(
      'Distinct planned statements kept prepared on each PostgreSQL connection; 0: none (e.g. behind a pooler that ' +
        'cannot keep them). See "Read planner".',
    ),
};

/** The settings in the groups and order in which `.env.example` and docs/settings.md list them. */
export const SETTING_GROUPS = {
  'Server and database': server,
  'Accounts and access': accounts,
  'Events (outbox)': events,
  Retention: retention,
  'Public endpoint hardening': hardening,
  'Read planner': planner,
};

export const settingsSchema = z.object({ ...server, ...accounts, ...events, ...retention, ...hardening, ...planner });

export type Env = z.infer<typeof settingsSchema>;

// This module is the only reader of process.env: `loadEnv` for the configuration, `nodeEnv` for the
// one setting read while modules load.

/**
 * The configuration. Without a `source`, a `.env` file in the working directory fills in what the
 * environment does not already say, for the server and every script alike. Fails fast, in one line
 * naming every bad setting.
 */
export function loadEnv(source?: NodeJS.ProcessEnv): Env {
  if (!source) {
    if (existsSync('.env')) process.loadEnvFile('.env');
    source = process.env;
  }
  const parsed = settingsSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new StartupError(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** Every setting at its default: what an empty environment means. Code with options of its own defaults to these. */
export const DEFAULTS: Env = loadEnv({});

/**
 * NODE_ENV alone, for code that runs when its module is imported (the schema builder), before any
 * `loadEnv`, and so without failing on other settings. A value `loadEnv` would refuse counts as
 * the default; the server refuses it at start-up anyway.
 */
export function nodeEnv(): Env['NODE_ENV'] {
  const parsed = settingsSchema.shape.NODE_ENV.safeParse(process.env.NODE_ENV);
  return parsed.success ? parsed.data : 'development';
}
