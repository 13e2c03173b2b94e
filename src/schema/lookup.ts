/**
 * Rows by key, under the viewer's rule: federation's `_entities` (federation.ts) and Relay's
 * `node`/`nodes` find every Node type by its ID (and Customer by email too) through the same
 * per-request DataLoaders and the same `where`, which the read planner compiles as it is.
 *
 * A customer's keys match only their own rows, as if no other row existed: if someone else's row
 * loaded and then failed its type rule (FORBIDDEN) while an unknown or soft-deleted one was null,
 * the difference would tell them which IDs (and emails) exist.
 */
import { brandWithType } from '@pothos/core';
import { queryFromInfo } from '@pothos/plugin-prisma';
import DataLoader from 'dataloader';
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import { ownRows } from '../auth.js';
import type { Context, Viewer } from '../context.js';
import { graphqlTypeOfId, ID_PREFIXES } from '../lib/ids.js';
import { builder, LIVE, MAX_NODES } from './builder.js';
import { invalidArgument } from './invalid-argument.js';

/**
 * Every Node type and the keys it is found by: all by ID (Relay's `node`), Customer by email too.
 * Each is a federation entity with one `@key` per key: a subgraph's `Node @key` needs every type
 * implementing it to be an entity.
 */
export const ENTITY_KEYS = {
  Customer: ['id', 'email'],
  CustomerGroup: ['id'],
  CustomerGroupMembership: ['id'],
  Address: ['id'],
  Order: ['id'],
  OrderLineItem: ['id'],
  CustomerNote: ['id'],
  CustomerTimelineEntry: ['id'],
} as const;

export type EntityName = keyof typeof ENTITY_KEYS;

export const isEntityName = (name: string): name is EntityName => Object.hasOwn(ENTITY_KEYS, name);

/** The Node type an ID names by its prefix, or null when it names none of this service's. */
export function entityTypeOfId(id: string): EntityName | null {
  const type = graphqlTypeOfId(id);
  return type && isEntityName(type) ? type : null;
}

export type Reference = { type: EntityName; id: string } | { type: 'Customer'; email: string };

/**
 * For an email key: the registered account if there is one, else the most recently created guest
 * (then the larger ID). Written once as an order: the loader ranks rows by it here, and the read
 * planner sorts by it in SQL.
 */
export const EMAIL_PREFERENCE = [{ hasAccount: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }] as const;

type Ranked = { hasAccount: boolean; createdAt: Date; id: string };

function preferred<T extends Ranked>(a: T, b: T): T {
  for (const entry of EMAIL_PREFERENCE) {
    const [field] = Object.keys(entry) as (keyof Ranked)[];
    const [x, y] = [a[field!], b[field!]].map((v) => (v instanceof Date ? v.getTime() : v));
    if (x !== y) return x! > y! ? a : b;
  }
  return a;
}

/**
 * Which rows of an entity type a viewer's keys may find, besides the key: live rows, and for a
 * customer only their own (ownRows). One definition for the loaders and the read planner.
 */
export function entityWhere(type: EntityName, viewer: Viewer): Record<string, unknown> {
  const owner = ownRows(viewer);
  switch (type) {
    case 'Customer':
      return { ...LIVE, ...(owner.customerId === undefined ? {} : { id: owner.customerId }) };
    case 'CustomerGroup':
      // The type rule lets any customer see a group: fine where a customer only reaches their own
      // groups (`me.groups`), not for lookups by ID. A customer finds only the groups they belong to.
      return {
        ...LIVE,
        ...(owner.customerId === undefined ? {} : { customers: { some: { ...LIVE, customerId: owner.customerId } } }),
      };
    case 'CustomerGroupMembership':
      // Admins' only: a customer's key finds nothing, as an unknown one.
      return { ...LIVE, ...(owner.customerId === undefined ? {} : { id: { in: [] } }) };
    case 'CustomerNote':
    case 'CustomerTimelineEntry':
      // Staff data: admins' only, as memberships.
      return owner.customerId === undefined ? {} : { id: { in: [] } };
    case 'Address':
      return { ...LIVE, customer: LIVE, ...owner };
    case 'Order':
      return { ...owner };
    case 'OrderLineItem':
      return owner.customerId === undefined ? {} : { order: owner };
  }
}

