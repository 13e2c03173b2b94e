// The customer record a shop runs on: the timeline, staff notes, tags, marketing consent, account
// states and the email change with proof (docs: README "The customer record").
import type { Customer as CustomerRow, CustomerNote as NoteRow } from '../generated/prisma/client.js';
import * as accountStates from '../services/account-states.js';
import * as accounts from '../services/accounts.js';
import {
  AccountExistsError,
  BatchTooLargeError,
  EmailTakenError,
  InvalidCredentialsError,
  InvalidTokenError,
  LimitExceededError,
  NotFoundError,
  PasswordTooLongError,
  RateLimitedError,
  TokenExpiredError,
  ValidationError,
} from '../services/errors.js';
import * as marketing from '../services/marketing.js';
import * as notes from '../services/notes.js';
import * as tags from '../services/tags.js';
import { CustomerPayload, DeletedPayload, OkPayload, Session } from './account.js';
import { CustomersPayload } from './admin-customers.js';
import { builder } from './builder.js';
import { AccountState, CustomerFilter, MarketingState, selectedCustomers } from './customer.js';
import { DateTimeFilter, dateRange, parseId, parseIds, SEARCH_RULE, searchTerm, selectionErrors } from './inputs.js';
import { invalidArgument } from './invalid-argument.js';
import { MAX_PAGE_SIZE, relationConnection } from './keyset.js';

const OptInLevel = builder.enumType('MarketingOptInLevel', {
  values: {
    SINGLE_OPT_IN: { description: 'Subscribed without confirming.' },
    CONFIRMED_OPT_IN: { description: 'Confirmed through a token sent to the address (double opt-in).' },
    UNKNOWN: { description: 'Recorded by an admin without saying how it was collected.' },
  } as const,
});

const MarketingConsent = builder
  .objectRef<{ state: string; optInLevel: string | null; consentUpdatedAt: Date | null; source: string | null }>(
    'MarketingConsent',
  )
  .implement({
    description: 'Consent to marketing on one channel (Shopify’s emailMarketingConsent / smsMarketingConsent).',
    authScopes: { public: true },
    fields: (t) => ({
      state: t.field({ type: MarketingState, resolve: (c) => c.state as never }),
      optInLevel: t.field({ type: OptInLevel, nullable: true, resolve: (c) => c.optInLevel as never }),
      consentUpdatedAt: t.expose('consentUpdatedAt', { type: 'DateTime', nullable: true }),
      source: t.exposeString('source', {
        nullable: true,
        description: 'Where it came from: register, customer, admin (or what the admin said), unsubscribe_link.',
      }),
    }),
  });

const consentField = (channel: 'email' | 'sms') => {
  const columns = {
    state: `${channel}MarketingState`,
    optInLevel: `${channel}MarketingOptInLevel`,
    consentUpdatedAt: `${channel}MarketingUpdatedAt`,
    source: `${channel}MarketingSource`,
  } as const;
  return {
    type: MarketingConsent,
    select: Object.fromEntries(Object.values(columns).map((c) => [c, true])),
    extensions: { readPlan: { kind: 'embedded', fields: columns } },
    resolve: (c: Record<string, unknown>) => ({
      state: c[columns.state] as string,
      optInLevel: c[columns.optInLevel] as string | null,
      consentUpdatedAt: c[columns.consentUpdatedAt] as Date | null,
      source: c[columns.source] as string | null,
    }),
  };
};

const TimelineEntryType = builder.enumType('CustomerTimelineEntryType', {
  values: [
    'CUSTOMER_CREATED',
    'PROFILE_UPDATED',
    'EMAIL_CHANGE_REQUESTED',
    'EMAIL_CHANGED',
    'EMAIL_VERIFICATION_REQUESTED',
    'EMAIL_VERIFIED',
    'PASSWORD_CHANGED',
    'PASSWORD_RESET_REQUESTED',
    'PASSWORD_RESET',
    'ADDRESS_ADDED',
    'ADDRESS_UPDATED',
    'ADDRESS_DELETED',
    'ADDED_TO_GROUP',
    'REMOVED_FROM_GROUP',
    'MERGED_INTO',
    'MERGED_FROM',
    'DELETED',
    'RESTORED',
    'NOTE_ADDED',
    'NOTE_UPDATED',
    'NOTE_DELETED',
    'TAGS_ADDED',
    'TAGS_REMOVED',
    'MARKETING_CONSENT_UPDATED',
    'MARKETING_CONFIRMATION_REQUESTED',
    'ACCOUNT_DISABLED',
    'ACCOUNT_ENABLED',
    'ACCOUNT_INVITED',
    'INVITATION_ACCEPTED',
    'ERASED',
  ] as const,
});

