import { ulid as freshUlid, monotonicFactory } from 'ulid';

/** Medusa's ID prefixes. An ID's prefix names its GraphQL type, so IDs double as Relay node IDs. */
export const ID_PREFIXES = {
  Customer: 'cus',
  CustomerGroup: 'cusgroup',
  CustomerGroupCustomer: 'cusgc',
  Address: 'cuaddr',
  Order: 'order',
  OrderLineItem: 'ordli',
  CustomerSession: 'cses',
  CustomerNote: 'cunote',
  CustomerTimelineEntry: 'cutl',
  OutboxEvent: 'evt',
} as const;

export type IdType = keyof typeof ID_PREFIXES;

const TYPE_BY_PREFIX = new Map<string, IdType>(
  Object.entries(ID_PREFIXES).map(([type, prefix]) => [prefix, type as IdType]),
);

const ID_SHAPE = /^([a-z]+)_([0-9A-Za-z]{1,64})$/;

/** The digits of an ID after its prefix: Crockford's base 32, as a ULID writes them. */
export const ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// Monotonic within a millisecond too, so IDs made in one go (a batch, a row of events) keep their order.
const ulid = monotonicFactory();

export function newId(type: IdType): string {
  return `${ID_PREFIXES[type]}_${ulid()}`;
}

/**
 * The first 20 characters of a new ID (prefix, time and 50 random bits) for IDs whose last 6 are a
 * counter, made in SQL for a batch (`cusgc_…000001`, `…000002`, …). Not from the monotonic
 * factory: two stems made in one millisecond must differ in their random part, not only at its end.
 */
export function newIdStem(type: IdType): string {
  return `${ID_PREFIXES[type]}_${freshUlid().slice(0, 20)}`;
}

/** The GraphQL type a row is served as, where its name is not the model's. */
const GRAPHQL_TYPE_NAMES: Partial<Record<IdType, string>> = { CustomerGroupCustomer: 'CustomerGroupMembership' };

/** The GraphQL type an ID's row is served as (a Relay node's type), or null when it is not one of ours. */
export function graphqlTypeOfId(id: string): string | null {
  const type = typeOfId(id);
  return type && (GRAPHQL_TYPE_NAMES[type] ?? type);
}

/** The type an ID belongs to, or null when it is not one of ours. */
export function typeOfId(id: string): IdType | null {
  const match = ID_SHAPE.exec(id);
  return match ? (TYPE_BY_PREFIX.get(match[1]!) ?? null) : null;
}
