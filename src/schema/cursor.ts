import { type SQL, sql } from 'pg-sql2';
import { getDatamodel } from '../generated/pothos-types.js';
import { typeOfId } from '../lib/ids.js';
import { dateTimeSql, dateTimeText } from './date-time.js';
import { invalidArgument } from './invalid-argument.js';
import type { Ordering } from './keyset.js';

/**
 * The cursor format, once for both read paths: a cursor is base64url (unpadded) of the JSON array
 * `[version, connection, order, sort value, id]`. `encodeCursor` writes it from a row in
 * TypeScript (the Pothos path); `cursorSql` writes it from the same columns in SQL (the read
 * planner), from the same prefix and the same sort-value codecs, so the two are byte-identical
 * (the planner's differential test compares them).
 */

const CURSOR_VERSION = 1;
const MAX_CURSOR_LENGTH = 1024;

type Row = Record<string, unknown> & { id: string };

const models = getDatamodel().datamodel.models as unknown as Record<
  string,
  { fields: { name: string; type: string; isRequired: boolean }[] }
>;

/** A column of the data model (type and nullability) by model and field name. */
export function column(model: string, field: string) {
  const found = models[model]?.fields.find((f) => f.name === field);
  if (!found) throw new Error(`${model}.${field} is not a column of the data model`);
  return found;
}

const orderKey = ({ field, direction }: Ordering) => `${field ?? 'id'}:${direction}`;

/** How a sort value is written into a cursor's JSON: from the row's value, and from its column in SQL. */
interface SortValue {
  json: (value: never) => unknown;
  /** JSON text of a non-null column value. */
  sql: (column: SQL) => SQL;
}

const SORT_VALUES: Record<string, SortValue> = {
  DateTime: { json: (value: Date) => dateTimeText(value), sql: (column) => sql`'"' || ${dateTimeSql(column)} || '"'` },
  String: { json: (value: string) => value, sql: (column) => sql`to_json(${column})::text` },
  Int: { json: (value: number) => value, sql: (column) => sql`${column}::text` },
};

function sortValue(ordering: Ordering): SortValue | null {
  if (!ordering.field) return null;
  const { type } = column(ordering.model, ordering.field);
  const codec = SORT_VALUES[type];
  if (!codec) throw new Error(`cannot page by ${ordering.model}.${ordering.field} of type ${type}`);
  return codec;
}

/** The payload's JSON up to the sort value: `[version,"connection","order",`. */
const payloadPrefix = (connection: string, ordering: Ordering) =>
  `${JSON.stringify([CURSOR_VERSION, connection, orderKey(ordering)]).slice(0, -1)},`;

export function encodeCursor(connection: string, ordering: Ordering, row: Row): string {
  const codec = sortValue(ordering);
  const value = ordering.field ? row[ordering.field] : null;
  const payload = `${payloadPrefix(connection, ordering)}${JSON.stringify(value == null || !codec ? null : codec.json(value as never))},${JSON.stringify(row.id)}]`;
  return Buffer.from(payload).toString('base64url');
}

/**
 * `encodeCursor` as an SQL expression over a row's columns: `column(field)` is a column of the
 * row, `text(value)` a text parameter. PostgreSQL's base64 wraps lines and pads; base64url does not.
 */
export function cursorSql(
  connection: string,
  ordering: Ordering,
  column: (field: string) => SQL,
  text: (value: string) => SQL,
): SQL {
  const codec = sortValue(ordering);
  const value = codec && ordering.field ? sql`coalesce(${codec.sql(column(ordering.field))}, 'null')` : sql`'null'`;
  const payload = sql`${text(payloadPrefix(connection, ordering))} || ${value} || ',' || to_json(${column('id')})::text || ']'`;
  // (translate() would do the three replacements in one call, at twice the CPU.)
  return sql`rtrim(replace(replace(replace(encode(convert_to(${payload}, 'UTF8'), 'base64'), chr(10), ''), '+', '-'), '/', '_'), '=')`;
}

export interface Key {
  value: unknown;
  id: string;
}

export function decodeCursor(argument: string, cursor: string, connection: string, ordering: Ordering): Key {
  const bad = (why: string) => invalidArgument(argument, why);
  const foreign = bad('not a cursor issued by this service');
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw foreign;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw foreign;
  }
  if (!Array.isArray(payload) || payload.length !== 5 || payload[0] !== CURSOR_VERSION) throw foreign;
  const [, issuedFor, order, value, id] = payload as [number, unknown, unknown, unknown, unknown];
  if (issuedFor !== connection) throw bad(`a cursor of another connection, not of ${connection}`);
  if (order !== orderKey(ordering))
    throw bad('a cursor of another sort order: start again without a cursor after changing orderBy');
  if (typeof id !== 'string' || typeOfId(id) !== ordering.model) throw foreign;
  return { value: ordering.field ? parseValue(ordering, value, foreign) : null, id };
}

function parseValue(ordering: Ordering, value: unknown, foreign: Error): unknown {
  const { type, isRequired } = column(ordering.model, ordering.field!);
  if (value === null) {
    if (isRequired) throw foreign;
    return null;
  }
  switch (type) {
    case 'DateTime': {
      if (typeof value !== 'string') throw foreign;
      const date = new Date(value);
      // Only instants a timestamp column can hold (years 1 to 9999) were ever issued.
      if (
        Number.isNaN(date.getTime()) ||
        dateTimeText(date) !== value ||
        !/^\d{4}-/.test(value) ||
        value.startsWith('0000-')
      )
        throw foreign;
      return date;
    }
    case 'String':
      // PostgreSQL refuses NUL in text: such a value was never issued by us.
      if (typeof value !== 'string' || value.includes('\u0000')) throw foreign;
      return value;
    case 'Int':
      if (!Number.isSafeInteger(value)) throw foreign;
      return value;
    default:
      throw new Error(`cannot page by ${ordering.model}.${ordering.field} of type ${type}`);
  }
}
