import { createHmac, timingSafeEqual } from 'node:crypto';
import { actorOf, requireAdmin, requireCustomer } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { type Actor, type DomainEvent, type MarketingChannel, recordEvents } from '../events/outbox.js';
import { type Customer, Prisma } from '../generated/prisma/client.js';
import type { Selection } from './batch.js';
import { consumeToken, issueToken } from './customer-tokens.js';
import { selectCustomers } from './customers.js';
import { InvalidTokenError, TokenExpiredError, ValidationError } from './errors.js';
import { text } from './validation.js';

export const MARKETING_STATES = ['NOT_SUBSCRIBED', 'PENDING', 'SUBSCRIBED', 'UNSUBSCRIBED'] as const;
export type MarketingState = (typeof MARKETING_STATES)[number];
export const OPT_IN_LEVELS = ['SINGLE_OPT_IN', 'CONFIRMED_OPT_IN', 'UNKNOWN'] as const;
export type OptInLevel = (typeof OPT_IN_LEVELS)[number];

export interface Consent {
  state: MarketingState;
  optInLevel?: OptInLevel | null;
  source?: string | null;
}

/** Each channel's columns (fixed names: never from input). */
const COLUMNS: Record<MarketingChannel, { state: string; level: string; at: string; source: string }> = {
  email: {
    state: 'email_marketing_state',
    level: 'email_marketing_opt_in_level',
    at: 'email_marketing_updated_at',
    source: 'email_marketing_source',
  },
  sms: {
    state: 'sms_marketing_state',
    level: 'sms_marketing_opt_in_level',
    at: 'sms_marketing_updated_at',
    source: 'sms_marketing_source',
  },
};

/**
 * The unsubscribe token of a customer and channel: stable (every marketing message of the channel
 * carries the same), signed with MARKETING_UNSUBSCRIBE_SECRET, good for that one customer and
 * channel and nothing else. Nothing is stored, so no message ever needs the token again.
 */
export function unsubscribeToken(ctx: Context, customerId: string, channel: MarketingChannel): string {
  return `${customerId}.${channel}.${signature(ctx, customerId, channel).toString('base64url')}`;
}

function signature(ctx: Context, customerId: string, channel: string): Buffer {
  return createHmac('sha256', ctx.services.marketing.unsubscribeSecret)
    .update(`unsubscribe\u0000${customerId}\u0000${channel}`)
    .digest();
}

/**
 * Sets a channel's consent on live customers whose consent differs, in one statement, and records
 * one `customer.marketing_consent_updated` per customer changed (so a timeline entry with its
 * source). The row lock of the UPDATE orders concurrent changes: the last one wins, and each that
 * changed something is on the timeline. SMS consent to subscribe needs a phone.
 */
async function writeConsent(
  tx: Prisma.TransactionClient,
  ctx: Context,
  actor: Actor,
  ids: string[],
  channel: MarketingChannel,
  consent: Consent,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const c = COLUMNS[channel];
  const col = (name: string) => Prisma.raw(`"${name}"`);
  const now = ctx.services.now();
  const level = consent.optInLevel ?? null;
  const source = consent.source ?? null;
  const changed = await tx.$queryRaw<{ id: string }[]>`
    UPDATE customer SET ${col(c.state)} = ${consent.state}, ${col(c.level)} = ${level}, ${col(c.at)} = ${now},
      ${col(c.source)} = ${source}, updated_at = ${now}
    WHERE id = ANY(${ids}::text[]) AND deleted_at IS NULL
      AND (${col(c.state)}, ${col(c.level)}, ${col(c.source)}) IS DISTINCT FROM (${consent.state}, ${level}::text, ${source}::text)
    RETURNING id`;
  const events: DomainEvent[] = changed.map(({ id }) => ({
    name: 'customer.marketing_consent_updated',
    payload: {
      id,
      channel,
      state: consent.state,
      opt_in_level: level,
      source,
      unsubscribe_token: unsubscribeToken(ctx, id, channel),
    },
  }));
  await recordEvents(tx, actor, events);
  return changed.map((r) => r.id);
}

