import { randomBytes } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client.js';
import { sha256 } from '../lib/tokens.js';

/** What a one-time token of `customer_token` proves (one live token per customer and purpose). */
export type TokenPurpose = 'email_change' | 'invitation' | 'marketing_confirmation';

/** 256 random bits, base64url: 43 characters. Anything else is no token of ours. */
export const ONE_TIME_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Replaces the customer's token for `purpose` with a new one (only its SHA-256 kept) and returns
 * it, or null when `unlessIssuedWithinMs` finds the live one younger than that: the upsert itself
 * decides, so of requests arriving at once exactly one makes a token (and its event).
 */
export async function issueToken(
  tx: Prisma.TransactionClient,
  customerId: string,
  purpose: TokenPurpose,
  options: { now: Date; ttlMs: number; email?: string | null; unlessIssuedWithinMs?: number },
): Promise<string | null> {
  const token = randomBytes(32).toString('base64url');
  const { now, ttlMs, email = null, unlessIssuedWithinMs = 0 } = options;
  const written = await tx.$executeRaw`
    INSERT INTO customer_token (customer_id, purpose, token_hash, email, created_at, expires_at)
    VALUES (${customerId}, ${purpose}, ${sha256(token)}, ${email}, ${now}, ${new Date(now.getTime() + ttlMs)})
    ON CONFLICT (customer_id, purpose) DO UPDATE SET token_hash = excluded.token_hash, email = excluded.email,
      created_at = excluded.created_at, expires_at = excluded.expires_at
    WHERE customer_token.created_at <= ${new Date(now.getTime() - unlessIssuedWithinMs)}`;
  return written ? token : null;
}

/**
 * New tokens for several customers in one statement, replacing any they had for `purpose`; returns
 * each customer's token.
 */
export async function issueTokens(
  tx: Prisma.TransactionClient,
  purpose: TokenPurpose,
  rows: { customerId: string; email: string | null }[],
  options: { now: Date; ttlMs: number },
): Promise<Map<string, string>> {
  const tokens = rows.map(() => randomBytes(32).toString('base64url'));
  if (rows.length === 0) return new Map();
  const { now, ttlMs } = options;
  await tx.$executeRaw`
    INSERT INTO customer_token (customer_id, purpose, token_hash, email, created_at, expires_at)
    SELECT customer_id, ${purpose}, token_hash, email, ${now}, ${new Date(now.getTime() + ttlMs)}
    FROM unnest(${rows.map((r) => r.customerId)}::text[], ${tokens.map(sha256)}::text[], ${rows.map((r) => r.email)}::text[])
      AS t(customer_id, token_hash, email)
    ON CONFLICT (customer_id, purpose) DO UPDATE SET token_hash = excluded.token_hash, email = excluded.email,
      created_at = excluded.created_at, expires_at = excluded.expires_at`;
  return new Map(rows.map((r, i) => [r.customerId, tokens[i]!]));
}

export interface ConsumedToken {
  customerId: string;
  email: string | null;
  expired: boolean;
}

/**
 * Consumes a token in one conditional delete: of two concurrent uses exactly one gets it. Null for
 * a token that is not one of `purpose`'s. An expired token is consumed too; the caller refuses it
 * by throwing, so that its transaction rolls back and nothing changes.
 */
export async function consumeToken(
  tx: Prisma.TransactionClient,
  token: string,
  purpose: TokenPurpose,
  now: Date,
): Promise<ConsumedToken | null> {
  if (!ONE_TIME_TOKEN.test(token)) return null;
  const [row] = await tx.$queryRaw<{ customer_id: string; email: string | null; expires_at: Date }[]>`
    DELETE FROM customer_token WHERE token_hash = ${sha256(token)} AND purpose = ${purpose}
    RETURNING customer_id, email, expires_at`;
  return row ? { customerId: row.customer_id, email: row.email, expired: row.expires_at <= now } : null;
}

/** Ends every token a customer holds: sessions aside, whatever a mail could still be used for. */
export async function endTokens(tx: Prisma.TransactionClient, customerIds: string[]): Promise<void> {
  await tx.passwordResetToken.deleteMany({ where: { customerId: { in: customerIds } } });
  await tx.emailVerificationToken.deleteMany({ where: { customerId: { in: customerIds } } });
  await tx.customerToken.deleteMany({ where: { customerId: { in: customerIds } } });
}
