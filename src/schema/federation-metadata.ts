/**
 * What the federation SDL tells a router beyond the types, derived from the built schema in one
 * place, so that a new field gets it without anyone listing it:
 *
 * - **Auth** (`@authenticated`, `@requiresScopes`), from each field's and type's Pothos scope-auth
 *   rule: a rule only an admin passes is `@requiresScopes(scopes: [["admin"]])`; one a signed-in
 *   customer passes too is `@authenticated`; one anyone passes, nothing. The owner rule (a function
 *   on Customer, Address, Order: admin, or the customer the row belongs to) depends on the row, and
 *   an anonymous caller passes it for the customer they have just logged in as, so it has no
 *   directive: a router refuses early what it can, and every rule is still enforced here.
 * - **Contracts** (`@tag(name: "admin")`): every field only an admin may use, and the back-office
 *   data a storefront has no use for: the soft-delete column (`deletedAt`) and free-form `metadata`
 *   (every field, argument and input field of the JSONObject scalar). A contract that excludes
 *   `admin` and hides unreachable types (the payloads, filters and the scalar only those reached)
 *   is the storefront API.
 * - **Demand control** (`@listSize`), from the cost model's own `listSizeOf` (src/schema/cost.ts).
 *   Its other weights are the routers' defaults (an object 1, a scalar or enum 0), so no `@cost`.
 */
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
} from 'graphql';
import { scopeMapGrants, scopesOf } from '../auth.js';
import type { Viewer } from '../context.js';
import { type ListSize, listSizeOf } from './cost.js';
import { type Access as DeclaredAccess, fieldAccess, fieldPlan, typeAccess } from './read-plan-plugin.js';

export const ADMIN_TAG = 'admin';
export const ADMIN_SCOPE = 'admin';
/** Medusa's soft-delete column: back-office bookkeeping (deleted rows are gone from every path anyway). */
const SOFT_DELETE_COLUMN = 'deletedAt';
/** Free-form JSON (Medusa's `metadata`): whatever a back office keeps there. */
const FREE_FORM_SCALAR = 'JSONObject';

export interface Metadata {
  tags: string[];
  authenticated?: boolean;
  requiresScopes?: string[][];
  listSize?: ListSize;
}

/** Who a rule admits, at best: anyone, any signed-in caller, only an admin, or it depends on the row. */
export type Access = 'anyone' | 'signed-in' | 'admin' | 'row';

/** One viewer of each kind: the scopes depend on the kind alone (src/auth.ts). */
const VIEWERS = {
  anonymous: scopesOf({ kind: 'anonymous' }),
  customer: scopesOf({ kind: 'customer', customerId: '', sessionId: '' }),
  admin: scopesOf({ kind: 'admin', keyName: '' }),
} satisfies Record<Viewer['kind'], Record<string, boolean>>;

/** Pothos scope-auth's reading of a scope map (auth.ts), for one kind of viewer. */
function passes(scopes: Record<string, unknown>, held: Record<string, boolean>, where: string): boolean {
  const granted = scopeMapGrants(scopes, held);
  if (granted === undefined)
    throw new Error(
      `${where}: authScopes ${JSON.stringify(scopes)} has no federation metadata rule (src/schema/federation-metadata.ts)`,
    );
  return granted;
}

/** The access a Pothos `authScopes` option grants, as the schema declares it (read-plan-plugin.ts). */
function accessOf(declared: DeclaredAccess, where: string): Access {
  if (declared.kind === 'open') return 'anyone';
  if (declared.kind === 'function') return 'row';
  const map = declared.scopes;
  if (passes(map, VIEWERS.anonymous, where)) return 'anyone';
  if (passes(map, VIEWERS.customer, where)) return 'signed-in';
  if (passes(map, VIEWERS.admin, where)) return 'admin';
  throw new Error(`${where}: authScopes ${JSON.stringify(map)} admits no one`);
}

function authMetadata(access: Access, where: string, onField: boolean): Metadata {
  switch (access) {
    case 'anyone':
      return { tags: [] };
    case 'signed-in':
      return { tags: [], authenticated: true };
    case 'admin':
      // Types are not tagged: a contract drops them as unreachable once their fields are gone
      // (tagging one that is a member of a result union trips contract tooling).
      return { tags: onField ? [ADMIN_TAG] : [], requiresScopes: [[ADMIN_SCOPE]] };
    case 'row':
      // A field rule on the row would need its own decision (what may a router assume?), so none is guessed.
      if (onField) throw new Error(`${where}: a row-dependent authScopes on a field has no federation metadata rule`);
      return { tags: [] };
  }
}

const backOffice = (type: GraphQLNamedType) => type.name === FREE_FORM_SCALAR;

function exposes(field: GraphQLField<unknown, unknown>): string | undefined {
  const plan = fieldPlan(field);
  return plan?.kind === 'column' ? plan.field : undefined;
}

function add(map: Map<string, Metadata>, coordinate: string, metadata: Metadata) {
  if (!metadata.tags.length && !metadata.authenticated && !metadata.requiresScopes && !metadata.listSize) return;
  const known = map.get(coordinate);
  if (!known) {
    map.set(coordinate, { ...metadata, tags: [...new Set(metadata.tags)] });
    return;
  }
  map.set(coordinate, {
    ...known,
    ...metadata,
    tags: [...new Set([...known.tags, ...metadata.tags])],
  });
}

const cached = new WeakMap<GraphQLSchema, Map<string, Metadata>>();

/**
 * The metadata of every element that has some, by schema coordinate (`Type`, `Type.field`,
 * `Type.field(argument:)`, `Input.field`).
 */
export function federationMetadata(schema: GraphQLSchema): Map<string, Metadata> {
  const known = cached.get(schema);
  if (known) return known;
  const map = new Map<string, Metadata>();
  // A connection's `edges` are sized by the connection field's page, not by a size of their own.
  const sized = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      for (const name of listSizeOf(field)?.sizedFields ?? []) sized.add(`${getNamedType(field.type).name}.${name}`);
    }
  }
  const tagIfBackOffice = (coordinate: string, element: GraphQLArgument | GraphQLInputField) => {
    if (backOffice(getNamedType(element.type))) add(map, coordinate, { tags: [ADMIN_TAG] });
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) tagIfBackOffice(`${type.name}.${field.name}`, field);
      continue;
    }
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    // Routers refuse auth directives on interfaces: their implementations carry them.
    if (isObjectType(type)) add(map, type.name, authMetadata(accessOf(typeAccess(type), type.name), type.name, false));
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (isObjectType(type))
        add(map, coordinate, authMetadata(accessOf(fieldAccess(field), coordinate), coordinate, true));
      if (backOffice(getNamedType(field.type)) || exposes(field) === SOFT_DELETE_COLUMN)
        add(map, coordinate, { tags: [ADMIN_TAG] });
      const listSize = listSizeOf(field);
      if (listSize && !sized.has(coordinate)) add(map, coordinate, { tags: [], listSize });
      for (const argument of field.args) tagIfBackOffice(`${coordinate}(${argument.name}:)`, argument);
    }
  }
  cached.set(schema, map);
  return map;
}
