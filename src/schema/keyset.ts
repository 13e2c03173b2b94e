import { queryFromInfo } from '@pothos/plugin-prisma';
import { type GraphQLResolveInfo, Kind } from 'graphql';
import type { Context } from '../context.js';
import type { IdType } from '../lib/ids.js';
import { column, decodeCursor, encodeCursor, type Key } from './cursor.js';
import { invalidArgument } from './invalid-argument.js';

/**
 * Every connection of the schema pages here, by a real keyset: a cursor carries the sort value and
 * the ID of the row it was issued for, and the next page is `(sort, id) > (cursor)` in the
 * database. So deleting, soft-deleting or editing the row under a cursor never empties, repeats or
 * skips the rest, unlike a cursor that names a row and needs that row to still be there.
 */

export const DEFAULT_PAGE_SIZE = 15;
export const MAX_PAGE_SIZE = 100;

type Direction = 'asc' | 'desc';
type Row = Record<string, unknown> & { id: string };
type Where = Record<string, unknown>;

/** A connection's order: one sort column (or none), then the row's ID in the same direction. */
export interface Ordering {
  /** The Prisma model of the rows paged (for a through-relation, the join rows). */
  model: IdType;
  field: string | null;
  direction: Direction;
}

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** What a page asks the database for, decided once from the arguments. */
export interface Page {
  connection: string;
  ordering: Ordering;
  size: number;
  /** Paging with `last`: the query runs in reverse order and the page is turned back. */
  backward: boolean;
  after: Key | null;
  before: Key | null;
}

/** A root list as its resolver pages it, declared once for the resolver and the read planner. */
export interface ListSpec<Args> {
  model: IdType;
  connection: string;
  where: (args: Args, ctx: Context) => Where;
  ordering: (args: Args) => Ordering;
}

/** A root lookup (`customer(id)`, …) as its resolver finds its row, for the resolver and the read planner. */
export interface LookupSpec<Args> {
  model: IdType;
  where: (args: Args, ctx: Context) => Where;
}
const flip = (direction: Direction): Direction => (direction === 'asc' ? 'desc' : 'asc');

export function planPage(args: ConnectionArgs, connection: string, ordering: Ordering): Page {
  for (const name of ['first', 'last'] as const) {
    const value = args[name];
    if (value == null) continue;
    if (value < 0) throw invalidArgument(name, `must be zero or more, got ${value}`);
    if (value > MAX_PAGE_SIZE) throw invalidArgument(name, `must be at most ${MAX_PAGE_SIZE}, got ${value}`);
  }
  if (args.first != null && args.last != null) {
    throw invalidArgument(
      'last',
      'cannot be combined with "first": page forwards with first/after or backwards with last/before',
    );
  }
  const backward = args.last != null || (args.first == null && args.before != null);
  return {
    connection,
    ordering,
    size: args.first ?? args.last ?? DEFAULT_PAGE_SIZE,
    backward,
    after: args.after != null ? decodeCursor('after', args.after, connection, ordering) : null,
    before: args.before != null ? decodeCursor('before', args.before, connection, ordering) : null,
  };
}

/**
 * The rows after `key` in the order `direction` (NULLs last ascending and first descending, as
 * PostgreSQL places them by default and `orderBy` spells out).
 */
function beyond(ordering: Ordering, key: Key, direction: Direction): Where {
  const cmp = direction === 'asc' ? 'gt' : 'lt';
  const idBeyond = { id: { [cmp]: key.id } };
  const { field } = ordering;
  if (!field) return idBeyond;
  const nullsFirst = direction === 'desc';
  if (key.value === null) {
    return nullsFirst
      ? { OR: [{ [field]: null, ...idBeyond }, { [field]: { not: null } }] }
      : { [field]: null, ...idBeyond };
  }
  const nullable = !column(ordering.model, field).isRequired;
  if (nullable && !nullsFirst)
    return { OR: [{ [field]: { [cmp]: key.value } }, { [field]: key.value, ...idBeyond }, { [field]: null }] };
  // The OR alone is not an index range: the redundant `field <= value` (or >=) lets PostgreSQL start
  // the (field, id) index scan at the cursor instead of filtering every row before it.
  return {
    [field]: { [`${cmp}e`]: key.value },
    OR: [{ [field]: { [cmp]: key.value } }, { [field]: key.value, ...idBeyond }],
  };
}

function orderBy(ordering: Ordering, direction: Direction) {
  const { field } = ordering;
  if (!field) return [{ id: direction }];
  const nullable = !column(ordering.model, field).isRequired;
  const sort = nullable ? { sort: direction, nulls: direction === 'asc' ? 'last' : 'first' } : direction;
  return [{ [field]: sort }, { id: direction }];
}