/**
 * A customer's own wish for email marketing, in the transaction that made or signed in the customer
 * (`register`) or in its own: subscribing is SUBSCRIBED (single opt-in), or with
 * MARKETING_CONFIRMED_OPT_IN PENDING with a confirmation token sent as an event; unsubscribing is
 * UNSUBSCRIBED. Already there: nothing changes, no event.
 */
export async function customerEmailConsent(
  tx: Prisma.TransactionClient,
  ctx: Context,
  customer: { id: string; email: string },
  subscribe: boolean,
  source: string,
): Promise<void> {
  const actor: Actor = { kind: 'CUSTOMER', name: customer.id };
  if (!subscribe) {
    await writeConsent(tx, ctx, actor, [customer.id], 'email', { state: 'UNSUBSCRIBED', optInLevel: null, source });
    return;
  }
  const { confirmedOptIn, confirmationTtlMs } = ctx.services.marketing;
  if (!confirmedOptIn) {
    await writeConsent(tx, ctx, actor, [customer.id], 'email', {
      state: 'SUBSCRIBED',
      optInLevel: 'SINGLE_OPT_IN',
      source,
    });
    return;
  }
  // Subscribed already (confirmed or not) needs no new confirmation.
  const [row] = await tx.$queryRaw<{ state: string }[]>`
    SELECT email_marketing_state AS state FROM customer WHERE id = ${customer.id} FOR UPDATE`;
  if (row?.state === 'SUBSCRIBED') return;
  await writeConsent(tx, ctx, actor, [customer.id], 'email', {
    state: 'PENDING',
    optInLevel: 'CONFIRMED_OPT_IN',
    source,
  });
  const token = await issueToken(tx, customer.id, 'marketing_confirmation', {
    now: ctx.services.now(),
    ttlMs: confirmationTtlMs,
    email: customer.email,
  });
  await recordEvents(tx, actor, [
    {
      name: 'customer.marketing_confirmation_requested',
      payload: {
        id: customer.id,
        email: customer.email,
        token: token!,
        unsubscribe_token: unsubscribeToken(ctx, customer.id, 'email'),
      },
    },
  ]);
}

export interface MyConsentInput {
  email?: boolean | null;
  sms?: boolean | null;
}

/** The signed-in customer's consent: `true` subscribes, `false` unsubscribes, absent leaves it. */
export async function updateMyConsent(ctx: Context, input: MyConsentInput): Promise<Customer> {
  const id = requireCustomer(ctx);
  return transaction(ctx, async (tx) => {
    const customer = await tx.customer.findUniqueOrThrow({ where: { id } });
    if (input.sms === true && !customer.phone)
      throw new ValidationError('Add a phone number before subscribing to SMS marketing.', 'input.sms');
    if (input.email != null) await customerEmailConsent(tx, ctx, customer, input.email, 'customer');
    if (input.sms != null)
      await writeConsent(tx, ctx, actorOf(ctx), [id], 'sms', {
        state: input.sms ? 'SUBSCRIBED' : 'UNSUBSCRIBED',
        optInLevel: input.sms ? 'SINGLE_OPT_IN' : null,
        source: 'customer',
      });
    return tx.customer.findUniqueOrThrow({ where: { id } });
  });
}

export interface AdminConsentInput {
  email?: Consent | null;
  sms?: Consent | null;
}

/**
 * Consent an admin records (collected elsewhere: in a store, on paper, from another system), for
 * the selected customers, all or nothing. PENDING is the confirmation flow's own state, not set
 * by hand. SMS SUBSCRIBED for a customer without a phone is refused, naming the customers.
 */
