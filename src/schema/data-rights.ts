// Data rights (issue 30): what is held about a customer (GDPR article 15), and its erasure (article 17).
import { exportCustomerData } from '../services/data-export.js';
import { eraseCustomers } from '../services/erasure.js';
import { BatchTooLargeError, NotFoundError, ValidationError } from '../services/errors.js';
import { builder } from './builder.js';
import { parseId, parseIds } from './inputs.js';

builder.queryField('exportCustomerData', (t) =>
  t.field({
    type: 'JSONObject',
    nullable: true,
    authScopes: { admin: true },
    description:
      'Everything held about one customer, as one JSON document: the customer (soft-deleted or merged too) with every row that hangs off it (addresses, orders with items and address snapshots, memberships with group names, sessions and tokens without their secrets, notes, the timeline, customers merged into it) and the events about them the outbox still holds. Null for an unknown ID.',
    args: { customerId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      exportCustomerData(ctx, parseId(String(args.customerId), 'Customer', 'customerId')) as Promise<Record<
        string,
        unknown
      > | null>,
  }),
);

const ErasedCustomersPayload = builder.objectRef<{ ids: string[] }>('ErasedCustomersPayload').implement({
  authScopes: { admin: true },
  fields: (t) => ({ erasedIds: t.exposeIDList('ids') }),
});

builder.mutationField('eraseCustomers', (t) =>
  t.field({
    type: ErasedCustomersPayload,
    authScopes: { admin: true },
    description:
      'Erases the customers’ personal data for good (GDPR article 17), with the customers merged into them, in one transaction: README "Data rights" says what is removed and what stays. Guests, accounts and soft-deleted customers alike; erasing an erased customer changes nothing.',
    args: { ids: t.arg.idList({ required: true }) },
    errors: { types: [ValidationError, NotFoundError, BatchTooLargeError] },
    resolve: async (_root, args, ctx) => ({
      ids: await eraseCustomers(ctx, parseIds(args.ids.map(String), 'Customer', 'ids')),
    }),
  }),
);
