import type { Prisma } from '../generated/prisma/client.js';
import { foldCase } from '../lib/fold-case.js';
import { builder, LIVE } from './builder.js';
import { parseId, SEARCH_RULE, searchTerm, searchTextMatch } from './inputs.js';
import { type ListSpec, relationConnection, rootList, rootLookup } from './keyset.js';
import { ownedBy } from './owner.js';
import { idArg, lookupById } from './root-args.js';

// What every address load selects: the auth rule reads the owner, node lookups the deletion.
const ADDRESS_BASE = { id: true, customerId: true, deletedAt: true } as const;

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
export const Address = builder.prismaNode('Address', {
  id: { field: 'id' },
  select: ADDRESS_BASE,
  nullable: true,
  ...ownedBy('customerId'),
  fields: (t) => ({
    addressName: t.exposeString('addressName', { nullable: true }),
    isDefaultShipping: t.exposeBoolean('isDefaultShipping'),
    isDefaultBilling: t.exposeBoolean('isDefaultBilling'),
    company: t.exposeString('company', { nullable: true }),
    firstName: t.exposeString('firstName', { nullable: true }),
    lastName: t.exposeString('lastName', { nullable: true }),
    address1: t.exposeString('address1', { nullable: true }),
    address2: t.exposeString('address2', { nullable: true }),
    city: t.exposeString('city', { nullable: true }),
    countryCode: t.expose('countryCode', { type: 'CountryCode', nullable: true }),
    province: t.exposeString('province', { nullable: true }),
    postalCode: t.exposeString('postalCode', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSONObject', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    customer: t.relation('customer'),
  }),
});

type DefaultFlag = 'isDefaultShipping' | 'isDefaultBilling';

/** A customer's default address of a kind: the live one with the flag (a unique index allows one). */
const defaultWhere = (flag: DefaultFlag) => ({ ...LIVE, [flag]: true });

// Both default-address fields make the same selection, so Pothos loads it once for both.
const defaultAddresses = (_args: object, _ctx: object, nestedSelection: <T>(selection: T) => T) => ({
  addresses: nestedSelection({
    where: { OR: [defaultWhere('isDefaultShipping'), defaultWhere('isDefaultBilling')] },
    select: { ...ADDRESS_BASE, isDefaultShipping: true, isDefaultBilling: true },
  }),
});

const defaultAddress = (flag: DefaultFlag) => ({
  type: Address,
  nullable: true as const,
  select: defaultAddresses,
  resolve: (customer: { addresses: { [K in DefaultFlag]: boolean }[] }) =>
    (customer.addresses.find((a) => a[flag]) ?? null) as never,
  // The read planner reads the one row of `addresses` under the same rule.
  extensions: {
    readPlan: { kind: 'relation', relation: 'addresses', query: () => ({ where: defaultWhere(flag) }), single: true },
  },
});

const customerAddresses = relationConnection({
  relation: 'addresses',
  connection: 'Customer.addresses',
  ordering: { model: 'Address', field: 'createdAt', direction: 'asc' },
  where: () => LIVE,
});

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.prismaObjectFields('Customer', (t) => ({
  addresses: t.connection(
    { type: Address, ...customerAddresses },
    { name: 'CustomerAddressesConnection' },
    { name: 'CustomerAddressesConnectionEdge' },
  ),
  defaultShippingAddress: t.field(defaultAddress('isDefaultShipping')),
  defaultBillingAddress: t.field(defaultAddress('isDefaultBilling')),
}));

export const AddressFilter = builder.inputType('AddressFilter', {
  fields: (t) => ({
    customerId: t.id(),
    city: t.string({ description: 'Exact city, case-insensitive.' }),
    countryCode: t.string({ description: 'ISO 3166-1 alpha-2, either case.' }),
    postalCode: t.string(),
    q: t.string({ description: `Search over name, company, street, city, postal code and phone. ${SEARCH_RULE}` }),
  }),
});

export function addressWhere(filter: typeof AddressFilter.$inferInput | null | undefined): Prisma.AddressWhereInput {
  const q = searchTerm(filter?.q);
  return {
    ...LIVE,
    customer: LIVE,
    ...(filter?.customerId ? { customerId: parseId(String(filter.customerId), 'Customer', 'filter.customerId') } : {}),
    ...(filter?.city?.trim() ? { cityFolded: foldCase(filter.city.trim()) } : {}),
    ...(filter?.countryCode ? { countryCode: filter.countryCode.trim().toLowerCase() } : {}),
    ...(filter?.postalCode ? { postalCode: filter.postalCode.trim() } : {}),
    ...(q ? { searchText: searchTextMatch(q) } : {}),
  };
}

const addressesList: ListSpec<{ filter?: typeof AddressFilter.$inferInput | null }> = {
  model: 'Address',
  connection: 'addresses',
  where: (args) => addressWhere(args.filter),
  ordering: () => ({ model: 'Address', field: 'createdAt', direction: 'desc' }),
};

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.queryFields((t) => ({
  address: t.prismaField({
    type: 'Address',
    nullable: true,
    authScopes: { admin: true },
    args: idArg,
    ...rootLookup(lookupById('Address', 'hidden'), (db) => db.address),
  }),
  addresses: t.connection(
    {
      type: Address,
      authScopes: { admin: true },
      args: { filter: t.arg({ type: AddressFilter }) },
      ...rootList(addressesList, 'Address', (db) => db.address),
    },
    { name: 'AddressConnection' },
    { name: 'AddressEdge' },
  ),
}));
