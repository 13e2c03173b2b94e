import { requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { UNIQUE, uniqueViolated } from '../db/errors.js';
import { singleStatement, transaction } from '../db/transaction.js';
import { type DomainEvent, groupEventKey, recordEvents } from '../events/outbox.js';
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

// Admin operations on customer groups and memberships. Each call is one transaction of a constant
// number of statements, whatever the batch size.

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

/**
 * Locks the live rows among `refs` FOR SHARE (groups and customers each in one statement, in ID
 * order) and throws NOT_FOUND listing every unknown ID, naming the first argument item holding one.
 * The lock makes a concurrent soft delete of a group or customer wait for this transaction, so it
 * cannot miss the memberships written here.
 */
async function lockLive(tx: Tx, refs: Ref[]): Promise<void> {
  const ids = (kind: Ref['kind']) => [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id))];
  const groupIds = ids('group');
  const customerIds = ids('customer');
  const found = new Set<string>();
  if (groupIds.length) {
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM customer_group WHERE id IN (${Prisma.join(groupIds)}) AND deleted_at IS NULL ORDER BY id FOR SHARE`;
    for (const row of rows) found.add(row.id);
  }
  if (customerIds.length) {
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM customer WHERE id IN (${Prisma.join(customerIds)}) AND deleted_at IS NULL ORDER BY id FOR SHARE`;
    for (const row of rows) found.add(row.id);
  }
  const missing = refs.filter((r) => !found.has(r.id));
  if (missing.length) throw new NotFoundError([...new Set(missing.map((r) => r.id))], missing[0]!.field);
}

const pairKey = (p: Pair) => `${p.customerId} ${p.customerGroupId}`;

function uniquePairs(pairs: readonly Pair[]): Pair[] {
  return [
    ...new Map(
      pairs.map((p) => [pairKey(p), { customerId: p.customerId, customerGroupId: p.customerGroupId }]),
    ).values(),
  ];
}

/** Writers that take row locks in one order wait for each other instead of deadlocking. */
const lockOrder = (pairs: readonly Pair[]) => uniquePairs(pairs).sort((a, b) => (pairKey(a) < pairKey(b) ? -1 : 1));

// Membership rows travel as one JSON parameter read by jsonb_to_recordset: one statement and one
// parameter whatever their number. On 5000 rows Prisma's createMany and OR filters spend about
// half a second in JavaScript; this takes a sixth of that.
const pairRows = (pairs: readonly object[]) =>
  Prisma.sql`jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) AS r(id text, "customerId" text, "customerGroupId" text)`;

/**
 * Inserts the pairs that are not live memberships yet and returns only those. ON CONFLICT DO
 * NOTHING (which the partial unique index answers) makes concurrent overlapping adds safe.
 */
async function insertMemberships(tx: Tx, pairs: Pair[], createdBy: string, now: Date): Promise<Pair[]> {
  if (pairs.length === 0) return [];
  const rows = lockOrder(pairs).map((p) => ({ id: newId('CustomerGroupCustomer'), ...p }));
  return tx.$queryRaw`INSERT INTO customer_group_customer (id, customer_id, customer_group_id, created_by, created_at, updated_at)
    SELECT r.id, r."customerId", r."customerGroupId", ${createdBy}, ${now}, ${now} FROM ${pairRows(rows)}
    ON CONFLICT DO NOTHING
    RETURNING customer_id AS "customerId", customer_group_id AS "customerGroupId"`;
}

/** Hard-deletes the live memberships among the pairs (as Medusa's removeCustomerFromGroup) and returns them. */
async function deleteMemberships(tx: Tx, pairs: Pair[]): Promise<(Pair & { id: string })[]> {
  if (pairs.length === 0) return [];
  return tx.$queryRaw`DELETE FROM customer_group_customer m USING ${pairRows(lockOrder(pairs))}
    WHERE m.deleted_at IS NULL AND m.customer_id = r."customerId" AND m.customer_group_id = r."customerGroupId"
    RETURNING m.id, m.customer_id AS "customerId", m.customer_group_id AS "customerGroupId"`;
}

