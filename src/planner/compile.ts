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
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields.js';
import type { Context } from '../context.js';
import { typeOfId } from '../lib/ids.js';
import { MAX_NODES } from '../schema/builder.js';
import { countLimit } from '../schema/count.js';
import {
  cursorPayloadPrefix,
  type ListSpec,
  type LookupSpec,
  type Ordering,
  type Page,
  pageQuery,
  planPage,
} from '../schema/keyset.js';
import type { DataModel, Model } from './datamodel.js';
import { Unplannable } from './unplannable.js';
import { compileOrderBy, compileWhere, type Sql } from './where.js';

/** What a planned statement fails with when a row holds what the schema would refuse to answer. */
export const ROW_REFUSED = 'planner:not-an-object';

/**
 * Compiles a query operation into one SQL statement whose single value is the operation's `data`
 * as JSON text, built by PostgreSQL in the order GraphQL execution would produce it (field
 * collection is graphql-js' own, so aliases, fragments and @include/@skip behave as in execution).
 *
 * What is planned is decided here, from the schema and the data model, and nothing else:
 * - object fields of Prisma types that expose a column (`t.expose*`), the Relay `id`, `__typename`;
 * - `t.relation` fields (to-one, and to-many with an `orderBy`);
 * - connections built by src/schema/keyset.ts: root lists (`keysetList`), relation connections
 *   (`keysetConnection`), with the same where, order, page size, cursors and totalCount;
 * - root lookups (`lookup`), and `node`/`nodes`.
 * Anything else (a field with its own resolver, a union, an argument error, …) throws Unplannable.
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
    const modelName = ext(type).pothosPrismaModel;
    if (!modelName) continue;
    const model = dm.model(modelName);
    const row = Object.fromEntries([...model.columns.keys()].map((name) => [name, `planner-probe:${name}`]));
    const resolve = type.getFields().id?.extensions?.pothosOriginalResolve as
      | ((...args: unknown[]) => unknown)
      | undefined;
    try {
      const id = await resolve?.(row, {}, {}, { parentType: type });
      if (typeof id === 'string' && id.startsWith('planner-probe:') && model.columns.has(id.slice(14)))
        ids.set(type.name, id.slice(14));
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
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

const name = (text: string) => {
  if (!NAME.test(text)) throw new Unplannable(`name ${text}`);
  return text;
};

/** A JSON string literal of a GraphQL name (nothing to escape). */
const lit = (text: string) => `'"${name(text)}"'`;

const orNull = (value: string) => `coalesce(${value}, 'null')`;

