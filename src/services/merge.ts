import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { type Actor, recordEvents } from '../events/outbox.js';
import type { Customer, Prisma } from '../generated/prisma/client.js';
import { MAX_ADDRESSES_PER_CUSTOMER } from './addresses.js';
import { checkBatchSize } from './batch.js';
import { MergeConflictError, NotFoundError } from './errors.js';
import { MAX_TAGS_PER_CUSTOMER, METADATA_MAX_BYTES } from './validation.js';

export interface MergeResult {
  target: Customer;
  sourceIds: string[];
}

interface Moved {
  id: string;
  from: string;
}

/**
 * Moves everything of `sourceIds` onto `targetId`, in the caller's transaction and a fixed number
 * of statements however many sources there are:
 * - orders are re-pointed (a trigger re-points any order written for a source later);
 * - live addresses move, newest first, while the target has fewer than MAX_ADDRESSES_PER_CUSTOMER; the rest are
 *   soft-deleted with their source. A moved default address stays the default only where the
 *   target has none of that kind (the newest such address wins);
 * - memberships unite: the earliest membership per group moves, the other ones are soft-deleted;
 * - metadata: the target's keys win, then the newest source's; if the result would exceed the
 *   metadata cap the target keeps its own, and the sources' stays on the soft-deleted rows;
 * - the sources are soft-deleted with `mergedIntoId` = the target (customers merged into a
 *   source follow it), their sessions and tokens end, and each gets one `customer.merged` event.
 * The rows are locked first, in ID order, so concurrent merges of overlapping rows queue.
 */
export async function mergeInto(
  tx: Prisma.TransactionClient,
  now: Date,
  targetId: string,
  sourceIds: string[],
  cause: 'email_verified' | 'admin',
  actor: Actor,
): Promise<MergeResult> {
  if (sourceIds.length === 0) {
    return { target: await tx.customer.findUniqueOrThrow({ where: { id: targetId } }), sourceIds };
  }
  const orders = await tx.$queryRaw<Moved[]>`
    UPDATE "order" o SET "customer_id" = ${targetId}, "updated_at" = ${now}
    FROM "order" old WHERE o."id" = old."id" AND old."customer_id" = ANY(${sourceIds}::text[])
    RETURNING o."id", old."customer_id" AS "from"`;
  const addresses = await tx.$queryRaw<Moved[]>`
    WITH room AS (
      SELECT GREATEST(0, ${MAX_ADDRESSES_PER_CUSTOMER} - count(*)) AS n,
             bool_or("is_default_shipping") AS has_shipping, bool_or("is_default_billing") AS has_billing
      FROM "customer_address" WHERE "customer_id" = ${targetId} AND "deleted_at" IS NULL
    ), movable AS (
      SELECT a."id", a."customer_id", a."is_default_shipping", a."is_default_billing",
             row_number() OVER (ORDER BY a."created_at" DESC, a."id" DESC) AS rn
      FROM "customer_address" a WHERE a."customer_id" = ANY(${sourceIds}::text[]) AND a."deleted_at" IS NULL
    ), moving AS (
      SELECT movable.* FROM movable, room WHERE movable.rn <= room.n
    ), keep AS (
      SELECT (SELECT m."id" FROM moving m, room WHERE m."is_default_shipping" AND NOT coalesce(room.has_shipping, false) ORDER BY m.rn LIMIT 1) AS shipping,
             (SELECT m."id" FROM moving m, room WHERE m."is_default_billing" AND NOT coalesce(room.has_billing, false) ORDER BY m.rn LIMIT 1) AS billing
    )
    UPDATE "customer_address" a SET "customer_id" = ${targetId}, "updated_at" = ${now},
      "is_default_shipping" = (a."id" IS NOT DISTINCT FROM keep.shipping),
      "is_default_billing" = (a."id" IS NOT DISTINCT FROM keep.billing)
    FROM moving, keep WHERE a."id" = moving."id"
    RETURNING a."id", moving."customer_id" AS "from"`;
  const leftBehind = await tx.$queryRaw<Moved[]>`
    UPDATE "customer_address" SET "deleted_at" = ${now}, "updated_at" = ${now}
    WHERE "customer_id" = ANY(${sourceIds}::text[]) AND "deleted_at" IS NULL
    RETURNING "id", "customer_id" AS "from"`;
  await tx.$executeRaw`
    UPDATE "customer_group_customer" m SET "customer_id" = ${targetId}, "updated_at" = ${now}
    WHERE m."id" IN (
      SELECT DISTINCT ON (s."customer_group_id") s."id" FROM "customer_group_customer" s
      WHERE s."customer_id" = ANY(${sourceIds}::text[]) AND s."deleted_at" IS NULL
        AND NOT EXISTS (SELECT 1 FROM "customer_group_customer" t
                        WHERE t."customer_id" = ${targetId} AND t."customer_group_id" = s."customer_group_id" AND t."deleted_at" IS NULL)
      ORDER BY s."customer_group_id", s."created_at", s."id")`;
  await tx.$executeRaw`
    UPDATE "customer_group_customer" SET "deleted_at" = ${now}, "updated_at" = ${now}
    WHERE "customer_id" = ANY(${sourceIds}::text[]) AND "deleted_at" IS NULL`;
  const [target] = await tx.$queryRaw<{ id: string }[]>`
    WITH merged AS (
      SELECT coalesce(jsonb_object_agg(kv.key, kv.value ORDER BY c."created_at", c."id"), '{}'::jsonb) AS metadata
      FROM "customer" c, jsonb_each(CASE WHEN jsonb_typeof(c."metadata") = 'object' THEN c."metadata" ELSE '{}'::jsonb END) kv
      WHERE c."id" = ANY(${sourceIds}::text[])
    )
    UPDATE "customer" t SET "updated_at" = ${now},
      "metadata" = CASE
        WHEN merged.metadata = '{}'::jsonb THEN t."metadata"
        WHEN octet_length((merged.metadata || coalesce(t."metadata", '{}'::jsonb))::text) > ${METADATA_MAX_BYTES} THEN t."metadata"
        ELSE merged.metadata || coalesce(t."metadata", '{}'::jsonb) END
    FROM merged WHERE t."id" = ${targetId}
    RETURNING t."id"`;
  await tx.$executeRaw`
    UPDATE "customer" SET "merged_into_id" = ${targetId}, "deleted_at" = coalesce("deleted_at", ${now}), "updated_at" = ${now}
    WHERE "id" = ANY(${sourceIds}::text[]) OR "merged_into_id" = ANY(${sourceIds}::text[])`;
  await tx.customerSession.deleteMany({ where: { customerId: { in: sourceIds } } });
  await tx.passwordResetToken.deleteMany({ where: { customerId: { in: sourceIds } } });
  await tx.emailVerificationToken.deleteMany({ where: { customerId: { in: sourceIds } } });
  await tx.customerToken.deleteMany({ where: { customerId: { in: sourceIds } } });
  // The sources' history and notes come along; their tags join the target's (up to the cap).
  await tx.$executeRaw`
    UPDATE "customer_timeline_entry" SET "customer_id" = ${targetId}, "merged_from_id" = coalesce("merged_from_id", "customer_id")
    WHERE "customer_id" = ANY(${sourceIds}::text[])`;
  await tx.$executeRaw`
    UPDATE "customer_note" SET "customer_id" = ${targetId} WHERE "customer_id" = ANY(${sourceIds}::text[])`;
  await tx.$executeRaw`
    UPDATE "customer" t SET "tags" = ARRAY(
      SELECT min(tag) FROM (
        SELECT tag, fold_case(tag) AS folded, min(rank) AS rank FROM (
          SELECT tag, 0 AS rank, n FROM unnest(t."tags") WITH ORDINALITY u(tag, n)
          UNION ALL SELECT tag, 1, n FROM "customer" s, unnest(s."tags") WITH ORDINALITY u(tag, n)
            WHERE s."id" = ANY(${sourceIds}::text[])) all_tags
        GROUP BY tag, folded) x
      GROUP BY folded ORDER BY min(rank), folded LIMIT ${MAX_TAGS_PER_CUSTOMER})
    WHERE t."id" = ${targetId} AND EXISTS (
      SELECT 1 FROM "customer" s WHERE s."id" = ANY(${sourceIds}::text[]) AND cardinality(s."tags") > 0)`;
  const of = (rows: Moved[], source: string) => rows.filter((row) => row.from === source).map((row) => row.id);
  await recordEvents(
    tx,
    actor,
    sourceIds.map((source) => ({
      name: 'customer.merged' as const,
      payload: {
        id: source,
        merged_into_id: targetId,
        cause,
        order_ids: of(orders, source),
        address_ids: of(addresses, source),
        address_ids_left_behind: of(leftBehind, source),
      },
    })),
  );
  if (!target) throw new NotFoundError([targetId]);
  return { target: await tx.customer.findUniqueOrThrow({ where: { id: targetId } }), sourceIds };
}

