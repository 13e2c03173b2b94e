import { randomBytes } from 'node:crypto';
import { actorOf, requireCustomer, requireSession, SESSION_TOKEN_PREFIX } from '../auth.js';
import type { Context } from '../context.js';
import { UNIQUE, uniqueViolated } from '../db/errors.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { Customer, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { passwordProblem } from '../lib/passwords.js';
import { newToken, sha256 } from '../lib/tokens.js';
import { atField, mergeMetadataInto } from './batch.js';
import { consumeToken, endTokens, issueToken, ONE_TIME_TOKEN } from './customer-tokens.js';
import {
  AccountDisabledError,
  EmailNotVerifiedError,
  EmailTakenError,
  InvalidCredentialsError,
  InvalidTokenError,
  RateLimitedError,
  TokenExpiredError,
  ValidationError,
} from './errors.js';
import { customerEmailConsent } from './marketing.js';
import { lockCustomers } from './merge.js';
import { checkPassword, metadataPatch, newMetadata, normalizeEmail, phoneFields, text } from './validation.js';
import { claimGuests, issueVerification } from './verification.js';

export const RESET_TOKEN_TTL_MS = 15 * 60_000;
const RESET_REQUEST_INTERVAL_MS = 60_000;

export interface Session {
  customer: Customer;
  accessToken: string;
  expiresAt: Date;
}

/**
 * A new session, written only while the account is live and enabled: the check holds a share lock
 * on the row, so a concurrent disable (which updates the row) either waits for this session and
 * then deletes it, or goes first and this writes none (AccountDisabledError).
 */
async function openSession(tx: Prisma.TransactionClient, ctx: Context, customer: Customer): Promise<Session> {
  const accessToken = newToken(SESSION_TOKEN_PREFIX);
  const now = ctx.services.now();
  const expiresAt = new Date(now.getTime() + ctx.services.sessionTtlMs);
  const written = await tx.$executeRaw`
    INSERT INTO customer_session (id, customer_id, token_hash, created_at, expires_at)
    SELECT ${newId('CustomerSession')}, c.id, ${sha256(accessToken)}, ${now}, ${expiresAt}
    FROM (SELECT id FROM customer WHERE id = ${customer.id} AND deleted_at IS NULL AND disabled_at IS NULL FOR SHARE) c`;
  if (written === 0) throw new AccountDisabledError();
  ctx.proven.add(customer.id);
  return { customer, accessToken, expiresAt };
}

export interface RegisterInput {
  email: string;
  password: string;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  metadata?: Record<string, unknown> | null;
  /** Subscribes to email marketing (PENDING until confirmed with MARKETING_CONFIRMED_OPT_IN). */
  acceptsEmailMarketing?: boolean | null;
}

/**
 * Creates an account: always a new row. Guests who checked out with this email keep their orders,
 * addresses and groups until the account proves it owns the email (verifyEmail claims them): the
 * first person to register an address must not see what someone else left under it. Which of
 * several concurrent registrations wins is decided by the unique index on live account emails,
 * not by a check before the write.
 */
