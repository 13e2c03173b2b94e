import type { Prisma } from '../generated/prisma/client.js';
import { builder, LIVE } from './builder.js';
import { parseIds } from './inputs.js';
import { type ListSpec, rootList } from './keyset.js';

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
export const Membership = builder.prismaNode('CustomerGroupCustomer', {
  name: 'CustomerGroupMembership',
  id: { field: 'id' },
  select: { id: true, deletedAt: true },
  authScopes: { admin: true },
  description: "A customer's membership in a group (Medusa's CustomerGroupCustomer).",
  fields: (t) => ({
    customer: t.relation('customer'),
    group: t.relation('customerGroup'),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const MembershipFilter = builder.inputType('CustomerGroupMembershipFilter', {
  fields: (t) => ({
    customerIds: t.idList(),
    groupIds: t.idList(),
  }),
});

const membershipsList: ListSpec<{ filter?: typeof MembershipFilter.$inferInput | null }> = {
  model: 'CustomerGroupCustomer',
  connection: 'customerGroupMemberships',
  where: (args) => membershipWhere(args.filter),
  ordering: () => ({ model: 'CustomerGroupCustomer', field: 'createdAt', direction: 'asc' }),
};

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.queryFields((t) => ({
  customerGroupMemberships: t.connection(
    {
      type: Membership,
      authScopes: { admin: true },
      description: "Membership rows, as Medusa's listCustomerGroupCustomers.",
      args: { filter: t.arg({ type: MembershipFilter }) },
      ...rootList(membershipsList, 'CustomerGroupMembership', (db) => db.customerGroupCustomer),
    },
    { name: 'CustomerGroupMembershipConnection' },
    { name: 'CustomerGroupMembershipEdge' },
  ),
}));

function membershipWhere(filter: typeof MembershipFilter.$inferInput | null | undefined) {
  return {
    ...LIVE,
    customer: LIVE,
    customerGroup: LIVE,
    ...(filter?.customerIds
      ? { customerId: { in: parseIds(filter.customerIds, 'Customer', 'filter.customerIds') } }
      : {}),
    ...(filter?.groupIds
      ? { customerGroupId: { in: parseIds(filter.groupIds, 'CustomerGroup', 'filter.groupIds') } }
      : {}),
  } satisfies Prisma.CustomerGroupCustomerWhereInput;
}
