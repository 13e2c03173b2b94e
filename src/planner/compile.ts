import { randomUUID } from 'node:crypto';
import { collectFields, collectSubFields } from '@graphql-tools/utils';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLEnumType,
  GraphQLError,
  type GraphQLField,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLScalarType,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { type SQL, type SQLRawValue, sql } from 'pg-sql2';
import { scopeMapGrants, scopesOf } from '../auth.js';
import type { Context } from '../context.js';
import { MAX_NODES } from '../schema/builder.js';
import { countLimit } from '../schema/count.js';
import { cursorSql } from '../schema/cursor.js';
import { dateTimeSql } from '../schema/date-time.js';
import type { EntitiesSpec } from '../schema/federation.js';
import {
  type ConnectionSpec,
  type ListSpec,
  type LookupSpec,
  type Page,
  pageFlags,
  pageQuery,
  planPage,
} from '../schema/keyset.js';
import type { NodeLookupSpec, Reference } from '../schema/lookup.js';
import { codeSql, type MoneyPlan, minorUnitsSql } from '../schema/money.js';
import { type FieldPlan, fieldAccess, fieldPlan, typePlan } from '../schema/read-plan-plugin.js';
import type { DataModel, Model } from './datamodel.js';
import { Unplannable } from './unplannable.js';
import { compileOrderBy, compileWhere, newAlias, type Params } from './where.js';

/** What a planned statement fails with when a row holds what the schema would refuse to answer. */
export const ROW_REFUSED = 'planner:not-an-object';

/**
 * Compiles a query operation into one SQL statement whose single value is the operation's `data`
 * as JSON text, built by PostgreSQL in the order GraphQL execution would produce it (fields are
 * collected as graphql-js collects them, by @graphql-tools/utils, so aliases, fragments and
 * @include/@skip behave as in execution).
 *
 * What is planned is decided here, from the schema's `readPlan` declarations (read-plan-plugin.ts)
 * and the data model, and nothing else:
 * - object fields of Prisma types that show a column (`t.expose*`), the Relay `id`, `__typename`;
 * - `t.relation` fields (to-one, and to-many with an `orderBy`);
 * - connections built by src/schema/keyset.ts: root lists (`keysetList`), relation connections
 *   (`keysetConnection`), with the same where, order, page size, cursors and totalCount;
 * - root lookups (`lookup`), and `node`/`nodes`.
 * Anything else (a field with its own resolver, a union, an argument error, @defer, …) throws
 * Unplannable. SQL is built with pg-sql2: identifiers are quoted, values are parameters, and every
 * table alias is a symbol that pg-sql2 names uniquely in the statement.
 */

type Nodes = readonly FieldNode[];
type Where = Record<string, unknown>;

export interface PlannerEnv {
  schema: GraphQLSchema;
  dm: DataModel;
  /** Per Relay node type, the column its `id` shows (see `nodeIdColumns`). */
  nodeIds: Map<string, string>;
}

/**
 * The column each Relay node type's `id` shows, found by asking the field's own resolver: given a
 * row whose every column holds a marker naming it, the ID it answers must be one marker verbatim.
 * A type whose ID is anything else (encoded, computed) is not in the map, so its `id` falls back.
 */
export async function nodeIdColumns(schema: GraphQLSchema, dm: DataModel): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || !type.getInterfaces().some((i) => i.name === 'Node')) continue;
    const modelName = typePlan(type)?.model;
    const id = type.getFields().id;
    const plan = id && fieldPlan(id);
    if (!modelName || plan?.kind !== 'resolver') continue;
    const model = dm.model(modelName);
    const row = Object.fromEntries([...model.columns.keys()].map((name) => [name, `planner-probe:${name}`]));
    try {
      const value = await plan.resolve(row, {}, {}, { parentType: type } as never);
      if (typeof value === 'string' && value.startsWith('planner-probe:') && model.columns.has(value.slice(14)))
        ids.set(type.name, value.slice(14));
    } catch {
      // Not a plain column: left out.
    }
  }
  return ids;
}

export interface CompiledPlan {
  sql: string;
  params: unknown[];
  /**
   * The statement's text is the response's `data` exactly as JSON.stringify would write the Pothos
   * path's: true unless a JSON column is selected (PostgreSQL writes jsonb with spaces and its own
   * key order and number forms; those plans are parsed and written again).
   */
  verbatim: boolean;
  /** Its prepared statement's name, once run; null: run unnamed (past the cap, or a LIKE pattern: see `patternParam`). */
  name?: string | null;
}

// Every expression the compiler builds is text holding compact JSON (or SQL NULL for JSON null),
// written as JSON.stringify writes it: no spaces, keys in selection order. PostgreSQL's own
// json_build_object and json_agg put spaces in, and cost more besides.

