import { randomUUID } from 'node:crypto';
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { Context } from './context.js';
import type { Database } from './db/index.js';
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

export interface AppOptions {
  db: Database;
  log: Logger;
  graphiql?: boolean;
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

export function createApp({ db, log, graphiql = true }: AppOptions) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: graphiql ? { title: 'customer-graph', defaultQuery: EXAMPLE_QUERY } : false,
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error({ err: args.find((a) => a instanceof Error) }, args.map(String).join(' ')),
    },
    context: ({ request }) => ({
      viewer: { kind: 'anonymous' },
      db: db.prisma,
      requestId: request.headers.get('x-request-id') ?? randomUUID(),
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
