import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createYoga, type GraphiQLOptions, type Plugin, useReadinessCheck } from 'graphql-yoga';
import type { CountryCode } from 'libphonenumber-js';
import { type AdminKey, requestCredentials } from './auth.js';
import type { Context, Services } from './context.js';
import type { Database } from './db/index.js';
import { RequestDeadline } from './db/transaction.js';
import { DEFAULTS, type Env } from './env.js';
import { EventFeed } from './events/feed.js';
import { Passwords } from './lib/passwords.js';
import { Throttle } from './lib/throttle.js';
import type { Logger } from './logger.js';
import { maskError } from './observability.js';
import { type HardeningOptions, loadPersistedOperations, requestIdOf, requestPipeline } from './pipeline/index.js';
import type { PlanDecision } from './planner/index.js';
import { type SubgraphOptions, subgraphSchema } from './schema/federation.js';
import { schema } from './schema/index.js';

export const GRAPHQL_PATH = '/graphql';

const EXAMPLE_QUERY = /* GraphQL */ `# Customers with their groups, default address and latest orders.
query Customers {
  customers(first: 5) {
    totalCount
    edges {
      node {
        id
        email
        firstName
        lastName
        hasAccount
        groups(first: 3) { edges { node { id name } } }
        defaultShippingAddress { city countryCode }
        orders(first: 2) {
          totalCount
          edges { node { displayId status total { amount currencyCode } } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * The app's settings from the environment, all but the admin keys (server.ts adds its development
 * key). Each is declared once, in env.ts (name, type, default, meaning); AppSettings is typed from
 * this mapping, so a setting's type cannot differ between the two.
 */
export function settingsFromEnv(env: Env) {
  return {
    bcryptCost: env.BCRYPT_COST,
    bcryptConcurrency: env.BCRYPT_CONCURRENCY,
    sessionTtlHours: env.SESSION_TTL_HOURS,
    emailVerificationTtlHours: env.EMAIL_VERIFICATION_TTL_HOURS,
    sendVerificationOnRegister: env.SEND_VERIFICATION_ON_REGISTER,
    requireVerifiedEmailForLogin: env.REQUIRE_VERIFIED_EMAIL_FOR_LOGIN,
    phoneDefaultRegion: env.PHONE_DEFAULT_REGION,
    tagsVisibleToCustomers: env.CUSTOMER_TAGS_VISIBLE,
    marketingConfirmedOptIn: env.MARKETING_CONFIRMED_OPT_IN,
    marketingConfirmationTtlHours: env.MARKETING_CONFIRMATION_TTL_HOURS,
    marketingUnsubscribeSecret: env.MARKETING_UNSUBSCRIBE_SECRET ?? null,
    invitationTtlHours: env.INVITATION_TTL_HOURS,
    trustProxy: env.TRUST_PROXY,
    loginFailuresPerEmail: env.LOGIN_FAILURES_PER_EMAIL,
    loginFailuresPerClient: env.LOGIN_FAILURES_PER_CLIENT,
    loginBlockMinutes: env.LOGIN_BLOCK_MINUTES,
    registrationsPerClientPerHour: env.REGISTRATIONS_PER_CLIENT_PER_HOUR,
    production: env.NODE_ENV === 'production',
    introspection: env.INTROSPECTION,
    federationSdlKey: env.FEDERATION_SDL_KEY ?? null,
    graphiql: env.GRAPHIQL,
    csrfPrevention: env.CSRF_PREVENTION,
    maxDepth: env.MAX_DEPTH,
    maxAliases: env.MAX_ALIASES,
    maxTokens: env.MAX_TOKENS,
    maxDirectives: env.MAX_DIRECTIVES,
    maxCost: env.MAX_COST,
    maxEntityRepresentations: env.MAX_ENTITY_REPRESENTATIONS,
    subscriptionPollMs: env.SUBSCRIPTION_POLL_MS,
    maxSubscriptionsPerKey: env.MAX_SUBSCRIPTIONS_PER_KEY,
    maxJsonDepth: env.MAX_JSON_DEPTH,
    federationTypePrefix: env.FEDERATION_TYPE_PREFIX,
    federationNodeQuery: env.FEDERATION_NODE_QUERY,
    federationAuthDirectives: env.FEDERATION_AUTH_DIRECTIVES,
    passwordChecksPerRequest: env.PASSWORD_CHECKS_PER_REQUEST,
    maxBodyBytes: env.MAX_BODY_BYTES,
    adminMaxBodyBytes: env.ADMIN_MAX_BODY_BYTES,
    readPlanner: env.READ_PLANNER === 'on',
    plannerPreparedStatements: env.PLANNER_PREPARED_STATEMENTS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    persistedOperations: env.PERSISTED_OPERATIONS_FILE ? loadPersistedOperations(env.PERSISTED_OPERATIONS_FILE) : null,
    persistedOperationsOnly: env.PERSISTED_OPERATIONS_ONLY,
  } satisfies Omit<HardeningOptions, 'introspection' | 'csrfPrevention'> & Record<string, unknown>;
}

export type AppSettings = ReturnType<typeof settingsFromEnv> & { adminKeys: AdminKey[] };

/** The settings of an empty environment (env.ts declares every default), with no admin key. */
export const DEFAULT_SETTINGS: AppSettings = { ...settingsFromEnv(DEFAULTS), adminKeys: [] };

/** Whether GraphiQL is served: `GRAPHIQL`, or unset, outside production. */
export const graphiqlShown = (settings: Pick<AppSettings, 'graphiql' | 'production'>) =>
  settings.graphiql ?? !settings.production;

/** The federation settings, as the subgraph schema takes them. */
export function subgraphOptionsOf(
  settings: Pick<AppSettings, 'federationTypePrefix' | 'federationNodeQuery' | 'federationAuthDirectives'>,
): SubgraphOptions {
  return {
    typePrefix: settings.federationTypePrefix,
    nodeQuery: settings.federationNodeQuery,
    authDirectives: settings.federationAuthDirectives,
  };
}

export interface AppOptions {
  db: Database;
  log: Logger;
  /** Serve GraphiQL (if `settings.graphiql` allows); with `headers`, GraphiQL opens with them filled in. */
  graphiql?: boolean | { headers?: Record<string, string> };
  /** Renders the GraphiQL page; yoga's default loads its assets from a CDN. */
  renderGraphiQL?: (options?: GraphiQLOptions) => string;
  settings?: Partial<AppSettings>;
  /** The clock for expiries (tests move it). */
  now?: () => Date;
  /** Prometheus metrics at `/metrics`. */
  metrics?: boolean;
  /** More envelop/yoga plugins, e.g. tracing. */
  plugins?: Plugin[];
  /** False makes /ready 503 whatever the database says (e.g. while shutting down). */
  isReady?: () => boolean;
  /** Told what the read planner decided for each admin query (tests). */
  onPlan?: (decision: PlanDecision) => void;
}

interface ServerContext {
  req?: IncomingMessage;
}

function clientAddress(request: Request, req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return req?.socket?.remoteAddress ?? 'unknown';
}

export function createApp({
  db,
  log,
  graphiql = true,
  renderGraphiQL,
  settings: overrides,
  now = () => new Date(),
  metrics = false,
  plugins = [],
  isReady,
  onPlan,
}: AppOptions) {
  const settings = { ...DEFAULT_SETTINGS, ...overrides };
  const blockSeconds = settings.loginBlockMinutes * 60;
  const services: Services = {
    db: db.prisma,
    query: (text, values, name) => db.query(text, values, name),
    passwords: new Passwords(settings.bcryptCost, settings.bcryptConcurrency),
    throttles: {
      loginPerEmail: new Throttle(db.queryClient, 'login-email', settings.loginFailuresPerEmail, blockSeconds),
      loginPerClient: new Throttle(db.queryClient, 'login-client', settings.loginFailuresPerClient, blockSeconds),
      registerPerClient: new Throttle(db.queryClient, 'register-client', settings.registrationsPerClientPerHour, 3600),
    },
    sessionTtlMs: settings.sessionTtlHours * 3_600_000,
    emailVerification: {
      ttlMs: settings.emailVerificationTtlHours * 3_600_000,
      onRegister: settings.sendVerificationOnRegister,
      requiredForLogin: settings.requireVerifiedEmailForLogin,
    },
    phoneRegion: settings.phoneDefaultRegion as CountryCode,
    tagsVisibleToCustomers: settings.tagsVisibleToCustomers,
    marketing: {
      confirmedOptIn: settings.marketingConfirmedOptIn,
      confirmationTtlMs: settings.marketingConfirmationTtlHours * 3_600_000,
      unsubscribeSecret: settings.marketingUnsubscribeSecret ?? randomBytes(32).toString('base64url'),
    },
    invitationTtlMs: settings.invitationTtlHours * 3_600_000,
    now,
    maxEntityRepresentations: settings.maxEntityRepresentations,
    feed: new EventFeed((text, values) => db.query(text, values), settings.subscriptionPollMs),
    maxSubscriptionsPerKey: settings.maxSubscriptionsPerKey,
    subscriptions: new Map(),
  };
  const credentials = requestCredentials(
    settings.adminKeys,
    settings.federationSdlKey ? [settings.federationSdlKey] : [],
  );
  const production = settings.production;
  const showGraphiql = graphiql !== false && graphiqlShown(settings);
  if (settings.persistedOperationsOnly && !settings.persistedOperations) {
    throw new Error('PERSISTED_OPERATIONS_ONLY needs PERSISTED_OPERATIONS_FILE: no operation could run');
  }

  return createYoga<ServerContext, Context>({
    schema: subgraphSchema(schema, subgraphOptionsOf(settings)),
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: showGraphiql
      ? {
          title: 'customer-graph',
          defaultQuery: EXAMPLE_QUERY,
          ...(typeof graphiql === 'object' && graphiql.headers
            ? { headers: JSON.stringify(graphiql.headers, null, 2) }
            : {}),
        }
      : false,
    // The pipeline's body limit replaces it (one per kind of caller, no stream for a sized body).
    maxRequestBodySize: false,
    ...(renderGraphiQL ? { renderGraphiQL } : {}),
    // Outside production yoga decides from NODE_ENV=development whether to add `originalError`.
    maskedErrors: { maskError, ...(production ? { isDev: false } : {}) },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error({ err: args.find((a) => a instanceof Error) }, args.map(String).join(' ')),
    },
    context: async ({ request, req }) => ({
      viewer: await credentials.viewer(request, services),
      db: db.prisma,
      services,
      requestId: requestIdOf(request),
      clientAddress: clientAddress(request, req, settings.trustProxy),
      proven: new Set<string>(),
      deadline: new RequestDeadline(settings.requestTimeoutMs),
    }),
    plugins: requestPipeline({
      ...settings,
      introspection: settings.introspection ?? (!production || showGraphiql),
      csrfPrevention: settings.csrfPrevention ?? production,
      isAdmin: (request) => credentials.adminKeyName(request) !== null,
      log,
      db,
      onPlan,
      metrics,
      // Ends the subscriptions when the app is disposed (the server stopping).
      extra: [...plugins, { onDispose: () => services.feed.stop() }],
      readiness: useReadinessCheck({
        endpoint: '/ready',
        check: async () => {
          if (isReady && !isReady()) return false;
          try {
            await db.prisma.$queryRaw`SELECT 1`;
            return true;
          } catch {
            return false;
          }
        },
      }),
    }),
  });
}

export type App = ReturnType<typeof createApp>;