/**
 * A JSON string of a GraphQL name (or an object key and its colon) as SQL text: pg-sql2 writes it
 * as a literal, since a GraphQL name holds nothing to escape (any other text becomes a parameter).
 */
const jsonString = (name: string) => sql.literal(JSON.stringify(name));

const orNull = (value: SQL) => sql`coalesce(${value}, 'null')`;

function object(pairs: [string, SQL][]): SQL {
  if (pairs.length === 0) return sql`'{}'`;
  // The punctuation and the key in parentheses: PostgreSQL folds the constant once, not per row.
  const members = pairs.map(
    ([key, value], i) =>
      sql`(${i ? sql`','` : sql`'{'`} || ${sql.literal(`${JSON.stringify(key)}:`)}) || ${orNull(value)}`,
  );
  return sql`(${sql.join(members, ' || ')} || '}')`;
}

/** A JSON array of the text values of `item` (non-null), in `order`; `[]` when there are none. */
const array = (item: SQL, order: SQL, filter: SQL = sql.blank) =>
  sql`coalesce('[' || string_agg(${item}, ',' ORDER BY ${order})${filter} || ']', '[]')`;

const bool = (condition: SQL) => sql`(CASE WHEN ${condition} THEN 'true' ELSE 'false' END)`;

const int = (value: number) => {
  if (!Number.isSafeInteger(value)) throw new Unplannable(`not an integer: ${value}`);
  return sql.literal(value);
};

interface Extensions {
  entities?: EntitiesSpec;
  nodeLookup?: NodeLookupSpec;
  keysetConnection?: ConnectionSpec;
  keysetList?: ListSpec<Record<string, unknown>>;
  lookup?: LookupSpec<Record<string, unknown>>;
}

const ext = (field: GraphQLField<unknown, unknown>) => (field.extensions ?? {}) as Extensions;

/** The connection-level fields the compiler answers (on connection, edge, count and page types). */
const CONNECTION_FIELDS = new Set([
  'edges',
  'node',
  'cursor',
  'pageInfo',
  'totalCount',
  'count',
  'precision',
  'hasNextPage',
  'hasPreviousPage',
  'startCursor',
  'endCursor',
]);

/** Whether the planner knows how to answer `field` of an object type (its arguments aside). */
export function isPlannableField(
  env: Pick<PlannerEnv, 'nodeIds'>,
  type: GraphQLObjectType,
  field: GraphQLField<unknown, unknown>,
): boolean {
  if (!typePlan(type)) return CONNECTION_FIELDS.has(field.name);
  if (field.name === 'id' && env.nodeIds.has(type.name)) return true;
  const plan = fieldPlan(field);
  return plan?.kind === 'column' || plan?.kind === 'relation' || Boolean(ext(field).keysetConnection);
}

class Compiler implements Params {
  verbatim = true;
  preparable = true;
  readonly fragments: Record<string, FragmentDefinitionNode> = Object.create(null);
  /** The variables as @graphql-tools/utils takes them (graphql 17's shape; it reads `coerced` on 16). */
  private readonly variableValues: { coerced: Record<string, unknown>; sources: Record<string, never> };

  /** The viewer's scopes, as scope-auth has them (auth.ts' `scopesOf`). */
  private readonly scopes: Record<string, boolean>;

