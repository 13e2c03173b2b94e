import { getRefFromModel } from '@pothos/plugin-prisma';
import type {
  CustomerGroupCustomer,
  Customer as CustomerRow,
  CustomerGroup as GroupRow,
} from '../generated/prisma/client.js';
import { BatchTooLargeError, NameTakenError, NotFoundError, ValidationError } from '../services/errors.js';
import * as groups from '../services/groups.js';
import { builder } from './builder.js';
import { Customer } from './customer.js';
import { CustomerGroup, CustomerGroupFilter, customerGroupWhere } from './customer-group.js';
import { parseId, parseIds, selectionErrors, selectionFrom } from './inputs.js';
import './membership.js';

// Admin operations on customer groups and memberships (Medusa v1 admin customer groups, v2
// customer module). Every mutation is one transaction: all or nothing.

const Membership = getRefFromModel('CustomerGroupCustomer', builder);

const CreateCustomerGroupInput = builder.inputType('CreateCustomerGroupInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Trimmed; 1 to 255 characters; unique among groups that are not deleted.',
    }),
    metadata: t.field({ type: 'JSONObject' }),
    customerIds: t.idList({ description: 'Customers who join the group as it is created.' }),
  }),
});

const UpdateCustomerGroupInput = builder.inputType('UpdateCustomerGroupInput', {
  description: 'Only the fields given change. `metadata` merges into each group’s keys; a key set to null is removed.',
  fields: (t) => ({
    name: t.string({ description: 'Only when one group is selected.' }),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const CustomerGroupMembershipInput = builder.inputType('CustomerGroupMembershipInput', {
  fields: (t) => ({
    customerId: t.id({ required: true }),
    groupId: t.id({ required: true }),
  }),
});

const payload = { authScopes: { admin: true } } as const;

const CustomerGroupsPayload = builder.objectRef<{ customerGroups: GroupRow[] }>('CustomerGroupsPayload').implement({
  ...payload,
  fields: (t) => ({ customerGroups: t.field({ type: [CustomerGroup], resolve: (p) => p.customerGroups }) }),
});

const CustomerGroupPayload = builder.objectRef<{ customerGroupId: string }>('CustomerGroupPayload').implement({
  ...payload,
  fields: (t) => ({
    // Read with what the client selected under it, in one query.
    customerGroup: t.prismaField({
      type: 'CustomerGroup',
      resolve: (query, p, _args, ctx) =>
        ctx.db.customerGroup.findUniqueOrThrow({ ...query, where: { id: p.customerGroupId } }),
    }),
  }),
});

const DeletedCustomerGroupsPayload = builder.objectRef<{ ids: string[] }>('DeletedCustomerGroupsPayload').implement({
  ...payload,
  fields: (t) => ({
    deletedIds: t.exposeIDList('ids', { description: 'The IDs of the groups deleted (for Relay: `@deleteRecord`).' }),
  }),
});

const SoftDeletedCustomerGroupsPayload = builder
  .objectRef<groups.SoftDeletedGroups>('SoftDeletedCustomerGroupsPayload')
  .implement({
    ...payload,
    description:
      "As Medusa's softDeleteCustomerGroups/restoreCustomerGroups: the groups, and the memberships that went (or came back) with them.",
    fields: (t) => ({
      ids: t.exposeIDList('ids'),
      membershipIds: t.exposeIDList('membershipIds'),
    }),
  });

const BatchCustomerGroupsPayload = builder
  .objectRef<{ customer: CustomerRow }>('BatchCustomerGroupsPayload')
  .implement({
    ...payload,
    fields: (t) => ({ customer: t.field({ type: Customer, resolve: (p) => p.customer }) }),
  });

const CustomerGroupMembershipsPayload = builder
  .objectRef<{ memberships: CustomerGroupCustomer[] }>('CustomerGroupMembershipsPayload')
  .implement({
    ...payload,
    fields: (t) => ({ memberships: t.field({ type: [Membership], resolve: (p) => p.memberships }) }),
  });

const RemovedMembershipsPayload = builder
  .objectRef<{ ids: string[] }>('RemovedCustomerGroupMembershipsPayload')
  .implement({
    ...payload,
    fields: (t) => ({ ids: t.exposeIDList('ids', { description: 'The memberships removed.' }) }),
  });

type Ids = readonly (string | number)[];
const groupIds = (ids: Ids, argument: string) => parseIds(ids.map(String), 'CustomerGroup', argument);
const customerIds = (ids: Ids, argument: string) => parseIds(ids.map(String), 'Customer', argument);

const batchErrors = [ValidationError, NotFoundError, BatchTooLargeError];

builder.mutationFields((t) => {
  const selection = {
    ids: t.arg.idList({ description: 'The groups to act on; or give `filter`.' }),
    filter: t.arg({ type: CustomerGroupFilter, description: 'Must hold at least one condition.' }),
  };
  const selected = selectionFrom('CustomerGroup', (filter: typeof CustomerGroupFilter.$inferInput) =>
    customerGroupWhere(filter),
  );
  const memberships = (items: readonly { customerId: string | number; groupId: string | number }[]) =>
    items.map((m, i) => ({
      customerId: parseId(String(m.customerId), 'Customer', `memberships[${i}].customerId`),
      customerGroupId: parseId(String(m.groupId), 'CustomerGroup', `memberships[${i}].groupId`),
    }));
  const membershipsArg = { memberships: t.arg({ type: [CustomerGroupMembershipInput], required: true }) };

  return {
    createCustomerGroups: t.field({
      type: CustomerGroupsPayload,
      description: 'All or none are created.',
      authScopes: { admin: true },
      args: { input: t.arg({ type: [CreateCustomerGroupInput], required: true }) },
      errors: { types: [...batchErrors, NameTakenError] },
      resolve: async (_root, args, ctx) => ({
        customerGroups: await groups.createCustomerGroups(
          ctx,
          args.input.map((input, i) => ({
            ...input,
            customerIds: input.customerIds && customerIds(input.customerIds, `input[${i}].customerIds`),
          })),
        ),
      }),
    }),
    updateCustomerGroups: t.field({
      type: CustomerGroupsPayload,
      authScopes: { admin: true },
      args: { ...selection, input: t.arg({ type: UpdateCustomerGroupInput, required: true }) },
      errors: { types: [...selectionErrors, NameTakenError] },
      resolve: async (_root, args, ctx) => ({
        customerGroups: await groups.updateCustomerGroups(ctx, selected(args, ctx), args.input),
      }),
    }),
    deleteCustomerGroups: t.field({
      type: DeletedCustomerGroupsPayload,
      description: 'Deletes for good, with their memberships; never the customers. By ids, soft-deleted groups too.',
      authScopes: { admin: true },
      args: selection,
      errors: { types: selectionErrors },
      resolve: async (_root, args, ctx) => ({ ids: await groups.deleteCustomerGroups(ctx, selected(args, ctx)) }),
    }),
    softDeleteCustomerGroups: t.field({
      type: SoftDeletedCustomerGroupsPayload,
      description: 'Groups deleted already are left as they are and not listed.',
      authScopes: { admin: true },
      args: { ids: t.arg.idList({ required: true }) },
      errors: { types: batchErrors },
      resolve: (_root, args, ctx) => groups.softDeleteCustomerGroups(ctx, groupIds(args.ids, 'ids')),
    }),
    restoreCustomerGroups: t.field({
      type: SoftDeletedCustomerGroupsPayload,
      description:
        'Brings back exactly what softDeleteCustomerGroups took. Groups not deleted are left as they are and not listed.',
      authScopes: { admin: true },
      args: { ids: t.arg.idList({ required: true }) },
      errors: { types: [...batchErrors, NameTakenError] },
      resolve: (_root, args, ctx) => groups.restoreCustomerGroups(ctx, groupIds(args.ids, 'ids')),
    }),
    addCustomersToGroup: t.field({
      type: CustomerGroupPayload,
      description: 'Customers already in the group stay as they are.',
      authScopes: { admin: true },
      args: { groupId: t.arg.id({ required: true }), customerIds: t.arg.idList({ required: true }) },
      errors: { types: batchErrors },
      resolve: async (_root, args, ctx) => {
        const customerGroupId = parseId(String(args.groupId), 'CustomerGroup', 'groupId');
        await groups.addCustomersToGroup(ctx, customerGroupId, customerIds(args.customerIds, 'customerIds'));
        return { customerGroupId };
      },
    }),
    removeCustomersFromGroup: t.field({
      type: CustomerGroupPayload,
      description: 'Customers not in the group are no error. The customers themselves stay.',
      authScopes: { admin: true },
      args: { groupId: t.arg.id({ required: true }), customerIds: t.arg.idList({ required: true }) },
      errors: { types: batchErrors },
      resolve: async (_root, args, ctx) => {
        const customerGroupId = parseId(String(args.groupId), 'CustomerGroup', 'groupId');
        await groups.removeCustomersFromGroup(ctx, customerGroupId, customerIds(args.customerIds, 'customerIds'));
        return { customerGroupId };
      },
    }),
    batchCustomerGroups: t.field({
      type: BatchCustomerGroupsPayload,
      description:
        "Medusa v2's batchCustomerGroups: the customer joins the `add` groups and leaves the `remove` groups.",
      authScopes: { admin: true },
      args: { customerId: t.arg.id({ required: true }), add: t.arg.idList(), remove: t.arg.idList() },
      errors: { types: batchErrors },
      resolve: async (_root, args, ctx) => ({
        customer: await groups.batchCustomerGroups(
          ctx,
          parseId(String(args.customerId), 'Customer', 'customerId'),
          groupIds(args.add ?? [], 'add'),
          groupIds(args.remove ?? [], 'remove'),
        ),
      }),
    }),
    addCustomerToGroup: t.field({
      type: CustomerGroupMembershipsPayload,
      description:
        "Medusa v2's addCustomerToGroup. Returns the membership of every pair, including those that existed.",
      authScopes: { admin: true },
      args: membershipsArg,
      errors: { types: batchErrors },
      resolve: async (_root, args, ctx) => ({
        memberships: await groups.addCustomerToGroup(ctx, memberships(args.memberships)),
      }),
    }),
    removeCustomerFromGroup: t.field({
      type: RemovedMembershipsPayload,
      description: "Medusa v2's removeCustomerFromGroup. Pairs that are not members are no error.",
      authScopes: { admin: true },
      args: membershipsArg,
      errors: { types: batchErrors },
      resolve: async (_root, args, ctx) => ({
        ids: await groups.removeCustomerFromGroup(ctx, memberships(args.memberships)),
      }),
    }),
  };
});