/** `where`, `orderBy` and `take` of the page's query: one row more than the page, to know if more follow. */
export function pageQuery(page: Page, where: Where) {
  const { ordering } = page;
  const direction = page.backward ? flip(ordering.direction) : ordering.direction;
  const bounds = [
    ...(page.after ? [beyond(ordering, page.after, ordering.direction)] : []),
    ...(page.before ? [beyond(ordering, page.before, flip(ordering.direction))] : []),
  ];
  return {
    where: bounds.length ? { AND: [where, ...bounds] } : where,
    orderBy: orderBy(ordering, direction),
    take: page.size + 1,
  };
}

/** The columns a cursor is made of; every page query selects them. */
export function cursorSelect(ordering: Ordering): Record<string, true> {
  return ordering.field ? { id: true, [ordering.field]: true } : { id: true };
}

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => number | Promise<number>;
  /** The matching rows, counted up to `most`: min(totalCount, most). */
  countUpTo: (most: number) => number | Promise<number>;
}

/**
 * pageInfo's flags, once for both read paths: `more` says whether the query, run in the page's
 * direction, found a row past the page (a boolean here, an SQL expression in the read planner);
 * the other side is known from the arguments, written by `known`.
 */
export function pageFlags<T>(page: Page, more: T, known: (value: boolean) => T) {
  return {
    hasNextPage: page.backward ? known(page.before != null) : more,
    hasPreviousPage: page.backward ? more : known(page.after != null),
  };
}