  constructor(
    readonly env: PlannerEnv,
    readonly dm: DataModel,
    document: DocumentNode,
    readonly variables: Record<string, unknown>,
    readonly context: Context,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments[definition.name.value] = definition;
    }
    this.variableValues = { coerced: variables, sources: {} };
    this.scopes = scopesOf(context.viewer, context.services);
  }

  /** Whether a scope map grants the viewer, as scope-auth decides it. */
  private grants(map: Record<string, unknown>): boolean {
    const granted = scopeMapGrants(map, this.scopes);
    if (granted === undefined) throw new Unplannable(`scopes ${JSON.stringify(map)}`);
    return granted;
  }

  /** A field the viewer may not read is answered by the Pothos path, with scope-auth's error. */
  private checkField(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>) {
    const access = fieldAccess(field);
    if (access.kind === 'function') throw new Unplannable(`${parent.name}.${field.name}: a scope function`);
    if (access.kind === 'map' && !this.grants(access.scopes))
      throw new Unplannable(`${parent.name}.${field.name}: not granted`, 'forbidden');
  }

  /**
   * Each row's JSON under its type's rule: granted by a scope map or refused (the Pothos path
   * answers); an owner rule (owner.ts) is nothing for an admin and, for a customer, a check of
   * the row's owner column against the viewer in SQL: another owner's row makes the statement
   * fail (ROW_REFUSED), and the Pothos path answers with its FORBIDDEN at that row.
   */
  private underRule(type: GraphQLObjectType, model: Model, alias: SQL, json: SQL): SQL {
    const { access, owner } = typePlan(type)!;
    if (access.kind === 'open') return json;
    if (access.kind === 'map') {
      if (!this.grants(access.scopes)) throw new Unplannable(`${type.name}: not granted`, 'forbidden');
      return json;
    }
    if (!owner) throw new Unplannable(`${type.name}: a scope function`);
    if (this.context.viewer.kind === 'admin') return json;
    if (this.context.viewer.kind !== 'customer') throw new Unplannable(`${type.name}: not signed in`, 'forbidden');
    const column = sql`${alias}.${this.dm.column(model, owner).sql}`;
    const viewer = this.param(this.context.viewer.customerId, sql`text`);
    // The refusal reads the row, so that PostgreSQL cannot fold it into a constant and raise it
    // while planning (it would, for `CASE WHEN … ELSE 'x'::int END`).
    const refused = sql`(${sql.literal(`${ROW_REFUSED}:owner:`)} || coalesce(${column}, ''))::int::text`;
    return sql`(CASE WHEN ${column} = ${viewer} THEN ${json} ELSE ${refused} END)`;
  }

  param(value: unknown, type?: SQL): SQL {
    const placeholder = sql.value(value as SQLRawValue);
    return type ? sql`${placeholder}::${type}` : placeholder;
  }

  patternParam(value: string): SQL {
    this.preparable = false;
    return this.param(value, sql`text`);
  }

  /** Incremental delivery is execution's: a `@defer`red fragment or a `@stream`ed list is not planned. */
  private fields(collected: { fields: Map<string, FieldNode[]>; patches: unknown[] }) {
    if (collected.patches.length) throw new Unplannable('@defer');
    for (const nodes of collected.fields.values())
      if (nodes.some((node) => node.directives?.some((d) => d.name.value === 'stream')))
        throw new Unplannable('@stream');
    return collected.fields;
  }

  private subfields(type: GraphQLObjectType, nodes: Nodes) {
    return this.fields(
      collectSubFields(this.env.schema, this.fragments, this.variableValues, type, nodes as FieldNode[]),
    );
  }

  private args(field: GraphQLField<unknown, unknown>, node: FieldNode) {
    return getArgumentValues(field, node, this.variables) as Record<string, unknown>;
  }

  operation(operation: OperationDefinitionNode): SQL {
    const query = this.env.schema.getQueryType()!;
    const fields = this.fields(
      collectFields(this.env.schema, this.fragments, this.variableValues, query, operation.selectionSet),
    );
    const pairs: [string, SQL][] = [];
    for (const [key, nodes] of fields) {
      const name = nodes[0]!.name.value;
      if (name === '__typename') {
        pairs.push([key, jsonString(query.name)]);
        continue;
      }
      const field = query.getFields()[name];
      if (!field) throw new Unplannable(`Query.${name}`);
      this.checkField(query, field);
      pairs.push([key, this.rootField(field, nodes)]);
    }
    return sql`SELECT ${object(pairs)} AS data`;
  }

  private rootField(field: GraphQLField<unknown, unknown>, nodes: Nodes): SQL {
    const args = this.args(field, nodes[0]!);
    const { keysetList, lookup, entities, nodeLookup } = ext(field);
    if (entities) return this.entities(entities, args.representations as never, nodes);
    if (keysetList) {
      const page = planPage(args, keysetList.connection, keysetList.ordering(args));
      const where = keysetList.where(args, this.context);
      return this.connection(this.objectType(field.type), nodes, {
        model: this.dm.model(keysetList.model),
        page,
        where,
        countWhere: where,
      });
    }
    if (lookup) {
      const type = this.objectType(field.type);
      const model = this.prismaModel(type);
      if (model.name !== lookup.model) throw new Unplannable(`${field.name}: model`);
      const alias = newAlias();
      const where = compileWhere(this, model, alias, lookup.where(args, this.context));
      const row = sql`(SELECT ${this.object(type, model, alias, nodes)} FROM ${model.table} ${alias} WHERE ${where} LIMIT 1)`;
      if (!isNonNullType(field.type)) return row;
      // A non-null lookup (`me`) that finds nothing is an error: the statement fails and the Pothos
      // path reports it. random() keeps PostgreSQL from raising it while planning.
      return sql`coalesce(${row}, (${sql.literal(`${ROW_REFUSED}:missing:`)} || random())::int::text)`;
    }
    if (nodeLookup && field.name === 'node') return this.node(nodeLookup, String(args.id), nodes);
    if (nodeLookup && field.name === 'nodes') {
      const ids = args.ids as unknown[];
      if (ids.length > MAX_NODES) throw new Unplannable('nodes: too many', 'argument');
      if (!ids.length) return sql`'[]'`;
      const items = ids.map((id) => orNull(this.node(nodeLookup, String(id), nodes)));
      return sql`('[' || ${sql.join(items, ` || ',' || `)} || ']')`;
    }
    throw new Unplannable(`Query.${field.name}`);
  }

  /**
   * Federation's `_entities` (federation.ts): one row per representation, in order, found by its
   * key (an ID, or a customer's folded email with the preferred row first) under the same rule the
   * loaders apply; an unknown or refused row is null. One subquery per kind of key, over the
   * positions unnested from two array parameters, so the statement's text depends only on which
   * kinds occur and is prepared like any other.
   */
  private entities(spec: EntitiesSpec, representations: never, nodes: Nodes): SQL {
    const slots = spec.slots(representations, this.context, this.env.schema);
    if (slots.some((slot) => slot instanceof GraphQLError)) throw new Unplannable('representations', 'argument');
    const refs = slots as Reference[];
    if (!refs.length) return sql`'[]'`;
    const kinds = refs.map((ref) => ('email' in ref ? `${ref.type}:email` : ref.type));
    const p = newAlias('p');
    const branches = [...new Set(kinds)].sort().map((kind) => {
      const [typeName, byEmail] = kind.split(':') as [Reference['type'], string | undefined];
      const type = this.objectType(this.env.schema.getType(typeName) as GraphQLOutputType);
      const model = this.prismaModel(type);
      const alias = newAlias();
      const key = this.dm.column(model, byEmail ? 'emailFolded' : 'id');
      const where = compileWhere(this, model, alias, spec.where(typeName, this.context.viewer));
      const order = byEmail ? sql` ORDER BY ${compileOrderBy(this, model, alias, spec.emailPreference)}` : sql.blank;
      const row = this.object(type, model, alias, nodes);
      return sql`WHEN ${sql.literal(kind)} THEN (SELECT ${row} FROM ${model.table} ${alias} WHERE ${alias}.${key.sql} = ${p}.k AND (${where})${order} LIMIT 1)`;
    });
    const keys = refs.map((ref) => ('email' in ref ? ref.email : ref.id));
    const positions = sql`unnest(${this.param(kinds, sql`text[]`)}, ${this.param(keys, sql`text[]`)}) WITH ORDINALITY AS ${p}(t, k, n)`;
    return sql`(SELECT '[' || string_agg(coalesce(CASE ${p}.t ${sql.join(branches, ' ')} END, 'null'), ',' ORDER BY ${p}.n) || ']' FROM ${positions})`;
  }

  /** A Relay node by ID (lookup.ts): its type is its prefix's, found under the same `where` as the loaders'. */
  private node(spec: NodeLookupSpec, id: string, nodes: Nodes): SQL {
    const typename = spec.typeOf(id);
    if (!typename) throw new Unplannable(`node ${id}`, 'argument');
    const type = this.objectType(this.env.schema.getType(typename) as GraphQLOutputType);
    // A type whose rule refuses the viewer outright: its `where` finds none of its rows for them
    // (a customer's key of a membership), so the answer is null, as the loaders' is.
    const { access } = typePlan(type)!;
    if (access.kind === 'map' && !this.grants(access.scopes)) return sql`NULL`;
    const model = this.prismaModel(type);
    const alias = newAlias();
    const where = compileWhere(this, model, alias, {
      AND: [{ [this.idField(type)!]: id }, spec.where(typename, this.context.viewer)],
    });
    return sql`(SELECT ${this.object(type, model, alias, nodes)} FROM ${model.table} ${alias} WHERE ${where})`;
  }

  private objectType(type: GraphQLOutputType): GraphQLObjectType {
    const named = getNullableType(type);
    if (!(named instanceof GraphQLObjectType)) throw new Unplannable(`type ${String(type)}`);
    return named;
  }

  private prismaModel(type: GraphQLObjectType): Model {
    const name = typePlan(type)?.model;
    if (!name) throw new Unplannable(`${type.name} is not a Prisma type`);
    return this.dm.model(name);
  }

  private idField(type: GraphQLObjectType): string | undefined {
    return this.env.nodeIds.get(type.name);
  }

  /** The JSON object of one row of `model` (alias `alias`) for the fields `nodes` select on `type`. */
  private object(type: GraphQLObjectType, model: Model, alias: SQL, nodes: Nodes): SQL {
    const pairs: [string, SQL][] = [];
    for (const [key, fieldNodes] of this.subfields(type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') {
        pairs.push([key, jsonString(type.name)]);
        continue;
      }
      const field = type.getFields()[name];
      if (!field) throw new Unplannable(`${type.name}.${name}`);
      this.checkField(type, field);
      pairs.push([key, this.field(type, model, alias, field, fieldNodes)]);
    }
    return this.underRule(type, model, alias, object(pairs));
  }

  private field(
    type: GraphQLObjectType,
    model: Model,
    alias: SQL,
    field: GraphQLField<unknown, unknown>,
    nodes: Nodes,
  ): SQL {
    const plan = fieldPlan(field);
    const { keysetConnection } = ext(field);
    if (plan?.kind === 'column') return this.scalar(model, alias, plan.field, field.type);
    if (field.name === 'id' && this.idField(type) && field.args.length === 0)
      return this.scalar(model, alias, this.idField(type)!, field.type);
    if (plan?.kind === 'relation') return this.relation(model, alias, field, plan, nodes);
    if (plan?.kind === 'money') return this.money(model, alias, field, plan, nodes);
    if (plan?.kind === 'embedded') return this.embedded(model, alias, field, plan.fields, nodes);
    if (keysetConnection) return this.relationConnection(model, alias, field, keysetConnection, nodes);
    throw new Unplannable(`${type.name}.${field.name}`);
  }

  /** A column as the schema serializes it. */
  private scalar(model: Model, alias: SQL, fieldName: string, type: GraphQLOutputType): SQL {
    const column = this.dm.column(model, fieldName);
    const nullable = getNullableType(type);
    const value = sql`${alias}.${column.sql}`;
    if (isListType(nullable) || column.isList) {
      // A list of strings from an array column (tags), as it is stored.
      const item = isListType(nullable) ? getNullableType(nullable.ofType) : null;
      if (!column.isList || column.type !== 'String' || !(item instanceof GraphQLScalarType) || item.name !== 'String')
        throw new Unplannable(`${fieldName}: a list`);
      return sql`to_json(${value})::text`;
    }
    if (nullable instanceof GraphQLEnumType) {
      // An enum is a database enum, or text holding exactly the enum's values (CHECK constraints).
      if (column.kind !== 'enum' && column.type !== 'String')
        throw new Unplannable(`${fieldName}: enum of ${column.type}`);
      const cases = nullable.getValues().map((v) => {
        if (typeof v.value !== 'string') throw new Unplannable(`${fieldName}: enum value`);
        return sql`WHEN ${sql.literal(v.value)} THEN ${jsonString(v.name)}`;
      });
      return sql`(CASE ${value}::text ${sql.join(cases, ' ')} END)`;
    }
    if (!(nullable instanceof GraphQLScalarType)) throw new Unplannable(`${fieldName}: ${String(type)}`);
    const pairs: Record<string, string> = {
      String: 'String',
      ID: 'String',
      Int: 'Int',
      Boolean: 'Boolean',
      DateTime: 'DateTime',
      JSONObject: 'Json',
      CountryCode: 'String',
      CurrencyCode: 'String',
    };
    if (pairs[nullable.name] !== column.type || column.kind !== 'scalar')
      throw new Unplannable(`${fieldName}: ${nullable.name} of ${column.type}`);
    if (column.type === 'DateTime') return sql`('"' || ${dateTimeSql(value)} || '"')`;
    if (column.type === 'Json') {
      this.verbatim = false;
      // JSONObject refuses anything but an object: such a row makes the statement fail, and the
      // operation is answered by the Pothos path, which reports the field's error.
      return sql`(CASE WHEN ${value} IS NULL OR jsonb_typeof(${value}) = 'null' THEN NULL WHEN jsonb_typeof(${value}) = 'object' THEN ${value}::text ELSE (${sql.literal(`${ROW_REFUSED}:`)} || jsonb_typeof(${value}))::int::text END)`;
    }
    if (nullable.name === 'CountryCode' || nullable.name === 'CurrencyCode')
      return sql`to_json(${codeSql(value)})::text`;
    if (column.type === 'Int') return sql`${value}::text`;
    if (column.type === 'Boolean') return sql`(CASE WHEN ${value} THEN 'true' WHEN NOT ${value} THEN 'false' END)`;
    return sql`to_json(${value})::text`;
  }

  /** An object of the row's columns (read-plan-plugin's `embedded`), each field shown as its column is. */
  private embedded(
    model: Model,
    alias: SQL,
    field: GraphQLField<unknown, unknown>,
    columns: Record<string, string>,
    nodes: Nodes,
  ): SQL {
    const type = this.objectType(field.type);
    const pairs: [string, SQL][] = [];
    for (const [key, fieldNodes] of this.subfields(type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      const column = columns[name];
      if (name === '__typename') pairs.push([key, jsonString(type.name)]);
      else if (column) pairs.push([key, this.scalar(model, alias, column, type.getFields()[name]!.type)]);
      else throw new Unplannable(`${type.name}.${name}`);
    }
    return object(pairs);
  }

  /** A Money object (money.ts): the amount's columns multiplied, in the row's (or its relation's) currency. */
  private money(model: Model, alias: SQL, field: GraphQLField<unknown, unknown>, plan: MoneyPlan, nodes: Nodes): SQL {
    const type = this.objectType(field.type);
    const amount = sql`(${sql.join(
      plan.amount.map((name) => sql`${alias}.${this.dm.column(model, name).sql}`),
      ' * ',
    )})`;
    let currency: SQL;
    if (plan.currency.relation) {
      const relation = this.dm.relation(model, plan.currency.relation);
      const target = this.dm.model(relation.model);
      const child = newAlias();
      const column = this.dm.column(target, plan.currency.field).sql;
      currency = sql`(SELECT ${child}.${column} FROM ${target.table} ${child} WHERE ${relation.link(child, alias)})`;
    } else {
      currency = sql`${alias}.${this.dm.column(model, plan.currency.field).sql}`;
    }
    const pairs: [string, SQL][] = [];
    for (const [key, fieldNodes] of this.subfields(type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') pairs.push([key, jsonString(type.name)]);
      else if (name === 'amount') pairs.push([key, sql`to_json(${minorUnitsSql(amount, currency)})::text`]);
      else if (name === 'currencyCode') pairs.push([key, sql`to_json(${codeSql(currency)})::text`]);
      else throw new Unplannable(`${type.name}.${name}`);
    }
    return object(pairs);
  }

  private relation(
    model: Model,
    alias: SQL,
    field: GraphQLField<unknown, unknown>,
    plan: Extract<FieldPlan, { kind: 'relation' }>,
    nodes: Nodes,
  ): SQL {
    const relation = this.dm.relation(model, plan.relation);
    const target = this.dm.model(relation.model);
    const type = this.objectType(isListType(getNullableType(field.type)) ? getNamedType(field.type) : field.type);
    if (this.prismaModel(type).name !== target.name) throw new Unplannable(`${field.name}: model`);
    // The relation's own query (`t.relation(name, { query })`), as Pothos would merge it.
    const query = plan.query(this.context);
    if (Object.keys(query).some((k) => k !== 'where' && k !== 'orderBy')) throw new Unplannable(`${field.name}: query`);
    const child = newAlias();
    const where = sql`${relation.link(child, alias)} AND (${compileWhere(this, target, child, query.where)})`;
    const item = this.object(type, target, child, nodes);
    if (!relation.isList) {
      if (query.where || query.orderBy) throw new Unplannable(`${field.name}: to-one query`);
      return sql`(SELECT ${item} FROM ${target.table} ${child} WHERE ${where})`;
    }
    if (plan.single) {
      if (isListType(getNullableType(field.type))) throw new Unplannable(`${field.name}: single of a list`);
      return sql`(SELECT ${item} FROM ${target.table} ${child} WHERE ${where} LIMIT 1)`;
    }
    if (!query.orderBy) throw new Unplannable(`${field.name}: a list without an order`);
    const order = compileOrderBy(this, target, child, query.orderBy);
    return sql`(SELECT ${array(orNull(item), order)} FROM ${target.table} ${child} WHERE ${where})`;
  }

  private relationConnection(
    model: Model,
    alias: SQL,
    field: GraphQLField<unknown, unknown>,
    spec: ConnectionSpec,
    nodes: Nodes,
  ): SQL {
    const args = this.args(field, nodes[0]!);
    const page = planPage(args, spec.connection, spec.ordering);
    // The connection's own Prisma selection (keyset.ts' relationConnection), as Pothos would fold it in.
    type Selected = {
      _count: { select: Record<string, { where: Where }> };
    } & Record<string, { where: Where; orderBy: unknown; take: number }>;
    const select = spec.select(
      args,
      this.context,
      (query) => query,
      () => new Set(['edges', 'totalCount']),
    ).select as Selected;
    const rows = select[spec.relation]!;
    const countWhere = select._count.select[spec.relation]!.where;
    const relation = this.dm.relation(model, spec.relation);
    return this.connection(this.objectType(field.type), nodes, {
      model: this.dm.model(relation.model),
      page,
      where: countWhere,
      countWhere,
      query: rows,
      link: (child) => relation.link(child, alias),
      through: spec.through,
    });
  }

  /**
   * A keyset connection: the page read in the query's direction with one row more than the page
   * (pageInfo), turned back for `last`; totalCount with the same filter, without the bounds.
   */
  private connection(
    type: GraphQLObjectType,
    nodes: Nodes,
    options: {
      model: Model;
      page: Page;
      where: Where;
      countWhere: Where;
      query?: { where: Where; orderBy: unknown; take: number };
      link?: (child: SQL) => SQL;
      through?: string;
    },
  ): SQL {
    const { model, page } = options;
    const query = options.query ?? pageQuery(page, options.where);
    const a = newAlias();
    const r = newAlias('r');
    const linked = (alias: SQL) => (options.link ? sql`${options.link(alias)} AND ` : sql.blank);
    const counted = (alias: SQL) => sql`${linked(alias)}(${compileWhere(this, model, alias, options.countWhere)})`;
    const size = int(page.size);

    // Row-level columns of the inner page query, and the connection-level pairs over them.
    const rowColumns: [SQL, SQL][] = [];
    const pairs: [string, SQL][] = [];
    let cursor: SQL | undefined;
    const cursorColumn = () => {
      if (!cursor) {
        cursor = sql.identifier('cur');
        rowColumns.push([sql`('"' || ${this.cursor(model, a, page)} || '"')`, cursor]);
      }
      return cursor;
    };
    const rn = sql.identifier('rn');
    const inPage = sql` FILTER (WHERE ${r}.${rn} <= ${size})`;
    const forward = page.backward ? sql`DESC` : sql`ASC`;
    const reverse = page.backward ? sql`ASC` : sql`DESC`;
    let needRows = false;
    const more = bool(sql`count(*) > ${size}`);

    for (const [key, fieldNodes] of this.subfields(type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') {
        pairs.push([key, jsonString(type.name)]);
      } else if (name === 'totalCount') {
        const c = newAlias('c');
        pairs.push([key, sql`(SELECT count(*) FROM ${model.table} ${c} WHERE ${counted(c)})::text`]);
      } else if (name === 'count') {
        // count.ts' `count(limit:)`: at most limit + 1 rows read, and what that many says.
        const field = type.getFields().count!;
        const limit = countLimit(this.args(field, fieldNodes[0]!).limit as number);
        const countType = this.objectType(field.type);
        const c = newAlias('c');
        const k = newAlias('k');
        const info: [string, SQL][] = [];
        for (const [countKey, countNodes] of this.subfields(countType, fieldNodes)) {
          const countName = countNodes[0]!.name.value;
          if (countName === '__typename') info.push([countKey, jsonString(countType.name)]);
          else if (countName === 'count') info.push([countKey, sql`least(${k}.n, ${int(limit)})::text`]);
          else if (countName === 'precision')
            info.push([countKey, sql`(CASE WHEN ${k}.n > ${int(limit)} THEN '"AT_LEAST"' ELSE '"EXACT"' END)`]);
          else throw new Unplannable(`${countType.name}.${countName}`);
        }
        const rows = sql`(SELECT 1 FROM ${model.table} ${c} WHERE ${counted(c)} LIMIT ${int(limit + 1)})`;
        pairs.push([key, sql`(SELECT ${object(info)} FROM (SELECT count(*) AS n FROM ${rows} ${newAlias('s')}) ${k})`]);
      } else if (name === 'edges') {
        needRows = true;
        const edgeType = this.objectType(getNamedType(type.getFields().edges!.type) as GraphQLObjectType);
        const column = sql.identifier(`e${rowColumns.length}`);
        rowColumns.push([this.edge(edgeType, model, a, page, options.through, fieldNodes), column]);
        pairs.push([key, array(sql`${r}.${column}`, sql`${r}.${rn} ${forward}`, inPage)]);
      } else if (name === 'pageInfo') {
        needRows = true;
        const pageInfoType = this.objectType(type.getFields().pageInfo!.type);
        const info: [string, SQL][] = [];
        for (const [infoKey, infoNodes] of this.subfields(pageInfoType, fieldNodes)) {
          const infoName = infoNodes[0]!.name.value;
          if (infoName === '__typename') info.push([infoKey, jsonString(pageInfoType.name)]);
          else if (infoName === 'hasNextPage' || infoName === 'hasPreviousPage')
            info.push([infoKey, pageFlags(page, more, (known) => sql.literal(String(known)))[infoName]]);
          else if (infoName === 'startCursor')
            info.push([infoKey, sql`(array_agg(${r}.${cursorColumn()} ORDER BY ${r}.${rn} ${forward})${inPage})[1]`]);
          else if (infoName === 'endCursor')
            info.push([infoKey, sql`(array_agg(${r}.${cursorColumn()} ORDER BY ${r}.${rn} ${reverse})${inPage})[1]`]);
          else throw new Unplannable(`PageInfo.${infoName}`);
        }
        pairs.push([key, object(info)]);
      } else {
        throw new Unplannable(`${type.name}.${name}`);
      }
    }
    if (!needRows) return sql`(SELECT ${object(pairs)})`;
    if (query.take !== page.size + 1) throw new Unplannable('page size');
    const w = newAlias('w');
    const order = compileOrderBy(this, model, a, query.orderBy);
    const where = compileWhere(this, model, a, query.where);
    // The row past the page only tells whether more follow: its JSON (nested connections included) is not built.
    const columns = rowColumns.map(
      ([expression, name]) => sql`, CASE WHEN row_number() OVER ${w} <= ${size} THEN ${expression} END AS ${name}`,
    );
    const inner = sql`SELECT row_number() OVER ${w} AS ${rn}${sql.join(columns, '')} FROM ${model.table} ${a} WHERE ${linked(a)}(${where}) WINDOW ${w} AS (ORDER BY ${order}) ORDER BY ${order} LIMIT ${int(query.take)}`;
    // GROUP BY (): one row, also over an empty page and when no aggregate is selected.
    return sql`(SELECT ${object(pairs)} FROM (${inner}) ${r} GROUP BY ())`;
  }

  private edge(
    type: GraphQLObjectType,
    model: Model,
    alias: SQL,
    page: Page,
    through: string | undefined,
    nodes: Nodes,
  ): SQL {
    const pairs: [string, SQL][] = [];
    for (const [key, fieldNodes] of this.subfields(type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') pairs.push([key, jsonString(type.name)]);
      else if (name === 'cursor') pairs.push([key, sql`('"' || ${this.cursor(model, alias, page)} || '"')`]);
      else if (name === 'node') {
        const nodeType = this.objectType(type.getFields().node!.type);
        if (!through) {
          if (this.prismaModel(nodeType).name !== model.name) throw new Unplannable('edge node model');
          pairs.push([key, this.object(nodeType, model, alias, fieldNodes)]);
        } else {
          const relation = this.dm.relation(model, through);
          const target = this.dm.model(relation.model);
          if (this.prismaModel(nodeType).name !== target.name) throw new Unplannable('edge node model');
          const child = newAlias();
          const item = this.object(nodeType, target, child, fieldNodes);
          pairs.push([key, sql`(SELECT ${item} FROM ${target.table} ${child} WHERE ${relation.link(child, alias)})`]);
        }
      } else throw new Unplannable(`${type.name}.${name}`);
    }
    return object(pairs);
  }

  /** The cursor of the row `alias` of `model`, as cursor.ts writes it. */
  private cursor(model: Model, alias: SQL, page: Page): SQL {
    if (page.ordering.model !== model.name) throw new Unplannable('cursor model');
    return cursorSql(
      page.connection,
      page.ordering,
      (field) => sql`${alias}.${this.dm.column(model, field).sql}`,
      (value) => this.param(value, sql`text`),
    );
  }
}

/**
 * A customer's plan is compiled once for every customer: their ID is this marker while compiling,
 * and each parameter that is the marker is the viewer's ID when the statement runs (`bindViewer`).
 */
export const VIEWER_ID = `planner:viewer:${randomUUID()}`;

export const bindViewer = (params: unknown[], customerId: string) =>
  params.map((value) => (value === VIEWER_ID ? customerId : value));

/**
 * The plan of a query for these variables, or Unplannable. Argument errors (a bad cursor, `first`
 * over the maximum, a malformed ID) are Unplannable too: the Pothos path reports them.
 */
export function compile(
  env: PlannerEnv,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | undefined,
  context: Context,
): CompiledPlan {
  const coerced = getVariableValues(env.schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) throw new Unplannable('variables', 'variables');
  const compiler = new Compiler(env, env.dm, document, coerced.coerced, context);
  try {
    const { text, values } = sql.compile(compiler.operation(operation));
    if (values.some((value) => value !== VIEWER_ID && JSON.stringify(value)?.includes(VIEWER_ID)))
      throw new Unplannable('the viewer inside a value');
    return {
      sql: text,
      params: values,
      verbatim: compiler.verbatim,
      ...(compiler.preparable ? {} : { name: null }),
    };
  } catch (error) {
    // The resolvers' own refusal of an argument (invalidArgument): the Pothos path reports it.
    if (error instanceof GraphQLError) throw new Unplannable(`refused: ${error.message}`, 'argument');
    // Anything else is a defect of the compiler, and the caller decides what a defect costs.
    throw error;
  }
}
