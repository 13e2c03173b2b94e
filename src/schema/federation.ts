/**
 * Apollo Federation v2 subgraph: Customer, CustomerGroup, Address and Order are entities keyed by
 * `id`, and Customer by `email` too; while `node` is offered, `Node` is an entity interface keyed by
 * `id`. `_service`, `_entities`, `_Any` and `_Entity` follow the subgraph spec, and
 * `printSubgraphSdl` is the SDL a gateway or schema registry composes, with the metadata of
 * federation-metadata.ts (tags, auth, list sizes) on its elements.
 *
 * `_entities` loads through the DataLoaders of lookup.ts (as Relay's node does), and the SDL is printed by @apollo/subgraph's
 * printSubgraphSchema. What stays hand-written, measured against the libraries (2026-12,
 * @apollo/subgraph 2.14.4, @pothos/plugin-federation 4.4.2):
 *
 * - Attaching the directives (printSubgraphSdl). printSubgraphSchema reads a schema's AST in whole
 *   nodes only: each type's `astNode` (not its fields' or arguments') and the schema's
 *   `extensionASTNodes` (for `@link`). Pothos builds types in code, without AST, so on our schema
 *   as served it prints no `@link`, `@key`, `@shareable`, `@tag` or `@listSize` at all. So the
 *   directives go onto the AST here and Apollo prints that: the same document, definition for
 *   definition, as the hand printer it replaced (default, auth, prefixed and no-`node` SDLs
 *   compared), only laid out otherwise (a type's directives on lines of their own).
 * - @pothos/plugin-federation. 4.4.2 fails to load on its own (`ERR_MODULE_NOT_FOUND: Cannot find
 *   package '@pothos/plugin-directives'`: its esm/global-types.js imports it, and its package.json
 *   lists it only as a devDependency), so it brings a second plugin through which our directives,
 *   derived from the built schema (federation-metadata.ts), would have to be declared per field.
 *   Its `_entities` is @apollo/subgraph's `entitiesField` on a Query type made after the build:
 *   outside Pothos, so scope-auth does not guard it (anonymous callers could call it), and one
 *   unknown `__typename` throws for the whole list ("The _entities resolver tried to load an entity
 *   for type "Product", but no object or interface type of that name was found in the schema"),
 *   where here that position alone gets BAD_USER_INPUT and MAX_ENTITY_REPRESENTATIONS bounds the
 *   distinct ones. (Its per-representation `resolveReference` could batch through these loaders;
 *   that is not what keeps it out.) Here `_entities` is an ordinary Pothos field: admin keys and
 *   customer tokens may call it, anonymous callers may not, and the type rules of what it returns
 *   (admin-or-owner) apply as on every other path.
 */
import { printSubgraphSchema } from '@apollo/subgraph';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  buildASTSchema,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DefinitionNode,
  GraphQLEnumType,
  GraphQLError,
  GraphQLInterfaceType,
  GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  GraphQLUnionType,
  type InputValueDefinitionNode,
  isInterfaceType,
  Kind,
  lexicographicSortSchema,
  parse,
  printSchema,
  valueFromASTUntyped,
} from 'graphql';
import type { Context } from '../context.js';
import { foldCase } from '../lib/fold-case.js';
import { Address } from './address.js';
import { builder } from './builder.js';
import { Customer } from './customer.js';
import { CustomerGroup } from './customer-group.js';
import { federationMetadata, type Metadata } from './federation-metadata.js';
import { invalidArgument } from './invalid-argument.js';
import {
  EMAIL_PREFERENCE,
  ENTITY_KEYS,
  entityTypeOfId,
  entityWhere,
  isEntityName,
  keyOf,
  load,
  loadersOf,
  type Reference,
} from './lookup.js';
import { Membership } from './membership.js';
import { Order, OrderLineItem } from './order.js';

// v2.9: @cost/@listSize (and @authenticated, @requiresScopes from 2.5, entity interfaces from 2.3);
// the newest both composers in use accept.
export const FEDERATION_SPEC_URL = 'https://specs.apollo.dev/federation/v2.9';