export function toConnection<Node>(
  page: Page,
  rows: Row[],
  totalCount: () => number | Promise<number>,
  nodeOf: (row: Row) => Node = (row) => row as unknown as Node,
  countUpTo: (most: number) => number | Promise<number> = async (most) => Math.min(await totalCount(), most),
): Connection<Node> {
  const more = rows.length > page.size;
  const inPage = more ? rows.slice(0, page.size) : rows;
  if (page.backward) inPage.reverse();
  const edges = inPage.map((row) => ({ cursor: encodeCursor(page.connection, page.ordering, row), node: nodeOf(row) }));
  return {
    edges,
    pageInfo: {
      ...pageFlags(page, more, (known) => known),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
    countUpTo,
  };
}

/** True when the connection is asked only for its counts, so its rows need not be read. */
function onlyTotalCount(names: Iterable<string>): boolean {
  let count = false;
  for (const name of names) {
    if (name === 'totalCount' || name === 'count') count = true;
    else if (name !== '__typename') return false;
  }
  return count;
}

function selectedNames(info: GraphQLResolveInfo): string[] {
  return info.fieldNodes.flatMap((node) =>
    (node.selectionSet?.selections ?? []).map((s) => (s.kind === Kind.FIELD ? s.name.value : '…')),
  );
}

/** A root connection: the rows by `find`, the nodes' selection planned by Pothos from the query. */
async function rootConnection<Node>(
  ctx: object,
  info: GraphQLResolveInfo,
  options: {
    args: ConnectionArgs;
    connection: string;
    ordering: Ordering;
    typeName: string;
    where: Where;
    find: (query: { where: Where; orderBy: unknown; take: number; select: Record<string, unknown> }) => Promise<Node[]>;
    count: (most?: number) => Promise<number>;
  },
): Promise<Connection<Node>> {
  const page = planPage(options.args, options.connection, options.ordering);
  let totalCount: Promise<number> | undefined;
  const count = () => (totalCount ??= options.count());
  const countUpTo = (most: number) => (totalCount ? totalCount.then((n) => Math.min(n, most)) : options.count(most));
  if (onlyTotalCount(selectedNames(info))) return toConnection<Node>(page, [], count, undefined, countUpTo);
  const planned = (await queryFromInfo({
    context: ctx,
    info,
    typeName: options.typeName,
    select: cursorSelect(page.ordering),
    paths: [['edges', 'node']],
  })) as { select?: Record<string, unknown> };
  const rows = (await options.find({
    ...pageQuery(page, options.where),
    select: { ...planned.select, ...cursorSelect(page.ordering) },
  })) as unknown as Row[];
  return toConnection<Node>(page, rows, count, undefined, countUpTo);
}

/** What a root list reads its rows and count from: a Prisma model delegate (`db.customer`, …). */
interface ListRows {
  findMany: (...args: never[]) => PromiseLike<unknown[]>;
  count: (...args: never[]) => PromiseLike<unknown>;
}

type ListQuery = { where: Where; orderBy?: unknown; take?: number; select?: Record<string, unknown> };

/**
 * A root list's (`customers`, `orders`, …) resolver and extensions: the rows that `list` selects
 * and orders, read from `rows(db)` and paged as `rootConnection` pages them. `keysetList` hands
 * the same ListSpec to the read planner (src/planner/), so both page the list alike.
 */
export function rootList<Args, Rows extends ListRows>(
  list: ListSpec<Args>,
  typeName: string,
  rows: (db: Context['db']) => Rows,
) {
  type Node = Awaited<ReturnType<Rows['findMany']>>[number];
  const resolve = (
    _root: unknown,
    args: Args & ConnectionArgs,
    ctx: Context,
    info: GraphQLResolveInfo,
  ): Promise<Connection<Node>> => {
    const where = list.where(args, ctx);
    // Prisma's delegates type their argument per model; the query built here fits every model's.
    const table = rows(ctx.db) as unknown as {
      findMany(query: ListQuery): Promise<Node[]>;
      count(query: ListQuery & { take?: number }): Promise<number>;
    };
    return rootConnection(ctx, info, {
      args,
      connection: list.connection,
      ordering: list.ordering(args),
      typeName,
      where,
      find: (query) => table.findMany(query),
      count: (most) => table.count({ where, ...(most === undefined ? {} : { take: most }) }),
    });
  };
  return { extensions: { keysetList: list }, resolve };
}

/** A root lookup's (`customer(id)`, …) resolver and extensions: the row `lookup` finds, read from `rows(db)`. */
export function rootLookup<Args, Rows extends { findFirst: (...args: never[]) => PromiseLike<unknown> }>(
  lookup: LookupSpec<Args>,
  rows: (db: Context['db']) => Rows,
) {
  type Row = Awaited<ReturnType<Rows['findFirst']>>;
  const resolve = (query: object, _root: unknown, args: Args, ctx: Context): Promise<Row> => {
    // As in rootList: the query built here fits every model's delegate.
    const table = rows(ctx.db) as unknown as { findFirst(query: object): Promise<Row> };
    return table.findFirst({ ...query, where: lookup.where(args, ctx) });
  };
  return { extensions: { lookup }, resolve };
}

type NestedQuery = (query: { select: Record<string, unknown> }, path: string[]) => { select?: Record<string, unknown> };

/** A relation connection as `relationConnection` pages it, for its resolver and the read planner. */
export interface ConnectionSpec {
  relation: string;
  connection: string;
  ordering: Ordering;
  through?: string;
  /** The Prisma selection the connection folds into its parent's query (rows and `_count`). */
  select: (
    args: ConnectionArgs,
    ctx: unknown,
    nestedQuery: NestedQuery,
    getSelection: () => Set<string>,
  ) => { select: Record<string, unknown> };
}

/**
 * A connection over a list relation of a Prisma type. Its page (and its totalCount, as Prisma's
 * relation `_count`) is folded into the query that loads the parent rows, so a page of parents
 * with their nested pages is still one statement. `through` names the relation from the join row
 * to the node when the connection pages over a join table (memberships).
 */
export function relationConnection<Args extends object = object>(options: {
  relation: string;
  connection: string;
  ordering: Ordering;
  where: (args: Args) => Where;
  through?: string;
}) {
  const { relation, connection, ordering, through } = options;
  const select = (
    args: Args & ConnectionArgs,
    _ctx: unknown,
    nestedQuery: NestedQuery,
    getSelection: () => Set<string>,
  ) => {
    const page = planPage(args, connection, ordering);
    const names = getSelection();
    const where = options.where(args);
    const rows = () => {
      if (through) {
        const node = nestedQuery({ select: { id: true } }, ['edges', 'node']);
        return { ...pageQuery(page, where), select: { ...cursorSelect(ordering), [through]: node } };
      }
      const node = nestedQuery({ select: cursorSelect(ordering) }, ['edges', 'node']);
      return { ...pageQuery(page, where), select: { ...node.select, ...cursorSelect(ordering) } };
    };
    return {
      select: {
        // `count(limit:)` here is the exact count, clipped: Prisma's relation _count takes no limit.
        ...(names.has('totalCount') || names.has('count') ? { _count: { select: { [relation]: { where } } } } : {}),
        ...(onlyTotalCount(names) ? {} : { [relation]: rows() }),
      },
    };
  };
  // The node type is the field's own, which Pothos checks there; here a row is only passed on.
  const resolve = (parent: Record<string, unknown>, args: Args & ConnectionArgs): Connection<never> => {
    const page = planPage(args, connection, ordering);
    const rows = (parent[relation] ?? []) as Row[];
    const total = () => (parent._count as Record<string, number> | undefined)?.[relation] ?? 0;
    return toConnection<never>(page, rows, total, through ? (row) => row[through] as never : undefined);
  };
  // Pothos' own key for a field's selection, with the selected field names it passes as the
  // fourth argument (the `select` option drops them): the same hook its relatedConnection uses.
  // `keysetConnection` tells the read planner (src/planner/) how this connection pages.
  const spec: ConnectionSpec = { relation, connection, ordering, through, select: select as ConnectionSpec['select'] };
  return { extensions: { pothosPrismaSelect: select, keysetConnection: spec }, resolve };
}

/** The resolver of every connection's `totalCount`: counted only when asked, once. */
export function totalCountOf(connection: object): number | Promise<number> {
  return (connection as Connection<unknown>).totalCount();
}