const ActorKind = builder.enumType('ActorKind', {
  values: {
    ADMIN: { description: 'An admin API key; `name` is the key’s name.' },
    CUSTOMER: { description: 'The customer (or one proving it with a token); `name` is the customer’s ID.' },
    SYSTEM: { description: 'A job of the service; `name` is the job’s.' },
  } as const,
});

const Actor = builder.objectRef<{ kind: string; name: string | null }>('TimelineActor').implement({
  authScopes: { public: true },
  fields: (t) => ({
    kind: t.field({ type: ActorKind, resolve: (a) => a.kind as never }),
    name: t.exposeString('name', { nullable: true }),
  }),
});

export const CustomerNote = builder.prismaNode('CustomerNote', {
  id: { field: 'id' },
  description: 'A staff note on a customer (admins only).',
  select: { id: true },
  authScopes: { admin: true },
  fields: (t) => ({
    body: t.exposeString('body'),
    author: t.exposeString('author', { description: 'The name of the admin key that wrote it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    customer: t.relation('customer'),
  }),
});

const TimelineEntry = builder.prismaNode('CustomerTimelineEntry', {
  id: { field: 'id' },
  description: 'One change to a customer or what hangs off it, written in the change’s transaction.',
  select: { id: true },
  authScopes: { admin: true },
  fields: (t) => ({
    type: t.field({
      type: TimelineEntryType,
      select: { type: true },
      extensions: { readPlan: { kind: 'column', field: 'type' } },
      resolve: (e) => e.type as never,
    }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    actor: t.field({
      type: Actor,
      select: { actorKind: true, actorName: true },
      extensions: { readPlan: { kind: 'embedded', fields: { kind: 'actorKind', name: 'actorName' } } },
      resolve: (e) => ({ kind: e.actorKind, name: e.actorName }),
    }),
    details: t.expose('details', {
      type: 'JSONObject',
      description:
        'What changed, without secrets or personal data: `fields`, `address_id`, `group_id`, `note_id`, `tags`, `channel`, `state`, `source`, …',
    }),
    mergedFromId: t.exposeID('mergedFromId', {
      nullable: true,
      description: 'Brought over by a merge: the customer it was first written for.',
    }),
    note: t.relation('note', { nullable: true, description: 'A note’s entry: the note, while it exists.' }),
  }),
});

const TimelineFilter = builder.inputType('CustomerTimelineFilter', {
  fields: (t) => ({
    types: t.field({ type: [TimelineEntryType] }),
    actorKinds: t.field({ type: [ActorKind] }),
    occurredAt: t.field({ type: DateTimeFilter }),
  }),
});

const timeline = relationConnection<{ filter?: typeof TimelineFilter.$inferInput | null }>({
  relation: 'timeline',
  connection: 'Customer.timeline',
  ordering: { model: 'CustomerTimelineEntry', field: 'occurredAt', direction: 'desc' },
  where: ({ filter }) => ({
    ...(filter?.types ? { type: { in: filter.types } } : {}),
    ...(filter?.actorKinds ? { actorKind: { in: filter.actorKinds } } : {}),
    ...(filter?.occurredAt ? { occurredAt: dateRange(filter.occurredAt) } : {}),
  }),
});

const customerNotes = relationConnection({
  relation: 'notes',
  connection: 'Customer.notes',
  ordering: { model: 'CustomerNote', field: 'createdAt', direction: 'desc' },
  where: () => ({}),
});

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.prismaObjectFields('Customer', (t) => ({
  accountState: t.field({
    type: AccountState,
    nullable: true,
    select: { accountState: true },
    extensions: { readPlan: { kind: 'column', field: 'accountState' } },
    resolve: (c) => c.accountState as never,
  }),
  disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true, authScopes: { admin: true } }),
  tags: t.exposeStringList('tags', {
    authScopes: { admin: true, customerStaffData: true },
    description:
      'Staff tags, as first written (compared case-insensitively). A customer reads their own only with CUSTOMER_TAGS_VISIBLE.',
  }),
  emailMarketingConsent: t.field(consentField('email')),
  smsMarketingConsent: t.field(consentField('sms')),
  timeline: t.connection(
    {
      type: TimelineEntry,
      authScopes: { admin: true },
      description: 'Every change to the customer, newest first (admins only).',
      args: { filter: t.arg({ type: TimelineFilter }) },
      ...timeline,
    },
    { name: 'CustomerTimelineConnection' },
    { name: 'CustomerTimelineEdge' },
  ),
  notes: t.connection(
    { type: CustomerNote, authScopes: { admin: true }, description: 'Staff notes, newest first.', ...customerNotes },
    { name: 'CustomerNoteConnection' },
    { name: 'CustomerNoteEdge' },
  ),
}));

const CustomerTag = builder.objectRef<tags.TagCount>('CustomerTag').implement({
  authScopes: { admin: true },
  fields: (t) => ({
    tag: t.exposeString('tag', { description: 'As first written (the smallest spelling among customers).' }),
    customerCount: t.exposeInt('customerCount', { description: 'Live customers carrying it.' }),
  }),
});

const tagCursor = (folded: string) => Buffer.from(`tag:${folded}`).toString('base64url');

builder.queryField('customerTags', (t) =>
  t.connection(
    {
      type: CustomerTag,
      authScopes: { admin: true },
      description: 'The tags in use, in alphabetical order (case-folded), with how many live customers carry each.',
      args: { q: t.arg.string({ description: `Search over the tags. ${SEARCH_RULE}` }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null)
          throw invalidArgument('last', 'customerTags pages forwards only, with first and after');
        const first = args.first ?? 15;
        if (first < 0 || first > MAX_PAGE_SIZE) throw invalidArgument('first', `must be 0 to ${MAX_PAGE_SIZE}`);
        let after: string | null = null;
        if (args.after) {
          const text = Buffer.from(args.after, 'base64url').toString();
          if (!text.startsWith('tag:')) throw invalidArgument('after', 'is not a cursor of this list');
          after = text.slice(4);
        }
        const q = searchTerm(args.q, 'q') ?? null;
        const rows = await tags.tagsInUse(ctx, { q, after, first: first + 1 });
        const page = rows.slice(0, first);
        return {
          edges: page.map((node) => ({ cursor: tagCursor(node.folded), node })),
          pageInfo: {
            hasNextPage: rows.length > first,
            hasPreviousPage: after !== null,
            startCursor: page[0] ? tagCursor(page[0].folded) : null,
            endCursor: page.at(-1) ? tagCursor(page.at(-1)!.folded) : null,
          },
        };
      },
    },
    { name: 'CustomerTagConnection' },
    { name: 'CustomerTagEdge' },
  ),
);

const NotePayload = builder.objectRef<{ note: NoteRow }>('CustomerNotePayload').implement({
  authScopes: { admin: true },
  fields: (t) => ({ note: t.field({ type: CustomerNote, resolve: (p) => p.note }) }),
});

const ConsentInput = builder.inputType('MarketingConsentInput', {
  fields: (t) => ({
    state: t.field({
      type: MarketingState,
      required: true,
      description: 'Not PENDING: that is the confirmation flow’s.',
    }),
    optInLevel: t.field({ type: OptInLevel }),
    source: t.string({ description: 'Where the consent was collected; default "admin".' }),
  }),
});

const CustomersConsentInput = builder.inputType('CustomersMarketingConsentInput', {
  fields: (t) => ({ email: t.field({ type: ConsentInput }), sms: t.field({ type: ConsentInput }) }),
});

const MyConsentInput = builder.inputType('MyMarketingConsentInput', {
  description: '`true` subscribes, `false` unsubscribes; a channel not given stays as it is.',
  fields: (t) => ({ email: t.boolean(), sms: t.boolean({ description: 'Needs a phone number on the account.' }) }),
});

const customers = (rows: Promise<CustomerRow[]>) => rows.then((list) => ({ customers: list }));

builder.mutationFields((t) => {
  const selection = {
    ids: t.arg.idList({ description: 'The customers to act on; or give `filter`.' }),
    filter: t.arg({ type: CustomerFilter, description: 'Must hold at least one condition.' }),
  };
  const tagsArg = t.arg.stringList({
    required: true,
    description: '1–40 characters each after trimming; "VIP" and "vip" are one tag.',
  });
  return {
    addCustomerNote: t.field({
      type: NotePayload,
      authScopes: { admin: true },
      description: 'A staff note (1–5,000 characters after trimming), by this admin key; on the timeline.',
      args: { customerId: t.arg.id({ required: true }), body: t.arg.string({ required: true }) },
      errors: { types: [ValidationError, NotFoundError] },
      resolve: async (_root, args, ctx) => ({
        note: await notes.addNote(ctx, parseId(String(args.customerId), 'Customer', 'customerId'), args.body),
      }),
    }),
    updateCustomerNote: t.field({
      type: NotePayload,
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }), body: t.arg.string({ required: true }) },
      errors: { types: [ValidationError, NotFoundError] },
      resolve: async (_root, args, ctx) => ({
        note: await notes.updateNote(ctx, parseId(String(args.id), 'CustomerNote', 'id'), args.body),
      }),
    }),
    deleteCustomerNote: t.field({
      type: DeletedPayload,
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      errors: { types: [ValidationError, NotFoundError] },
      resolve: async (_root, args, ctx) => ({
        id: await notes.deleteNote(ctx, parseId(String(args.id), 'CustomerNote', 'id')),
      }),
    }),
    addCustomerTags: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      description: `Adds the tags each customer lacks, all or nothing; at most 250 per customer (LimitExceededError).`,
      args: { ...selection, tags: tagsArg },
      errors: { types: [...selectionErrors, LimitExceededError] },
      resolve: (_root, args, ctx) => customers(tags.addTags(ctx, selectedCustomers(args, ctx), args.tags)),
    }),
    removeCustomerTags: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      args: { ...selection, tags: tagsArg },
      errors: { types: selectionErrors },
      resolve: (_root, args, ctx) => customers(tags.removeTags(ctx, selectedCustomers(args, ctx), args.tags)),
    }),
    updateCustomersMarketingConsent: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      description:
        'Records consent collected elsewhere, all or nothing; each change is on the timeline with its source.',
      args: { ...selection, input: t.arg({ type: CustomersConsentInput, required: true }) },
      errors: { types: selectionErrors },
      resolve: (_root, args, ctx) =>
        customers(marketing.updateCustomersConsent(ctx, selectedCustomers(args, ctx), args.input)),
    }),
    disableCustomerAccounts: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      description:
        'Disables the accounts (guests are left as they are): every session and token ends at once; login answers AccountDisabledError after a correct password.',
      args: selection,
      errors: { types: selectionErrors },
      resolve: (_root, args, ctx) => customers(accountStates.disableAccounts(ctx, selectedCustomers(args, ctx))),
    }),
    enableCustomerAccounts: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      args: selection,
      errors: { types: selectionErrors },
      resolve: (_root, args, ctx) => customers(accountStates.enableAccounts(ctx, selectedCustomers(args, ctx))),
    }),
    inviteCustomers: t.field({
      type: CustomersPayload,
      authScopes: { admin: true },
      description:
        'Turns guests into INVITED accounts and sends each an invitation token (event customer.invited); invited ones get a new token.',
      args: { ids: t.arg.idList({ required: true }) },
      errors: { types: [ValidationError, NotFoundError, BatchTooLargeError, AccountExistsError, EmailTakenError] },
      resolve: (_root, args, ctx) =>
        customers(accountStates.inviteCustomers(ctx, parseIds(args.ids.map(String), 'Customer', 'ids'))),
    }),
    acceptInvitation: t.field({
      type: Session,
      authScopes: { public: true },
      description: 'Sets the password of an invited account with its token, proves the email and signs in.',
      args: { token: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
      errors: { types: [ValidationError, PasswordTooLongError, InvalidTokenError, TokenExpiredError] },
      resolve: (_root, args, ctx) => accounts.acceptInvitation(ctx, args.token, args.password),
    }),
    updateMyMarketingConsent: t.field({
      type: CustomerPayload,
      authScopes: { customer: true },
      args: { input: t.arg({ type: MyConsentInput, required: true }) },
      errors: { types: [ValidationError] },
      resolve: async (_root, args, ctx) => ({ customer: await marketing.updateMyConsent(ctx, args.input) }),
    }),
    confirmMarketingConsent: t.field({
      type: OkPayload,
      authScopes: { public: true },
      description: 'Confirms a PENDING email subscription with the token of customer.marketing_confirmation_requested.',
      args: { token: t.arg.string({ required: true }) },
      errors: { types: [InvalidTokenError, TokenExpiredError] },
      resolve: async (_root, args, ctx) => {
        await marketing.confirmConsent(ctx, args.token);
        return { ok: true };
      },
    }),
    unsubscribe: t.field({
      type: OkPayload,
      authScopes: { public: true },
      description:
        'Unsubscribes from a marketing channel without signing in, with the unsubscribe_token of a marketing event. Using it again changes nothing.',
      args: { token: t.arg.string({ required: true }) },
      errors: { types: [InvalidTokenError] },
      resolve: async (_root, args, ctx) => {
        await marketing.unsubscribe(ctx, args.token);
        return { ok: true };
      },
    }),
    requestEmailChange: t.field({
      type: OkPayload,
      authScopes: { customer: true },
      description:
        'Sends a token to the new address (event customer.email_change_requested, which also names the current address for a notice). Nothing changes until confirmEmailChange.',
      args: { newEmail: t.arg.string({ required: true }), currentPassword: t.arg.string({ required: true }) },
      errors: { types: [ValidationError, InvalidCredentialsError, EmailTakenError, RateLimitedError] },
      resolve: async (_root, args, ctx) => {
        await accounts.requestEmailChange(ctx, args.newEmail, args.currentPassword);
        return { ok: true };
      },
    }),
    confirmEmailChange: t.field({
      type: CustomerPayload,
      authScopes: { public: true },
      description:
        'Moves the account to the new address with the token from requestEmailChange: the email is verified, every other session and token ends.',
      args: { token: t.arg.string({ required: true }) },
      errors: { types: [InvalidTokenError, TokenExpiredError, EmailTakenError] },
      resolve: async (_root, args, ctx) => ({ customer: await accounts.confirmEmailChange(ctx, args.token) }),
    }),
  };
});
