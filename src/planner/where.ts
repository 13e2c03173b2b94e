import { type SQL, sql } from 'pg-sql2';
import type { Column, DataModel, Model } from './datamodel.js';
import { Unplannable } from './unplannable.js';

/**
 * Prisma `where` and `orderBy` inputs, as the schema's own filter functions and src/schema/keyset.ts
 * build them, turned into SQL the way Prisma's query compiler writes them (checked by the planner's
 * differential test). Only the operators those functions use are known; any other input is
 * Unplannable, so the operation falls back to Prisma.
 */

export interface Params {
  readonly dm: DataModel;
  /** A parameter, cast to `type` (none: PostgreSQL infers it from its place). */
  param(value: unknown, type?: SQL): SQL;
  /**
   * A LIKE pattern's parameter. The statement is then planned for its values on every run, never
   * prepared: a prepared statement's generic plan cannot know the pattern, so it cannot use a
   * trigram index (a search with no match took 344 ms instead of 9 at 200,000 customers).
   */
  patternParam(value: string): SQL;
}

type Where = Record<string, unknown>;

const SQL_TYPES: Record<string, SQL> = {
  String: sql`text`,
  Int: sql`int4`,
  Boolean: sql`boolean`,
  DateTime: sql`timestamptz`,
};

/** A fresh table alias: pg-sql2 names each symbol uniquely in the statement. */
export const newAlias = (description = 't') => sql.identifier(Symbol(description));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const and = (parts: SQL[]) => (parts.length ? sql.join(parts, ' AND ') : sql`TRUE`);

function scalarParam(params: Params, column: Column, value: unknown): SQL {
  // An enum's parameter has no cast: PostgreSQL gives it the column's own enum type (the data model
  // does not name it), so the column is compared as it is indexed, as Prisma compares it.
  if (column.kind === 'enum') {
    if (typeof value !== 'string') throw new Unplannable(`${column.name}: enum value`);
    return params.param(value);
  }
  const type = SQL_TYPES[column.type];
  if (!type) throw new Unplannable(`${column.name}: comparing ${column.type}`);
  if (value instanceof Date) {
    if (column.type !== 'DateTime') throw new Unplannable(`${column.name}: a date`);
    return params.param(value.toISOString(), type);
  }
  const expected =
    column.type === 'String' || column.type === 'DateTime' ? 'string' : column.type === 'Int' ? 'number' : 'boolean';
  if (typeof value !== expected || (column.type === 'DateTime' && typeof value === 'string'))
    throw new Unplannable(`${column.name}: ${typeof value}`);
  if (column.type === 'Int' && !Number.isSafeInteger(value)) throw new Unplannable(`${column.name}: not an integer`);
  return params.param(value, type);
}

const COMPARISONS = { gt: sql`>`, gte: sql`>=`, lt: sql`<`, lte: sql`<=` } as const;

function columnFilter(params: Params, alias: SQL, column: Column, filter: unknown): SQL {
  const col = sql`${alias}.${column.sql}`;
  if (filter === null) return sql`${col} IS NULL`;
  if (column.isList) return arrayFilter(params, col, column, filter);
  if (!isPlainObject(filter)) return sql`${col} = ${scalarParam(params, column, filter)}`;
  const { mode, ...ops } = filter;
  if (mode !== undefined && mode !== 'insensitive' && mode !== 'default') throw new Unplannable(`mode ${String(mode)}`);
  const insensitive = mode === 'insensitive';
  // Prisma's insensitive mode has its own meaning per operator (an `equals` is ILIKE, a pattern);
  // only the search operators' is written here, so any other falls back rather than differs.
  const searchOnly = Object.keys(ops).every((op) => op === 'contains' || op === 'startsWith');
  if (insensitive && !searchOnly) throw new Unplannable(`mode insensitive with ${Object.keys(ops).join(', ')}`);
  const like = insensitive ? sql`ILIKE` : sql`LIKE`;
  const parts: SQL[] = [];
  for (const [op, value] of Object.entries(ops)) {
    if (value === undefined) continue;
    switch (op) {
      case 'equals':
        parts.push(value === null ? sql`${col} IS NULL` : sql`${col} = ${scalarParam(params, column, value)}`);
        break;
      case 'in': {
        if (!Array.isArray(value)) throw new Unplannable('in: not a list');
        if (value.length === 0) {
          parts.push(sql`FALSE`);
          break;
        }
        if (column.kind !== 'enum' && column.type !== 'String') throw new Unplannable(`in over ${column.type}`);
        if (!value.every((v) => typeof v === 'string')) throw new Unplannable('in: not strings');
        parts.push(sql`${col} = ANY(${params.param(value, column.kind === 'enum' ? undefined : sql`text[]`)})`);
        break;
      }
      case 'not':
        if (value !== null) throw new Unplannable('not: a value');
        parts.push(sql`${col} IS NOT NULL`);
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        parts.push(sql`${col} ${COMPARISONS[op]} ${scalarParam(params, column, value)}`);
        break;
      case 'contains':
        if (column.type !== 'String' || typeof value !== 'string') throw new Unplannable('contains');
        parts.push(sql`${col} ${like} ('%' || ${params.patternParam(value)} || '%')`);
        break;
      case 'startsWith':
        if (column.type !== 'String' || typeof value !== 'string') throw new Unplannable('startsWith');
        parts.push(sql`${col} ${like} (${params.patternParam(value)} || '%')`);
        break;
      default:
        throw new Unplannable(`operator ${op}`);
    }
  }
  return and(parts);
}

