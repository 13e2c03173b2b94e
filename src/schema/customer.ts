import type { CountryCode } from 'libphonenumber-js';
import type { Prisma } from '../generated/prisma/client.js';
import { foldCase } from '../lib/fold-case.js';
import { DomainError } from '../services/errors.js';
import { phoneE164, tagList } from '../services/validation.js';
import { builder, LIVE } from './builder.js';
import {
  DateTimeFilter,
  dateRange,
  ilike,
  parseIds,
  SEARCH_RULE,
  SortDirection,
  searchTerm,
  selectionFrom,
} from './inputs.js';
import { invalidArgument } from './invalid-argument.js';
import { type ListSpec, type Ordering, rootList, rootLookup } from './keyset.js';
import { ownedBy } from './owner.js';
import { idArg, lookupById, withDeletedArg } from './root-args.js';

export const AccountState = builder.enumType('AccountState', {
  description: 'A registered account’s state; guests have none.',
  values: {
    ENABLED: { description: 'Signs in with a password.' },
    DISABLED: {
      description: 'Disabled by an admin: no session, no token works; login says so after a correct password.',
    },
    INVITED: { description: 'Invited by an admin (inviteCustomers); no password until the invitation is accepted.' },
  } as const,
});

export const MarketingState = builder.enumType('MarketingState', {
  values: {
    NOT_SUBSCRIBED: { description: 'Never asked, or never answered.' },
    PENDING: { description: 'Subscribed, waiting for the customer to confirm (MARKETING_CONFIRMED_OPT_IN).' },
    SUBSCRIBED: {},
    UNSUBSCRIBED: {},
  } as const,
});

const CustomerTagsFilter = builder.inputType('CustomerTagsFilter', {
  description: 'Tags compare case-insensitively; every part given must hold.',
  fields: (t) => ({
    any: t.stringList({ description: 'Customers with at least one of these tags.' }),
    all: t.stringList({ description: 'Customers with every one of these tags.' }),
    none: t.stringList({ description: 'Customers with none of these tags.' }),
  }),
});

export const CustomerFilter = builder.inputType('CustomerFilter', {
  fields: (t) => ({
    q: t.string({ description: `Search over email, first and last name, company and phone. ${SEARCH_RULE}` }),
    email: t.string({ description: 'Exact email, case-insensitive.' }),
    phone: t.string({
      description:
        'Exact phone number, compared in E.164 form: "+45 12 34 56 78" and "+4512345678" match; without + it is read in PHONE_DEFAULT_REGION.',
    }),
    hasAccount: t.boolean(),
    groupIds: t.idList({ description: 'Customers in at least one of these groups.' }),
    createdAt: t.field({ type: DateTimeFilter }),
    updatedAt: t.field({ type: DateTimeFilter }),
    tags: t.field({ type: CustomerTagsFilter }),
    accountState: t.field({ type: [AccountState], description: 'Accounts in one of these states (guests have none).' }),
    emailMarketingState: t.field({ type: [MarketingState] }),
    smsMarketingState: t.field({ type: [MarketingState] }),
  }),
});

const CustomerSortField = builder.enumType('CustomerSortField', {
  values: {
    CREATED_AT: { value: 'createdAt' },
    UPDATED_AT: { value: 'updatedAt' },
    EMAIL: { value: 'email' },
    FIRST_NAME: { value: 'firstName' },
    LAST_NAME: { value: 'lastName' },
  } as const,
});

export const CustomerOrderBy = builder.inputType('CustomerOrderBy', {
  fields: (t) => ({
    field: t.field({ type: CustomerSortField, required: true }),
    direction: t.field({ type: SortDirection, defaultValue: 'asc' }),
  }),
});

type CustomerFilterInput = typeof CustomerFilter.$inferInput;

export function customerWhere(
  filter: CustomerFilterInput | null | undefined,
  { withDeleted = false, argumentName = 'filter', phoneRegion = 'US' as CountryCode } = {},
): Prisma.CustomerWhereInput {
  const q = searchTerm(filter?.q, `${argumentName}.q`);
  const email = filter?.email?.trim();
  const phone = filter?.phone?.trim();
  const e164 = phone ? phoneE164(phone, phoneRegion) : null;
  if (phone && !e164) throw invalidArgument(`${argumentName}.phone`, `"${phone}" is not a phone number`);
  return {
    ...(withDeleted ? {} : LIVE),
    ...(email ? { emailFolded: foldCase(email) } : {}),
    ...(e164 ? { phoneE164: e164 } : {}),
    ...(filter?.hasAccount != null ? { hasAccount: filter.hasAccount } : {}),
    ...(filter?.groupIds
      ? {
          groups: {
            some: {
              ...LIVE,
              customerGroupId: { in: parseIds(filter.groupIds, 'CustomerGroup', `${argumentName}.groupIds`) },
            },
          },
        }
      : {}),
    ...tagsWhere(filter?.tags, argumentName),
    ...(filter?.accountState ? { accountState: { in: filter.accountState } } : {}),
    ...(filter?.emailMarketingState ? { emailMarketingState: { in: filter.emailMarketingState } } : {}),
    ...(filter?.smsMarketingState ? { smsMarketingState: { in: filter.smsMarketingState } } : {}),
    ...(filter?.createdAt ? { createdAt: dateRange(filter.createdAt) } : {}),
    ...(filter?.updatedAt ? { updatedAt: dateRange(filter.updatedAt) } : {}),
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
  };
}

