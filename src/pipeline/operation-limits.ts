import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../schema/keyset.js';
import { HardeningCode, refusal } from './codes.js';

/** Limits that depend on the variables: query cost, and password checks per request. */
export interface OperationLimits {
  maxCost: number;
  passwordChecksPerRequest: number;
}

interface CostContext {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  memo: Map<string, number>;
}

function argumentValues(node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of node.arguments ?? []) values[arg.name.value] = valueFromASTUntyped(arg.value, variables);
  return values;
}

/** `first`/`last` as the resolver will use it: absent means the default page size, beyond the maximum is refused there. */
function pageSize(args: Record<string, unknown>): number {
  const sizes = [args.first, args.last].filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0);
  return sizes.length ? Math.min(Math.max(...sizes), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  return field.args.some((a) => a.name === 'first' || a.name === 'last') && isObjectType(type) && 'edges' in type.getFields();
}

function fieldCost(node: FieldNode, parent: GraphQLCompositeType, ctx: CostContext): number {
  if (node.name.value.startsWith('__') || !node.selectionSet) return 0;
  if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
  const field = parent.getFields()[node.name.value];
  const type = field && getNamedType(field.type);
  if (!field || !type || !isCompositeType(type)) return 0;
  const args = argumentValues(node, ctx.variables);
  if (isConnection(field)) return 1 + selectionCost(node.selectionSet, type, ctx, pageSize(args));
  // A plain list (nodes(ids:), federation's _entities(representations:)) is as long as its list argument.
  const lists = Object.values(args).filter(Array.isArray).map((list) => list.length);
  const items = isListType(getNullableType(field.type)) && lists.length ? Math.max(...lists) : 1;
  return items * (1 + selectionCost(node.selectionSet, type, ctx));
}

/** Within a connection (`perItem` set), `edges` and `nodes` cost once per item of the page. */
function selectionCost(set: SelectionSetNode, parent: GraphQLCompositeType, ctx: CostContext, perItem?: number): number {
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const cost = fieldCost(selection, parent, ctx);
      const repeated = perItem !== undefined && (selection.name.value === 'edges' || selection.name.value === 'nodes');
      total += repeated ? cost * perItem : cost;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? ctx.schema.getType(selection.typeCondition.name.value) : parent;
      if (type && isCompositeType(type)) total += selectionCost(selection.selectionSet, type, ctx, perItem);
    } else {
      total += fragmentCost(selection.name.value, ctx, perItem);
    }
  }
  return total;
}

// Memoised: a fragment's cost does not depend on where it is spread, and without this, fragments
// spreading fragments twice over would make the count exponential in the document's size.
function fragmentCost(name: string, ctx: CostContext, perItem: number | undefined): number {
  const key = `${name}/${perItem ?? ''}`;
  const known = ctx.memo.get(key);
  if (known !== undefined) return known;
  ctx.memo.set(key, 0);
  const fragment = ctx.fragments.get(name);
  const type = fragment && ctx.schema.getType(fragment.typeCondition.name.value);
  const cost = fragment && type && isCompositeType(type) ? selectionCost(fragment.selectionSet, type, ctx, perItem) : 0;
  ctx.memo.set(key, cost);
  return cost;
}

/**
 * The cost model (README "Limits"): a field returning an object costs 1 plus its fields; scalars,
 * `__typename` and introspection cost 0; a connection's `edges`/`nodes` cost once per item of
 * `first`/`last` (default 15, at most 100), so nested connections multiply.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return selectionCost(operation.selectionSet, root, { schema, fragments, variables, memo: new Map() });
}

// --- Password checks

const PASSWORD_MUTATIONS = new Set(['login', 'register', 'resetPassword']);

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
export function passwordChecks(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
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
            `At most ${o.passwordChecksPerRequest} password-checking mutation (login, register, resetPassword, updateMe with a password) per request; this one has ${checks}.`,
            HardeningCode.TOO_MANY_PASSWORD_CHECKS,
          );
        }
        const cost: QueryCost = { requested: operationCost(schema, documentAST, operation, variables), maximum: o.maxCost };
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
