import { requireCustomer } from '../auth.js';
import type { Context } from '../context.js';
import type { Customer as CustomerRow } from '../generated/prisma/client.js';
import * as accounts from '../services/accounts.js';
import * as addresses from '../services/addresses.js';
import {
  AccountDisabledError,
  EmailNotVerifiedError,
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
import * as verification from '../services/verification.js';
import { Address } from './address.js';
import { builder } from './builder.js';
import { Customer } from './customer.js';
import { parseId } from './inputs.js';
import type { LookupSpec } from './keyset.js';

export const Session = builder.objectRef<accounts.Session>('Session').implement({
  description: 'A signed-in session: send `Authorization: Bearer <accessToken>` with later requests.',
  authScopes: { public: true },
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    customer: t.field({ type: Customer, resolve: (session) => session.customer }),
  }),
});

export const CustomerPayload = builder.objectRef<{ customer: CustomerRow }>('CustomerPayload').implement({
  authScopes: { public: true },
  fields: (t) => ({ customer: t.field({ type: Customer, resolve: (p) => p.customer }) }),
});

const AddressPayload = builder
  .objectRef<{ address: Awaited<ReturnType<typeof addresses.addAddress>> }>('AddressPayload')
  .implement({
    authScopes: { public: true },
    fields: (t) => ({ address: t.field({ type: Address, resolve: (p) => p.address }) }),
  });

export const DeletedPayload = builder.objectRef<{ id: string }>('DeletedPayload').implement({
  authScopes: { public: true },
  fields: (t) => ({
    deletedId: t.exposeID('id', { description: 'The ID of what was deleted (for Relay: `@deleteRecord`).' }),
  }),
});

export const OkPayload = builder.objectRef<{ ok: boolean }>('OkPayload').implement({
  authScopes: { public: true },
  fields: (t) => ({ ok: t.exposeBoolean('ok') }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: '8 to 72 bytes (UTF-8).' }),
    firstName: t.string(),
    lastName: t.string(),
    phone: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
    acceptsEmailMarketing: t.boolean({
      description:
        'Subscribes to email marketing (source "register"); with MARKETING_CONFIRMED_OPT_IN it is PENDING until the customer confirms.',
    }),
  }),
});

const PasswordChangeInput = builder.inputType('PasswordChangeInput', {
  fields: (t) => ({
    current: t.string({ required: true }),
    new: t.string({ required: true, description: '8 to 72 bytes (UTF-8).' }),
  }),
});

const UpdateMeInput = builder.inputType('UpdateMeInput', {
  description:
    'Only the fields given change. `metadata` merges into the current keys; a key set to null is removed. The email changes only through requestEmailChange and confirmEmailChange.',
  fields: (t) => ({
    firstName: t.string(),
    lastName: t.string(),
    phone: t.string(),
    companyName: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
    password: t.field({ type: PasswordChangeInput, description: 'Ends every other session of this customer.' }),
  }),
});

const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    token: t.string({ required: true }),
    password: t.string({ required: true, description: '8 to 72 bytes (UTF-8).' }),
  }),
});

export const AddressInput = builder.inputType('AddressInput', {
  description:
    'Setting isDefaultShipping or isDefaultBilling makes this address the default of that kind; the previous default is unset.',
  fields: (t) => ({
    addressName: t.string(),
    company: t.string(),
    firstName: t.string(),
    lastName: t.string(),
    address1: t.string(),
    address2: t.string(),
    city: t.string(),
    countryCode: t.string({ description: 'ISO 3166-1 alpha-2, either case.' }),
    province: t.string(),
    postalCode: t.string(),
    phone: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
    isDefaultShipping: t.boolean(),
    isDefaultBilling: t.boolean(),
  }),
});

/** The signed-in customer's row, for the resolver and the read planner (which plans customers' `me`). */
const meWhere = (ctx: Context) => ({ id: requireCustomer(ctx) });
const meLookup: LookupSpec<object> = { model: 'Customer', where: (_args, ctx) => meWhere(ctx) };

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'Customer',
    nullable: true,
    description:
      'The signed-in customer; null when no one is signed in (no Authorization header), so that a page can ask for it beside public data. An admin key is refused (FORBIDDEN): it is no customer.',
    authScopes: { customer: true, anonymous: true },
    extensions: { lookup: meLookup },
    resolve: (query, _root, _args, ctx) =>
      ctx.viewer.kind === 'customer' ? ctx.db.customer.findUnique({ ...query, where: meWhere(ctx) }) : null,
  }),
);

