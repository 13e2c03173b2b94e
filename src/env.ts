import { existsSync } from 'node:fs';
import { z } from 'zod';
import { StartupError } from './startup-error.js';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .transform((v) => v === 'true' || v === '1')
  .optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // Empty is unset: `DATABASE_URL=` in the environment picks the embedded database whatever .env says.
  DATABASE_URL: z.union([z.literal('').transform(() => undefined), z.string().url()]).optional(),
  DATA_DIR: z.string().default('.data/pglite'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(3_000),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
  METRICS: bool,
  OTEL_TRACES: z.enum(['off', 'console']).default('off'),
  SEED_SAMPLE_DATA: bool,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** After SIGTERM: readiness 503 while still serving, before the listener closes. */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(1_000),
  ADMIN_API_KEYS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const keys = value.split(',').map((entry) => entry.trim()).filter(Boolean);
      return keys.map((entry) => {
        const at = entry.indexOf(':');
        if (at < 1 || entry.length - at - 1 < 24) {
          ctx.addIssue({ code: 'custom', message: 'each entry is name:key, with a key of at least 24 characters' });
        }
        return { name: entry.slice(0, at), key: entry.slice(at + 1) };
      });
    }),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  BCRYPT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  SESSION_TTL_HOURS: z.coerce.number().int().min(1).default(24 * 30),
  EMAIL_VERIFICATION_TTL_HOURS: z.coerce.number().int().min(1).default(24),
  SEND_VERIFICATION_ON_REGISTER: bool,
  REQUIRE_VERIFIED_EMAIL_FOR_LOGIN: bool,
  PHONE_DEFAULT_REGION: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as US or DK').default('US'),
  TRUST_PROXY: bool,
  LOGIN_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).default(5),
  LOGIN_FAILURES_PER_CLIENT: z.coerce.number().int().min(1).default(30),
  LOGIN_BLOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  REGISTRATIONS_PER_CLIENT_PER_HOUR: z.coerce.number().int().min(1).default(20),
  EVENT_SINK: z.enum(['log', 'nats', 'redis']).default('log'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  NATS_STREAM: z.string().default('CUSTOMER_EVENTS'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_STREAM: z.string().default('customer-events'),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).default(500),
  // Retention (src/db/retention.ts): expired sessions, reset tokens, rate-limit rows, old delivered events.
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).default(600_000),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1_000),
  DELIVERED_EVENTS_RETENTION_HOURS: z.coerce.number().min(0).default(168),
  // Public endpoint hardening (src/hardening.ts); README "Limits".
  INTROSPECTION: bool,
  FEDERATION_SDL_KEY: z.string().min(24, 'at least 24 characters').optional(),
  FEDERATION_TYPE_PREFIX: z.string().regex(/^([A-Z][A-Za-z0-9]*)?$/, 'a GraphQL name starting with a capital, e.g. Customers').default(''),
  FEDERATION_NODE_QUERY: bool,
  FEDERATION_AUTH_DIRECTIVES: bool,
  GRAPHIQL: bool,
  CSRF_PREVENTION: bool,
  MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  MAX_TOKENS: z.coerce.number().int().min(100).default(1000),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).default(20),
  MAX_COST: z.coerce.number().int().min(1).default(5000),
  MAX_ENTITY_REPRESENTATIONS: z.coerce.number().int().min(1).max(10_000).default(1000),
  MAX_JSON_DEPTH: z.coerce.number().int().min(1).max(1000).default(32),
  PASSWORD_CHECKS_PER_REQUEST: z.coerce.number().int().min(1).default(1),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(100_000),
  ADMIN_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(5_000_000),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  PERSISTED_OPERATIONS_FILE: z.string().min(1).optional(),
  PERSISTED_OPERATIONS_ONLY: bool,
  /** The read planner (src/planner/) for admins' queries. */
  READ_PLANNER: z.enum(['on', 'off']).default('on'),
  /** Distinct planned statements kept prepared on each PostgreSQL connection; 0: none (e.g. behind a pooler that cannot). */
  PLANNER_PREPARED_STATEMENTS: z.coerce.number().int().min(0).max(10_000).default(200),
});

export type Env = z.infer<typeof schema>;

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
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new StartupError(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/**
 * NODE_ENV alone, for code that runs when its module is imported (the schema builder), before any
 * `loadEnv`, and so without failing on other settings. A value `loadEnv` would refuse counts as
 * the default; the server refuses it at start-up anyway.
 */
export function nodeEnv(): Env['NODE_ENV'] {
  const parsed = schema.shape.NODE_ENV.safeParse(process.env.NODE_ENV);
  return parsed.success ? parsed.data : 'development';
}
