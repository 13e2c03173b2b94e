import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { refusal, scopesOf } from '../auth.js';
import type { Context } from '../context.js';
import { nodeEnv } from '../env.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { ForbiddenError, UnauthenticatedError } from '../services/errors.js';
import { totalCountOf } from './keyset.js';
import ReadPlanPlugin from './read-plan-plugin.js';

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './keyset.js';

export const MAX_NODES = 100;

/**
 * Soft-deleted rows are gone from every read, node lookups included: the rule as a Prisma `where`
 * on a model with `deletedAt`, which list and lookup filters spread and the read planner compiles.
 */
export const LIVE = { deletedAt: null } as const;

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: unknown };
    /** money.ts: an exact decimal string; ISO codes, stored lower-case, shown upper-case. */
    Decimal: { Input: string; Output: string };
    CurrencyCode: { Input: string; Output: string };
    CountryCode: { Input: string; Output: string };
    /** Apollo Federation's entity representation (`_entities` argument), see federation.ts. */
    _Any: { Input: { __typename: string; [key: string]: unknown }; Output: unknown };
  };
  AuthScopes: {
    /** Anyone, signed in or not. */
    public: boolean;
    /** Not signed in: register, log in, reset a password. */
    anonymous: boolean;
    /** A signed-in customer (what they may reach is narrowed per type, to their own rows). */
    customer: boolean;
    /** An admin API key. */
    admin: boolean;
    /** A signed-in customer allowed staff data about themselves (CUSTOMER_TAGS_VISIBLE): their tags. */
    customerStaffData: boolean;
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // Errors before scope-auth, so that a denied mutation becomes its typed ForbiddenError result;
  // the read planner's declarations last, once the others have said what each field is.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ReadPlanPlugin],
  scopeAuth: {
    runScopesOnType: true,
    authScopes: (ctx) => scopesOf(ctx.viewer, ctx.services),
    unauthorizedError: (_parent, ctx) => refusal(ctx.viewer),
  },
  errors: {
    directResult: true,
    defaultTypes: [ForbiddenError, UnauthenticatedError],
    defaultUnionOptions: { name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Result` },
  },
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: nodeEnv() === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    // node and nodes are lookup.ts' own: by ID under the viewer's rule, as `_entities`.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    nodeFieldOptions: { nullable: false },
    // Node IDs are Medusa's own IDs: their prefix already names the type (lookup.ts reads it; no
    // argument takes a Relay global ID).
    encodeGlobalID: (_typename, id) => String(id),
  },
});

// Every connection has a totalCount, counted only when asked and once (keyset.ts).
builder.globalConnectionField('totalCount', (t) => t.int({ resolve: totalCountOf }));