/** The live memberships of the pairs. */
function findMemberships(tx: Tx, pairs: Pair[]): Promise<CustomerGroupCustomer[]> {
  return tx.$queryRaw`SELECT m.id, m.customer_id AS "customerId", m.customer_group_id AS "customerGroupId", m.created_by AS "createdBy",
      m.created_at AS "createdAt", m.updated_at AS "updatedAt", m.deleted_at AS "deletedAt"
    FROM customer_group_customer m JOIN ${pairRows(pairs)} ON m.customer_id = r."customerId" AND m.customer_group_id = r."customerGroupId"
    WHERE m.deleted_at IS NULL`;
}

/** One `customer_group.updated` per group whose members changed: `{ id, fields: ['customers'], added, removed }`. */
function membershipEvents(added: Pair[], removed: Pair[]): DomainEvent[] {
  const changes = new Map<string, { added: string[]; removed: string[] }>();
  const change = (groupId: string) =>
    changes.get(groupId) ?? changes.set(groupId, { added: [], removed: [] }).get(groupId)!;
  for (const p of added) change(p.customerGroupId).added.push(p.customerId);
  for (const p of removed) change(p.customerGroupId).removed.push(p.customerId);
  return [...changes].map(([id, { added, removed }]) => ({
    name: 'customer_group.updated',
    payload: { id, fields: ['customers'], added: added.sort(), removed: removed.sort() },
  }));
}

