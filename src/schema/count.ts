import { builder } from './builder.js';
import { invalidArgument } from './invalid-argument.js';
import type { Connection } from './keyset.js';

export const DEFAULT_COUNT_LIMIT = 10_000;
export const MAX_COUNT_LIMIT = 100_000;

const CountPrecision = builder.enumType('CountPrecision', {
  description: 'Whether a count is the exact number, or a lower bound of it.',
  values: {
    EXACT: { description: 'The exact number.' },
    AT_LEAST: { description: 'There are more than the limit; the count is the limit.' },
  } as const,
});

export interface BoundedCount {
  count: number;
  precision: 'EXACT' | 'AT_LEAST';
}

const Count = builder.objectRef<BoundedCount>('Count').implement({
  description: 'A count up to a limit, and whether it is exact.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    precision: t.expose('precision', { type: CountPrecision }),
  }),
});

/** A `count(limit:)` argument, checked: the same words for the resolver and the read planner. */
export function countLimit(limit: number | null | undefined): number {
  const value = limit ?? DEFAULT_COUNT_LIMIT;
  if (value < 1 || value > MAX_COUNT_LIMIT)
    throw invalidArgument('limit', `must be 1 to ${MAX_COUNT_LIMIT}, got ${value}`);
  return value;
}

/** What a count of at most `limit + 1` rows says. */
export function bounded(found: number, limit: number): BoundedCount {
  return found > limit ? { count: limit, precision: 'AT_LEAST' } : { count: found, precision: 'EXACT' };
}

// Every connection also has a count that reads at most `limit` + 1 rows (keyset.ts `countUpTo`).
builder.globalConnectionField('count', (t) =>
  t.field({
    type: Count,
    description:
      `The number of rows the filter matches, read up to \`limit\` (1 to ${MAX_COUNT_LIMIT}, default ${DEFAULT_COUNT_LIMIT}): ` +
      '`EXACT` up to it, else `AT_LEAST` with the limit as the count. Unlike `totalCount` it never reads more than `limit` + 1 rows.',
    args: { limit: t.arg.int({ defaultValue: DEFAULT_COUNT_LIMIT }) },
    resolve: async (connection, args) => {
      const limit = countLimit(args.limit);
      return bounded(await (connection as Connection<unknown>).countUpTo(limit + 1), limit);
    },
  }),
);
