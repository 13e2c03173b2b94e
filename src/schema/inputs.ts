import { JSONObjectResolver } from 'graphql-scalars';
import type { Context } from '../context.js';
import { type IdType, typeOfId } from '../lib/ids.js';
import type { Selection } from '../services/batch.js';
import { BatchTooLargeError, EmptyFilterError, NotFoundError, ValidationError } from '../services/errors.js';
import { CONTROL_CHARACTERS } from '../services/validation.js';
import { builder } from './builder.js';
import { DateTime } from './date-time.js';
import { invalidArgument } from './invalid-argument.js';

builder.addScalarType('DateTime', DateTime);
builder.addScalarType('JSONObject', JSONObjectResolver);

export const SortDirection = builder.enumType('SortDirection', {
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
});

export const DateTimeFilter = builder.inputType('DateTimeFilter', {
  description: 'A range of instants; every bound given must hold.',
  fields: (t) => ({
    gt: t.field({ type: 'DateTime' }),
    gte: t.field({ type: 'DateTime' }),
    lt: t.field({ type: 'DateTime' }),
    lte: t.field({ type: 'DateTime' }),
  }),
});

type Range = { gt?: Date | null; gte?: Date | null; lt?: Date | null; lte?: Date | null };

export function dateRange(range: Range | null | undefined) {
  if (!range) return undefined;
  return {
    ...(range.gt ? { gt: range.gt } : {}),
    ...(range.gte ? { gte: range.gte } : {}),
    ...(range.lt ? { lt: range.lt } : {}),
    ...(range.lte ? { lte: range.lte } : {}),
  };
}

/**
 * Below this many characters a search term matches the start of a field, not any part of it: the
 * trigram indexes that serve a substring search need three characters, and "jo" anywhere in a
 * million customers is a scan of all of them. A prefix of one or two is read from the same indexes.
 */
const SUBSTRING_MIN_LENGTH = 3;
export const MAX_SEARCH_LENGTH = 100;

/** How `q` matches, for the schema's descriptions. */
export const SEARCH_RULE = `Case-insensitive; a term of 1 or 2 characters matches the start of a field, a longer one any part; at most ${MAX_SEARCH_LENGTH} characters, no control characters.`;

/** A search term's case-insensitive match of one field (see SUBSTRING_MIN_LENGTH), LIKE's wildcards taken literally. */
export function ilike(q: string) {
  const literal = q.replace(/[\\%_]/g, (c) => `\\${c}`);
  return [...q].length < SUBSTRING_MIN_LENGTH
    ? { startsWith: literal, mode: 'insensitive' as const }
    : { contains: literal, mode: 'insensitive' as const };
}

/** What separates the fields of a generated `search_text` column (see migration 20261207040000). */
const FIELD_SEPARATOR = '\x1f';

/**
 * `ilike` over several fields at once, through their generated `search_text` column: a substring
 * of any field is a substring of the column (a term holds no separator: `searchTerm`), and a field
 * starts right after a separator.
 */
export function searchTextMatch(q: string) {
  const match = ilike(q);
  return 'startsWith' in match ? { contains: FIELD_SEPARATOR + match.startsWith, mode: match.mode } : match;
}

/** Checks that `id` is an ID of `type`; the error names the argument. */
export function parseId(id: string, type: IdType, argumentName: string): string {
  if (typeOfId(id) !== type) {
    throw invalidArgument(argumentName, `"${id}" is not a ${type} ID`);
  }
  return id;
}

export function parseIds(ids: readonly string[], type: IdType, argumentName: string): string[] {
  return ids.map((id) => parseId(id, type, argumentName));
}

/** What a mutation acting on `selectionFrom`'s rows can answer besides its result. */
export const selectionErrors = [ValidationError, NotFoundError, EmptyFilterError, BatchTooLargeError];

/**
 * The rows a batch mutation acts on, from its `ids` or `filter` argument, as its service takes
 * them: the IDs parsed as `type`'s, or the filter with its Prisma condition by `where`. Which of
 * the two (exactly one) and a filter's emptiness are the service's to check.
 */
export function selectionFrom<Filter extends object, Where>(
  type: IdType,
  where: (filter: Filter, ctx: Context) => Where,
) {
  return (
    args: { ids?: readonly (string | number)[] | null; filter?: Filter | null },
    ctx: Context,
  ): Selection<Where> => ({
    ids: args.ids ? parseIds(args.ids.map(String), type, 'ids') : null,
    filter: args.filter,
    where: args.filter ? where(args.filter, ctx) : undefined,
  });
}

/** Turns an optional trimmed search string into undefined when blank; a longer term than the maximum is bad input. */
export function searchTerm(q: string | null | undefined, argumentName = 'filter.q'): string | undefined {
  const trimmed = q?.trim();
  if (trimmed && CONTROL_CHARACTERS.test(trimmed)) {
    throw invalidArgument(argumentName, 'a search term cannot contain control characters');
  }
  if (trimmed && [...trimmed].length > MAX_SEARCH_LENGTH) {
    throw invalidArgument(
      argumentName,
      `a search term is at most ${MAX_SEARCH_LENGTH} characters, got ${[...trimmed].length}`,
    );
  }
  return trimmed ? trimmed : undefined;
}