export async function register(ctx: Context, input: RegisterInput): Promise<Session> {
  const email = normalizeEmail(input.email);
  checkPassword(input.password);
  const profile = {
    firstName: text(input.firstName, 'firstName'),
    lastName: text(input.lastName, 'lastName'),
    ...phoneFields(input.phone, ctx.services.phoneRegion),
  };
  const metadata = newMetadata(input.metadata);
  const retryAfter = await ctx.services.throttles.registerPerClient.hit(ctx.clientAddress);
  if (retryAfter) throw new RateLimitedError(retryAfter);
  const passwordHash = await ctx.services.passwords.hash(input.password);

  try {
    return await transaction(ctx, async (tx) => {
      const customer = await tx.customer.create({
        data: {
          id: newId('Customer'),
          email,
          hasAccount: true,
          passwordHash,
          ...profile,
          ...(metadata ? { metadata } : {}),
        },
      });
      await recordEvents(tx, actorOf(ctx), [{ name: 'customer.created', payload: { id: customer.id } }]);
      if (ctx.services.emailVerification.onRegister) await issueVerification(tx, ctx, customer);
      if (input.acceptsEmailMarketing) await customerEmailConsent(tx, ctx, customer, true, 'register');
      const session = await openSession(tx, ctx, customer);
      return { ...session, customer: await tx.customer.findUniqueOrThrow({ where: { id: customer.id } }) };
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.accountEmail) throw new EmailTakenError();
    throw error;
  }
}

/**
 * Unknown email, guest email and wrong password answer alike, after the same bcrypt work.
 * Every attempt is counted before its password is checked, each counter in one atomic increment:
 * of attempts arriving at once, at most the limit reach bcrypt, and the rest are refused unchecked.
 * A success gives its counts back (the email's count starts over, the client's is refunded), so
 * the limits are on failures and a customer who signs in often is never blocked.
 */
export async function login(ctx: Context, rawEmail: string, password: string): Promise<Session> {
  const email = rawEmail.trim().toLowerCase();
  const { loginPerEmail, loginPerClient } = ctx.services.throttles;
  const blocked = Math.max(...(await Promise.all([loginPerEmail.hit(email), loginPerClient.hit(ctx.clientAddress)])));
  if (blocked) throw new RateLimitedError(blocked);

  const customer = await ctx.db.customer.findFirst({ where: { email, hasAccount: true, deletedAt: null } });
  // bcrypt would match a longer password by its first 72 bytes; no password of ours is longer.
  const possible = passwordProblem(password) !== 'too_long';
  const ok = await ctx.services.passwords.verify(password, possible ? customer?.passwordHash : null);
  if (!ok || !customer) throw new InvalidCredentialsError();
  await Promise.all([loginPerEmail.reset(email), loginPerClient.refund(ctx.clientAddress)]);
  // Said only to whoever knew the password, so it tells nobody else that the account exists.
  if (customer.disabledAt) throw new AccountDisabledError();
  if (ctx.services.emailVerification.requiredForLogin && !customer.emailVerifiedAt) throw new EmailNotVerifiedError();
  return transaction(ctx, (tx) => openSession(tx, ctx, customer));
}

export async function logout(ctx: Context): Promise<boolean> {
  const { sessionId } = requireSession(ctx);
  await transaction(ctx, (tx) => tx.customerSession.deleteMany({ where: { id: sessionId } }));
  return true;
}

/**
 * Always answers the same, whatever the email. For an account it replaces any earlier token
 * (at most one request a minute) and hands the token to the notification sender as an event.
 * The minute is enforced by the upsert itself (it writes only over a token at least a minute old),
 * so of concurrent requests one makes a token and an event, and the others nothing.
 */
export async function generatePasswordToken(ctx: Context, rawEmail: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  // Enabled accounts only: a disabled one gets no token, an invited one accepts its invitation.
  const customer = await ctx.db.customer.findFirst({
    where: { email, hasAccount: true, deletedAt: null, disabledAt: null, passwordHash: { not: null } },
    select: { id: true, email: true, firstName: true, lastName: true },
  });
  if (!customer) return;

  const now = ctx.services.now();
  const token = randomBytes(32).toString('base64url');
  const tokenHash = sha256(token);
  const expiresAt = new Date(now.getTime() + RESET_TOKEN_TTL_MS);
  const earliest = new Date(now.getTime() - RESET_REQUEST_INTERVAL_MS);
  await transaction(ctx, async (tx) => {
    const written =
      await tx.$executeRaw`INSERT INTO customer_password_reset (customer_id, token_hash, created_at, expires_at)
      VALUES (${customer.id}, ${tokenHash}, ${now}, ${expiresAt})
      ON CONFLICT (customer_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at, expires_at = excluded.expires_at
      WHERE customer_password_reset.created_at <= ${earliest}`;
    if (written === 0) return;
    await recordEvents(tx, actorOf(ctx), [
      {
        name: 'customer.password_reset',
        payload: {
          id: customer.id,
          email: customer.email,
          first_name: customer.firstName,
          last_name: customer.lastName,
          token,
        },
      },
    ]);
  });
}

export interface ResetPasswordInput {
  email: string;
  token: string;
  password: string;
}

/** Consumes the token in one conditional delete, so of two concurrent uses exactly one succeeds. */
export async function resetPassword(ctx: Context, input: ResetPasswordInput): Promise<Customer> {
  checkPassword(input.password);
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.token)) throw new InvalidTokenError();
  const email = input.email.trim().toLowerCase();
  const tokenHash = sha256(input.token);
  const now = ctx.services.now();

  const row = await ctx.db.passwordResetToken.findUnique({ where: { tokenHash }, include: { customer: true } });
  if (
    !row ||
    row.customer.email !== email ||
    !row.customer.hasAccount ||
    row.customer.deletedAt ||
    row.customer.disabledAt
  )
    throw new InvalidTokenError();
  if (row.expiresAt <= now) throw new TokenExpiredError();

  const passwordHash = await ctx.services.passwords.hash(input.password);
  return transaction(ctx, async (tx) => {
    const consumed = await tx.passwordResetToken.deleteMany({
      where: { customerId: row.customerId, tokenHash, expiresAt: { gt: now } },
    });
    if (consumed.count === 0) throw new InvalidTokenError();
    const customer = await tx.customer.update({ where: { id: row.customerId }, data: { passwordHash } });
    await tx.customerSession.deleteMany({ where: { customerId: customer.id } });
    await recordEvents(tx, { kind: 'CUSTOMER', name: customer.id }, [
      { name: 'customer.updated', payload: { id: customer.id, fields: ['password'], via: 'password_reset' } },
    ]);
    ctx.proven.add(customer.id);
    return customer;
  });
}

