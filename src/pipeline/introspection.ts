import { BREAK, type DocumentNode, GraphQLError, type ValidationRule, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { adminKeyMatcher, bearerToken } from '../auth.js';
import { HardeningCode, refusal } from './codes.js';

const IntrospectionDisabled: ValidationRule = function IntrospectionDisabled(context) {
  return {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        context.reportError(
          new GraphQLError('Introspection is disabled on this server.', {
            nodes: node,
            extensions: { code: HardeningCode.INTROSPECTION_DISABLED },
          }),
        );
      }
    },
  };
};

const asksForSdlByDocument = new WeakMap<DocumentNode, boolean>();

/** Whether the document asks for `_service` (only Query has it), through any alias or fragment. */
function asksForSdl(document: DocumentNode): boolean {
  // Yoga caches parsed documents, so most requests reuse one already walked.
  const known = asksForSdlByDocument.get(document);
  if (known !== undefined) return known;
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '_service') found = true;
      return found ? BREAK : undefined;
    },
  });
  asksForSdlByDocument.set(document, found);
  return found;
}

/**
 * `_service { sdl }` is the whole schema, as introspection is, so it follows the same setting. A
 * schema build needs it, so its own credential gets it: a dedicated key rather than an admin key,
 * which a CI job publishing the schema should not hold. Checked after validation, not as a rule:
 * yoga caches validation per document, and this depends on the request's header.
 */
export function useDisableIntrospection(sdlKey: string | null): Plugin {
  const matchesKey = adminKeyMatcher(sdlKey ? [{ name: 'federation', key: sdlKey }] : []);
  return {
    onValidate({ addValidationRule, params: { documentAST } }) {
      addValidationRule(IntrospectionDisabled);
      return ({ valid, context }) => {
        if (!valid || !asksForSdl(documentAST)) return;
        const request = (context as { request?: Request }).request;
        const token = bearerToken(request?.headers.get('authorization') ?? null);
        if (token !== undefined && matchesKey(token) !== null) return;
        throw refusal('Introspection is disabled on this server.', HardeningCode.INTROSPECTION_DISABLED);
      };
    },
  };
}
