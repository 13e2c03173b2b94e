import { GraphQLError, GraphQLScalarType, type ValueNode } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';

/** PostgreSQL has no year 0: an instant before this fails in the database instead of as bad input. */
const EARLIEST = new Date('0001-01-01T00:00:00.000Z');

function storable(value: Date, node?: ValueNode): Date {
  if (value.getTime() < EARLIEST.getTime()) {
    throw new GraphQLError(`DateTime must be ${EARLIEST.toISOString()} or later, got ${value.toISOString()}.`, {
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
  parseValue: (value) => storable(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => storable(DateTimeResolver.parseLiteral(ast, variables), ast),
});
