// Data rights (issue 30): what is held about a customer, for their request under GDPR article 15.
import { exportCustomerData } from '../services/data-export.js';
import { builder } from './builder.js';
import { parseId } from './inputs.js';

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