const passwordErrors = [ValidationError, PasswordTooLongError];

builder.mutationFields((t) => ({
  register: t.field({
    type: Session,
    description:
      'Creates an account and signs in. Orders, addresses and groups of guests with this email join the account once it verifies the email (verifyEmail).',
    authScopes: { public: true },
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    errors: { types: [...passwordErrors, EmailTakenError, RateLimitedError] },
    resolve: (_root, { input }, ctx) => accounts.register(ctx, input),
  }),
  login: t.field({
    type: Session,
    authScopes: { public: true },
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    errors: { types: [InvalidCredentialsError, RateLimitedError, EmailNotVerifiedError, AccountDisabledError] },
    resolve: (_root, args, ctx) => accounts.login(ctx, args.email, args.password),
  }),
  requestEmailVerification: t.field({
    type: OkPayload,
    description:
      'Sends a token proving the signed-in customer owns their email (event customer.email_verification_requested), at most one a minute. Answers the same either way.',
    authScopes: { customer: true },
    resolve: async (_root, _args, ctx) => {
      await verification.requestEmailVerification(ctx);
      return { ok: true };
    },
  }),
  verifyEmail: t.field({
    type: CustomerPayload,
    description:
      'Marks the email verified with a token from requestEmailVerification (signed in or not: the token is the proof), and brings in what guests left under that email: their orders, addresses and groups.',
    authScopes: { public: true },
    args: { token: t.arg.string({ required: true }) },
    errors: { types: [InvalidTokenError, TokenExpiredError] },
    resolve: async (_root, args, ctx) => ({ customer: await verification.verifyEmail(ctx, args.token) }),
  }),
  logout: t.field({
    type: OkPayload,
    description: 'Ends the session whose token this request carries.',
    authScopes: { customer: true },
    resolve: async (_root, _args, ctx) => ({ ok: await accounts.logout(ctx) }),
  }),
  generatePasswordToken: t.field({
    type: OkPayload,
    description:
      'Sends a password-reset token to the email if it has an account. Answers the same either way, so it cannot reveal which emails have accounts.',
    authScopes: { public: true },
    args: { email: t.arg.string({ required: true }) },
    errors: { types: [ValidationError] },
    resolve: async (_root, args, ctx) => {
      await accounts.generatePasswordToken(ctx, args.email);
      return { ok: true };
    },
  }),
  resetPassword: t.field({
    type: CustomerPayload,
    description: 'Sets a new password with a token from generatePasswordToken, and ends every session of the customer.',
    authScopes: { public: true },
    args: { input: t.arg({ type: ResetPasswordInput, required: true }) },
    errors: { types: [...passwordErrors, InvalidTokenError, TokenExpiredError] },
    resolve: async (_root, { input }, ctx) => ({ customer: await accounts.resetPassword(ctx, input) }),
  }),
  updateMe: t.field({
    type: CustomerPayload,
    authScopes: { customer: true },
    args: { input: t.arg({ type: UpdateMeInput, required: true }) },
    errors: { types: [...passwordErrors, InvalidCredentialsError, RateLimitedError] },
    resolve: async (_root, { input }, ctx) => ({ customer: await accounts.updateMe(ctx, input) }),
  }),
  addMyAddress: t.field({
    type: AddressPayload,
    authScopes: { customer: true },
    args: { input: t.arg({ type: AddressInput, required: true }) },
    errors: { types: [ValidationError, LimitExceededError] },
    resolve: async (_root, { input }, ctx) => ({
      address: await addresses.addAddress(ctx, requireCustomer(ctx), input),
    }),
  }),
  updateMyAddress: t.field({
    type: AddressPayload,
    authScopes: { customer: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: AddressInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError] },
    resolve: async (_root, args, ctx) => ({
      address: await addresses.updateAddress(
        ctx,
        requireCustomer(ctx),
        parseId(String(args.id), 'Address', 'id'),
        args.input,
      ),
    }),
  }),
  deleteMyAddress: t.field({
    type: DeletedPayload,
    description: 'Deleting the default address leaves no default of that kind; no other address is promoted.',
    authScopes: { customer: true },
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError] },
    resolve: async (_root, args, ctx) => {
      const deleted = await addresses.deleteAddress(
        ctx,
        requireCustomer(ctx),
        parseId(String(args.id), 'Address', 'id'),
      );
      return { id: deleted.id };
    },
  }),
}));
