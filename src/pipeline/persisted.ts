import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { HardeningCode } from './codes.js';

/**
 * Reads a JSON object of hash → GraphQL document (what Apollo Client's persisted-query tooling
 * and graphql-codegen's client preset emit). Every document must parse: a broken store fails at start.
 */
export function loadPersistedOperations(file: string): ReadonlyMap<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: expected a JSON object mapping each hash to its GraphQL document`);
  }
  const operations = new Map<string, string>();
  for (const [hash, document] of Object.entries(parsed)) {
    if (typeof document !== 'string') throw new Error(`${file}: the value of "${hash}" is not a string`);
    try {
      parse(document);
    } catch (error) {
      throw new Error(`${file}: the document of "${hash}" does not parse: ${(error as Error).message}`);
    }
    operations.set(hash, document);
  }
  return operations;
}

export function usePersisted(operations: ReadonlyMap<string, string>, only: boolean): Plugin {
  const http400 = { http: { status: 400 } };
  return usePersistedOperations({
    // A Map, not an object: "constructor" or "__proto__" must be unknown hashes, not prototype members.
    getPersistedOperation: (hash) => operations.get(hash) ?? null,
    allowArbitraryOperations: !only,
    customErrors: {
      notFound: {
        message: 'PersistedQueryNotFound',
        extensions: { code: HardeningCode.PERSISTED_QUERY_NOT_IN_LIST, ...http400 },
      },
      persistedQueryOnly: {
        message: 'PersistedQueryOnly: this server runs only operations from its persisted list.',
        extensions: { code: HardeningCode.CANNOT_SEND_PQ_ID_AND_BODY, ...http400 },
      },
      keyNotFound: {
        message: 'PersistedQueryKeyNotFound',
        extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', ...http400 },
      },
    },
  }) as Plugin;
}