export interface UpdateMeInput {
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  companyName?: string | null;
  metadata?: Record<string, unknown> | null;
  password?: { current: string; new: string } | null;
}

/**
 * The signed-in customer's current password, for a change that needs it. Guesses through a session
 * (a stolen token, a shared computer) count as failed logins of the account, under the same limit.
 */
async function checkCurrentPassword(ctx: Context, customer: Customer, password: string, field: string) {
  const { loginPerEmail } = ctx.services.throttles;
  const blocked = await loginPerEmail.hit(customer.email);
  if (blocked) throw new RateLimitedError(blocked);
  if (!(await ctx.services.passwords.verify(password, customer.passwordHash))) throw new InvalidCredentialsError(field);
  await loginPerEmail.reset(customer.email);
}

export async function updateMe(ctx: Context, input: UpdateMeInput): Promise<Customer> {
  const id = requireCustomer(ctx);
  const current = await ctx.db.customer.findUniqueOrThrow({ where: { id } });
  const data: Prisma.CustomerUpdateInput = {
    firstName: text(input.firstName, 'firstName'),
    lastName: text(input.lastName, 'lastName'),
    ...phoneFields(input.phone, ctx.services.phoneRegion),
    companyName: text(input.companyName, 'companyName'),
  };
  const patch = metadataPatch(input.metadata);
  if (input.password) {
    checkPassword(input.password.new, 'password.new');
    await checkCurrentPassword(ctx, current, input.password.current, 'password.current');
    data.passwordHash = await ctx.services.passwords.hash(input.password.new);
  }
  const fields = [
    ...Object.entries(data)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => (key === 'passwordHash' ? 'password' : key)),
    ...(patch ? ['metadata'] : []),
  ];
  return transaction(ctx, async (tx) => {
    // Merged in the database, so a concurrent patch's keys are kept; before the update, whose row we return.
    if (patch) await mergeMetadataInto(tx, 'customer', [id], patch, 'metadata', ctx.services.now());
    const customer = await tx.customer.update({ where: { id }, data });
    if (data.passwordHash && ctx.viewer.kind === 'customer') {
      // A changed password ends every other session and any reset token: whoever knew the old
      // password, or holds a token mailed before the change, is out.
      await tx.customerSession.deleteMany({ where: { customerId: id, id: { not: ctx.viewer.sessionId } } });
      await tx.passwordResetToken.deleteMany({ where: { customerId: id } });
    }
    if (fields.length) await recordEvents(tx, actorOf(ctx), [{ name: 'customer.updated', payload: { id, fields } }]);
    return customer;
  });
}

const EMAIL_CHANGE_INTERVAL_MS = 60_000;

/**
 * The only way a customer's email changes: the current password, then a token sent to the new
 * address (`customer.email_change_requested`, which also names the current address for a notice).
 * A session alone cannot move the account. At most one request a minute (RateLimitedError); a new
 * request replaces the previous token. An address another account holds is EmailTakenError now,
 * and again at confirmation if it was taken meanwhile.
 */
