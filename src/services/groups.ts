import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { UNIQUE, uniqueViolated } from '../db/errors.js';
import { singleStatement, transaction } from '../db/transaction.js';
import { type Actor, recordEvents, recordEventsSql, sqlConstant, sqlValue } from '../events/outbox.js';
import { type Customer, type CustomerGroup, type CustomerGroupCustomer, Prisma } from '../generated/prisma/client.js';
import { ID_ALPHABET, newId, newIdStem } from '../lib/ids.js';
import {
  atItem,
  checkBatchSize,
  checkSelection,
  MAX_BATCH,
  mergeMetadataInto,
  requireAll,
  type Selection,
} from './batch.js';
import { BatchTooLargeError, EmptyFilterError, NameTakenError, NotFoundError, ValidationError } from './errors.js';
import { metadataPatch, newMetadata } from './validation.js';

// Admin operations on customer groups and memberships. Each call is one statement, or one
// transaction of a constant number of statements, whatever the batch size.

type Tx = Prisma.TransactionClient;
type GroupSelection = Selection<Prisma.CustomerGroupWhereInput>;

export interface Pair {
  customerId: string;
  customerGroupId: string;
}

/** An ID as the caller gave it: what it should be and which argument item holds it, for NOT_FOUND. */
interface Ref {
  kind: 'customer' | 'group';
  id: string;
  field: string;
}

function groupName(name: string, field = 'name'): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 255)
    throw new ValidationError('A group name has 1 to 255 characters.', field);
  return trimmed;
}

/** The index of the first name that occurs earlier in the list too, or -1. */
function repeatedName(names: string[]): number {
  const seen = new Set<string>();
  return names.findIndex((name) => {
    if (seen.has(name)) return true;
    seen.add(name);
    return false;
  });
}

/** NAME_TAKEN for the names among `names` that live groups have, naming the first item that has one. */
async function nameTaken(
  db: Tx,
  names: string[],
  field: (index: number) => string,
): Promise<NameTakenError | undefined> {
  const taken = new Set(
    (await db.customerGroup.findMany({ where: { name: { in: names }, deletedAt: null }, select: { name: true } })).map(
      (g) => g.name,
    ),
  );
  const at = names.findIndex((name) => taken.has(name));
  return at >= 0 ? new NameTakenError([...taken], field(at)) : undefined;
}

/** NOT_FOUND for the unknown IDs among `refs`: every one, naming the first argument item holding one. */
function notFound(refs: Ref[], missing: Record<Ref['kind'], string[]>): NotFoundError {
  const unknown = { customer: new Set(missing.customer), group: new Set(missing.group) };
  const held = refs.filter((r) => unknown[r.kind].has(r.id));
  return new NotFoundError([...new Set(held.map((r) => r.id))], held[0]!.field);
}

const pairKey = (p: Pair) => `${p.customerId} ${p.customerGroupId}`;

/** The pairs once each, in the order first given. */
function uniquePairs(pairs: readonly Pair[]): Pair[] {
  return [
    ...new Map(
      pairs.map((p) => [pairKey(p), { customerId: p.customerId, customerGroupId: p.customerGroupId }]),
    ).values(),
  ];
}

/** One statement, run where the caller runs it: on the pool alone, or inside its transaction. */
type Run = <T>(statement: Prisma.Sql) => Promise<T[]>;
const alone =
  (ctx: Context): Run =>
  (statement) =>
    singleStatement(ctx, () => ctx.services.query(statement.text, statement.values));
const within =
  (tx: Tx): Run =>
  (statement) =>
    tx.$queryRaw(statement);