/** Checks every ID, then adds and removes memberships: locks, insert, delete, events. */
async function changeMemberships(tx: Tx, ctx: Context, refs: Ref[], add: Pair[], remove: Pair[]) {
  const createdBy = requireAdmin(ctx);
  await lockLive(tx, refs);
  const added = await insertMemberships(tx, add, createdBy, ctx.services.now());
  const removed = await deleteMemberships(tx, remove);
  await recordEvents(tx, membershipEvents(added, removed));
  return { added, removed };
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
      if (refs.length) await lockLive(tx, refs);
      const created = await tx.customerGroup.createManyAndReturn({ data: groups });
      await insertMemberships(tx, memberships, createdBy, ctx.services.now());
      await recordEvents(
        tx,
        created.map((g) => ({ name: 'customer_group.created' as const, payload: { id: g.id } })),
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

/**
 * Adds many customers to one group, or removes them, in one statement (atomic without a
 * transaction): it locks the live group FOR SHARE, changes the memberships only if every ID was
 * found, and records the group's `customer_group.updated` event if anything changed. Every ID
 * travels once, in one array parameter, so the statement is the same whatever the batch size; only
 * the unknown IDs come back. Any unknown ID is a NotFoundError, and nothing was written.
 *
 * Adding locks FOR SHARE (in ID order, as `lockLive`) only the customers that are not members yet,
 * so that a concurrent soft delete waits and cannot miss their new memberships. A customer who is
 * already a member is live in the same snapshot (deleting a customer ends its memberships in the
 * same transaction), and locking it would cost a row lock and its WAL record for nothing: adding
 * members who are there already is the common retry. Removing locks no customer: a concurrent soft
 * delete and this hard delete meet on the membership rows themselves.
 */
async function changeGroupMembers(
  ctx: Context,
  groupId: string,
  customerIds: string[],
  change: 'insert' | 'delete',
): Promise<void> {
  const createdBy = requireAdmin(ctx);
  checkBatchSize(customerIds, 'customerIds');
  const unique = [...new Set(customerIds)].sort();
  const [row] = await singleStatement(ctx, () =>
    change === 'insert'
      ? ctx.services.query<MembershipChange>(ADD_MEMBERS, [
          unique,
          groupId,
          newIdStem('CustomerGroupCustomer'),
          createdBy,
          ctx.services.now(),
          newId('OutboxEvent'),
          new Date(),
          groupEventKey(groupId),
        ])
      : ctx.services.query<MembershipChange>(REMOVE_MEMBERS, [
          unique,
          groupId,
          newId('OutboxEvent'),
          new Date(),
          groupEventKey(groupId),
        ]),
  );
  // NOT_FOUND as `lockLive` reports it: every unknown ID, naming the first argument item holding one.
  if (row!.group && row!.missing.length === 0) return;
  const missing = new Set(row!.missing);
  const unknown = [...new Set(customerIds.filter((id) => missing.has(id)))];
  if (!row!.group) throw new NotFoundError([groupId, ...unknown], 'groupId');
  throw new NotFoundError(unknown, `customerIds[${customerIds.indexOf(unknown[0]!)}]`);
}

interface MembershipChange {
  group: boolean;
  missing: string[];
}

/**
 * The statement's end: `e` records what membershipEvents records for one group if `w` wrote
 * anything, with the event's ID, time and key (`groupEventKey`) from the placeholders given, and
 * the key's next sequence number from `k` (as `recordEvents` takes it); then what the caller reads.
 */
const membershipEvent = (added: string, removed: string, eventId: string, eventAt: string, eventKey: string) => `
    k AS (INSERT INTO outbox_key (key, last_seq) SELECT ${eventKey}, 1 WHERE EXISTS (SELECT 1 FROM w)
      ON CONFLICT (key) DO UPDATE SET last_seq = outbox_key.last_seq + 1
      RETURNING last_seq),
    e AS (INSERT INTO outbox_event (id, name, payload, created_at, available_at, key, seq)
      SELECT ${eventId}, 'customer_group.updated',
        jsonb_build_object('id', $2::text, 'fields', jsonb_build_array('customers'), 'added', ${added}, 'removed', ${removed}),
        ${eventAt}, ${eventAt}, ${eventKey}, (SELECT last_seq FROM k)
      WHERE EXISTS (SELECT 1 FROM w))
  SELECT EXISTS (SELECT 1 FROM g) AS "group", ARRAY(SELECT customer_id FROM missing) AS missing`;

const written = '(SELECT jsonb_agg(customer_id ORDER BY customer_id) FROM w)';

// $1 the sorted unique customer IDs, $2 the group. Not prepared: a plan made for the array it runs
// with hashes `= ANY ($1)` and probes the indexes, where a generic plan (made once, blind to the
// array's length) scanned the memberships comparing each with every ID, three times slower. Only
// the customers who are not members yet are looked up (and locked).
// The new memberships' IDs are a stem ($3) and the customer's place among them in ID order in 6
// Crockford base-32 digits: ordered as the customers are, made here rather than sent as parameters.
const ADD_MEMBERS = `
  WITH g AS (SELECT id FROM customer_group WHERE id = $2 AND deleted_at IS NULL FOR SHARE),
    -- A subquery per ID (the unique index allows one live row), so that PostgreSQL probes the
    -- index once per ID rather than joining all of a large group's memberships.
    members AS (SELECT u.customer_id FROM unnest($1::text[]) AS u(customer_id)
      WHERE (SELECT true FROM customer_group_customer m
        WHERE m.customer_id = u.customer_id AND m.customer_group_id = $2 AND m.deleted_at IS NULL)),
    c AS (SELECT id FROM customer
      WHERE id = ANY (ARRAY(SELECT customer_id FROM unnest($1::text[]) AS u(customer_id) WHERE customer_id NOT IN (SELECT customer_id FROM members)))
        AND deleted_at IS NULL
      ORDER BY id FOR SHARE),
    missing AS (SELECT customer_id FROM unnest($1::text[]) AS u(customer_id)
      WHERE customer_id NOT IN (SELECT id FROM c) AND customer_id NOT IN (SELECT customer_id FROM members)),
    w AS (INSERT INTO customer_group_customer (id, customer_id, customer_group_id, created_by, created_at, updated_at)
      SELECT $3::text || (SELECT string_agg(substr('${ID_ALPHABET}', ((c.n >> (5 * k)) & 31)::int + 1, 1), '' ORDER BY k DESC)
          FROM generate_series(0, 5) k),
        c.id, (SELECT id FROM g), $4::text, $5::timestamptz, $5::timestamptz
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM c) c
      WHERE EXISTS (SELECT 1 FROM g) AND NOT EXISTS (SELECT 1 FROM missing)
      ORDER BY c.id
      ON CONFLICT DO NOTHING
      RETURNING customer_id),${membershipEvent(written, "'[]'::jsonb", '$6::text', '$7::timestamptz', '$8::text')}`;

const REMOVE_MEMBERS = `
  WITH g AS (SELECT id FROM customer_group WHERE id = $2 AND deleted_at IS NULL FOR SHARE),
    missing AS (SELECT customer_id FROM unnest($1::text[]) AS u(customer_id)
      WHERE customer_id NOT IN (SELECT id FROM customer WHERE id = ANY ($1::text[]) AND deleted_at IS NULL)),
    w AS (DELETE FROM customer_group_customer
      WHERE customer_group_id = (SELECT id FROM g) AND customer_id = ANY ($1::text[]) AND deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM missing)
      RETURNING customer_id),${membershipEvent("'[]'::jsonb", written, '$3::text', '$4::timestamptz', '$5::text')}`;

/** Medusa v1's addCustomers: idempotent, members already in the group stay as they are. */
export const addCustomersToGroup = (ctx: Context, groupId: string, customerIds: string[]) =>
  changeGroupMembers(ctx, groupId, customerIds, 'insert');

/** Medusa v1's removeCustomers: customers who are not members are no error. */
export const removeCustomersFromGroup = (ctx: Context, groupId: string, customerIds: string[]) =>
  changeGroupMembers(ctx, groupId, customerIds, 'delete');

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
  const refs = [
    customerRef(customerId, 'customerId'),
    ...add.map((id, i) => groupRef(id, `add[${i}]`)),
    ...remove.map((id, i) => groupRef(id, `remove[${i}]`)),
  ];
  const pair = (customerGroupId: string) => ({ customerId, customerGroupId });
  return transaction(ctx, async (tx) => {
    await changeMemberships(tx, ctx, refs, add.map(pair), remove.map(pair));
    return tx.customer.findUniqueOrThrow({ where: { id: customerId } });
  });
}

/** Medusa v2's addCustomerToGroup: returns the membership of every pair, including those that existed. */
export async function addCustomerToGroup(ctx: Context, pairs: Pair[]): Promise<CustomerGroupCustomer[]> {
  requireAdmin(ctx);
  checkBatchSize(pairs, 'memberships');
  const refs = pairs.flatMap((p, i) => [
    customerRef(p.customerId, `memberships[${i}].customerId`),
    groupRef(p.customerGroupId, `memberships[${i}].groupId`),
  ]);
  return transaction(ctx, async (tx) => {
    await changeMemberships(tx, ctx, refs, pairs, []);
    const unique = uniquePairs(pairs);
    const byPair = new Map((await findMemberships(tx, unique)).map((m) => [pairKey(m), m]));
    return unique.map((p) => byPair.get(pairKey(p))!);
  });
}

/** Medusa v2's removeCustomerFromGroup: returns the IDs of the memberships it removed. */
export async function removeCustomerFromGroup(ctx: Context, pairs: Pair[]): Promise<string[]> {
  requireAdmin(ctx);
  checkBatchSize(pairs, 'memberships');
  const refs = pairs.flatMap((p, i) => [
    customerRef(p.customerId, `memberships[${i}].customerId`),
    groupRef(p.customerGroupId, `memberships[${i}].groupId`),
  ]);
  return transaction(ctx, async (tx) => {
    const { removed } = await changeMemberships(tx, ctx, refs, [], pairs);
    return removed.map((m) => m.id).sort();
  });
}
