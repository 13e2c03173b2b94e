import type { Plugin } from 'graphql-yoga';

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** "Did you mean ...?" (fields, arguments, types, enum values) reveals the schema piece by piece. */
export function useHideSuggestions(): Plugin {
  return {
    onExecutionResult({ result }) {
      if (!result || Array.isArray(result) || Symbol.asyncIterator in result) return;
      for (const error of result.errors ?? []) {
        if (error.message.includes('Did you mean')) error.message = error.message.replace(SUGGESTION, '');
      }
    },
  };
}