/** Imported only where the SDL uses them. */
const OPTIONAL_IMPORTS = ['@tag', '@authenticated', '@requiresScopes', '@listSize'];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function representation(value: unknown) {
  if (isRecord(value) && typeof value.__typename === 'string') return { ...value, __typename: value.__typename };
  throw new GraphQLError('An entity representation is an object with a string "__typename".', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

const AnyScalar = builder.scalarType('_Any', {
  serialize: (value) => value,
  parseValue: representation,
  parseLiteral: (ast, variables) => representation(valueFromASTUntyped(ast, variables)),
});

type Representation = typeof AnyScalar.$inferInput;

const ServiceType = builder.objectRef<{ sdl: string }>('_Service').implement({
  authScopes: { public: true },
  fields: (t) => ({
    sdl: t.exposeString('sdl', { nullable: true, description: 'This subgraph’s SDL, with its federation directives.' }),
  }),
});

const EntityUnion = builder.unionType('_Entity', {
  types: [Customer, CustomerGroup, Membership, Address, Order, OrderLineItem],
  // Medusa IDs carry their type in the prefix.
  resolveType: (row) => {
    const type = entityTypeOfId(row.id);
    if (type) return type;
    throw new Error(`Cannot tell the entity type of "${row.id}"`);
  },
});

/** The entity interface: with the node query offered, `Node @key(fields: "id")`. */
export const ENTITY_INTERFACE = 'Node';

function reference(value: Representation, index: number, entityInterface: boolean): Reference {
  const type = value.__typename;
  const argument = `representations[${index}]`;
  if (entityInterface && type === ENTITY_INTERFACE) {
    // Another subgraph's `Node @interfaceObject` knows only the ID; its prefix names the type, as
    // for node(id), and the representation is then the same as that type's own.
    const id = value.id;
    if (typeof id !== 'string') throw invalidArgument(argument, `a ${ENTITY_INTERFACE} representation needs "id"`);
    const concrete = entityTypeOfId(id);
    if (!concrete) {
      throw invalidArgument(
        argument,
        `"${id}" is not the ID of a ${ENTITY_INTERFACE} of this subgraph (cus_…, cusgroup_…, cusgc_…, cuaddr_…, order_…, ordli_…)`,
      );
    }
    return { type: concrete, id };
  }
  if (!isEntityName(type)) {
    const known = [...Object.keys(ENTITY_KEYS), ...(entityInterface ? [ENTITY_INTERFACE] : [])];
    throw invalidArgument(argument, `"${type}" is not an entity of this subgraph (${known.join(', ')})`);
  }
  if (typeof value.id === 'string') return { type, id: value.id };
  if (type === 'Customer' && typeof value.email === 'string') return { type, email: foldCase(value.email.trim()) };
  throw invalidArgument(
    argument,
    `a ${type} representation needs ${ENTITY_KEYS[type].map((key) => `"${key}"`).join(' or ')}`,
  );
}

/** A list item graphql-js completes as an error at its own path, leaving its neighbours be. */
function failed(error: GraphQLError): Promise<never> {
  const rejected = Promise.reject(error);
  rejected.catch(() => {}); // handled by graphql-js when it completes the list
  return rejected;
}

/**
 * Every position gets an answer of its own: a row, null, or an error at `_entities.<index>` (a
 * malformed representation, or one beyond the limit), so one bad representation does not null the
 * others. Each distinct representation is loaded once however often it repeats (the loaders'
 * cache): gateways send one per parent (120 reviews by 40 authors arrive as 120), and only
 * distinct ones count towards MAX_ENTITY_REPRESENTATIONS. A failed statement fails the field, as
 * one statement serves every position of its type.
 */
async function resolveEntities(representations: Representation[], ctx: Context, info: GraphQLResolveInfo) {
  const slots = entitySlots(representations, ctx, info.schema);
  const loaders = loadersOf(ctx, info);
  const rows = await Promise.all(slots.map((slot) => (slot instanceof GraphQLError ? null : load(loaders, slot))));
  return slots.map((slot, index) => (slot instanceof GraphQLError ? failed(slot) : rows[index]));
}

/** Each representation's reference, or the error its position gets. */
function entitySlots(representations: Representation[], ctx: Context, schema: GraphQLSchema) {
  const max = ctx.services.maxEntityRepresentations;
  const entityInterface = (subgraphOptions.get(schema) ?? DEFAULT_SUBGRAPH_OPTIONS).nodeQuery;
  const distinct = new Set<string>();
  return representations.map((value, index): Reference | GraphQLError => {
    let ref: Reference;
    try {
      ref = reference(value, index, entityInterface);
    } catch (error) {
      if (error instanceof GraphQLError) return error;
      throw error;
    }
    const key = keyOf(ref);
    if (!distinct.has(key) && distinct.size >= max) {
      return invalidArgument(
        `representations[${index}]`,
        `at most ${max} distinct representations per request (MAX_ENTITY_REPRESENTATIONS); ask for the rest in another request`,
      );
    }
    distinct.add(key);
    return ref;
  });
}

/** `_entities` as the read planner answers it (src/planner/): the same references, rules and preference. */
export interface EntitiesSpec {
  slots: (representations: Representation[], ctx: Context, schema: GraphQLSchema) => (Reference | GraphQLError)[];
  where: typeof entityWhere;
  emailPreference: typeof EMAIL_PREFERENCE;
}

const entitiesSpec: EntitiesSpec = { slots: entitySlots, where: entityWhere, emailPreference: EMAIL_PREFERENCE };

builder.queryFields((t) => ({
  _service: t.field({
    type: ServiceType,
    description:
      'Apollo Federation: this subgraph’s SDL. Refused as introspection is (INTROSPECTION_DISABLED) while introspection is off, ' +
      'unless the request carries the FEDERATION_SDL_KEY as its bearer token.',
    authScopes: { public: true },
    resolve: (_root, _args, _ctx, info) => ({ sdl: printSubgraphSdl(info.schema) }),
  }),
  _entities: t.field({
    type: [EntityUnion],
    nullable: { list: false, items: true },
    description:
      'Apollo Federation: entities by key, for a gateway. It must forward the caller’s Authorization header ' +
      '(an admin key, or a customer’s bearer token: a customer gets only their own rows). ' +
      'Each distinct representation is resolved once; beyond MAX_ENTITY_REPRESENTATIONS distinct ones (1000 by default) a position gets an error of its own. ' +
      'Unknown and soft-deleted rows are null, and so, for a customer, are other customers’ rows. ' +
      'While `node` is offered to the supergraph, `{ __typename: "Node", id }` resolves by the ID’s prefix, as the typed representation would.',
    authScopes: { $any: { admin: true, customer: true } },
    args: { representations: t.arg({ type: [AnyScalar], required: true }) },
    extensions: { entities: entitiesSpec },
    resolve: (_root, args, ctx, info) => resolveEntities(args.representations, ctx, info),
  }),
}));

/** Relay's and the other common value types every subgraph may declare alike (Count: Shopify's count shape). */
const SHAREABLE_TYPES = new Set(['PageInfo', 'Count']);
const RELAY_QUERY_FIELDS = new Set(['node', 'nodes']);

export interface SubgraphOptions {
  /**
   * Put in front of this service's own type names (the `Error` interface, `ErrorCode`, and every
   * type implementing `Error`), which other subgraphs are likely to declare differently. Empty: as is.
   */
  typePrefix: string;
  /**
   * Offer Relay's `node`/`nodes` to the supergraph. They resolve this service's IDs only, so turn
   * this off where another subgraph serves `Query.node`; direct clients keep them either way.
   */
  nodeQuery: boolean;
  /**
   * Print `@authenticated`/`@requiresScopes` (federation-metadata.ts) for a router that enforces them.
   * Off by default: they link features `for: SECURITY`, and a gateway that cannot enforce them
   * (@apollo/gateway) refuses the whole supergraph.
   */
  authDirectives?: boolean;
}

export const DEFAULT_SUBGRAPH_OPTIONS: SubgraphOptions = { typePrefix: '', nodeQuery: true, authDirectives: false };

const subgraphOptions = new WeakMap<GraphQLSchema, SubgraphOptions>();
const subgraphSchemas = new Map<string, GraphQLSchema>();

/** This service's own type names: the expected-failure types. */
export function ownTypeNames(schema: GraphQLSchema): string[] {
  const error = schema.getType('Error');
  if (!error || !isInterfaceType(error)) return [];
  return ['Error', 'ErrorCode', ...schema.getPossibleTypes(error).map((type) => type.name)].sort();
}

/**
 * The schema this service serves with these options: `schema` itself by default, else a copy whose
 * own type names carry the prefix (resolvers unchanged; abstract types answer the new names).
 */
export function subgraphSchema(
  schema: GraphQLSchema,
  options: SubgraphOptions = DEFAULT_SUBGRAPH_OPTIONS,
): GraphQLSchema {
  if (!options.typePrefix && options.nodeQuery && !options.authDirectives) return schema;
  const cacheKey = `${options.typePrefix}/${options.nodeQuery}/${options.authDirectives ?? false}`;
  const known = subgraphSchemas.get(cacheKey);
  if (known) return known;
  const own = new Set(ownTypeNames(schema));
  const rename = (name: string) => (own.has(name) ? `${options.typePrefix}${name}` : name);
  const taken = [...own].map(rename).filter((name) => !own.has(name) && schema.getType(name));
  if (taken.length)
    throw new Error(
      `FEDERATION_TYPE_PREFIX "${options.typePrefix}" makes names the schema already has: ${taken.join(', ')}`,
    );
  const renamed = (name: string | undefined) => (name === undefined ? name : rename(name));
  const result = mapSchema(schema, {
    [MapperKind.TYPE]: (type) => {
      if (type instanceof GraphQLObjectType)
        return new GraphQLObjectType({ ...type.toConfig(), name: rename(type.name) });
      if (type instanceof GraphQLEnumType) return new GraphQLEnumType({ ...type.toConfig(), name: rename(type.name) });
      if (type instanceof GraphQLInterfaceType || type instanceof GraphQLUnionType) {
        const config = type.toConfig();
        const resolveType = config.resolveType;
        const wrapped: typeof resolveType = resolveType
          ? (...args) => {
              const answer = resolveType(...args);
              return answer instanceof Promise ? answer.then(renamed) : renamed(answer);
            }
          : undefined;
        return type instanceof GraphQLInterfaceType
          ? new GraphQLInterfaceType({
              ...(config as ReturnType<GraphQLInterfaceType['toConfig']>),
              name: rename(type.name),
              resolveType: wrapped,
            })
          : new GraphQLUnionType({
              ...(config as ReturnType<GraphQLUnionType['toConfig']>),
              name: rename(type.name),
              resolveType: wrapped,
            });
      }
      return type;
    },
  });
  subgraphOptions.set(result, options);
  subgraphSchemas.set(cacheKey, result);
  return result;
}

function constValue(value: unknown): ConstValueNode {
  if (typeof value === 'string') return { kind: Kind.STRING, value };
  if (typeof value === 'number') return { kind: Kind.INT, value: String(value) };
  if (typeof value === 'boolean') return { kind: Kind.BOOLEAN, value };
  if (Array.isArray(value)) return { kind: Kind.LIST, values: value.map(constValue) };
  throw new Error(`no GraphQL literal for ${JSON.stringify(value)}`);
}

function directive(name: string, args: Record<string, unknown> = {}): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: name },
    arguments: Object.entries(args)
      .filter(([, value]) => value !== undefined)
      .map(([argument, value]) => ({
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: argument },
        value: constValue(value),
      })),
  };
}

