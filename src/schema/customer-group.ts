import type { Prisma } from '../generated/prisma/client.js';
import { foldCase } from '../lib/fold-case.js';
import { builder, LIVE } from './builder.js';
import { Customer } from './customer.js';
import { DateTimeFilter, dateRange, ilike, parseIds, SEARCH_RULE, SortDirection, searchTerm } from './inputs.js';
import { type ListSpec, type Ordering, relationConnection, rootList, rootLookup } from './keyset.js';
import { idArg, lookupById, withDeletedArg } from './root-args.js';

export const CustomerGroupFilter = builder.inputType('CustomerGroupFilter', {
  fields: (t) => ({
    q: t.string({ description: `Search over the name. ${SEARCH_RULE}` }),
    name: t.stringList({ description: 'Exact names, case-insensitive: a group whose name is one of these.' }),
    ids: t.idList(),
    createdAt: t.field({ type: DateTimeFilter }),
    updatedAt: t.field({ type: DateTimeFilter }),
  }),
});

const CustomerGroupSortField = builder.enumType('CustomerGroupSortField', {
  values: {
    CREATED_AT: { value: 'createdAt' },
    UPDATED_AT: { value: 'updatedAt' },
    NAME: { value: 'name' },
  } as const,
});

const CustomerGroupOrderBy = builder.inputType('CustomerGroupOrderBy', {
  fields: (t) => ({
    field: t.field({ type: CustomerGroupSortField, required: true }),
    direction: t.field({ type: SortDirection, defaultValue: 'asc' }),
  }),
});

export function customerGroupWhere(
  filter: typeof CustomerGroupFilter.$inferInput | null | undefined,
  { withDeleted = false } = {},
): Prisma.CustomerGroupWhereInput {
  const q = searchTerm(filter?.q);
  return {
    ...(withDeleted ? {} : LIVE),
    ...(filter?.ids ? { id: { in: parseIds(filter.ids, 'CustomerGroup', 'filter.ids') } } : {}),
    ...(filter?.name ? { nameFolded: { in: filter.name.map(foldCase) } } : {}),
    ...(filter?.createdAt ? { createdAt: dateRange(filter.createdAt) } : {}),
    ...(filter?.updatedAt ? { updatedAt: dateRange(filter.updatedAt) } : {}),
    ...(q ? { name: ilike(q) } : {}),
  };
}

const GroupMemberFilter = builder.inputType('CustomerGroupCustomersFilter', {
  fields: (t) => ({
    q: t.string({ description: `Search over email, first and last name, company and phone. ${SEARCH_RULE}` }),
  }),
});

/**
 * A group's members are its live memberships: the database keeps every live membership's customer
 * live (migration 20261207050000), so the list and its counts need not read the customers.
 */
function memberWhere(filter: typeof GroupMemberFilter.$inferInput | null | undefined) {
  const q = searchTerm(filter?.q);
  return {
    ...LIVE,
    ...(q
      ? {
          customer: {
            OR: [
              { email: ilike(q) },
              { firstName: ilike(q) },
              { lastName: ilike(q) },
              { companyName: ilike(q) },
              { phone: ilike(q) },
            ],
          },
        }
      : {}),
  } satisfies Prisma.CustomerGroupCustomerWhereInput;
}

// Membership IDs are ULIDs, so ordering by them is ordering by when the membership began.
const byMembership: Ordering = { model: 'CustomerGroupCustomer', field: null, direction: 'asc' };

const members = relationConnection<{ filter?: typeof GroupMemberFilter.$inferInput | null }>({
  relation: 'customers',
  through: 'customer',
  connection: 'CustomerGroup.customers',
  ordering: byMembership,
  where: (args) => memberWhere(args.filter),
});

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
export const CustomerGroup = builder.prismaNode('CustomerGroup', {
  id: { field: 'id' },
  select: { id: true, deletedAt: true },
  nullable: true,
  // Customers see the groups they are in (through `me`); who else is in a group is for admins.
  authScopes: { $any: { admin: true, customer: true } },
  fields: (t) => ({
    name: t.exposeString('name'),
    // A back office's own notes on the group: its members see the group's name, not these.
    metadata: t.expose('metadata', { type: 'JSONObject', nullable: true, authScopes: { admin: true } }),
    createdBy: t.exposeString('createdBy', {
      nullable: true,
      authScopes: { admin: true },
      description: 'The admin API key that created it (admins only).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
    customers: t.connection({
      type: Customer,
      authScopes: { admin: true },
      args: { filter: t.arg({ type: GroupMemberFilter }) },
      ...members,
    }),
  }),
});

const CustomerGroupsFilter = builder.inputType('CustomerCustomerGroupsFilter', {
  fields: (t) => ({
    q: t.string({ description: `Search over the name. ${SEARCH_RULE}` }),
    ids: t.idList(),
  }),
});

const groupMemberships = relationConnection<{ filter?: typeof CustomerGroupsFilter.$inferInput | null }>({
  relation: 'groups',
  through: 'customerGroup',
  connection: 'Customer.groups',
  ordering: byMembership,
  where: ({ filter }) => {
    const q = searchTerm(filter?.q);
    return {
      ...LIVE,
      customerGroup: {
        ...LIVE,
        ...(q ? { name: ilike(q) } : {}),
        ...(filter?.ids ? { id: { in: parseIds(filter.ids, 'CustomerGroup', 'filter.ids') } } : {}),
      },
    };
  },
});

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.prismaObjectField('Customer', 'groups', (t) =>
  t.connection({ type: CustomerGroup, args: { filter: t.arg({ type: CustomerGroupsFilter }) }, ...groupMemberships }),
);

const groupsList: ListSpec<{
  filter?: typeof CustomerGroupFilter.$inferInput | null;
  orderBy?: typeof CustomerGroupOrderBy.$inferInput | null;
  withDeleted?: boolean | null;
}> = {
  model: 'CustomerGroup',
  connection: 'customerGroups',
  where: (args) => customerGroupWhere(args.filter, { withDeleted: args.withDeleted ?? false }),
  // Newest first unless asked otherwise.
  ordering: (args) => ({
    model: 'CustomerGroup',
    field: args.orderBy?.field ?? 'createdAt',
    direction: args.orderBy ? (args.orderBy.direction ?? 'asc') : 'desc',
  }),
};

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.queryFields((t) => ({
  customerGroup: t.prismaField({
    type: 'CustomerGroup',
    nullable: true,
    authScopes: { admin: true },
    args: { ...idArg, ...withDeletedArg },
    ...rootLookup(lookupById('CustomerGroup', 'onRequest'), (db) => db.customerGroup),
  }),
  customerGroups: t.connection(
    {
      type: CustomerGroup,
      authScopes: { admin: true },
      args: {
        filter: t.arg({ type: CustomerGroupFilter }),
        orderBy: t.arg({ type: CustomerGroupOrderBy }),
        ...withDeletedArg,
      },
      ...rootList(groupsList, 'CustomerGroup', (db) => db.customerGroup),
    },
    { name: 'CustomerGroupConnection' },
    { name: 'CustomerGroupEdge' },
  ),
}));