/** Prisma's filters of a `String[]` column: `hasSome` (overlap) and `hasEvery` (containment), as a GIN index serves them. */
function arrayFilter(params: Params, col: SQL, column: Column, filter: unknown): SQL {
  if (column.type !== 'String' || !isPlainObject(filter)) throw new Unplannable(`${column.name}: list filter`);
  const parts: SQL[] = [];
  for (const [op, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      throw new Unplannable(`${column.name}: ${op} value`);
    if (op === 'hasSome') parts.push(sql`${col} && ${params.param(value, sql`text[]`)}`);
    else if (op === 'hasEvery') parts.push(sql`${col} @> ${params.param(value, sql`text[]`)}`);
    else throw new Unplannable(`${column.name}: operator ${op}`);
  }
  return and(parts);
}

/** `where` of `model` (row alias `alias`) as an SQL condition. */
export function compileWhere(params: Params, model: Model, alias: SQL, where: unknown): SQL {
  if (where === undefined) return sql`TRUE`;
  if (!isPlainObject(where)) throw new Unplannable('where: not an object');
  const parts: SQL[] = [];
  for (const [key, value] of Object.entries(where as Where)) {
    if (value === undefined) continue;
    if (key === 'AND') {
      const list = Array.isArray(value) ? value : [value];
      parts.push(...list.map((w) => sql`(${compileWhere(params, model, alias, w)})`));
    } else if (key === 'OR') {
      if (!Array.isArray(value)) throw new Unplannable('OR: not a list');
      parts.push(
        value.length
          ? sql`(${sql.join(
              value.map((w) => sql`(${compileWhere(params, model, alias, w)})`),
              ' OR ',
            )})`
          : sql`FALSE`,
      );
    } else if (key === 'NOT') {
      // Prisma's NOT: none of the conditions holds (of a list, none of its items). A NULL column
      // makes a condition unknown, which Prisma's NOT also leaves out, as SQL's NOT does.
      const list = Array.isArray(value) ? value : [value];
      parts.push(...list.map((w) => sql`NOT (${compileWhere(params, model, alias, w)})`));
    } else if (model.columns.has(key)) {
      parts.push(columnFilter(params, alias, model.columns.get(key)!, value));
    } else if (model.relations.has(key)) {
      const relation = model.relations.get(key)!;
      const target = params.dm.model(relation.model);
      const child = newAlias();
      let inner: unknown;
      if (relation.isList) {
        if (!isPlainObject(value) || Object.keys(value).some((k) => k !== 'some'))
          throw new Unplannable(`${key}: only "some"`);
        inner = value.some;
      } else {
        if (!isPlainObject(value) || 'isNot' in value) throw new Unplannable(`${key}: to-one filter`);
        inner = 'is' in value ? value.is : value;
        if (inner === null) throw new Unplannable(`${key}: is null`);
      }
      parts.push(
        sql`EXISTS (SELECT 1 FROM ${target.table} ${child} WHERE ${relation.link(child, alias)} AND (${compileWhere(params, target, child, inner)}))`,
      );
    } else {
      throw new Unplannable(`where: ${model.name}.${key}`);
    }
  }
  return and(parts);
}

const DIRECTIONS = { asc: sql`ASC`, desc: sql`DESC` } as const;
const NULLS = { first: sql` NULLS FIRST`, last: sql` NULLS LAST` } as const;

/** Prisma's `orderBy` (a list of one-column objects) as an SQL ORDER BY list. */
export function compileOrderBy(params: Params, model: Model, alias: SQL, orderBy: unknown): SQL {
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  const parts = list.map((entry) => {
    if (!isPlainObject(entry) || Object.keys(entry).length !== 1) throw new Unplannable('orderBy entry');
    const [field, spec] = Object.entries(entry)[0]!;
    const column = params.dm.column(model, field);
    const direction = isPlainObject(spec) ? spec.sort : spec;
    if (direction !== 'asc' && direction !== 'desc') throw new Unplannable('orderBy direction');
    const nulls = isPlainObject(spec) ? spec.nulls : undefined;
    if (nulls !== undefined && nulls !== 'first' && nulls !== 'last') throw new Unplannable('orderBy nulls');
    return sql`${alias}.${column.sql} ${DIRECTIONS[direction]}${nulls ? NULLS[nulls] : sql.blank}`;
  });
  if (!parts.length) throw new Unplannable('empty orderBy');
  return sql.join(parts, ', ');
}
