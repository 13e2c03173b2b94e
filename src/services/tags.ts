import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { Customer, Prisma } from '../generated/prisma/client.js';
import type { Selection } from './batch.js';
import { selectCustomers } from './customers.js';
import { LimitExceededError } from './errors.js';
import { MAX_TAGS_PER_CUSTOMER, tagList } from './validation.js';

type Change = { id: string; tags: string[]; count: number };

/**
 * Adds or removes tags on the selected customers, all or nothing, in a fixed number of statements:
 * the selection is locked (selectCustomers), one UPDATE computes each customer's new tags in the
 * database from its current ones, and one event per customer names the tags that changed. A tag
 * is one by fold_case ("VIP" = "vip"): adding one the customer has is no change, and removing
 * goes by the folded form. Two admins tagging the same customers queue on the row locks, so no
 * tag is lost and none doubled.
 */
async function changeTags(
  ctx: Context,
  selection: Selection<Prisma.CustomerWhereInput>,
  rawTags: readonly string[],
  mode: 'add' | 'remove',
): Promise<Customer[]> {
  requireAdmin(ctx);
  const tags = tagList(rawTags, 'tags');
  return transaction(ctx, async (tx) => {
    const ids = await selectCustomers(tx, selection);
    if (ids.length === 0) return [];
    const now = ctx.services.now();
    const changes =
      mode === 'add'
        ? await tx.$queryRaw<Change[]>`
          UPDATE customer c SET tags = c.tags || n.changed, updated_at = ${now}
          FROM (SELECT o.id, ARRAY(SELECT t FROM unnest(${tags}::text[]) WITH ORDINALITY u(t, i)
                  WHERE fold_case(t) <> ALL (o.tags_folded) ORDER BY i) AS changed
                FROM customer o WHERE o.id = ANY(${ids}::text[])) n
          WHERE c.id = n.id AND cardinality(n.changed) > 0
          RETURNING c.id, n.changed AS tags, cardinality(c.tags) AS count`
        : await tx.$queryRaw<Change[]>`
          UPDATE customer c SET updated_at = ${now},
            tags = ARRAY(SELECT t FROM unnest(c.tags) WITH ORDINALITY u(t, i)
              WHERE fold_case(t) <> ALL (ARRAY(SELECT fold_case(x) FROM unnest(${tags}::text[]) x)) ORDER BY i)
          FROM (SELECT o.id, ARRAY(SELECT t FROM unnest(o.tags) WITH ORDINALITY u(t, i)
                  WHERE fold_case(t) = ANY (ARRAY(SELECT fold_case(x) FROM unnest(${tags}::text[]) x)) ORDER BY i) AS changed
                FROM customer o WHERE o.id = ANY(${ids}::text[])) n
          WHERE c.id = n.id AND cardinality(n.changed) > 0
          RETURNING c.id, n.changed AS tags, cardinality(c.tags) AS count`;
    const over = changes.filter((c) => Number(c.count) > MAX_TAGS_PER_CUSTOMER).map((c) => c.id);
    if (over.length)
      throw new LimitExceededError(
        `At most ${MAX_TAGS_PER_CUSTOMER} tags per customer; these would have more: ${over.join(', ')}`,
        'tags',
      );
    const name = mode === 'add' ? ('customer.tags_added' as const) : ('customer.tags_removed' as const);
    await recordEvents(
      tx,
      actorOf(ctx),
      changes.map((c) => ({ name, payload: { id: c.id, tags: c.tags } })),
    );
    return tx.customer.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  });
}

export const addTags = (ctx: Context, selection: Selection<Prisma.CustomerWhereInput>, tags: readonly string[]) =>
  changeTags(ctx, selection, tags, 'add');

export const removeTags = (ctx: Context, selection: Selection<Prisma.CustomerWhereInput>, tags: readonly string[]) =>
  changeTags(ctx, selection, tags, 'remove');

export interface TagCount {
  tag: string;
  folded: string;
  customerCount: number;
}

/**
 * The tags live customers carry, by fold_case order, each with how many carry it (as first written
 * by any of them: the smallest spelling). `q` keeps the tags it matches, by the rule of every `q`
 * (one or two characters: the start; more: any part; case-folded); `after` is the folded tag the
 * page starts after.
 */
export async function tagsInUse(
  ctx: Context,
  options: { q: string | null; after: string | null; first: number },
): Promise<TagCount[]> {
  requireAdmin(ctx);
  const rows = await ctx.db.$queryRaw<{ tag: string; folded: string; count: bigint }[]>`
    SELECT min(u.tag) AS tag, u.folded, count(DISTINCT c.id) AS count
    FROM customer c, unnest(c.tags, c.tags_folded) AS u(tag, folded)
    WHERE c.deleted_at IS NULL AND cardinality(c.tags) > 0
      AND (${options.q}::text IS NULL OR CASE WHEN char_length(${options.q}::text) < 3
        THEN starts_with(u.folded, fold_case(${options.q}::text))
        ELSE strpos(u.folded, fold_case(${options.q}::text)) > 0 END)
      AND (${options.after}::text IS NULL OR u.folded COLLATE "C" > ${options.after}::text COLLATE "C")
    GROUP BY u.folded ORDER BY u.folded COLLATE "C" LIMIT ${options.first}`;
  return rows.map((r) => ({ tag: r.tag, folded: r.folded, customerCount: Number(r.count) }));
}