export async function updateCustomersConsent(
  ctx: Context,
  selection: Selection<Prisma.CustomerWhereInput>,
  input: AdminConsentInput,
): Promise<Customer[]> {
  requireAdmin(ctx);
  const channels = (['email', 'sms'] as const).filter((channel) => input[channel]);
  if (channels.length === 0) throw new ValidationError('Give the email or the sms consent to set.', 'input');
  const consents = channels.map((channel) => {
    const consent = input[channel]!;
    if (consent.state === 'PENDING')
      throw new ValidationError('PENDING is set by the confirmation flow, not directly.', `input.${channel}.state`);
    return {
      channel,
      consent: { ...consent, source: text(consent.source, `input.${channel}.source`) ?? 'admin' },
    };
  });
  return transaction(ctx, async (tx) => {
    const ids = await selectCustomers(tx, selection);
    if (input.sms?.state === 'SUBSCRIBED' && ids.length) {
      const phoneless = await tx.customer.findMany({
        where: { id: { in: ids }, phone: null },
        select: { id: true },
        orderBy: { id: 'asc' },
      });
      if (phoneless.length)
        throw new ValidationError(
          `SMS consent needs a phone number; these customers have none: ${phoneless.map((c) => c.id).join(', ')}`,
          'input.sms.state',
        );
    }
    for (const { channel, consent } of consents) await writeConsent(tx, ctx, actorOf(ctx), ids, channel, consent);
    // A confirmation pending for a consent an admin has now set is void.
    if (input.email)
      await tx.customerToken.deleteMany({ where: { customerId: { in: ids }, purpose: 'marketing_confirmation' } });
    return tx.customer.findMany({ where: { id: { in: ids }, deletedAt: null }, orderBy: { id: 'asc' } });
  });
}

/** Confirms a PENDING email subscription with the token of `customer.marketing_confirmation_requested`. */
export async function confirmConsent(ctx: Context, token: string): Promise<void> {
  const now = ctx.services.now();
  await transaction(ctx, async (tx) => {
    const used = await consumeToken(tx, token, 'marketing_confirmation', now);
    if (!used) throw new InvalidTokenError('confirmation');
    if (used.expired) throw new TokenExpiredError('confirmation');
    const [row] = await tx.$queryRaw<{ state: string; email: string; source: string | null }[]>`
      SELECT email_marketing_state AS state, email, email_marketing_source AS source FROM customer
      WHERE id = ${used.customerId} AND deleted_at IS NULL FOR UPDATE`;
    // Unsubscribed since, or the email changed: the confirmation is for something no longer asked.
    if (row?.state !== 'PENDING' || row.email !== used.email) throw new InvalidTokenError('confirmation');
    await writeConsent(tx, ctx, { kind: 'CUSTOMER', name: used.customerId }, [used.customerId], 'email', {
      state: 'SUBSCRIBED',
      optInLevel: 'CONFIRMED_OPT_IN',
      source: row.source ?? 'customer',
    });
  });
}

/**
 * Unsubscribes the token's customer from its channel, without signing in. Idempotent: a second use
 * changes nothing. A token not signed by this service is InvalidTokenError.
 */
export async function unsubscribe(ctx: Context, token: string): Promise<void> {
  const match = /^(cus_[0-9A-Za-z]{1,64})\.(email|sms)\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) throw new InvalidTokenError('unsubscribe');
  const [, customerId, channel, sig] = match as unknown as [string, string, MarketingChannel, string];
  const expected = signature(ctx, customerId, channel);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidTokenError('unsubscribe');
  await transaction(ctx, async (tx) => {
    await writeConsent(tx, ctx, { kind: 'CUSTOMER', name: customerId }, [customerId], channel, {
      state: 'UNSUBSCRIBED',
      optInLevel: null,
      source: 'unsubscribe_link',
    });
    if (channel === 'email')
      await tx.customerToken.deleteMany({ where: { customerId, purpose: 'marketing_confirmation' } });
  });
}