/**
 * Locks the target and the sources (in ID order, so two merges over the same rows queue rather
 * than deadlock) and returns the live ones.
 */
export async function lockCustomers(tx: Prisma.TransactionClient, ids: string[]) {
  return tx.$queryRaw<{ id: string; has_account: boolean; email: string }[]>`
    SELECT "id", "has_account", "email" FROM "customer"
    WHERE "id" = ANY(${ids}::text[]) AND "deleted_at" IS NULL ORDER BY "id" FOR UPDATE`;
}

export interface MergeCustomersInput {
  targetId: string;
  sourceIds: string[];
  /** Sources with a password (registered accounts) are merged only when this is set. */
  includeAccounts?: boolean | null;
}

/** Admin: merge customers (two accounts of one person, or guests with another email) into one. */
export async function mergeCustomers(ctx: Context, input: MergeCustomersInput): Promise<MergeResult> {
  requireAdmin(ctx);
  checkBatchSize(input.sourceIds, 'sourceIds');
  const sourceIds = [...new Set(input.sourceIds)];
  if (sourceIds.includes(input.targetId))
    throw new MergeConflictError('A customer cannot be merged into itself.', 'sourceIds');
  return transaction(ctx, async (tx) => {
    const live = await lockCustomers(tx, [input.targetId, ...sourceIds]);
    const found = new Set(live.map((row) => row.id));
    if (!found.has(input.targetId)) throw new NotFoundError([input.targetId], 'targetId');
    const missing = sourceIds.filter((id) => !found.has(id));
    if (missing.length) throw new NotFoundError(missing, 'sourceIds');
    const accounts = live.filter((row) => row.id !== input.targetId && row.has_account).map((row) => row.id);
    if (accounts.length && !input.includeAccounts) {
      throw new MergeConflictError(
        `These sources are registered accounts; merge them only with includeAccounts: true: ${accounts.join(', ')}`,
        'sourceIds',
      );
    }
    return mergeInto(tx, ctx.services.now(), input.targetId, sourceIds, 'admin', actorOf(ctx));
  });
}
