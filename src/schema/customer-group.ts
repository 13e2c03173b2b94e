import { prismaConnectionHelpers } from '@pothos/plugin-prisma';
import type { Customer as CustomerRow, CustomerGroup as CustomerGroupRow, Prisma } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { Customer } from './customer.js';
import { countLoader } from './loaders.js';
import { dateRange, DateTimeFilter, ilike, keysetOrder, parseId, parseIds, searchTerm, SortDirection } from './inputs.js';

export const CustomerGroupFilter = builder.inputType('CustomerGroupFilter', {
  fields: (t) => ({
    q: t.string({ description: 'Case-insensitive search over the name.' }),
    name: t.stringList({ description: 'Exact names.' }),
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
    ...(withDeleted ? {} : { deletedAt: null }),
    ...(filter?.ids ? { id: { in: parseIds(filter.ids, 'CustomerGroup', 'filter.ids') } } : {}),
    ...(filter?.name ? { name: { in: filter.name } } : {}),
    ...(filter?.createdAt ? { createdAt: dateRange(filter.createdAt) } : {}),
    ...(filter?.updatedAt ? { updatedAt: dateRange(filter.updatedAt) } : {}),
    ...(q ? { name: { ...ilike(q), ...(filter?.name ? { in: filter.name } : {}) } } : {}),
  };
}

const GroupMemberFilter = builder.inputType('CustomerGroupCustomersFilter', {
  fields: (t) => ({
    q: t.string({ description: 'Case-insensitive search over email, first and last name, company and phone.' }),
  }),
});

function memberWhere(filter: typeof GroupMemberFilter.$inferInput | null | undefined) {
  const q = searchTerm(filter?.q);
  return {
    deletedAt: null,
    customer: {
      deletedAt: null,
      ...(q
        ? {
            OR: [
              { email: ilike(q) },
              { firstName: ilike(q) },
              { lastName: ilike(q) },
              { companyName: ilike(q) },
              { phone: ilike(q) },
            ],
          }
        : {}),
    },
  } satisfies Prisma.CustomerGroupCustomerWhereInput;
}

const members = prismaConnectionHelpers(builder, 'CustomerGroupCustomer', {
  cursor: 'id',
  args: (t) => ({ filter: t.field({ type: GroupMemberFilter }) }),
  // The ID keeps the selection non-empty when only totalCount is asked for; Pothos merges in the
  // rest of what the node type needs, so the row below is a whole customer.
  select: (nodeSelection) => ({ customer: nodeSelection({ select: { id: true } }) }),
  query: (args) => ({ where: memberWhere(args.filter), orderBy: { id: 'asc' as const } }),
  resolveNode: (membership) => membership.customer as CustomerRow,
});

export const CustomerGroup = builder.prismaNode('CustomerGroup', {
  id: { field: 'id' },
  select: { id: true, deletedAt: true },
  nullable: true,
  // Customers see the groups they are in (through `me`); who else is in a group is for admins.
  authScopes: { $any: { admin: true, customer: true } },
  fields: (t) => ({
    name: t.exposeString('name'),
    metadata: t.expose('metadata', { type: 'JSONObject', nullable: true }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
    customers: t.connection(
      {
        type: Customer,
        authScopes: { admin: true },
        args: members.getArgs(),
        select: (args, ctx, nestedSelection) => ({ customers: members.getQuery(args, ctx, nestedSelection) }),
        resolve: (group, args, ctx) => ({ ...members.resolve(group.customers, args, ctx), groupId: group.id, filter: args.filter }),
      },
      {
        fields: (c) => ({
          totalCount: c.int({
            resolve: ({ groupId, filter }, _args, ctx) =>
              countLoader(ctx, `group-members:${JSON.stringify(filter ?? {})}`, async (ids) => {
                const rows = await ctx.db.customerGroupCustomer.groupBy({
                  by: ['customerGroupId'],
                  where: { customerGroupId: { in: [...ids] }, ...memberWhere(filter) },
                  _count: { _all: true },
                });
                return new Map(rows.map((r) => [r.customerGroupId, r._count._all]));
              }).load(groupId),
          }),
        }),
      },
    ),
  }),
});

// Membership IDs are ULIDs, so ordering by them is ordering by when the membership began.
const groupMemberships = prismaConnectionHelpers(builder, 'CustomerGroupCustomer', {
  cursor: 'id',
  select: (nodeSelection) => ({ customerGroup: nodeSelection({ select: { id: true } }) }), // as above
  query: () => ({ where: { deletedAt: null, customerGroup: { deletedAt: null } }, orderBy: { id: 'asc' as const } }),
  resolveNode: (membership) => membership.customerGroup as CustomerGroupRow,
});

builder.prismaObjectField('Customer', 'groups', (t) =>
  t.connection(
    {
      type: CustomerGroup,
      select: (args, ctx, nestedSelection) => ({ groups: groupMemberships.getQuery(args, ctx, nestedSelection) }),
      resolve: (customer, args, ctx) => ({ ...groupMemberships.resolve(customer.groups, args, ctx), customerId: customer.id }),
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          resolve: ({ customerId }, _args, ctx) =>
            countLoader(ctx, 'customer-groups', async (ids) => {
              const rows = await ctx.db.customerGroupCustomer.groupBy({
                by: ['customerId'],
                where: { customerId: { in: [...ids] }, deletedAt: null, customerGroup: { deletedAt: null } },
                _count: { _all: true },
              });
              return new Map(rows.map((r) => [r.customerId, r._count._all]));
            }).load(customerId),
        }),
      }),
    },
  ),
);

builder.queryFields((t) => ({
  customerGroup: t.prismaField({
    type: 'CustomerGroup',
    nullable: true,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }), withDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.customerGroup.findFirst({
        ...query,
        where: { id: parseId(String(args.id), 'CustomerGroup', 'id'), ...(args.withDeleted ? {} : { deletedAt: null }) },
      }),
  }),
  customerGroups: t.prismaConnection({
    type: 'CustomerGroup',
    cursor: 'id',
    authScopes: { admin: true },
    args: {
      filter: t.arg({ type: CustomerGroupFilter }),
      orderBy: t.arg({ type: CustomerGroupOrderBy }),
      withDeleted: t.arg.boolean({ defaultValue: false }),
    },
    totalCount: (_connection, args, ctx) =>
      ctx.db.customerGroup.count({ where: customerGroupWhere(args.filter, { withDeleted: args.withDeleted ?? false }) }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.customerGroup.findMany({
        ...query,
        where: customerGroupWhere(args.filter, { withDeleted: args.withDeleted ?? false }),
        orderBy: args.orderBy
          ? keysetOrder(args.orderBy.field, args.orderBy.direction ?? 'asc')
          : keysetOrder('createdAt', 'desc'),
      }),
  }, { name: 'CustomerGroupConnection' }, { name: 'CustomerGroupEdge' }),
}));