/** The directives of an element's metadata (federation-metadata.ts), in a stable order. */
function metadataDirectives(metadata: Metadata | undefined, auth: boolean): ConstDirectiveNode[] {
  if (!metadata) return [];
  return [
    ...metadata.tags.map((name) => directive('tag', { name })),
    ...(auth && metadata.authenticated ? [directive('authenticated')] : []),
    ...(auth && metadata.requiresScopes ? [directive('requiresScopes', { scopes: metadata.requiresScopes })] : []),
    ...(metadata.listSize ? [directive('listSize', { ...metadata.listSize })] : []),
  ];
}

type WithDirectives = { directives?: readonly ConstDirectiveNode[] };

function withMetadata<T extends WithDirectives>(
  node: T,
  metadata: Map<string, Metadata>,
  coordinate: string,
  used: Set<string>,
  auth: boolean,
): T {
  const added = metadataDirectives(metadata.get(coordinate), auth);
  for (const { name } of added) used.add(`@${name.value}`);
  return added.length ? { ...node, directives: [...(node.directives ?? []), ...added] } : node;
}

const printed = new WeakMap<GraphQLSchema, string>();

/**
 * The subgraph SDL for composition: `@link`, `@key`s, `@shareable` and the metadata directives added
 * to the schema's AST, Relay's `node`/`nodes` left out unless offered, printed by Apollo's
 * printSubgraphSchema (which leaves out the federation plumbing, as the spec asks).
 */