/** The customers a batch mutation acts on: its `ids`, or its `filter` (customerWhere). */
export const selectedCustomers = selectionFrom('Customer', (filter: CustomerFilterInput, ctx) =>
  customerWhere(filter, { phoneRegion: ctx.services.phoneRegion }),
);

/** The tags filter over the folded tags (a GIN index), each tag checked and folded as tags are stored. */
function tagsWhere(filter: typeof CustomerTagsFilter.$inferInput | null | undefined, argumentName: string) {
  const folded = (list: readonly string[] | null | undefined, part: string) => {
    if (!list?.length) return null;
    try {
      return tagList(list, `${argumentName}.tags.${part}`).map(foldCase);
    } catch (error) {
      // A filter's bad input is the argument's, as every filter's is.
      if (error instanceof DomainError) throw invalidArgument(error.field ?? argumentName, error.message);
      throw error;
    }
  };
  const any = folded(filter?.any, 'any');
  const all = folded(filter?.all, 'all');
  const none = folded(filter?.none, 'none');
  const conditions: Prisma.CustomerWhereInput[] = [
    ...(any ? [{ tagsFolded: { hasSome: any } }] : []),
    ...(all ? [{ tagsFolded: { hasEvery: all } }] : []),
    ...(none ? [{ NOT: { tagsFolded: { hasSome: none } } }] : []),
  ];
  return conditions.length ? { AND: conditions } : {};
}

/** Newest first unless asked otherwise. */
export function customerOrdering(orderBy: typeof CustomerOrderBy.$inferInput | null | undefined): Ordering {
  return {
    model: 'Customer',
    field: orderBy?.field ?? 'createdAt',
    direction: orderBy ? (orderBy.direction ?? 'asc') : 'desc',
  };
}

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
export const Customer = builder.prismaNode('Customer', {
  id: { field: 'id' },
  // Select mode: a page loads the columns its query asks for, not whole rows (never the password
  // hash). `deletedAt` always, because node lookups hide soft-deleted rows by it.
  select: { id: true, deletedAt: true },
  nullable: true,
  // However a customer is reached (a list, a group, an order, a node lookup), the same rule holds.
  ...ownedBy('id'),
  fields: (t) => ({
    email: t.exposeString('email'),
    firstName: t.exposeString('firstName', { nullable: true }),
    lastName: t.exposeString('lastName', { nullable: true }),
    companyName: t.exposeString('companyName', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    hasAccount: t.exposeBoolean('hasAccount', { description: 'A registered account (with a password), not a guest.' }),
    metadata: t.expose('metadata', { type: 'JSONObject', nullable: true }),
    emailVerifiedAt: t.expose('emailVerifiedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the customer proved they own this email; null until then, and again after an email change.',
    }),
    createdBy: t.exposeString('createdBy', {
      nullable: true,
      authScopes: { admin: true },
      description: 'The admin API key that created it (admins only).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
  }),
});

type CustomersArgs = {
  filter?: CustomerFilterInput | null;
  orderBy?: typeof CustomerOrderBy.$inferInput | null;
  withDeleted?: boolean | null;
};

const customersList: ListSpec<CustomersArgs> = {
  model: 'Customer',
  connection: 'customers',
  where: (args, ctx) =>
    customerWhere(args.filter, { withDeleted: args.withDeleted ?? false, phoneRegion: ctx.services.phoneRegion }),
  ordering: (args) => customerOrdering(args.orderBy),
};

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.queryFields((t) => ({
  customer: t.prismaField({
    type: 'Customer',
    nullable: true,
    authScopes: { admin: true },
    args: { ...idArg, ...withDeletedArg },
    ...rootLookup(lookupById('Customer', 'onRequest'), (db) => db.customer),
  }),
  customers: t.connection(
    {
      type: Customer,
      authScopes: { admin: true },
      args: { filter: t.arg({ type: CustomerFilter }), orderBy: t.arg({ type: CustomerOrderBy }), ...withDeletedArg },
      ...rootList(customersList, 'Customer', (db) => db.customer),
    },
    { name: 'CustomerConnection' },
    { name: 'CustomerEdge' },
  ),
}));
