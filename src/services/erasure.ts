import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import { checkBatchSize, requireAll } from './batch.js';

/**
 * Payload keys of events that can hold personal data or a secret; erasure removes them from every
 * event about the customer the outbox still keeps, delivered or not. IDs, field names, states and
 * causes stay, so an event still says what happened, not to whom.
 */
const PERSONAL_PAYLOAD_KEYS = ['email', 'new_email', 'first_name', 'last_name', 'token', 'unsubscribe_token', 'tags'];

/**
 * What an order keeps of its address snapshots after its customer's erasure: what accounting and tax
 * need (the country, the region, the postal code's first three characters), not who or where exactly.
 */
const KEPT_ADDRESS = `CASE WHEN a IS NULL OR jsonb_typeof(a) <> 'object' THEN a ELSE jsonb_strip_nulls(jsonb_build_object(
  'countryCode', a->'countryCode', 'province', a->'province', 'postalCode', to_jsonb(left(a->>'postalCode', 3)))) END`;

/**
 * Erases customers' personal data, irreversibly, in one transaction and a fixed number of
 * statements however many customers: guests, accounts, soft-deleted and merged customers alike, and
 * with each the customers merged into it (the same person). The row stays (soft-deleted, `erasedAt`
 * set, email replaced by `<id>@erased.invalid`) so that its orders, totals and memberships stay
 * countable; names, company, phone, metadata, password, tags and consent go; addresses, notes,
 * sessions and tokens are deleted; its orders keep their totals and items, and of their email and
 * address snapshots only what accounting needs; the outbox's events about it lose their personal
 * fields; login counters keyed by its email are deleted; its timeline keeps one entry, "erased by X
 * at T", and one `customer.erased` event carries the ID alone. Erasing an erased customer changes
 * nothing and records nothing. Returns the IDs asked for.
 */
export async function eraseCustomers(ctx: Context, ids: string[]): Promise<string[]> {
  requireAdmin(ctx);
  checkBatchSize(ids, 'ids');
  const now = ctx.services.now();
  await transaction(ctx, async (tx) => {
    const rows = await tx.$queryRaw<{ id: string; email: string; erased_at: Date | null; asked: boolean }[]>`
      SELECT id, email, erased_at, id = ANY(${ids}::text[]) AS asked FROM customer
      WHERE id = ANY(${ids}::text[]) OR merged_into_id = ANY(${ids}::text[])
      ORDER BY id FOR UPDATE`;
    requireAll(
      ids,
      rows.filter((r) => r.asked).map((r) => r.id),
      'ids',
    );
    const erasing = rows.filter((r) => r.erased_at === null).map((r) => r.id);
    if (erasing.length === 0) return;
    // Every address they wrote an email under: their rows', their orders' and their tokens'.
    const [{ emails }] = (await tx.$queryRaw<{ emails: string[] }[]>`
      SELECT ARRAY(
        SELECT email FROM customer WHERE id = ANY(${erasing}::text[])
        UNION SELECT email FROM "order" WHERE customer_id = ANY(${erasing}::text[])
        UNION SELECT email FROM customer_email_verification WHERE customer_id = ANY(${erasing}::text[])
        UNION SELECT email FROM customer_token WHERE customer_id = ANY(${erasing}::text[]) AND email IS NOT NULL
      ) AS emails`) as [{ emails: string[] }];
    await tx.$executeRaw`DELETE FROM customer_address WHERE customer_id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`DELETE FROM customer_note WHERE customer_id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`DELETE FROM customer_session WHERE customer_id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`DELETE FROM customer_password_reset WHERE customer_id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`DELETE FROM customer_email_verification WHERE customer_id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`DELETE FROM customer_token WHERE customer_id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`DELETE FROM customer_timeline_entry WHERE customer_id = ANY(${erasing}::text[])`;
    // A deleted customer has no live membership (the database checks it): those of a live customer
    // end now, as a soft delete ends them, and stay countable.
    await tx.$executeRaw`
      UPDATE customer_group_customer m SET deleted_at = ${now}, updated_at = ${now}
      FROM customer c
      WHERE m.customer_id = c.id AND c.id = ANY(${erasing}::text[]) AND c.deleted_at IS NULL AND m.deleted_at IS NULL`;
    await tx.$executeRawUnsafe(
      `UPDATE "order" o SET email = o.customer_id || '@erased.invalid', metadata = NULL, updated_at = $2,
        shipping_address = (SELECT ${KEPT_ADDRESS} FROM (SELECT o.shipping_address AS a) s),
        billing_address = (SELECT ${KEPT_ADDRESS} FROM (SELECT o.billing_address AS a) b)
      WHERE o.customer_id = ANY($1::text[])`,
      erasing,
      now,
    );
    await tx.$executeRaw`
      UPDATE customer SET email = id || '@erased.invalid', first_name = NULL, last_name = NULL, company_name = NULL,
        phone = NULL, phone_e164 = NULL, metadata = NULL, password_hash = NULL, has_account = false,
        email_verified_at = NULL, disabled_at = NULL, tags = '{}',
        email_marketing_state = 'NOT_SUBSCRIBED', email_marketing_opt_in_level = NULL, email_marketing_updated_at = NULL,
        email_marketing_source = NULL, sms_marketing_state = 'NOT_SUBSCRIBED', sms_marketing_opt_in_level = NULL,
        sms_marketing_updated_at = NULL, sms_marketing_source = NULL,
        deleted_at = coalesce(deleted_at, ${now}), erased_at = ${now}, updated_at = ${now}
      WHERE id = ANY(${erasing}::text[])`;
    await tx.$executeRaw`
      UPDATE outbox_event SET payload = payload - ${PERSONAL_PAYLOAD_KEYS}::text[]
      WHERE key = ANY(${erasing.map((id) => `customer:${id}`)}::text[])`;
    const { loginPerEmail } = ctx.services.throttles;
    await tx.$executeRaw`DELETE FROM rate_limit WHERE key = ANY(${emails.map((e) => loginPerEmail.storedKey(e))}::text[])`;
    await recordEvents(
      tx,
      actorOf(ctx),
      erasing.map((id) => ({ name: 'customer.erased' as const, payload: { id } })),
    );
  });
  return [...new Set(ids)];
}
