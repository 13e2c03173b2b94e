import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga';
import { adminKeyMatcher, resolveViewer, type AdminKey } from './auth.js';
import type { Context, Services } from './context.js';
import type { Database } from './db/index.js';
import { Passwords } from './lib/passwords.js';
import { Throttle } from './lib/throttle.js';
import type { Logger } from './logger.js';
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
          edges { node { displayId status total currencyCode } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/** What the app needs to know; every field has the default `env.ts` documents. */
export interface AppSettings {
  adminKeys: AdminKey[];
  bcryptCost: number;
  bcryptConcurrency: number;
  sessionTtlHours: number;
  trustProxy: boolean;
  loginFailuresPerEmail: number;
  loginFailuresPerClient: number;
  loginBlockMinutes: number;
  registrationsPerClientPerHour: number;
}

export const DEFAULT_SETTINGS: AppSettings = {
  adminKeys: [],
  bcryptCost: 12,
  bcryptConcurrency: 2,
  sessionTtlHours: 24 * 30,
  trustProxy: false,
  loginFailuresPerEmail: 5,
  loginFailuresPerClient: 30,
  loginBlockMinutes: 15,
  registrationsPerClientPerHour: 20,
};

export interface AppOptions {
  db: Database;
  log: Logger;
  /** Serve GraphiQL; with `headers`, GraphiQL opens with them filled in. */
  graphiql?: boolean | { headers?: Record<string, string> };
  settings?: Partial<AppSettings>;
  /** The clock for expiries (tests move it). */
  now?: () => Date;
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

/** One structured line per request, tagged with the request ID the caller sent or one we made. */
function useRequestLog(log: Logger): Plugin<{ requestId?: string }> {
  const started = new WeakMap<Request, { at: number; id: string }>();
  return {
    onRequest({ request }) {
      started.set(request, { at: performance.now(), id: request.headers.get('x-request-id') ?? randomUUID() });
    },
    onResponse({ request, response }) {
      const entry = started.get(request);
      if (!entry) return;
      response.headers.set('x-request-id', entry.id);
      log.info(
        {
          requestId: entry.id,
          method: request.method,
          path: new URL(request.url).pathname,
          status: response.status,
          ms: Math.round((performance.now() - entry.at) * 10) / 10,
        },
        'request',
      );
    },
  };
}

export function createApp({ db, log, graphiql = true, settings: overrides, now = () => new Date() }: AppOptions) {
  const settings = { ...DEFAULT_SETTINGS, ...overrides };
  const blockSeconds = settings.loginBlockMinutes * 60;
  const services: Services = {
    db: db.prisma,
    passwords: new Passwords(settings.bcryptCost, settings.bcryptConcurrency),
    throttles: {
      loginPerEmail: new Throttle(db.queryClient, 'login-email', settings.loginFailuresPerEmail, blockSeconds),
      loginPerClient: new Throttle(db.queryClient, 'login-client', settings.loginFailuresPerClient, blockSeconds),
      registerPerClient: new Throttle(db.queryClient, 'register-client', settings.registrationsPerClientPerHour, 3600),
    },
    sessionTtlMs: settings.sessionTtlHours * 3_600_000,
    now,
  };
  const matchAdminKey = adminKeyMatcher(settings.adminKeys);

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: graphiql
      ? {
          title: 'customer-graph',
          defaultQuery: EXAMPLE_QUERY,
          ...(typeof graphiql === 'object' && graphiql.headers ? { headers: JSON.stringify(graphiql.headers, null, 2) } : {}),
        }
      : false,
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error({ err: args.find((a) => a instanceof Error) }, args.map(String).join(' ')),
    },
    context: async ({ request, req }) => ({
      viewer: await resolveViewer(request.headers.get('authorization'), services, matchAdminKey),
      db: db.prisma,
      services,
      requestId: request.headers.get('x-request-id') ?? randomUUID(),
      clientAddress: clientAddress(request, req, settings.trustProxy),
      proven: new Set<string>(),
    }),
    plugins: [
      useRequestLog(log),
      useReadinessCheck({
        endpoint: '/ready',
        check: async () => {
          try {
            await db.prisma.$queryRaw`SELECT 1`;
            return true;
          } catch {
            return false;
          }
        },
      }),
    ],
  });
}

export type App = ReturnType<typeof createApp>;