export function printSubgraphSdl(schema: GraphQLSchema): string {
  const cached = printed.get(schema);
  if (cached) return cached;
  const options = subgraphOptions.get(schema) ?? DEFAULT_SUBGRAPH_OPTIONS;
  const hidden = options.nodeQuery ? new Set<string>() : RELAY_QUERY_FIELDS;
  const queryName = schema.getQueryType()?.name;
  const metadata = federationMetadata(schema);
  const used = new Set<string>();
  const auth = options.authDirectives ?? false;
  const document = parse(printSchema(lexicographicSortSchema(schema)));
  const fieldsOf = <
    F extends WithDirectives & { name: { value: string }; arguments?: readonly InputValueDefinitionNode[] },
  >(
    type: string,
    fields: readonly F[] | undefined,
  ) =>
    fields?.map((field) => {
      const coordinate = `${type}.${field.name.value}`;
      const args = field.arguments?.map((argument) =>
        withMetadata(argument, metadata, `${coordinate}(${argument.name.value}:)`, used, auth),
      );
      return withMetadata({ ...field, ...(args ? { arguments: args } : {}) }, metadata, coordinate, used, auth);
    });
  const definitions = document.definitions.flatMap((definition): DefinitionNode[] => {
    if (!('name' in definition) || !definition.name) return [definition];
    const name = definition.name.value;
    switch (definition.kind) {
      case Kind.INTERFACE_TYPE_DEFINITION: {
        // An entity interface (federation 2.3): another subgraph may add fields to every node with
        // `type Node @interfaceObject @key(fields: "id")`; `_entities` resolves `{ __typename: "Node", id }`.
        const key = options.nodeQuery && name === ENTITY_INTERFACE ? [directive('key', { fields: 'id' })] : [];
        return [
          {
            ...definition,
            directives: [...(definition.directives ?? []), ...key],
            fields: fieldsOf(name, definition.fields),
          },
        ];
      }
      case Kind.OBJECT_TYPE_DEFINITION: {
        const keys = isEntityName(name) ? ENTITY_KEYS[name].map((fields) => directive('key', { fields })) : [];
        const shareable = SHAREABLE_TYPES.has(name) ? [directive('shareable')] : [];
        const fields =
          name === queryName ? definition.fields?.filter((field) => !hidden.has(field.name.value)) : definition.fields;
        return [
          withMetadata(
            {
              ...definition,
              directives: [...(definition.directives ?? []), ...keys, ...shareable],
              fields: fieldsOf(name, fields),
            },
            metadata,
            name,
            used,
            auth,
          ),
        ];
      }
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        return [{ ...definition, fields: fieldsOf(name, definition.fields) }];
      default:
        return [withMetadata(definition as DefinitionNode & WithDirectives, metadata, name, used, auth)];
    }
  });
  const imports = ['@key', '@shareable', ...OPTIONAL_IMPORTS.filter((name) => used.has(name))];
  const link = parse(
    `extend schema @link(url: "${FEDERATION_SPEC_URL}", import: [${imports.map((name) => `"${name}"`).join(', ')}])`,
  );
  // Apollo's printer leaves out _entities, _service, _Any, _Entity and _Service, and validates the
  // subgraph as composition will: a @key on a missing field throws here, not in a registry.
  const sdl = printSubgraphSchema(
    buildASTSchema(
      { kind: Kind.DOCUMENT, definitions: [...link.definitions, ...definitions] },
      { assumeValidSDL: true },
    ),
  );
  printed.set(schema, sdl);
  return sdl;
}