export async function requestEmailChange(ctx: Context, rawEmail: string, currentPassword: string): Promise<void> {
  const id = requireCustomer(ctx);
  const newEmail = atField('newEmail', () => normalizeEmail(rawEmail));
  const current = await ctx.db.customer.findUniqueOrThrow({ where: { id } });
  await checkCurrentPassword(ctx, current, currentPassword, 'currentPassword');
  if (newEmail === current.email) throw new ValidationError('This is the account’s email already.', 'newEmail');
  const taken = await ctx.db.customer.findFirst({
    where: { email: newEmail, hasAccount: true, deletedAt: null },
    select: { id: true },
  });
  if (taken) throw new EmailTakenError('newEmail');
  await transaction(ctx, async (tx) => {
    const token = await issueToken(tx, id, 'email_change', {
      now: ctx.services.now(),
      ttlMs: ctx.services.emailVerification.ttlMs,
      email: newEmail,
      unlessIssuedWithinMs: EMAIL_CHANGE_INTERVAL_MS,
    });
    if (!token) throw new RateLimitedError(EMAIL_CHANGE_INTERVAL_MS);
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer.email_change_requested', payload: { id, email: current.email, new_email: newEmail, token } },
    ]);
  });
}

/**
 * Moves the account to the address the token was sent to (signed in or not: the token is the
 * proof, though a session of another customer may not use it). The email counts as verified, what
 * guests left under it is claimed (as verifyEmail does), and every other session and every reset,
 * verification and other token of the customer ends. One conditional delete consumes the token:
 * of two confirmations exactly one wins.
 */
export async function confirmEmailChange(ctx: Context, token: string): Promise<Customer> {
  const now = ctx.services.now();
  try {
    const customer = await transaction(ctx, async (tx) => {
      const used = await consumeToken(tx, token, 'email_change', now);
      if (!used) throw new InvalidTokenError('email change');
      if (ctx.viewer.kind === 'customer' && ctx.viewer.customerId !== used.customerId)
        throw new InvalidTokenError('email change');
      if (used.expired) throw new TokenExpiredError('email change');
      const [account] = await lockCustomers(tx, [used.customerId]);
      if (!account?.has_account) throw new InvalidTokenError('email change');
      await tx.customer.update({ where: { id: account.id }, data: { email: used.email!, emailVerifiedAt: now } });
      const keep = ctx.viewer.kind === 'customer' ? ctx.viewer.sessionId : undefined;
      await tx.customerSession.deleteMany({
        where: { customerId: account.id, ...(keep ? { id: { not: keep } } : {}) },
      });
      await endTokens(tx, [account.id]);
      await recordEvents(tx, { kind: 'CUSTOMER', name: account.id }, [
        {
          name: 'customer.updated',
          payload: { id: account.id, fields: ['email', 'email_verified_at'], via: 'email_change' },
        },
      ]);
      return claimGuests(tx, now, { id: account.id, email: used.email! });
    });
    ctx.proven.add(customer.id);
    return customer;
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.accountEmail) throw new EmailTakenError('token');
    throw error;
  }
}

/**
 * Accepts an invitation (`inviteCustomers`): sets the password, proves the email (verified; guests'
 * orders, addresses and groups under it are claimed, as verifyEmail does) and signs in. The token
 * is consumed in one conditional delete.
 */
export async function acceptInvitation(ctx: Context, token: string, password: string): Promise<Session> {
  checkPassword(password);
  if (!ONE_TIME_TOKEN.test(token)) throw new InvalidTokenError('invitation');
  const row = await ctx.db.customerToken.findUnique({ where: { tokenHash: sha256(token) } });
  if (row?.purpose !== 'invitation') throw new InvalidTokenError('invitation');
  if (row.expiresAt <= ctx.services.now()) throw new TokenExpiredError('invitation');
  const passwordHash = await ctx.services.passwords.hash(password);
  const now = ctx.services.now();
  return transaction(ctx, async (tx) => {
    const used = await consumeToken(tx, token, 'invitation', now);
    if (!used) throw new InvalidTokenError('invitation');
    if (used.expired) throw new TokenExpiredError('invitation');
    const [account] = await lockCustomers(tx, [used.customerId]);
    const invited = await tx.customer.updateManyAndReturn({
      where: { id: used.customerId, hasAccount: true, passwordHash: null, email: used.email!, deletedAt: null },
      data: { passwordHash, emailVerifiedAt: now, updatedAt: now },
      select: { id: true },
    });
    if (!account || invited.length === 0) throw new InvalidTokenError('invitation');
    await recordEvents(tx, { kind: 'CUSTOMER', name: account.id }, [
      { name: 'customer.invitation_accepted', payload: { id: account.id } },
    ]);
    const target = await claimGuests(tx, now, account);
    return openSession(tx, ctx, target);
  });
}
