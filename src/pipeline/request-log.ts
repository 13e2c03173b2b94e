import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { databaseFailure } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { DomainError } from '../services/errors.js';

const requestIds = new WeakMap<Request, { at: number; id: string }>();

/** The request's ID: the one the caller sent (server.ts vets it), or one made for it. */
export function requestIdOf(request: Request): string {
  let entry = requestIds.get(request);
  if (!entry) {
    entry = { at: performance.now(), id: request.headers.get('x-request-id') ?? randomUUID() };
    requestIds.set(request, entry);
  }
  return entry.id;
}

/**
 * One structured line per request, and one per unexpected error (which the client only sees
 * masked), each tagged with the request's ID. The ID travels in the context, not in an
 * AsyncLocalStorage: its promise hooks cost 15% of the throughput of a 50-customer page.
 */
export function useRequestLog(log: Logger): Plugin<Context> {
  return {
    onRequest({ request }) {
      requestIdOf(request);
    },
    onExecute() {
      return {
        onExecuteDone({ args, result }) {
          if (!('errors' in result) || !result.errors) return;
          for (const error of result.errors) {
            const cause = error.originalError;
            if (!cause || cause instanceof GraphQLError || cause instanceof DomainError) continue;
            const fields = { requestId: args.contextValue.requestId, path: error.path?.join('.'), err: cause };
            const failure = databaseFailure(cause);
            if (failure === 'SERVICE_UNAVAILABLE') log.warn(fields, 'database unavailable');
            else if (failure === 'TIMEOUT') log.warn(fields, 'database timeout');
            else log.error(fields, 'unexpected error');
          }
        },
      };
    },
    onResponse({ request, response }) {
      const entry = requestIds.get(request);
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
