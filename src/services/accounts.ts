import { randomBytes } from 'node:crypto';
import { requireCustomer, requireSession, SESSION_TOKEN_PREFIX } from '../auth.js';
import type { Context } from '../context.js';
import { UNIQUE, uniqueViolated } from '../db/errors.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { Customer, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { passwordProblem } from '../lib/passwords.js';
import { newToken, sha256 } from '../lib/tokens.js';
import { mergeMetadataInto } from './batch.js';
import {
  EmailNotVerifiedError,
  EmailTakenError,
  InvalidCredentialsError,
  InvalidTokenError,
  RateLimitedError,
  TokenExpiredError,
} from './errors.js';
import { checkPassword, metadataPatch, newMetadata, normalizeEmail, phoneFields, text } from './validation.js';
import { issueVerification } from './verification.js';

export const RESET_TOKEN_TTL_MS = 15 * 60_000;
const RESET_REQUEST_INTERVAL_MS = 60_000;

export interface Session {
  customer: Customer;
  accessToken: string;
  expiresAt: Date;
}

async function openSession(tx: Prisma.TransactionClient, ctx: Context, customer: Customer): Promise<Session> {
  ctx.proven.add(customer.id);
  const accessToken = newToken(SESSION_TOKEN_PREFIX);
  const expiresAt = new Date(ctx.services.now().getTime() + ctx.services.sessionTtlMs);
  await tx.customerSession.create({
    data: { id: newId('CustomerSession'), customerId: customer.id, tokenHash: sha256(accessToken), expiresAt },
  });
  return { customer, accessToken, expiresAt };
}

export interface RegisterInput {
  email: string;
  password: string;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  metadata?: Record<string, unknown> | null;
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
      await recordEvents(tx, [{ name: 'customer.created', payload: { id: customer.id } }]);
      if (ctx.services.emailVerification.onRegister) await issueVerification(tx, ctx, customer);
      return openSession(tx, ctx, customer);
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
  const customer = await ctx.db.customer.findFirst({
    where: { email, hasAccount: true, deletedAt: null },
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
    await recordEvents(tx, [
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
  if (!row || row.customer.email !== email || !row.customer.hasAccount || row.customer.deletedAt)
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
    await recordEvents(tx, [{ name: 'customer.updated', payload: { id: customer.id, fields: ['password'] } }]);
    ctx.proven.add(customer.id);
    return customer;
  });
}

export interface UpdateMeInput {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  companyName?: string | null;
  metadata?: Record<string, unknown> | null;
  password?: { current: string; new: string } | null;
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
  // A new email is unproven: its verification, and any token for the old one, end with the change.
  const newEmail = input.email != null && normalizeEmail(input.email) !== current.email;
  if (newEmail) {
    data.email = normalizeEmail(input.email!);
    data.emailVerifiedAt = null;
  }
  const patch = metadataPatch(input.metadata);
  if (input.password) {
    checkPassword(input.password.new, 'password.new');
    if (!(await ctx.services.passwords.verify(input.password.current, current.passwordHash))) {
      throw new InvalidCredentialsError('password.current');
    }
    data.passwordHash = await ctx.services.passwords.hash(input.password.new);
  }
  const fields = [
    ...Object.entries(data)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => (key === 'passwordHash' ? 'password' : key)),
    ...(patch ? ['metadata'] : []),
  ];
  try {
    return await transaction(ctx, async (tx) => {
      // Merged in the database, so a concurrent patch's keys are kept; before the update, whose row we return.
      if (patch) await mergeMetadataInto(tx, 'customer', [id], patch, 'metadata', ctx.services.now());
      const customer = await tx.customer.update({ where: { id }, data });
      if (newEmail) await tx.emailVerificationToken.deleteMany({ where: { customerId: id } });
      if (data.passwordHash && ctx.viewer.kind === 'customer') {
        // A changed password ends every other session and any reset token: whoever knew the old
        // password, or holds a token mailed before the change, is out.
        await tx.customerSession.deleteMany({ where: { customerId: id, id: { not: ctx.viewer.sessionId } } });
        await tx.passwordResetToken.deleteMany({ where: { customerId: id } });
      }
      if (fields.length) await recordEvents(tx, [{ name: 'customer.updated', payload: { id, fields } }]);
      return customer;
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.accountEmail) throw new EmailTakenError();
    throw error;
  }
}
