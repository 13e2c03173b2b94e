import type { Column, DataModel, Model } from './datamodel.js';
import { Unplannable } from './unplannable.js';

/**
 * Prisma `where` and `orderBy` inputs, as the schema's own filter functions and src/schema/keyset.ts
 * build them, turned into SQL the way Prisma's query compiler writes them (checked by the planner's
 * differential test). Only the operators those functions use are known; any other input is
 * Unplannable, so the operation falls back to Prisma.
 */

export interface Sql {
  readonly dm: DataModel;
  /** Adds a parameter and returns its placeholder, cast to `type` (none when `type` is ''). */
  param(value: unknown, type: string): string;
  /**
   * A LIKE pattern's parameter. The statement is then planned for its values on every run, never
   * prepared: a prepared statement's generic plan cannot know the pattern, so it cannot use a
   * trigram index (a search with no match took 344 ms instead of 9 at 200,000 customers).
   */
  patternParam(value: string): string;
  alias(): string;
}

type Where = Record<string, unknown>;

const SQL_TYPES: Record<string, string> = { String: 'text', Int: 'int4', Boolean: 'boolean', DateTime: 'timestamptz' };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function scalarParam(sql: Sql, column: Column, value: unknown): string {
  if (column.kind === 'enum') {
    if (typeof value !== 'string') throw new Unplannable(`${column.name}: enum value`);
    return sql.param(value, ENUM);
  }
  const type = SQL_TYPES[column.type];
  if (!type) throw new Unplannable(`${column.name}: comparing ${column.type}`);
  if (value instanceof Date) {
    if (column.type !== 'DateTime') throw new Unplannable(`${column.name}: a date`);
    return sql.param(value.toISOString(), type);
  }
  const expected =
    column.type === 'String' || column.type === 'DateTime' ? 'string' : column.type === 'Int' ? 'number' : 'boolean';
  if (typeof value !== expected || (column.type === 'DateTime' && typeof value === 'string'))
    throw new Unplannable(`${column.name}: ${typeof value}`);
  if (column.type === 'Int' && !Number.isSafeInteger(value)) throw new Unplannable(`${column.name}: not an integer`);
  return sql.param(value, type);
}

/**
 * An enum's parameter has no cast: PostgreSQL gives it the column's own enum type (the data model
 * does not name it), so the column is compared as it is indexed, as Prisma compares it.
 */
const ENUM = '';

function columnFilter(sql: Sql, alias: string, column: Column, filter: unknown): string {
  const col = `${alias}.${column.sql}`;
  if (filter === null) return `${col} IS NULL`;
  if (!isPlainObject(filter)) return `${col} = ${scalarParam(sql, column, filter)}`;
  const { mode, ...ops } = filter;
  if (mode !== undefined && mode !== 'insensitive' && mode !== 'default') throw new Unplannable(`mode ${String(mode)}`);
  const insensitive = mode === 'insensitive';
  // Prisma's insensitive mode has its own meaning per operator (an `equals` is ILIKE, a pattern);
  // only the search operators' is written here, so any other falls back rather than differs.
  const searchOnly = Object.keys(ops).every((op) => op === 'contains' || op === 'startsWith');
  if (insensitive && !searchOnly) throw new Unplannable(`mode insensitive with ${Object.keys(ops).join(', ')}`);
  const parts: string[] = [];
  for (const [op, value] of Object.entries(ops)) {
    if (value === undefined) continue;
    switch (op) {
      case 'equals':
        if (value === null) parts.push(`${col} IS NULL`);
        else parts.push(`${col} = ${scalarParam(sql, column, value)}`);
        break;
      case 'in': {
        if (!Array.isArray(value)) throw new Unplannable('in: not a list');
        if (value.length === 0) {
          parts.push('FALSE');
          break;
        }
        if (column.kind !== 'enum' && column.type !== 'String') throw new Unplannable(`in over ${column.type}`);
        if (!value.every((v) => typeof v === 'string')) throw new Unplannable('in: not strings');
        parts.push(`${col} = ANY(${sql.param(value, column.kind === 'enum' ? ENUM : 'text[]')})`);
        break;
      }
      case 'not':
        if (value !== null) throw new Unplannable('not: a value');
        parts.push(`${col} IS NOT NULL`);
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const symbol = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
        parts.push(`${col} ${symbol} ${scalarParam(sql, column, value)}`);
        break;
      }
      case 'contains':
        if (column.type !== 'String' || typeof value !== 'string') throw new Unplannable('contains');
        parts.push(`${col} ${insensitive ? 'ILIKE' : 'LIKE'} ('%' || ${sql.patternParam(value)} || '%')`);
        break;
      case 'startsWith':
        if (column.type !== 'String' || typeof value !== 'string') throw new Unplannable('startsWith');
        parts.push(`${col} ${insensitive ? 'ILIKE' : 'LIKE'} (${sql.patternParam(value)} || '%')`);
        break;
      default:
        throw new Unplannable(`operator ${op}`);
    }
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** `where` of `model` (row alias `alias`) as an SQL condition. */
export function compileWhere(sql: Sql, model: Model, alias: string, where: unknown): string {
  if (where === undefined) return 'TRUE';
  if (!isPlainObject(where)) throw new Unplannable('where: not an object');
  const parts: string[] = [];
  for (const [key, value] of Object.entries(where as Where)) {
    if (value === undefined) continue;
    if (key === 'AND') {
      const list = Array.isArray(value) ? value : [value];
      parts.push(...list.map((w) => `(${compileWhere(sql, model, alias, w)})`));
    } else if (key === 'OR') {
      if (!Array.isArray(value)) throw new Unplannable('OR: not a list');
      parts.push(
        value.length ? `(${value.map((w) => `(${compileWhere(sql, model, alias, w)})`).join(' OR ')})` : 'FALSE',
      );
    } else if (model.columns.has(key)) {
      parts.push(columnFilter(sql, alias, model.columns.get(key)!, value));
    } else if (model.relations.has(key)) {
      const relation = model.relations.get(key)!;
      const target = sql.dm.model(relation.model);
      const child = sql.alias();
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
        `EXISTS (SELECT 1 FROM ${target.table} ${child} WHERE ${relation.link(child, alias)} AND (${compileWhere(sql, target, child, inner)}))`,
      );
    } else {
      throw new Unplannable(`where: ${model.name}.${key}`);
    }
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** Prisma's `orderBy` (a list of one-column objects) as an SQL ORDER BY list. */
export function compileOrderBy(sql: Sql, model: Model, alias: string, orderBy: unknown): string {
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  const parts = list.map((entry) => {
    if (!isPlainObject(entry) || Object.keys(entry).length !== 1) throw new Unplannable('orderBy entry');
    const [field, spec] = Object.entries(entry)[0]!;
    const column = sql.dm.column(model, field);
    const direction = isPlainObject(spec) ? spec.sort : spec;
    if (direction !== 'asc' && direction !== 'desc') throw new Unplannable('orderBy direction');
    const nulls = isPlainObject(spec) ? spec.nulls : undefined;
    if (nulls !== undefined && nulls !== 'first' && nulls !== 'last') throw new Unplannable('orderBy nulls');
    return `${alias}.${column.sql} ${direction.toUpperCase()}${nulls ? ` NULLS ${nulls.toUpperCase()}` : ''}`;
  });
  if (!parts.length) throw new Unplannable('empty orderBy');
  return parts.join(', ');
}
