import type { Address as AddressRow, Customer as CustomerRow } from '../generated/prisma/client.js';
import * as addresses from '../services/addresses.js';
import * as customers from '../services/customers.js';
import {
  BatchTooLargeError,
  EmailTakenError,
  LimitExceededError,
  MergeConflictError,
  NotFoundError,
  PasswordTooLongError,
  RestoreConflictError,
  ValidationError,
} from '../services/errors.js';
import * as merge from '../services/merge.js';
import { AddressInput } from './account.js';
import { Address, AddressFilter, addressWhere } from './address.js';
import { builder } from './builder.js';
import { Customer, CustomerFilter, selectedCustomers } from './customer.js';
import { parseId, parseIds, selectionErrors, selectionFrom } from './inputs.js';

const CreateCustomerInput = builder.inputType('CreateCustomerInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ description: 'Given, the customer is a registered account; without, a guest.' }),
    firstName: t.string(),
    lastName: t.string(),
    companyName: t.string(),
    phone: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const UpdateCustomerInput = builder.inputType('UpdateCustomerInput', {
  description:
    'Only the fields given change. `metadata` merges into each customer’s keys; a key set to null is removed.',
  fields: (t) => ({
    email: t.string({ description: 'Only when one customer is selected.' }),
    firstName: t.string(),
    lastName: t.string(),
    companyName: t.string(),
    phone: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const CreateAddressInput = builder.inputType('CreateAddressInput', {
  fields: (t) => ({
    customerId: t.id({ required: true }),
    address: t.field({ type: AddressInput, required: true }),
  }),
});

export const CustomersPayload = builder.objectRef<{ customers: CustomerRow[] }>('CustomersPayload').implement({
  authScopes: { admin: true },
  fields: (t) => ({ customers: t.field({ type: [Customer], resolve: (p) => p.customers }) }),
});

const AddressesPayload = builder.objectRef<{ addresses: AddressRow[] }>('AddressesPayload').implement({
  authScopes: { admin: true },
  fields: (t) => ({ addresses: t.field({ type: [Address], resolve: (p) => p.addresses }) }),
});

const DeletedIdsPayload = builder.objectRef<{ ids: string[] }>('DeletedIdsPayload').implement({
  authScopes: { admin: true },
  fields: (t) => ({
    deletedIds: t.exposeIDList('ids', { description: 'The IDs of what was deleted (for Relay: `@deleteRecord`).' }),
  }),
});

const SoftDeletedCustomersPayload = builder.objectRef<customers.SoftDeleted>('SoftDeletedCustomersPayload').implement({
  description:
    "As Medusa's softDelete/restore: the customers, and the related rows that went (or came back) with them.",
  authScopes: { admin: true },
  fields: (t) => ({
    ids: t.exposeIDList('ids'),
    addressIds: t.exposeIDList('addressIds'),
    membershipIds: t.exposeIDList('membershipIds'),
  }),
});

const MergeCustomersPayload = builder.objectRef<merge.MergeResult>('MergeCustomersPayload').implement({
  authScopes: { admin: true },
  fields: (t) => ({
    customer: t.field({
      type: Customer,
      description: 'The customer the others were merged into.',
      resolve: (p) => p.target,
    }),
    mergedIds: t.exposeIDList('sourceIds', {
      description: 'The customers merged (now soft-deleted, with mergedIntoId set).',
    }),
  }),
});

builder.mutationFields((t) => {
  const customerSelection = {
    ids: t.arg.idList({ description: 'The customers to act on; or give `filter`.' }),
    filter: t.arg({ type: CustomerFilter, description: 'Must hold at least one condition.' }),
  };
  const addressSelection = {
    ids: t.arg.idList({ description: 'The addresses to act on; or give `filter`.' }),
    filter: t.arg({ type: AddressFilter, description: 'Must hold at least one condition.' }),
  };
  const customers$ = selectedCustomers;
  const addresses$ = selectionFrom('Address', (filter: typeof AddressFilter.$inferInput) => addressWhere(filter));

  return {
    createCustomers: t.field({
      type: CustomersPayload,
      description: 'Guests, or with a password registered accounts. All or none are created.',
      authScopes: { admin: true },
      args: { input: t.arg({ type: [CreateCustomerInput], required: true }) },
      errors: { types: [ValidationError, EmailTakenError, PasswordTooLongError, BatchTooLargeError] },
      resolve: async (_root, args, ctx) => ({ customers: await customers.createCustomers(ctx, args.input) }),
    }),
    updateCustomers: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      args: { ...customerSelection, input: t.arg({ type: UpdateCustomerInput, required: true }) },
      errors: { types: [...selectionErrors, EmailTakenError] },
      resolve: async (_root, args, ctx) => ({
        customers: await customers.updateCustomers(ctx, customers$(args, ctx), args.input),
      }),
    }),
    deleteCustomers: t.field({
      type: DeletedIdsPayload,
      description: 'Deletes for good, with their addresses and memberships. Orders keep their snapshots.',
      authScopes: { admin: true },
      args: customerSelection,
      errors: { types: selectionErrors },
      resolve: async (_root, args, ctx) => ({ ids: await customers.deleteCustomers(ctx, customers$(args, ctx)) }),
    }),
    softDeleteCustomers: t.field({
      type: SoftDeletedCustomersPayload,
      authScopes: { admin: true },
      args: { ids: t.arg.idList({ required: true }) },
      errors: { types: [ValidationError, NotFoundError, BatchTooLargeError] },
      resolve: (_root, args, ctx) =>
        customers.softDeleteCustomers(ctx, parseIds(args.ids.map(String), 'Customer', 'ids')),
    }),
    restoreCustomers: t.field({
      type: SoftDeletedCustomersPayload,
      description:
        'Brings back exactly what softDeleteCustomers took. An account whose email another account has taken since is a RestoreConflictError (EmailTakenError is no longer returned).',
      authScopes: { admin: true },
      args: { ids: t.arg.idList({ required: true }) },
      errors: { types: [ValidationError, NotFoundError, BatchTooLargeError, EmailTakenError, RestoreConflictError] },
      resolve: (_root, args, ctx) => customers.restoreCustomers(ctx, parseIds(args.ids.map(String), 'Customer', 'ids')),
    }),
    mergeCustomers: t.field({
      type: MergeCustomersPayload,
      description:
        'Merges customers into one (two accounts of one person, or guests with another email), all or nothing: orders, addresses (up to 100), groups and metadata move to the target; the sources are soft-deleted pointing at it. Sources that are registered accounts need includeAccounts: true.',
      authScopes: { admin: true },
      args: {
        targetId: t.arg.id({ required: true }),
        sourceIds: t.arg.idList({ required: true }),
        includeAccounts: t.arg.boolean({ defaultValue: false }),
      },
      errors: { types: [ValidationError, NotFoundError, MergeConflictError, BatchTooLargeError] },
      resolve: (_root, args, ctx) =>
        merge.mergeCustomers(ctx, {
          targetId: parseId(String(args.targetId), 'Customer', 'targetId'),
          sourceIds: parseIds(args.sourceIds.map(String), 'Customer', 'sourceIds'),
          includeAccounts: args.includeAccounts,
        }),
    }),
    addAddresses: t.field({
      type: AddressesPayload,
      authScopes: { admin: true },
      args: { input: t.arg({ type: [CreateAddressInput], required: true }) },
      errors: { types: [ValidationError, NotFoundError, LimitExceededError, BatchTooLargeError] },
      resolve: async (_root, args, ctx) => ({
        addresses: await addresses.addAddresses(
          ctx,
          args.input.map((item, i) => ({
            ...item.address,
            customerId: parseId(String(item.customerId), 'Customer', `input[${i}].customerId`),
          })),
        ),
      }),
    }),
    updateAddresses: t.field({
      type: AddressesPayload,
      authScopes: { admin: true },
      args: { ...addressSelection, input: t.arg({ type: AddressInput, required: true }) },
      errors: { types: selectionErrors },
      resolve: async (_root, args, ctx) => ({
        addresses: await addresses.updateAddresses(ctx, addresses$(args, ctx), args.input),
      }),
    }),
    deleteAddresses: t.field({
      type: DeletedIdsPayload,
      authScopes: { admin: true },
      args: addressSelection,
      errors: { types: selectionErrors },
      resolve: async (_root, args, ctx) => ({ ids: await addresses.deleteAddresses(ctx, addresses$(args, ctx)) }),
    }),
  };
});