// Each batch function is one findMany (plus Prisma's constant per-relation queries for what the
// caller selected under `... on Type`), however many keys name the type.

type CustomerKey = { type: 'Customer'; id: string } | { type: 'Customer'; email: string };

async function loadCustomers(ctx: Context, info: GraphQLResolveInfo, keys: readonly CustomerKey[]) {
  // An ID of another type (or not one of ours) cannot match: it is null without a query.
  const ids = keys.flatMap((key) => ('id' in key && entityTypeOfId(key.id) === 'Customer' ? [key.id] : []));
  const emails = keys.flatMap((key) => ('email' in key ? [key.email] : []));
  const rows =
    ids.length === 0 && emails.length === 0
      ? []
      : await ctx.db.customer.findMany({
          // Beyond what the gateway selected: the columns an email key is matched and ranked by
          // (the folded email, as the email filter compares: an imported "Ann@Example.com" matches).
          ...queryFromInfo({
            context: ctx,
            info,
            typeName: 'Customer',
            select: { id: true, deletedAt: true, emailFolded: true, hasAccount: true, createdAt: true },
          }),
          where: {
            ...entityWhere('Customer', ctx.viewer),
            OR: [
              ...(ids.length ? [{ id: { in: ids } }] : []),
              ...(emails.length ? [{ emailFolded: { in: emails } }] : []),
            ],
          },
        });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const byEmail = new Map<string, (typeof rows)[number]>();
  const wanted = new Set(emails);
  for (const row of rows) {
    const email = row.emailFolded;
    if (email === null || !wanted.has(email)) continue;
    const current = byEmail.get(email);
    byEmail.set(email, current ? preferred(row, current) : row);
  }
  return keys.map((key) => ('email' in key ? byEmail.get(key.email) : byId.get(key.id)) ?? null);
}

/** A batch function by ID: one findMany of the IDs of `type`, answered in the keys' order. */
const byIds =
  <T extends { id: string }>(type: EntityName, findMany: (ids: string[]) => Promise<T[]>) =>
  async (keys: readonly string[]) => {
    const ids = keys.filter((id) => entityTypeOfId(id) === type);
    const rows = new Map((ids.length ? await findMany(ids) : []).map((row) => [row.id, row]));
    return keys.map((id) => rows.get(id) ?? null);
  };

/** A representation's cache key: the same row asked for twice (or as `Node` and as its type) is one key. */
export const keyOf = (ref: Reference) => ('email' in ref ? `Customer email ${ref.email}` : `${ref.type} ${ref.id}`);

/**
 * One DataLoader per entity type (Customer's ID and email keys together: one statement reads
 * both), per `_entities` or `node`/`nodes` field of a request. A batch folds its field's selection into the
 * statement, and Pothos knows a row's loaded selection by the field's path, so a loader shared by
 * two aliased `_entities` would save nothing: the second alias's rows are reloaded for its own
 * selection (measured: 2 statements for two aliases either way, even with the same selection).
 * Keyed by the request's context first: a cached document's field nodes are shared across
 * requests, and a loader's cache must not be.
 */
/** The Prisma delegate each entity type (but Customer, keyed by email too) is read from. */
const TABLES = {
  CustomerGroup: (db: Context['db']) => db.customerGroup,
  Address: (db: Context['db']) => db.address,
  Order: (db: Context['db']) => db.order,
  OrderLineItem: (db: Context['db']) => db.orderLineItem,
  CustomerGroupMembership: (db: Context['db']) => db.customerGroupCustomer,
  CustomerNote: (db: Context['db']) => db.customerNote,
  CustomerTimelineEntry: (db: Context['db']) => db.customerTimelineEntry,
} satisfies Record<Exclude<EntityName, 'Customer'>, unknown>;

type ById = Exclude<EntityName, 'Customer'>;
type RowOf<Type extends ById> = Awaited<ReturnType<ReturnType<(typeof TABLES)[Type]>['findMany']>>[number];