interface MembershipWrite {
  add?: readonly Pair[];
  /** Pairs to remove; none of them among `add`. */
  remove?: readonly Pair[];
  /** Customers that must be live though no pair may hold them (batchCustomerGroups' with no groups). */
  customerIds?: string[];
  /** The IDs as the caller gave them, for NOT_FOUND; made only when an ID is unknown. */
  refs: () => Ref[];
  /** Whether to record `customer_group.updated` (a new group's members come with its `created`). */
  announce: boolean;
  /** What to read back besides: the live membership of every pair added, or the removed memberships' IDs. */
  read?: 'memberships' | 'removedIds';
}

interface MembershipRow {
  id: string;
  customer_id: string;
  customer_group_id: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

interface Written {
  missingCustomers: string[];
  missingGroups: string[];
  memberships: MembershipRow[] | null;
  removedIds: string[] | null;
}

/**
 * The one writer of memberships: adds and removes pairs in one statement, whatever their number,
 * so that it is atomic alone (`singleStatement`) or one statement of the caller's transaction. It
 * locks the live groups FOR SHARE, changes the memberships only if every ID was found, and records
 * one `customer_group.updated` per group whose members changed. Any unknown ID is a NotFoundError,
 * and nothing was written.
 *
 * Adding locks FOR SHARE (in ID order) only the customers that are not members yet, so that a
 * concurrent soft delete waits and cannot miss their new memberships. A customer who is already a
 * member is live in the same snapshot (deleting a customer ends its memberships in the same
 * transaction), and locking it would cost a row lock and its WAL record for nothing: adding members
 * who are there already is the common retry. Removing locks no customer: a concurrent soft delete
 * and this hard delete meet on the membership rows themselves. Idempotent: members stay as they
 * are, and non-members are removed without error.
 */
async function writeMemberships(ctx: Context, run: Run, w: MembershipWrite) {
  const createdBy = requireAdmin(ctx);
  const groups = new Map<string, Set<string>>();
  const add = columns(w.add ?? [], groups);
  const remove = columns(w.remove ?? [], groups);
  if (add.customerIds.length + remove.customerIds.length === 0 && !w.customerIds?.length)
    return { memberships: [], removedIds: [] };
  const groupIds = [...groups.keys()];
  const [row] = await run<Written>(
    membershipStatement({
      add,
      remove,
      groupIds,
      customerIds: w.customerIds ?? [],
      stem: newIdStem('CustomerGroupCustomer'),
      createdBy,
      actor: actorOf(ctx),
      now: ctx.services.now(),
      events: w.announce ? groupIds.length : 0,
      read: w.read,
    }),
  );
  if (row!.missingCustomers.length || row!.missingGroups.length)
    throw notFound(w.refs(), { customer: row!.missingCustomers, group: row!.missingGroups });
  return { memberships: row!.memberships ?? [], removedIds: row!.removedIds ?? [] };
}

/** Pairs as two columns, as the statement takes them. */
interface Columns {
  customerIds: string[];
  groupIds: string[];
}

/**
 * The pairs as columns, each pair once; `groups` collects their groups (and members) across calls.
 * Keyed by group, then customer: with a Map keyed by the two IDs joined, a call adding 5,000
 * customers spent 2.9 ms in JavaScript rather than 0.7.
 */
function columns(pairs: readonly Pair[], groups: Map<string, Set<string>>): Columns {
  const out: Columns = { customerIds: [], groupIds: [] };
  for (const { customerId, customerGroupId } of pairs) {
    let customers = groups.get(customerGroupId);
    if (!customers) {
      customers = new Set();
      groups.set(customerGroupId, customers);
    }
    if (customers.has(customerId)) continue;
    customers.add(customerId);
    out.customerIds.push(customerId);
    out.groupIds.push(customerGroupId);
  }
  return out;
}

/**
 * The statement of `writeMemberships`, with only the parts its call needs (a removal of 50 members
 * that planned the parts of an add too took half as long again). Pairs travel as two array parameters
 * (customers, groups): a few parameters whatever their number. Groups and customers are locked,
 * and memberships inserted, in ID order, so that writers wait for each other instead of
 * deadlocking. Not prepared: a plan made for the arrays it runs with hashes `= ANY (…)` and probes
 * the indexes, where a generic plan (made once, blind to the arrays' length) scanned the
 * memberships comparing each with every ID, three times slower. The new memberships' IDs are a
 * stem and the pair's place among them in 6 Crockford base-32 digits: in the pairs' order
 * (customer, then group), made here rather than sent as parameters.
 */
function membershipStatement(s: {
  add: Columns;
  remove: Columns;
  /** The groups of the pairs, once each. */
  groupIds: string[];
  customerIds: string[];
  stem: string;
  createdBy: string;
  actor: Actor;
  now: Date;
  /** How many groups may change, if their events are to be recorded. */
  events: number;
  read: MembershipWrite['read'];
}): Prisma.Sql {
  const pairs = (name: string, list: Columns) =>
    Prisma.sql`${Prisma.raw(name)} AS (SELECT * FROM unnest(${list.customerIds}::text[], ${list.groupIds}::text[])
      AS p(customer_id, group_id))`;
  const adding = s.add.customerIds.length > 0;
  const removing = s.remove.customerIds.length > 0;
  const ctes: Prisma.Sql[] = [];
  const missing: Prisma.Sql[] = [];
  const customers: Prisma.Sql[] = [];
  const changes: Prisma.Sql[] = [];
  if (adding) {
    ctes.push(pairs('a', s.add));
  }
  if (removing) {
    ctes.push(pairs('r', s.remove));
    customers.push(Prisma.sql`SELECT customer_id FROM r`);
  }
  if (s.customerIds.length) customers.push(Prisma.sql`SELECT unnest(${s.customerIds}::text[]) AS customer_id`);
  if (s.groupIds.length) {
    ctes.push(
      Prisma.sql`g AS (SELECT id FROM customer_group WHERE id = ANY (${s.groupIds}::text[]) AND deleted_at IS NULL
        ORDER BY id FOR SHARE)`,
    );
    missing.push(Prisma.sql`SELECT 'group' AS kind, id FROM unnest(${s.groupIds}::text[]) AS asked(id)
      WHERE id NOT IN (SELECT id FROM g)`);
  }
  if (adding) {
    ctes.push(
      // A subquery per pair (the unique index allows one live row), so that PostgreSQL probes the
      // index once per pair rather than joining all of a large group's memberships.
      Prisma.sql`joining AS (SELECT customer_id, group_id FROM a
        WHERE (SELECT true FROM customer_group_customer m
          WHERE m.customer_id = a.customer_id AND m.customer_group_id = a.group_id AND m.deleted_at IS NULL) IS NULL)`,
      Prisma.sql`c AS (SELECT id FROM customer WHERE id = ANY (ARRAY(SELECT customer_id FROM joining)) AND deleted_at IS NULL
        ORDER BY id FOR SHARE)`,
    );
    missing.push(
      Prisma.sql`SELECT 'customer' AS kind, customer_id AS id FROM joining WHERE customer_id NOT IN (SELECT id FROM c)`,
    );
  }
  if (customers.length) {
    ctes.push(Prisma.sql`checked AS (${Prisma.join(customers, ' UNION ')})`);
    missing.push(Prisma.sql`SELECT 'customer' AS kind, customer_id AS id FROM checked WHERE customer_id NOT IN (
      SELECT id FROM customer WHERE id = ANY (ARRAY(SELECT customer_id FROM checked)) AND deleted_at IS NULL)`);
  }
  ctes.push(Prisma.sql`missing AS (${Prisma.join(missing, ' UNION ALL ')})`);
  if (adding) {
    ctes.push(Prisma.sql`w AS (INSERT INTO customer_group_customer (id, customer_id, customer_group_id, created_by, created_at, updated_at)
      SELECT ${s.stem}::text || (SELECT string_agg(substr(${ID_ALPHABET}::text, ((j.n >> (5 * k)) & 31)::int + 1, 1), '' ORDER BY k DESC)
          FROM generate_series(0, 5) k),
        j.customer_id, j.group_id, ${s.createdBy}::text, ${s.now}::timestamptz, ${s.now}::timestamptz
      FROM (SELECT customer_id, group_id, row_number() OVER (ORDER BY customer_id COLLATE "C", group_id COLLATE "C") AS n
        FROM joining) j
      WHERE NOT EXISTS (SELECT 1 FROM missing)
      ORDER BY j.customer_id COLLATE "C", j.group_id COLLATE "C"
      ON CONFLICT DO NOTHING
      RETURNING id, customer_id, customer_group_id, created_by, created_at, updated_at, deleted_at)`);
    changes.push(Prisma.sql`SELECT customer_group_id AS group_id, customer_id, true AS added FROM w`);
  }
  if (removing) {
    // Hard deletes, as Medusa's removeCustomerFromGroup.
    ctes.push(Prisma.sql`d AS (DELETE FROM customer_group_customer m USING r
      WHERE m.customer_id = r.customer_id AND m.customer_group_id = r.group_id AND m.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM missing)
      RETURNING m.id, m.customer_id, m.customer_group_id)`);
    changes.push(Prisma.sql`SELECT customer_group_id AS group_id, customer_id, false AS added FROM d`);
  }
  if (s.events && changes.length)
    ctes.push(
      Prisma.sql`changed AS (SELECT group_id,
          coalesce(array_agg(customer_id ORDER BY customer_id COLLATE "C") FILTER (WHERE added), '{}') AS added,
          coalesce(array_agg(customer_id ORDER BY customer_id COLLATE "C") FILTER (WHERE NOT added), '{}') AS removed
        FROM (${Prisma.join(changes, ' UNION ALL ')}) x
        GROUP BY group_id)`,
      recordEventsSql(
        s.actor,
        'customer_group.updated',
        Prisma.sql`changed`,
        {
          id: sqlValue<string>(Prisma.sql`group_id`),
          fields: sqlConstant(['customers']),
          added: sqlValue<string[]>(Prisma.sql`added`),
          removed: sqlValue<string[]>(Prisma.sql`removed`),
        },
        s.events,
      ),
    );
  const memberships =
    s.read === 'memberships' && adding
      ? Prisma.sql`(SELECT jsonb_agg(to_jsonb(m)) FROM (
          SELECT m.id, m.customer_id, m.customer_group_id, m.created_by, m.created_at, m.updated_at, m.deleted_at
            FROM a JOIN customer_group_customer m
              ON m.customer_id = a.customer_id AND m.customer_group_id = a.group_id AND m.deleted_at IS NULL
          UNION ALL SELECT * FROM w) m)`
      : Prisma.sql`NULL::jsonb`;
  const removedIds =
    s.read === 'removedIds' && removing
      ? Prisma.sql`ARRAY(SELECT id FROM d ORDER BY id COLLATE "C")`
      : Prisma.sql`NULL::text[]`;
  return Prisma.sql`WITH ${Prisma.join(ctes, ',\n  ')}
  SELECT ARRAY(SELECT id FROM missing WHERE kind = 'customer') AS "missingCustomers",
    ARRAY(SELECT id FROM missing WHERE kind = 'group') AS "missingGroups",
    ${memberships} AS memberships, ${removedIds} AS "removedIds"`;
}

// Groups

export interface CreateGroupInput {
  name: string;
  metadata?: Record<string, unknown> | null;
  customerIds?: readonly string[] | null;
}

export async function createCustomerGroups(ctx: Context, inputs: CreateGroupInput[]): Promise<CustomerGroup[]> {
  const createdBy = requireAdmin(ctx);
  checkBatchSize(inputs, 'input');
  const groups = inputs.map((input, i) =>
    atItem('input', i, () => {
      const metadata = newMetadata(input.metadata);
      return { id: newId('CustomerGroup'), name: groupName(input.name), ...(metadata ? { metadata } : {}), createdBy };
    }),
  );
  const names = groups.map((g) => g.name);
  const twice = repeatedName(names);
  if (twice >= 0) throw new NameTakenError([names[twice]!], `input[${twice}].name`);
  const refs: Ref[] = inputs.flatMap((input, i) =>
    (input.customerIds ?? []).map((id, j) => ({
      kind: 'customer' as const,
      id,
      field: `input[${i}].customerIds[${j}]`,
    })),
  );
  if (refs.length > MAX_BATCH) throw new BatchTooLargeError(MAX_BATCH, 'input.customerIds');
  const memberships = inputs.flatMap((input, i) =>
    (input.customerIds ?? []).map((customerId) => ({ customerId, customerGroupId: groups[i]!.id })),
  );

  try {
    return await transaction(ctx, async (tx) => {
      const taken = await nameTaken(tx, names, (at) => `input[${at}].name`);
      if (taken) throw taken;
      const created = await tx.customerGroup.createManyAndReturn({ data: groups });
      if (memberships.length)
        await writeMemberships(ctx, within(tx), {
          add: memberships,
          refs: () => refs,
          announce: false,
        });
      await recordEvents(
        tx,
        actorOf(ctx),
        created.map((g) => {
          const added = [...new Set(memberships.filter((m) => m.customerGroupId === g.id).map((m) => m.customerId))];
          return {
            name: 'customer_group.created' as const,
            payload: { id: g.id, ...(added.length ? { added: added.sort() } : {}) },
          };
        }),
      );
      const byId = new Map(created.map((g) => [g.id, g]));
      return groups.map((g) => byId.get(g.id)!);
    });
  } catch (error) {
    // A concurrent call took a name between our check and our insert: the unique index decides.
    if (uniqueViolated(error) === UNIQUE.groupName)
      throw (await nameTaken(ctx.db, names, (at) => `input[${at}].name`)) ?? new NameTakenError(names, 'input');
    throw error;
  }
}

/**
 * The IDs of the selected groups: all of `ids` (else NOT_FOUND), or at most MAX_BATCH matches of
 * the filter. Live groups only unless `withDeleted`. Locked FOR UPDATE in ID order, so a group
 * soft-deleted by a concurrent call is either seen as deleted here or waits for this transaction.
 */
async function selectGroups(tx: Tx, selection: GroupSelection, { withDeleted = false } = {}): Promise<string[]> {
  checkSelection(selection.ids, selection.filter);
  const lock = async (ids: string[]) => {
    if (ids.length === 0) return [];
    const live = withDeleted ? Prisma.empty : Prisma.sql`AND deleted_at IS NULL`;
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM customer_group WHERE id IN (${Prisma.join(ids)}) ${live} ORDER BY id FOR UPDATE`;
    return rows.map((g) => g.id);
  };
  if (selection.ids) {
    const ids = [...new Set(selection.ids)];
    requireAll(ids, await lock(ids), 'ids');
    return ids;
  }
  // A filter whose conditions all turned out blank (e.g. `q: "  "`) would select every group.
  const where = selection.where ?? {};
  if (Object.keys(where).every((key) => key === 'deletedAt')) throw new EmptyFilterError();
  const found = await tx.customerGroup.findMany({
    where,
    select: { id: true },
    orderBy: { id: 'asc' },
    take: MAX_BATCH + 1,
  });
  if (found.length > MAX_BATCH) throw new BatchTooLargeError(MAX_BATCH, 'filter');
  return lock(found.map((g) => g.id));
}

export interface UpdateGroupInput {
  name?: string | null;
  metadata?: Record<string, unknown> | null;
}

export async function updateCustomerGroups(
  ctx: Context,
  selection: GroupSelection,
  input: UpdateGroupInput,
): Promise<CustomerGroup[]> {
  requireAdmin(ctx);
  const name = input.name == null ? undefined : groupName(input.name, 'input.name');
  const patch = metadataPatch(input.metadata, 'input.metadata');
  const fields = [...(name !== undefined ? ['name'] : []), ...(patch ? ['metadata'] : [])];
  const now = ctx.services.now();
  try {
    return await transaction(ctx, async (tx) => {
      const ids = await selectGroups(tx, selection);
      if (name !== undefined && ids.length > 1) throw new NameTakenError([name], 'input.name');
      if (ids.length === 0) return [];
      if (name !== undefined)
        await tx.customerGroup.updateMany({ where: { id: { in: ids } }, data: { name, updatedAt: now } });
      if (patch) await mergeMetadataInto(tx, 'customer_group', ids, patch, 'input.metadata', now);
      const groups = await tx.customerGroup.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
      if (fields.length)
        await recordEvents(
          tx,
          actorOf(ctx),
          ids.map((id) => ({ name: 'customer_group.updated' as const, payload: { id, fields } })),
        );
      return groups;
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.groupName && name !== undefined)
      throw new NameTakenError([name], 'input.name');
    throw error;
  }
}

/**
 * Deletes for good: memberships go by cascade, customers stay. By IDs also soft-deleted groups
 * (to purge them); a filter selects live groups.
 */
export async function deleteCustomerGroups(ctx: Context, selection: GroupSelection): Promise<string[]> {
  requireAdmin(ctx);
  return transaction(ctx, async (tx) => {
    const ids = await selectGroups(tx, selection, { withDeleted: true });
    if (ids.length === 0) return [];
    await tx.customerGroup.deleteMany({ where: { id: { in: ids } } });
    await recordEvents(
      tx,
      actorOf(ctx),
      ids.map((id) => ({ name: 'customer_group.deleted' as const, payload: { id } })),
    );
    return ids;
  });
}

export interface SoftDeletedGroups {
  ids: string[];
  membershipIds: string[];
}

/**
 * Marks the live groups and their live memberships deleted with one timestamp, which is how
 * restore knows exactly what this soft delete took. Groups already soft-deleted are left as they are.
 */
export async function softDeleteCustomerGroups(ctx: Context, ids: string[]): Promise<SoftDeletedGroups> {
  requireAdmin(ctx);
  checkBatchSize(ids, 'ids');
  const deletedAt = ctx.services.now();
  return transaction(ctx, async (tx) => {
    const existing = await tx.customerGroup.findMany({ where: { id: { in: ids } }, select: { id: true } });
    requireAll(
      ids,
      existing.map((g) => g.id),
      'ids',
    );
    const groups = await tx.customerGroup.updateManyAndReturn({
      where: { id: { in: ids }, deletedAt: null },
      data: { deletedAt },
      select: { id: true },
    });
    const live = groups.map((g) => g.id).sort();
    const memberships = await tx.customerGroupCustomer.updateManyAndReturn({
      where: { customerGroupId: { in: live }, deletedAt: null },
      data: { deletedAt },
      select: { id: true },
    });
    await recordEvents(
      tx,
      actorOf(ctx),
      live.map((id) => ({ name: 'customer_group.deleted' as const, payload: { id, soft: true } })),
    );
    return { ids: live, membershipIds: memberships.map((m) => m.id).sort() };
  });
}

/**
 * Brings back soft-deleted groups and exactly the memberships their soft delete took (those
 * stamped with the group's own deletedAt). Live groups among `ids` are left as they are. A name
 * taken by a live group meanwhile is NAME_TAKEN, and nothing changes.
 */
export async function restoreCustomerGroups(ctx: Context, ids: string[]): Promise<SoftDeletedGroups> {
  requireAdmin(ctx);
  checkBatchSize(ids, 'ids');
  const now = ctx.services.now();
  let names: string[] = [];
  try {
    return await transaction(ctx, async (tx) => {
      const existing = await tx.customerGroup.findMany({
        where: { id: { in: ids } },
        select: { id: true, name: true, deletedAt: true },
      });
      requireAll(
        ids,
        existing.map((g) => g.id),
        'ids',
      );
      const deleted = existing.filter((g) => g.deletedAt).sort((a, b) => (a.id < b.id ? -1 : 1));
      if (deleted.length === 0) return { ids: [], membershipIds: [] };
      const deletedIds = deleted.map((g) => g.id);
      names = deleted.map((g) => g.name);
      const twice = repeatedName(names);
      if (twice >= 0) throw new NameTakenError([names[twice]!], `ids[${ids.indexOf(deletedIds[twice]!)}]`);
      const taken = await nameTaken(tx, names, (at) => `ids[${ids.indexOf(deletedIds[at]!)}]`);
      if (taken) throw taken;
      // Before the groups: a membership is matched by its group's deletedAt. One whose customer
      // is deleted now stays deleted (the database refuses a live membership of a deleted
      // customer), as if taken with the customer: restoring the customer brings it back.
      await tx.$executeRaw`UPDATE customer_group_customer m SET deleted_at = c.deleted_at, updated_at = ${now}
        FROM customer_group g, customer c
        WHERE g.id IN (${Prisma.join(deletedIds)}) AND m.customer_group_id = g.id AND m.deleted_at = g.deleted_at
          AND c.id = m.customer_id AND c.deleted_at IS NOT NULL`;
      // It stays deleted, too, if its customer has a live membership in the group again by other means.
      const memberships = await tx.$queryRaw<
        { id: string }[]
      >`UPDATE customer_group_customer m SET deleted_at = NULL, updated_at = ${now}
        FROM customer_group g
        WHERE g.id IN (${Prisma.join(deletedIds)}) AND m.customer_group_id = g.id AND m.deleted_at = g.deleted_at
          AND NOT EXISTS (SELECT 1 FROM customer_group_customer l
            WHERE l.customer_id = m.customer_id AND l.customer_group_id = m.customer_group_id AND l.deleted_at IS NULL)
        RETURNING m.id`;
      const restored = await tx.customerGroup.updateManyAndReturn({
        where: { id: { in: deletedIds }, deletedAt: { not: null } },
        data: { deletedAt: null, updatedAt: now },
        select: { id: true },
      });
      const restoredIds = restored.map((g) => g.id).sort();
      await recordEvents(
        tx,
        actorOf(ctx),
        restoredIds.map((id) => ({ name: 'customer_group.updated' as const, payload: { id, fields: ['deleted_at'] } })),
      );
      return { ids: restoredIds, membershipIds: memberships.map((m) => m.id).sort() };
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.groupName) throw new NameTakenError(names, 'ids');
    throw error;
  }
}

// Memberships

const groupRef = (id: string, field: string): Ref => ({ kind: 'group', id, field });
const customerRef = (id: string, field: string): Ref => ({ kind: 'customer', id, field });

/** Many customers join or leave one group, in one statement (atomic without a transaction). */
async function changeGroupMembers(ctx: Context, groupId: string, customerIds: string[], change: 'add' | 'remove') {
  requireAdmin(ctx);
  checkBatchSize(customerIds, 'customerIds');
  const pairs = customerIds.map((customerId) => ({ customerId, customerGroupId: groupId }));
  await writeMemberships(ctx, alone(ctx), {
    [change]: pairs,
    refs: () => [groupRef(groupId, 'groupId'), ...customerIds.map((id, i) => customerRef(id, `customerIds[${i}]`))],
    announce: true,
  });
}

/** Medusa v1's addCustomers: idempotent, members already in the group stay as they are. */
export const addCustomersToGroup = (ctx: Context, groupId: string, customerIds: string[]) =>
  changeGroupMembers(ctx, groupId, customerIds, 'add');

/** Medusa v1's removeCustomers: customers who are not members are no error. */
export const removeCustomersFromGroup = (ctx: Context, groupId: string, customerIds: string[]) =>
  changeGroupMembers(ctx, groupId, customerIds, 'remove');

/** Medusa v2's batchCustomerGroups: one customer joins and leaves groups in one call. */
export async function batchCustomerGroups(
  ctx: Context,
  customerId: string,
  add: string[],
  remove: string[],
): Promise<Customer> {
  requireAdmin(ctx);
  if (add.length + remove.length > MAX_BATCH)
    throw new BatchTooLargeError(MAX_BATCH, add.length > remove.length ? 'add' : 'remove');
  const adding = new Set(add);
  const both = remove.findIndex((id) => adding.has(id));
  if (both >= 0) throw new ValidationError('A group cannot be both added and removed.', `remove[${both}]`);
  const pair = (customerGroupId: string) => ({ customerId, customerGroupId });
  // One transaction with the read, so that the customer returned is the one the write found live.
  return transaction(ctx, async (tx) => {
    await writeMemberships(ctx, within(tx), {
      add: add.map(pair),
      remove: remove.map(pair),
      customerIds: [customerId],
      refs: () => [
        customerRef(customerId, 'customerId'),
        ...add.map((id, i) => groupRef(id, `add[${i}]`)),
        ...remove.map((id, i) => groupRef(id, `remove[${i}]`)),
      ],
      announce: true,
    });
    return tx.customer.findUniqueOrThrow({ where: { id: customerId } });
  });
}

const pairRefs = (pairs: Pair[]) => () =>
  pairs.flatMap((p, i) => [
    customerRef(p.customerId, `memberships[${i}].customerId`),
    groupRef(p.customerGroupId, `memberships[${i}].groupId`),
  ]);

const membership = (m: MembershipRow): CustomerGroupCustomer => ({
  id: m.id,
  customerId: m.customer_id,
  customerGroupId: m.customer_group_id,
  createdBy: m.created_by,
  createdAt: new Date(m.created_at),
  updatedAt: new Date(m.updated_at),
  deletedAt: m.deleted_at === null ? null : new Date(m.deleted_at),
});

/** Medusa v2's addCustomerToGroup: returns the membership of every pair, including those that existed. */
export async function addCustomerToGroup(ctx: Context, pairs: Pair[]): Promise<CustomerGroupCustomer[]> {
  requireAdmin(ctx);
  checkBatchSize(pairs, 'memberships');
  const written = await writeMemberships(ctx, alone(ctx), {
    add: pairs,
    refs: pairRefs(pairs),
    announce: true,
    read: 'memberships',
  });
  const byPair = new Map(written.memberships.map((row) => membership(row)).map((m) => [pairKey(m), m]));
  // A pair another call added after this statement's snapshot was skipped by ON CONFLICT and is
  // read now, after that call committed.
  const late = uniquePairs(pairs).filter((p) => !byPair.has(pairKey(p)));
  if (late.length) {
    const found = await ctx.db.customerGroupCustomer.findMany({
      where: {
        deletedAt: null,
        OR: late.map((p) => ({ customerId: p.customerId, customerGroupId: p.customerGroupId })),
      },
    });
    for (const m of found) byPair.set(pairKey(m), m);
  }
  return uniquePairs(pairs).map((p) => byPair.get(pairKey(p))!);
}

/** Medusa v2's removeCustomerFromGroup: returns the IDs of the memberships it removed. */
export async function removeCustomerFromGroup(ctx: Context, pairs: Pair[]): Promise<string[]> {
  requireAdmin(ctx);
  checkBatchSize(pairs, 'memberships');
  const written = await writeMemberships(ctx, alone(ctx), {
    remove: pairs,
    refs: pairRefs(pairs),
    announce: true,
    read: 'removedIds',
  });
  return written.removedIds;
}
