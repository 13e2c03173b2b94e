import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type PothosTypeConfig,
  type SchemaTypes,
} from '@pothos/core';
import type { GraphQLField, GraphQLNamedType, GraphQLResolveInfo } from 'graphql';
import type { MoneyPlan } from './money.js';

/**
 * What the read planner (src/planner/) and the federation metadata may know of the schema,
 * declared at build time under our own extension keys `readPlan` and `readPlanAccess`. Pothos and its Prisma plugin say what a field is in their own
 * extension keys; this plugin, last in the builder's list, reads them through Pothos' public
 * plugin hooks (as Pothos' own plugin-grafast does) and writes the one description the planner
 * reads. Connections, lists and lookups declare theirs themselves (keyset.ts).
 */
export type FieldPlan =
  /** A column shown as it is (`t.expose*`). */
  | { kind: 'column'; field: string }
  /**
   * A Prisma relation (`t.relation`), with the `where`/`orderBy` of its own `query` option; or, with
   * `single`, the one row of a list relation that its `where` allows (a unique index says so).
   */
  | { kind: 'relation'; relation: string; query: (context: unknown) => Record<string, unknown>; single?: true }
  /** An amount in a currency (money.ts), declared by the field. */
  | MoneyPlan
  /** An object made of columns of the row (`{ state: 'emailMarketingState', … }`): each of its fields shows one. */
  | { kind: 'embedded'; fields: Record<string, string> }
  /** A field whose resolver reads the row: the planner asks it which column it shows (the Relay `id`). */
  | {
      kind: 'resolver';
      resolve: (parent: unknown, args: object, context: unknown, info: GraphQLResolveInfo) => unknown;
    };

/**
 * Who may read a type or field, as its `authScopes` option says: none given, a scope map (which the
 * planner evaluates for the viewer), or a function (which only a declared owner rule explains).
 */
export type Access = { kind: 'open' } | { kind: 'map'; scopes: Record<string, unknown> } | { kind: 'function' };

export interface TypePlan {
  /** The Prisma model of a `prismaObject`/`prismaNode` type. */
  model: string;
  access: Access;
  /** The column of the owner rule (owner.ts' `ownedBy`), which explains a function `access`. */
  owner?: string;
}

export const fieldPlan = (field: GraphQLField<unknown, unknown>) =>
  (field.extensions as { readPlan?: FieldPlan }).readPlan;

export const fieldAccess = (field: GraphQLField<unknown, unknown>) =>
  (field.extensions as { readPlanAccess?: Access }).readPlanAccess ?? { kind: 'open' };

export const typePlan = (type: GraphQLNamedType) => (type.extensions as { readPlan?: TypePlan }).readPlan;

/** Who may read an object type, as its `authScopes` option says. */
export const typeAccess = (type: GraphQLNamedType) =>
  (type.extensions as { readPlanAccess?: Access }).readPlanAccess ?? { kind: 'open' };

function accessOf(scopes: unknown): Access {
  if (scopes === undefined) return { kind: 'open' };
  if (typeof scopes === 'function') return { kind: 'function' };
  return { kind: 'map', scopes: scopes as Record<string, unknown> };
}

type PrismaSelect = (
  args: object,
  context: unknown,
  nestedQuery: (query: unknown) => unknown,
) => { select?: Record<string, Record<string, unknown>> };

export class ReadPlanPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onTypeConfig(typeConfig: PothosTypeConfig): PothosTypeConfig {
    if (typeConfig.kind !== 'Object') return typeConfig;
    const access = accessOf((typeConfig.pothosOptions as { authScopes?: unknown }).authScopes);
    const extensions = { ...typeConfig.extensions, readPlanAccess: access };
    const model = typeConfig.extensions?.pothosPrismaModel;
    if (typeof model !== 'string') return { ...typeConfig, extensions };
    const declared = typeConfig.extensions?.readPlan as { owner?: string } | undefined;
    const readPlan: TypePlan = { model, access, ...(declared?.owner ? { owner: declared.owner } : {}) };
    return { ...typeConfig, extensions: { ...extensions, readPlan } };
  }

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const plan = this.planOf(fieldConfig);
    const readPlanAccess = accessOf((fieldConfig.pothosOptions as { authScopes?: unknown }).authScopes);
    return {
      ...fieldConfig,
      extensions: { ...fieldConfig.extensions, readPlanAccess, ...(plan ? { readPlan: plan } : {}) },
    };
  }

  private planOf({ extensions, resolve, name, args }: PothosOutputFieldConfig<Types>): FieldPlan | undefined {
    if (Object.keys(args).length > 0) return undefined;
    const declared = extensions?.readPlan as FieldPlan | undefined;
    if (declared) return declared;
    const exposed = extensions?.pothosExposedField;
    if (typeof exposed === 'string') return { kind: 'column', field: exposed };
    const relation = (extensions?.pothosPrismaRelationField as { name?: string } | undefined)?.name;
    const select = extensions?.pothosPrismaSelect as PrismaSelect | undefined;
    if (typeof relation === 'string' && select) {
      return {
        kind: 'relation',
        relation,
        query: (context) => select({}, context, (query) => query).select?.[relation] ?? {},
      };
    }
    if (name === 'id' && resolve) return { kind: 'resolver', resolve: resolve as never };
    return undefined;
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      readPlan: ReadPlanPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('readPlan', ReadPlanPlugin);

export default 'readPlan' as const;
