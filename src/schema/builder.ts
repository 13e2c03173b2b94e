import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from '../context.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { typeOfId } from '../lib/ids.js';
import { invalidArgument } from './errors.js';

export const DEFAULT_PAGE_SIZE = 15;
export const MAX_NODES = 100;

/** Soft-deleted rows are gone from every path, node lookups included. */
function visible(node: unknown) {
  return node && typeof node === 'object' && 'deletedAt' in node && node.deletedAt ? null : node;
}
export const MAX_PAGE_SIZE = 100;

type ConnectionArgs = { first?: number | null; last?: number | null; after?: string | null; before?: string | null };

/** Cursors are Pothos' prisma cursors: base64 of `GPC:` and the keyset value. */
function isOurCursor(cursor: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(cursor) && Buffer.from(cursor, 'base64').toString('utf8').startsWith('GPC:');
}

/**
 * Runs before every connection query (as its page-size limit). Pothos would silently clamp an
 * oversized page and report a foreign cursor without naming the argument; clients deserve both.
 */
function checkConnectionArgs(args: ConnectionArgs): number {
  for (const name of ['first', 'last'] as const) {
    const value = args[name];
    if (value != null && value > MAX_PAGE_SIZE) {
      throw invalidArgument(name, `must be at most ${MAX_PAGE_SIZE}, got ${value}`);
    }
  }
  for (const name of ['after', 'before'] as const) {
    const value = args[name];
    if (value != null && !isOurCursor(value)) {
      throw invalidArgument(name, 'not a cursor issued by this service');
    }
  }
  return MAX_PAGE_SIZE;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: unknown };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    // Typed as a number, but passed on as each connection's `maxSize`, which may be a function.
    maxConnectionSize: checkConnectionArgs as unknown as number,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeQueryOptions: {
      resolve: async (_root, args, _ctx, _info, resolveNode) => visible(await resolveNode(args.id)),
    },
    nodesQueryOptions: {
      resolve: async (_root, args, _ctx, _info, resolveNodes) => {
        if (args.ids.length > MAX_NODES) {
          throw invalidArgument('ids', `at most ${MAX_NODES} IDs per request, got ${args.ids.length}`);
        }
        return (await resolveNodes(args.ids)).map(visible);
      },
    },
    nodeFieldOptions: { nullable: false },
    // Node IDs are Medusa's own IDs: their prefix already names the type.
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => {
      const typename = typeOfId(globalID);
      if (!typename) {
        throw invalidArgument('id', `"${globalID}" is not an ID of this service (expected e.g. cus_…, cusgroup_…, cuaddr_…, order_…)`);
      }
      return { typename, id: globalID };
    },
  },
});