function object(pairs: [string, string][]): string {
  if (pairs.length === 0) return `'{}'`;
  return `(${pairs.map(([key, value], i) => `'${i ? ',' : '{'}"${name(key)}":' || ${orNull(value)}`).join(' || ')} || '}')`;
}

/** A JSON array of the text values of `item` (non-null), in `order`; `[]` when there are none. */
const array = (item: string, order: string, filter = '') =>
  `coalesce('[' || string_agg(${item}, ',' ORDER BY ${order})${filter} || ']', '[]')`;

const bool = (condition: string) => `(CASE WHEN ${condition} THEN 'true' ELSE 'false' END)`;

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (expression: string) => `to_char(${expression} AT TIME ZONE 'UTC', ${ISO})`;

interface Extensions {
  pothosExposedField?: string;
  pothosPrismaRelationField?: { name: string };
  pothosPrismaSelect?: (...args: unknown[]) => unknown;
  keysetConnection?: { relation: string; connection: string; ordering: Ordering; through?: string };
  keysetList?: ListSpec<Record<string, unknown>>;
  lookup?: LookupSpec<Record<string, unknown>>;
  pothosPrismaModel?: string;
}

const ext = (thing: { extensions?: unknown }) => (thing.extensions ?? {}) as Extensions;

/** Whether the planner knows how to answer `field` of a Prisma object type (its arguments aside). */
export function isPlannableField(
  env: Pick<PlannerEnv, 'nodeIds'>,
  type: GraphQLObjectType,
  field: GraphQLField<unknown, unknown>,
): boolean {
  const { pothosExposedField, pothosPrismaRelationField, keysetConnection } = ext(field);
  if (!ext(type).pothosPrismaModel)
    return [
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
    ].includes(field.name);
  if (field.name === 'id' && env.nodeIds.has(type.name)) return true;
  return (
    Boolean((pothosExposedField || pothosPrismaRelationField) && field.args.length === 0) || Boolean(keysetConnection)
  );
}

class Compiler implements Sql {
  readonly params: unknown[] = [];
  verbatim = true;
  preparable = true;
  private aliases = 0;
  readonly fragments: Record<string, FragmentDefinitionNode> = Object.create(null);

  constructor(
    readonly env: PlannerEnv,
    readonly dm: DataModel,
    document: DocumentNode,
    readonly variables: Record<string, unknown>,
    readonly context: unknown,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments[definition.name.value] = definition;
    }
  }

  /** A parameter cast to `type`, or with the type PostgreSQL infers from its place when `type` is ''. */
  param(value: unknown, type: string): string {
    this.params.push(value);
    return type ? `$${this.params.length}::${type}` : `$${this.params.length}`;
  }

  patternParam(value: string): string {
    this.preparable = false;
    return this.param(value, 'text');
  }

  alias(): string {
    return `t${++this.aliases}`;
  }

  private subfields(type: GraphQLObjectType, nodes: Nodes) {
    return collectSubfields(this.env.schema, this.fragments, this.variables, type, nodes);
  }

  private args(field: GraphQLField<unknown, unknown>, node: FieldNode) {
    return getArgumentValues(field, node, this.variables) as Record<string, unknown>;
  }

  operation(operation: OperationDefinitionNode): string {
    const query = this.env.schema.getQueryType()!;
    const fields = collectFields(this.env.schema, this.fragments, this.variables, query, operation.selectionSet);
    const pairs: [string, string][] = [];
    for (const [key, nodes] of fields) {
      const name = nodes[0]!.name.value;
      if (name === '__typename') {
        pairs.push([key, lit(query.name)]);
        continue;
      }
      const field = query.getFields()[name];
      if (!field) throw new Unplannable(`Query.${name}`);
      pairs.push([key, this.rootField(field, nodes)]);
    }
    return `SELECT ${object(pairs)} AS data`;
  }

  private rootField(field: GraphQLField<unknown, unknown>, nodes: Nodes): string {
    const args = this.args(field, nodes[0]!);
    const { keysetList, lookup } = ext(field);
    if (keysetList) {
      const page = planPage(args, keysetList.connection, keysetList.ordering(args));
      const where = keysetList.where(args, this.context as Context);
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
      const alias = this.alias();
      const where = compileWhere(this, model, alias, lookup.where(args));
      return `(SELECT ${this.object(type, model, alias, nodes)} FROM ${model.table} ${alias} WHERE ${where} LIMIT 1)`;
    }
    if (field.name === 'node' && getNamedType(field.type).name === 'Node') return this.node(String(args.id), nodes);
    if (field.name === 'nodes' && getNamedType(field.type).name === 'Node') {
      const ids = args.ids as unknown[];
      if (ids.length > MAX_NODES) throw new Unplannable('nodes: too many');
      return ids.length
        ? `('[' || ${ids.map((id) => orNull(this.node(String(id), nodes))).join(` || ',' || `)} || ']')`
        : `'[]'`;
    }
    throw new Unplannable(`Query.${field.name}`);
  }

  /** A Relay node by ID: its type is its prefix's; soft-deleted rows are null, as builder.ts' `visible`. */
  private node(id: string, nodes: Nodes): string {
    const typename = typeOfId(id);
    const type = typename && this.env.schema.getType(typename);
    if (!(type instanceof GraphQLObjectType) || !type.getInterfaces().some((i) => i.name === 'Node'))
      throw new Unplannable(`node ${typename}`);
    const model = this.prismaModel(type);
    const alias = this.alias();
    const deleted = model.columns.get('deletedAt');
    const visible = deleted ? ` AND ${alias}.${deleted.sql} IS NULL` : '';
    const idColumn = this.dm.column(model, this.idField(type)!);
    return `(SELECT ${this.object(type, model, alias, nodes)} FROM ${model.table} ${alias} WHERE ${alias}.${idColumn.sql} = ${this.param(id, 'text')}${visible})`;
  }

  private objectType(type: GraphQLOutputType): GraphQLObjectType {
    const named = getNullableType(type);
    if (!(named instanceof GraphQLObjectType)) throw new Unplannable(`type ${String(type)}`);
    return named;
  }

  private prismaModel(type: GraphQLObjectType): Model {
    const name = ext(type).pothosPrismaModel;
    if (!name) throw new Unplannable(`${type.name} is not a Prisma type`);
    return this.dm.model(name);
  }

  private idField(type: GraphQLObjectType): string | undefined {
    return this.env.nodeIds.get(type.name);
  }

  /** The JSON object of one row of `model` (alias `alias`) for the fields `nodes` select on `type`. */
  private object(type: GraphQLObjectType, model: Model, alias: string, nodes: Nodes): string {
    const fields = this.subfields(type, nodes);
    const pairs: [string, string][] = [];
    for (const [key, fieldNodes] of fields) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') {
        pairs.push([key, lit(type.name)]);
        continue;
      }
      const field = type.getFields()[name];
      if (!field) throw new Unplannable(`${type.name}.${name}`);
      pairs.push([key, this.field(type, model, alias, field, fieldNodes)]);
    }
    return object(pairs);
  }

  private field(
    type: GraphQLObjectType,
    model: Model,
    alias: string,
    field: GraphQLField<unknown, unknown>,
    nodes: Nodes,
  ): string {
    const { pothosExposedField, pothosPrismaRelationField, keysetConnection } = ext(field);
    if (pothosExposedField && field.args.length === 0) return this.scalar(model, alias, pothosExposedField, field.type);
    if (field.name === 'id' && this.idField(type) && field.args.length === 0)
      return this.scalar(model, alias, this.idField(type)!, field.type);
    if (pothosPrismaRelationField && field.args.length === 0)
      return this.relation(model, alias, field, pothosPrismaRelationField.name, nodes);
    if (keysetConnection) return this.relationConnection(model, alias, field, keysetConnection, nodes);
    throw new Unplannable(`${type.name}.${field.name}`);
  }

  /** A column as the schema serializes it. */
  private scalar(model: Model, alias: string, fieldName: string, type: GraphQLOutputType): string {
    const column = this.dm.column(model, fieldName);
    const nullable = getNullableType(type);
    if (isListType(nullable)) throw new Unplannable(`${fieldName}: a list`);
    const value = `${alias}.${column.sql}`;
    if (nullable instanceof GraphQLEnumType) {
      if (column.kind !== 'enum') throw new Unplannable(`${fieldName}: enum of ${column.type}`);
      const cases = nullable.getValues().map((v) => {
        if (typeof v.value !== 'string' || !NAME.test(v.value)) throw new Unplannable(`${fieldName}: enum value`);
        return `WHEN '${v.value}' THEN ${lit(v.name)}`;
      });
      return `(CASE ${value}::text ${cases.join(' ')} END)`;
    }
    if (!(nullable instanceof GraphQLScalarType)) throw new Unplannable(`${fieldName}: ${String(type)}`);
    const pairs: Record<string, string> = {
      String: 'String',
      ID: 'String',
      Int: 'Int',
      Boolean: 'Boolean',
      DateTime: 'DateTime',
      JSONObject: 'Json',
    };
    if (pairs[nullable.name] !== column.type || column.kind !== 'scalar')
      throw new Unplannable(`${fieldName}: ${nullable.name} of ${column.type}`);
    if (column.type === 'DateTime') return `('"' || ${iso(value)} || '"')`;
    if (column.type === 'Json') {
      this.verbatim = false;
      // JSONObject refuses anything but an object: such a row makes the statement fail, and the
      // operation is answered by the Pothos path, which reports the field's error.
      return `(CASE WHEN ${value} IS NULL OR jsonb_typeof(${value}) = 'null' THEN NULL WHEN jsonb_typeof(${value}) = 'object' THEN ${value}::text ELSE ('${ROW_REFUSED}:' || jsonb_typeof(${value}))::int::text END)`;
    }
    if (column.type === 'Int') return `${value}::text`;
    if (column.type === 'Boolean') return `(CASE WHEN ${value} THEN 'true' WHEN NOT ${value} THEN 'false' END)`;
    return `to_json(${value})::text`;
  }

  private relation(
    model: Model,
    alias: string,
    field: GraphQLField<unknown, unknown>,
    relationName: string,
    nodes: Nodes,
  ): string {
    const relation = this.dm.relation(model, relationName);
    const target = this.dm.model(relation.model);
    const type = this.objectType(isListType(getNullableType(field.type)) ? getNamedType(field.type) : field.type);
    if (this.prismaModel(type).name !== target.name) throw new Unplannable(`${field.name}: model`);
    // The relation's own query (`t.relation(name, { query })`), as Pothos would merge it.
    const selected = ext(field).pothosPrismaSelect?.({}, this.context, (query: unknown) => query) as
      | { select?: Record<string, unknown> }
      | undefined;
    const query = (selected?.select?.[relationName] ?? {}) as Record<string, unknown>;
    if (Object.keys(query).some((k) => k !== 'where' && k !== 'orderBy')) throw new Unplannable(`${field.name}: query`);
    const child = this.alias();
    const where = `${relation.link(child, alias)} AND (${compileWhere(this, target, child, query.where)})`;
    const item = this.object(type, target, child, nodes);
    if (!relation.isList) {
      if (query.where || query.orderBy) throw new Unplannable(`${field.name}: to-one query`);
      return `(SELECT ${item} FROM ${target.table} ${child} WHERE ${where})`;
    }
    if (!query.orderBy) throw new Unplannable(`${field.name}: a list without an order`);
    return `(SELECT ${array(orNull(item), compileOrderBy(this, target, child, query.orderBy))} FROM ${target.table} ${child} WHERE ${where})`;
  }

  private relationConnection(
    model: Model,
    alias: string,
    field: GraphQLField<unknown, unknown>,
    spec: NonNullable<Extensions['keysetConnection']>,
    nodes: Nodes,
  ): string {
    const args = this.args(field, nodes[0]!);
    const page = planPage(args, spec.connection, spec.ordering);
    // The connection's own Prisma selection (keyset.ts' relationConnection), as Pothos would fold it in.
    type Selected = {
      select: { _count: { select: Record<string, { where: Where }> } } & Record<
        string,
        { where: Where; orderBy: unknown; take: number }
      >;
    };
    const { select } = ext(field).pothosPrismaSelect!(
      args,
      this.context,
      (query: unknown) => query,
      () => new Set(['edges', 'totalCount']),
    ) as Selected;
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
      link?: (child: string) => string;
      through?: string;
    },
  ): string {
    const { model, page } = options;
    const query = options.query ?? pageQuery(page, options.where);
    const fields = this.subfields(type, nodes);
    const a = this.alias();
    const linked = (alias: string) => (options.link ? `${options.link(alias)} AND ` : '');

    // Row-level columns of the inner page query, and the connection-level pairs over them.
    const rowColumns: [string, string][] = [];
    const pairs: [string, string][] = [];
    let cursor: string | undefined;
    const cursorColumn = () => {
      if (!cursor) {
        cursor = 'cur';
        rowColumns.push([`('"' || ${this.cursor(model, a, page)} || '"')`, 'cur']);
      }
      return cursor;
    };
    const inPage = `FILTER (WHERE r.rn <= ${page.size})`;
    const forward = page.backward ? 'DESC' : 'ASC';
    const reverse = page.backward ? 'ASC' : 'DESC';
    let needRows = false;
    const more = bool(`count(*) > ${page.size}`);

    for (const [key, fieldNodes] of fields) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') {
        pairs.push([key, lit(type.name)]);
      } else if (name === 'totalCount') {
        const c = this.alias();
        pairs.push([
          key,
          `(SELECT count(*) FROM ${model.table} ${c} WHERE ${linked(c)}(${compileWhere(this, model, c, options.countWhere)}))::text`,
        ]);
      } else if (name === 'count') {
        // count.ts' `count(limit:)`: at most limit + 1 rows read, and what that many says.
        const field = type.getFields().count!;
        const limit = countLimit(this.args(field, fieldNodes[0]!).limit as number);
        const countType = this.objectType(field.type);
        const c = this.alias();
        const counted = `(SELECT count(*) AS n FROM (SELECT 1 FROM ${model.table} ${c} WHERE ${linked(c)}(${compileWhere(this, model, c, options.countWhere)}) LIMIT ${limit + 1}) s)`;
        const info: [string, string][] = [];
        for (const [countKey, countNodes] of this.subfields(countType, fieldNodes)) {
          const countName = countNodes[0]!.name.value;
          if (countName === '__typename') info.push([countKey, lit(countType.name)]);
          else if (countName === 'count') info.push([countKey, `least(k.n, ${limit})::text`]);
          else if (countName === 'precision')
            info.push([countKey, `(CASE WHEN k.n > ${limit} THEN '"AT_LEAST"' ELSE '"EXACT"' END)`]);
          else throw new Unplannable(`${countType.name}.${countName}`);
        }
        pairs.push([key, `(SELECT ${object(info)} FROM ${counted} k)`]);
      } else if (name === 'edges') {
        needRows = true;
        const edgeType = this.objectType(getNamedType(type.getFields().edges!.type) as GraphQLObjectType);
        const column = `e${rowColumns.length}`;
        rowColumns.push([this.edge(edgeType, model, a, page, options.through, fieldNodes), column]);
        pairs.push([key, array(`r.${column}`, `r.rn ${forward}`, ` ${inPage}`)]);
      } else if (name === 'pageInfo') {
        needRows = true;
        const pageInfoType = this.objectType(type.getFields().pageInfo!.type);
        const info: [string, string][] = [];
        for (const [infoKey, infoNodes] of this.subfields(pageInfoType, fieldNodes)) {
          const infoName = infoNodes[0]!.name.value;
          if (infoName === '__typename') info.push([infoKey, lit(pageInfoType.name)]);
          else if (infoName === 'hasNextPage') info.push([infoKey, page.backward ? `'${page.before != null}'` : more]);
          else if (infoName === 'hasPreviousPage')
            info.push([infoKey, page.backward ? more : `'${page.after != null}'`]);
          else if (infoName === 'startCursor')
            info.push([infoKey, `(array_agg(r.${cursorColumn()} ORDER BY r.rn ${forward}) ${inPage})[1]`]);
          else if (infoName === 'endCursor')
            info.push([infoKey, `(array_agg(r.${cursorColumn()} ORDER BY r.rn ${reverse}) ${inPage})[1]`]);
          else throw new Unplannable(`PageInfo.${infoName}`);
        }
        pairs.push([key, object(info)]);
      } else {
        throw new Unplannable(`${type.name}.${name}`);
      }
    }
    if (!needRows) return `(SELECT ${object(pairs)})`;
    const order = compileOrderBy(this, model, a, query.orderBy);
    const where = compileWhere(this, model, a, query.where);
    // The row past the page only tells whether more follow: its JSON (nested connections included) is not built.
    const columns = rowColumns
      .map(([expression, name]) => `, CASE WHEN row_number() OVER w <= ${page.size} THEN ${expression} END AS ${name}`)
      .join('');
    const inner = `SELECT row_number() OVER w AS rn${columns} FROM ${model.table} ${a} WHERE ${linked(a)}(${where}) WINDOW w AS (ORDER BY ${order}) ORDER BY ${order} LIMIT ${Number(query.take)}`;
    if (query.take !== page.size + 1) throw new Unplannable('page size');
    // GROUP BY (): one row, also over an empty page and when no aggregate is selected.
    return `(SELECT ${object(pairs)} FROM (${inner}) r GROUP BY ())`;
  }

  private edge(
    type: GraphQLObjectType,
    model: Model,
    alias: string,
    page: Page,
    through: string | undefined,
    nodes: Nodes,
  ): string {
    const pairs: [string, string][] = [];
    for (const [key, fieldNodes] of this.subfields(type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') pairs.push([key, lit(type.name)]);
      else if (name === 'cursor') pairs.push([key, `('"' || ${this.cursor(model, alias, page)} || '"')`]);
      else if (name === 'node') {
        const nodeType = this.objectType(type.getFields().node!.type);
        if (!through) {
          if (this.prismaModel(nodeType).name !== model.name) throw new Unplannable('edge node model');
          pairs.push([key, this.object(nodeType, model, alias, fieldNodes)]);
        } else {
          const relation = this.dm.relation(model, through);
          const target = this.dm.model(relation.model);
          if (this.prismaModel(nodeType).name !== target.name) throw new Unplannable('edge node model');
          const child = this.alias();
          pairs.push([
            key,
            `(SELECT ${this.object(nodeType, target, child, fieldNodes)} FROM ${target.table} ${child} WHERE ${relation.link(child, alias)})`,
          ]);
        }
      } else throw new Unplannable(`${type.name}.${name}`);
    }
    return object(pairs);
  }

  /** keyset.ts' `encodeCursor`, in SQL: base64url of `[version, connection, order, sort value, id]`. */
  private cursor(model: Model, alias: string, page: Page): string {
    const { ordering } = page;
    if (ordering.model !== model.name) throw new Unplannable('cursor model');
    let value = `'null'`;
    if (ordering.field) {
      const column = this.dm.column(model, ordering.field);
      const col = `${alias}.${column.sql}`;
      if (column.type === 'DateTime') value = `coalesce('"' || ${iso(col)} || '"', 'null')`;
      else if (column.type === 'String') value = `coalesce(to_json(${col})::text, 'null')`;
      else if (column.type === 'Int') value = `coalesce(${col}::text, 'null')`;
      else throw new Unplannable(`cursor over ${column.type}`);
    }
    const id = `to_json(${alias}.${this.dm.column(model, 'id').sql})::text`;
    const payload = `${this.param(cursorPayloadPrefix(page.connection, ordering), 'text')} || ${value} || ',' || ${id} || ']'`;
    // base64url without padding; PostgreSQL's base64 wraps lines. (translate() would do it in one call, at twice the CPU.)
    return `rtrim(replace(replace(replace(encode(convert_to(${payload}, 'UTF8'), 'base64'), E'\\n', ''), '+', '-'), '/', '_'), '=')`;
  }
}

/**
 * The plan of a query for these variables, or Unplannable. Argument errors (a bad cursor, `first`
 * over the maximum, a malformed ID) are Unplannable too: the Pothos path reports them.
 */
export function compile(
  env: PlannerEnv,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | undefined,
  context: unknown,
): CompiledPlan {
  const coerced = getVariableValues(env.schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) throw new Unplannable('variables', 'variables');
  const compiler = new Compiler(env, env.dm, document, coerced.coerced, context);
  try {
    const sql = compiler.operation(operation);
    return {
      sql,
      params: compiler.params,
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
