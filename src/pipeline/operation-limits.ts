import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromASTUntyped,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
// The cost model lives with the schema, which describes it to a router as @listSize too.
import { argumentValues, operationCost } from '../schema/cost.js';
import { HardeningCode, refusal } from './codes.js';

/** Limits that depend on the variables: query cost, and password checks per request. */
export interface OperationLimits {
  maxCost: number;
  passwordChecksPerRequest: number;
}

// --- Password checks

const PASSWORD_MUTATIONS = new Set(['login', 'register', 'resetPassword', 'acceptInvitation', 'requestEmailChange']);

function checksPassword(node: FieldNode, variables: Record<string, unknown>): boolean {
  if (PASSWORD_MUTATIONS.has(node.name.value)) return true;
  if (node.name.value !== 'updateMe') return false;
  const input = argumentValues(node, variables).input;
  return typeof input === 'object' && input !== null && 'password' in input && input.password != null;
}

/**
 * Root mutation fields that check a password, by response key (as execution merges them):
 * through fragments, each alias separately.
 */
export function passwordChecks(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  if (operation.operation !== 'mutation') return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const keys = new Set<string>();
  const seen = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (checksPassword(selection, variables)) keys.add(selection.alias?.value ?? selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return keys.size;
}

function variablesWithDefaults(operation: OperationDefinitionNode, given: unknown): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  const provided = typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (name in provided) variables[name] = provided[name];
    else if (definition.defaultValue) variables[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return variables;
}

export interface QueryCost {
  requested: number;
  maximum: number;
}

/**
 * Password checks and cost depend on the variables, so they run after validation, not as rules:
 * yoga caches validation results per document. Throwing here ends the request before the context
 * (and its session lookup) is built.
 */
export function useOperationLimits(o: OperationLimits): Plugin {
  const costs = new WeakMap<object, QueryCost>();
  return {
    onValidate({ params: { schema, documentAST } }) {
      return ({ valid, context }) => {
        if (!valid) return;
        const operation = getOperationAST(documentAST, context.params?.operationName);
        if (!operation) return;
        const variables = variablesWithDefaults(operation, context.params?.variables);
        const checks = passwordChecks(documentAST, operation, variables);
        if (checks > o.passwordChecksPerRequest) {
          throw refusal(
            `At most ${o.passwordChecksPerRequest} password-checking mutation (login, register, resetPassword, acceptInvitation, requestEmailChange, updateMe with a password) per request; this one has ${checks}.`,
            HardeningCode.TOO_MANY_PASSWORD_CHECKS,
          );
        }
        const cost: QueryCost = {
          requested: operationCost(schema, documentAST, operation, variables),
          maximum: o.maxCost,
        };
        costs.set(context, cost);
        if (cost.requested > cost.maximum) {
          throw refusal(
            `Query cost ${cost.requested} is above the maximum of ${cost.maximum}. Ask for fewer items (first/last) or fewer nested connections.`,
            HardeningCode.QUERY_TOO_COMPLEX,
            { cost },
          );
        }
      };
    },
    onExecutionResult({ result, context }) {
      const cost = costs.get(context);
      if (!cost || !result || Array.isArray(result) || Symbol.asyncIterator in result) return;
      // In place: a copy would read a planned result's `data`, which it writes out as it is (src/planner).
      result.extensions = { ...result.extensions, cost };
    },
  };
}
