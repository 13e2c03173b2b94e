import { randomBytes } from 'node:crypto';
import { actorOf, requireCustomer } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { Customer, Prisma } from '../generated/prisma/client.js';
import { sha256 } from '../lib/tokens.js';
import { InvalidTokenError, TokenExpiredError } from './errors.js';
import { lockCustomers, mergeInto } from './merge.js';

const REQUEST_INTERVAL_MS = 60_000;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Replaces the customer's verification token with a new one (256 bits, only its SHA-256 kept) and
 * hands the token to the notification sender as `customer.email_verification_requested`. With
 * `unlessIssuedWithinMs`, only if the live token is at least that old: the upsert itself decides
 * (it writes over an older row only), so of requests arriving at once, over any number of
 * instances, exactly one writes a token and an event. Returns whether it issued one.
 */
export async function issueVerification(
  tx: Prisma.TransactionClient,
  ctx: Context,
  customer: { id: string; email: string },
  unlessIssuedWithinMs = 0,
): Promise<boolean> {
  const now = ctx.services.now();
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ctx.services.emailVerification.ttlMs);
  const written =
    await tx.$executeRaw`INSERT INTO customer_email_verification (customer_id, token_hash, email, created_at, expires_at)
    VALUES (${customer.id}, ${sha256(token)}, ${customer.email}, ${now}, ${expiresAt})
    ON CONFLICT (customer_id) DO UPDATE SET token_hash = excluded.token_hash, email = excluded.email, created_at = excluded.created_at, expires_at = excluded.expires_at
    WHERE customer_email_verification.created_at <= ${new Date(now.getTime() - unlessIssuedWithinMs)}`;
  if (written === 0) return false;
  await recordEvents(tx, actorOf(ctx), [
    {
      name: 'customer.email_verification_requested',
      payload: { customerId: customer.id, email: customer.email, token },
    },
  ]);
  return true;
}

/**
 * Answers the same whatever happens: for an unverified email it sends a new token, at most one a
 * minute; a verified email or a request within the minute sends nothing. The minute is kept by the
 * write (`issueVerification`), not by a read before it: a read let a burst of 12 send 7.
 */
export async function requestEmailVerification(ctx: Context): Promise<void> {
  const customer = await ctx.db.customer.findFirst({
    where: { id: requireCustomer(ctx), deletedAt: null },
    select: { id: true, email: true, emailVerifiedAt: true },
  });
  if (!customer || customer.emailVerifiedAt) return;
  await transaction(ctx, (tx) => issueVerification(tx, ctx, customer, REQUEST_INTERVAL_MS));
}

/**
 * The guest claim, once an account has proven its email (verifyEmail, confirmEmailChange,
 * acceptInvitation): every live guest with that email is merged into the account, by the account.
 */
export async function claimGuests(tx: Prisma.TransactionClient, now: Date, account: { id: string; email: string }) {
  const guests = await tx.$queryRaw<{ id: string }[]>`
    SELECT "id" FROM "customer"
    WHERE "email" = ${account.email} AND NOT "has_account" AND "deleted_at" IS NULL AND "id" <> ${account.id}
    ORDER BY "id" FOR UPDATE`;
  const ids = guests.map((g) => g.id);
  const { target } = await mergeInto(tx, now, account.id, ids, 'email_verified', {
    kind: 'CUSTOMER',
    name: account.id,
  });
  return target;
}

/**
 * Consumes the token (one conditional delete: of two concurrent uses exactly one succeeds), marks
 * the email verified and claims what guests left under it: every live guest with that email is
 * merged into the account, in the same transaction.
 */
export async function verifyEmail(ctx: Context, token: string): Promise<Customer> {
  if (!TOKEN_SHAPE.test(token)) throw new InvalidTokenError('verification');
  const now = ctx.services.now();
  const customer = await transaction(ctx, async (tx) => {
    const [row] = await tx.$queryRaw<{ customer_id: string; email: string; expires_at: Date }[]>`
      DELETE FROM "customer_email_verification" WHERE "token_hash" = ${sha256(token)}
      RETURNING "customer_id", "email", "expires_at"`;
    if (!row) throw new InvalidTokenError('verification');
    // Signed in as someone else: not theirs to use (and the rollback leaves the token as it was).
    if (ctx.viewer.kind === 'customer' && ctx.viewer.customerId !== row.customer_id)
      throw new InvalidTokenError('verification');
    // Thrown inside the transaction, so the expired token is not consumed: nothing changes.
    if (row.expires_at <= now) throw new TokenExpiredError('verification');
    const [account] = await lockCustomers(tx, [row.customer_id]);
    if (!account?.has_account || account.email !== row.email) throw new InvalidTokenError('verification');
    await tx.customer.update({ where: { id: account.id }, data: { emailVerifiedAt: now } });
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer.updated', payload: { id: account.id, fields: ['email_verified_at'] } },
    ]);
    return claimGuests(tx, now, account);
  });
  ctx.proven.add(customer.id);
  return customer;
}