function entityLoaders(ctx: Context, info: GraphQLResolveInfo) {
  const loader = <Type extends ById>(type: Type) =>
    new DataLoader(
      byIds(type, (ids) => {
        // Each delegate types its own findMany; the query built here fits every model's.
        const table = TABLES[type](ctx.db) as unknown as { findMany(query: object): Promise<RowOf<Type>[]> };
        return table.findMany({
          ...queryFromInfo({ context: ctx, info, typeName: type }),
          where: { AND: [{ id: { in: ids } }, entityWhere(type, ctx.viewer)] },
        });
      }),
    );
  return {
    Customer: new DataLoader((keys: readonly CustomerKey[]) => loadCustomers(ctx, info, keys), { cacheKeyFn: keyOf }),
    CustomerGroup: loader('CustomerGroup'),
    Address: loader('Address'),
    Order: loader('Order'),
    OrderLineItem: loader('OrderLineItem'),
    CustomerGroupMembership: loader('CustomerGroupMembership'),
    CustomerNote: loader('CustomerNote'),
    CustomerTimelineEntry: loader('CustomerTimelineEntry'),
  };
}

type EntityLoaders = ReturnType<typeof entityLoaders>;

const requestLoaders = new WeakMap<Context, WeakMap<readonly FieldNode[], EntityLoaders>>();

export function loadersOf(ctx: Context, info: GraphQLResolveInfo): EntityLoaders {
  const byField = requestLoaders.get(ctx) ?? new WeakMap<readonly FieldNode[], EntityLoaders>();
  requestLoaders.set(ctx, byField);
  const loaders = byField.get(info.fieldNodes) ?? entityLoaders(ctx, info);
  byField.set(info.fieldNodes, loaders);
  return loaders;
}

/** A row of any entity type, as its loader reads it. */
type EntityRow = NonNullable<Awaited<ReturnType<EntityLoaders[EntityName]['load']>>>;

export function load(loaders: EntityLoaders, ref: Reference): Promise<EntityRow | null> {
  if ('email' in ref) return loaders.Customer.load(ref);
  if (ref.type === 'Customer') return loaders.Customer.load({ type: ref.type, id: ref.id });
  return (loaders[ref.type] as DataLoader<string, EntityRow | null>).load(ref.id);
}

const NODE_PREFIXES = Object.values(ID_PREFIXES)
  .filter((prefix) => entityTypeOfId(`${prefix}_0`))
  .map((prefix) => `${prefix}_…`)
  .join(', ');

/** An ID's Node, or null; an ID of no Node type of this service is bad input naming `argument`. */
async function loadNode(id: string, argument: string, ctx: Context, info: GraphQLResolveInfo) {
  const type = entityTypeOfId(id);
  if (!type) {
    throw invalidArgument(argument, `"${id}" is not the ID of a node of this service (${NODE_PREFIXES})`);
  }
  const row = await load(loadersOf(ctx, info), { type, id });
  if (row) brandWithType(row, type as never);
  return row;
}

/** Relay's `node`/`nodes` as the read planner answers them: by the ID's prefix, under entityWhere. */
export interface NodeLookupSpec {
  typeOf: typeof entityTypeOfId;
  where: typeof entityWhere;
}

const nodeLookup: NodeLookupSpec = { typeOf: entityTypeOfId, where: entityWhere };

const NodeRef = builder.nodeInterfaceRef();

const nodeDescription =
  'Signed-in customers get their own rows (themselves, their addresses, orders, line items and the groups they are in); ' +
  'every other ID, like an unknown or soft-deleted one, is null.';

builder.queryFields((t) => ({
  node: t.field({
    type: NodeRef,
    nullable: true,
    description: `A row by its ID, whatever its type (Relay). ${nodeDescription}`,
    authScopes: { $any: { admin: true, customer: true } },
    args: { id: t.arg.id({ required: true }) },
    extensions: { nodeLookup },
    resolve: (_root, args, ctx, info) => loadNode(String(args.id), 'id', ctx, info),
  }),
  nodes: t.field({
    type: [NodeRef],
    nullable: { list: false, items: true },
    description: `Rows by their IDs, in order, at most ${MAX_NODES} (Relay). ${nodeDescription}`,
    authScopes: { $any: { admin: true, customer: true } },
    args: { ids: t.arg.idList({ required: true }) },
    extensions: { nodeLookup },
    resolve: (_root, args, ctx, info) => {
      if (args.ids.length > MAX_NODES) {
        throw invalidArgument('ids', `at most ${MAX_NODES} IDs per request, got ${args.ids.length}`);
      }
      return Promise.all(args.ids.map((id, index) => loadNode(String(id), `ids[${index}]`, ctx, info)));
    },
  }),
}));
