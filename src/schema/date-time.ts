import { GraphQLError, GraphQLScalarType, type ValueNode } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { type SQL, sql } from 'pg-sql2';

/**
 * How an instant is written, once for both read paths: UTC, milliseconds, `Z`
 * (`2026-12-07T06:35:19.000Z`), as Date's toISOString writes it (a column holds years 1 to 9999).
 * `dateTimeSql` is the same text written by PostgreSQL from a timestamptz column, for the read
 * planner; the differential test compares the two.
 */
export const dateTimeText = (value: Date) => value.toISOString();

export const dateTimeSql = (column: SQL) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** PostgreSQL has no year 0: an instant before this fails in the database instead of as bad input. */
const EARLIEST = new Date('0001-01-01T00:00:00.000Z');

function storable(value: Date, node?: ValueNode): Date {
  if (value.getTime() < EARLIEST.getTime()) {
    throw new GraphQLError(`DateTime must be ${dateTimeText(EARLIEST)} or later, got ${dateTimeText(value)}.`, {
      nodes: node,
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value;
}

/**
 * graphql-scalars' RFC 3339 DateTime, limited to what PostgreSQL can store and compare: its
 * four-digit years allow "0000-…" (or "0001-01-01T00:00:00+01:00"), which is before year 1 in UTC.
 */
export const DateTime = new GraphQLScalarType<Date, Date | string>({
  ...DateTimeResolver.toConfig(),
  serialize: (value) => dateTimeText(DateTimeResolver.serialize(value)),
  parseValue: (value) => storable(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => storable(DateTimeResolver.parseLiteral(ast, variables), ast),
});
