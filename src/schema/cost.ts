/**
 * The cost model (docs/operations.md, "Cost"): a field returning an object costs 1 plus its fields; scalars,
 * `__typename` and introspection cost 0; a connection's `edges`/`nodes` cost once per item of
 * `first`/`last` (default 15, at most 100), so nested connections multiply; a plain list costs once
 * per item of its list argument (`nodes(ids:)`, `_entities(representations:)`), else once.
 *
 * The request pipeline enforces it (MAX_COST, src/pipeline/operation-limits.ts), and the federation SDL describes it
 * to a router as demand-control `@listSize` (src/schema/federation-metadata.ts), both from
 * `listSizeOf` here, so that a router's estimate is ours.
 *
 * Why not `@pothos/plugin-complexity` (issue 27; measured with 4.2.3 in 2026-12, each field given
 * `{ field, multiplier }` from `listSizeOf` through its `fieldComplexity` option, the operation
 * measured by its `createComplexityRule`): it cannot count this model, and where it differs, a
 * router's estimate from our `@listSize` would no longer be our cost.
 * - A multiplier multiplies a field's whole selection, and a field's complexity sees only its own
 *   arguments, so a connection's `pageInfo` and `count` cost once per item, not once:
 *   `{ customers { pageInfo { hasNextPage } } }` costs 16, not 2. test/federation-metadata ("Hive
 *   Gateway's demand control … estimates exactly our cost") fails: Hive 402, the plugin 441.
 * - `__typename` and introspection cost 1 each (a constant in its calculate-complexity.ts, not its
 *   `defaultComplexity`). test/hardening fails twice: introspection costs 1, not 0, and
 *   `{ __typename customers { totalCount pageInfo { hasNextPage } } }` 17, not 2; test/federation's
 *   1003 `_entities` with `__typename` cost 5015, refused above MAX_COST, not 4012.
 * - `complexityFromQuery` measures a document's first operation, not the one `operationName` picks.
 * - It reads arguments through Pothos's argument mappers: an ID not of ours throws while counting,
 *   instead of failing at its own field.
 * test/cost.test.ts checks this module against the documented model on generated operations.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromASTUntyped,
} from 'graphql';
import { MAX_NODES } from './builder.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './keyset.js';

/** What `@listSize` says (the IBM cost directive's arguments), for a field the model multiplies. */
export interface ListSize {
  /** The page-size arguments; the largest given counts, capped at MAX_PAGE_SIZE (the resolver refuses more). */
  slicingArguments?: string[];
  /** The connection's list fields that are as long as the page. */
  sizedFields?: string[];
  /** The size without a slicing argument. */
  assumedSize: number;
  requireOneSlicingArgument?: boolean;
}

const SLICING_ARGUMENTS = ['first', 'last'];
const SIZED_FIELDS = ['edges', 'nodes'];

type AnyField = GraphQLField<unknown, unknown>;

function isConnection(field: AnyField): boolean {
  const type = getNamedType(field.type);
  return (
    field.args.some((a) => SLICING_ARGUMENTS.includes(a.name)) && isObjectType(type) && 'edges' in type.getFields()
  );
}

/**
 * How the model counts the items of a field: a connection by its page, a plain list of objects by
 * its list argument (at most MAX_NODES: `nodes(ids:)` is the only one in the SDL) or else once;
 * null for a field it does not multiply (a single object, or scalars, which cost 0 however many).
 */
export function listSizeOf(field: AnyField): ListSize | null {
  const type = getNamedType(field.type);
  if (!isCompositeType(type)) return null;
  if (isConnection(field) && isObjectType(type)) {
    const fields = type.getFields();
    return {
      slicingArguments: SLICING_ARGUMENTS.filter((name) => field.args.some((a) => a.name === name)),
      sizedFields: SIZED_FIELDS.filter((name) => name in fields),
      assumedSize: DEFAULT_PAGE_SIZE,
      requireOneSlicingArgument: false,
    };
  }
  if (!isListType(getNullableType(field.type))) return null;
  const byArgument = field.args.some((a) => isListType(getNullableType(a.type)));
  return { assumedSize: byArgument ? MAX_NODES : 1 };
}

interface CostContext {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  memo: Map<string, number>;
}

export function argumentValues(node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of node.arguments ?? []) values[arg.name.value] = valueFromASTUntyped(arg.value, variables);
  return values;
}

/** The page as the resolver will serve it: the largest slicing argument given, at most the maximum; else the default. */
function pageSize(size: ListSize, args: Record<string, unknown>): number {
  const sizes = (size.slicingArguments ?? [])
    .map((name) => args[name])
    .filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0);
  return sizes.length ? Math.min(Math.max(...sizes), MAX_PAGE_SIZE) : size.assumedSize;
}

function fieldCost(node: FieldNode, parent: GraphQLCompositeType, ctx: CostContext): number {
  if (node.name.value.startsWith('__') || !node.selectionSet) return 0;
  if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
  const field = parent.getFields()[node.name.value];
  const type = field && getNamedType(field.type);
  if (!field || !type || !isCompositeType(type)) return 0;
  const args = argumentValues(node, ctx.variables);
  const size = listSizeOf(field);
  if (size?.sizedFields) return 1 + selectionCost(node.selectionSet, type, ctx, pageSize(size, args), size.sizedFields);
  // A plain list is as long as its list argument (nodes(ids:), federation's _entities(representations:)).
  const lists = Object.values(args)
    .filter(Array.isArray)
    .map((list) => list.length);
  const items = size ? (lists.length ? Math.max(...lists) : size.assumedSize) : 1;
  return items * (1 + selectionCost(node.selectionSet, type, ctx));
}

/** Within a connection (`perItem` set), its sized fields (`edges`, `nodes`) cost once per item of the page. */
function selectionCost(
  set: SelectionSetNode,
  parent: GraphQLCompositeType,
  ctx: CostContext,
  perItem?: number,
  sized: readonly string[] = SIZED_FIELDS,
): number {
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const cost = fieldCost(selection, parent, ctx);
      const repeated = perItem !== undefined && sized.includes(selection.name.value);
      total += repeated ? cost * perItem : cost;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? ctx.schema.getType(selection.typeCondition.name.value) : parent;
      if (type && isCompositeType(type)) total += selectionCost(selection.selectionSet, type, ctx, perItem, sized);
    } else {
      total += fragmentCost(selection.name.value, ctx, perItem, sized);
    }
  }
  return total;
}

// Memoised: a fragment's cost does not depend on where it is spread, and without this, fragments
// spreading fragments twice over would make the count exponential in the document's size.
function fragmentCost(name: string, ctx: CostContext, perItem: number | undefined, sized: readonly string[]): number {
  const key = `${name}/${perItem ?? ''}/${sized.join()}`;
  const known = ctx.memo.get(key);
  if (known !== undefined) return known;
  ctx.memo.set(key, 0);
  const fragment = ctx.fragments.get(name);
  const type = fragment && ctx.schema.getType(fragment.typeCondition.name.value);
  const cost =
    fragment && type && isCompositeType(type) ? selectionCost(fragment.selectionSet, type, ctx, perItem, sized) : 0;
  ctx.memo.set(key, cost);
  return cost;
}

/** The operation's cost under the model above. */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return selectionCost(operation.selectionSet, root, { schema, fragments, variables, memo: new Map() });
}
