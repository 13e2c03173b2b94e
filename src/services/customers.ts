import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { UNIQUE, uniqueViolated } from '../db/errors.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import { type Customer, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import {
  atItem,
  checkBatchSize,
  checkSelection,
  MAX_BATCH,
  mergeMetadataInto,
  requireAll,
  type Selection,
} from './batch.js';
import { BatchTooLargeError, EmailTakenError, RestoreConflictError, ValidationError } from './errors.js';
import { checkPassword, metadataPatch, newMetadata, normalizeEmail, phoneFields, text } from './validation.js';

export interface CustomerFields {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  companyName?: string | null;
  phone?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface CreateCustomerInput extends CustomerFields {
  email: string;
  /** Given, the customer is a registered account; without, a guest. */
  password?: string | null;
}

function profile(ctx: Context, input: CustomerFields) {
  return {
    firstName: text(input.firstName, 'firstName'),
    lastName: text(input.lastName, 'lastName'),
    companyName: text(input.companyName, 'companyName'),
    ...phoneFields(input.phone, ctx.services.phoneRegion),
  };
}

export async function createCustomers(ctx: Context, inputs: CreateCustomerInput[]): Promise<Customer[]> {
  const createdBy = requireAdmin(ctx);
  checkBatchSize(inputs, 'input');
  const rows = inputs.map((input, i) =>
    atItem('input', i, () => {
      if (input.password != null) checkPassword(input.password);
      const metadata = newMetadata(input.metadata);
      return {
        email: normalizeEmail(input.email),
        ...profile(ctx, input),
        ...(metadata ? { metadata } : {}),
        hasAccount: input.password != null,
      };
    }),
  );
  // Accounts' emails are unique; say which item collides rather than only that one did.
  const accountEmails = rows.filter((row) => row.hasAccount).map((row) => row.email);
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (!row.hasAccount) return;
    if (seen.has(row.email)) throw new EmailTakenError(`input[${i}].email`);
    seen.add(row.email);
  });
  if (accountEmails.length) {
    const taken = new Set(
      (
        await ctx.db.customer.findMany({
          where: { email: { in: accountEmails }, hasAccount: true, deletedAt: null },
          select: { email: true },
        })
      ).map((c) => c.email),
    );
    const at = rows.findIndex((row) => row.hasAccount && taken.has(row.email));
    if (at >= 0) throw new EmailTakenError(`input[${at}].email`);
  }
  const hashes = await Promise.all(
    inputs.map((input) => (input.password != null ? ctx.services.passwords.hash(input.password) : null)),
  );
  const data = rows.map((row, i) => ({ id: newId('Customer'), ...row, passwordHash: hashes[i], createdBy }));
  try {
    return await transaction(ctx, async (tx) => {
      const customers = await tx.customer.createManyAndReturn({ data });
      await recordEvents(
        tx,
        actorOf(ctx),
        customers.map((c) => ({ name: 'customer.created' as const, payload: { id: c.id } })),
      );
      return customers.sort((a, b) => (a.id < b.id ? -1 : 1));
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.accountEmail) throw new EmailTakenError('input');
    throw error;
  }
}

/**
 * The live customers of the selection, chosen and locked (FOR UPDATE, in ID order) inside the
 * caller's transaction: a row soft-deleted or deleted since it matched is not touched (by IDs it
 * is NOT_FOUND), and none can change until the transaction ends. At most two statements.
 */
export async function selectCustomers(
  tx: Prisma.TransactionClient,
  selection: Selection<Prisma.CustomerWhereInput>,
): Promise<string[]> {
  checkSelection(selection.ids, selection.filter);
  const candidates = selection.ids
    ? [...new Set(selection.ids)]
    : (
        await tx.customer.findMany({
          where: selection.where!,
          select: { id: true },
          orderBy: { id: 'asc' },
          take: MAX_BATCH + 1,
        })
      ).map((c) => c.id);
  if (candidates.length > MAX_BATCH) throw new BatchTooLargeError(MAX_BATCH, 'filter');
  if (candidates.length === 0) return [];
  const locked = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id FROM customer WHERE id IN (${Prisma.join(candidates)}) AND deleted_at IS NULL ORDER BY id FOR UPDATE`;
  const found = locked.map((c) => c.id);
  if (selection.ids) requireAll(selection.ids, found, 'ids');
  return found;
}

export async function updateCustomers(
  ctx: Context,
  selection: Selection<Prisma.CustomerWhereInput>,
  input: CustomerFields,
): Promise<Customer[]> {
  requireAdmin(ctx);
  const data: Prisma.CustomerUpdateManyMutationInput = profile(ctx, input);
  if (input.email != null) data.email = normalizeEmail(input.email);
  const patch = metadataPatch(input.metadata, 'input.metadata');
  const fields = [
    ...Object.entries(data)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k),
    ...(patch ? ['metadata'] : []),
  ];
  try {
    return await transaction(ctx, async (tx) => {
      const ids = await selectCustomers(tx, selection);
      if (data.email !== undefined && ids.length > 1)
        throw new ValidationError('An email can be set on one customer at a time.', 'input.email');
      if (ids.length === 0) return [];
      if (data.email !== undefined) {
        // An admin's change is direct, and the new address is unproven: its verification, and any
        // verification or email-change token for an address, end with it.
        await tx.customer.updateMany({
          where: { id: { in: ids }, email: { not: data.email as string } },
          data: { emailVerifiedAt: null },
        });
        await tx.emailVerificationToken.deleteMany({ where: { customerId: { in: ids } } });
        await tx.customerToken.deleteMany({ where: { customerId: { in: ids }, purpose: 'email_change' } });
      }
      await tx.customer.updateMany({ where: { id: { in: ids } }, data: { ...data, updatedAt: ctx.services.now() } });
      if (patch) await mergeMetadataInto(tx, 'customer', ids, patch, 'input.metadata', ctx.services.now());
      await recordEvents(
        tx,
        actorOf(ctx),
        ids.map((id) => ({ name: 'customer.updated' as const, payload: { id, fields } })),
      );
      return tx.customer.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.accountEmail) throw new EmailTakenError('input.email');
    throw error;
  }
}

/** Hard delete: addresses and memberships go with the customer; orders keep their snapshot and lose the link. */
export async function deleteCustomers(
  ctx: Context,
  selection: Selection<Prisma.CustomerWhereInput>,
): Promise<string[]> {
  requireAdmin(ctx);
  return transaction(ctx, async (tx) => {
    const ids = await selectCustomers(tx, selection);
    if (ids.length === 0) return [];
    await tx.customer.deleteMany({ where: { id: { in: ids } } });
    await recordEvents(
      tx,
      actorOf(ctx),
      ids.map((id) => ({ name: 'customer.deleted' as const, payload: { id } })),
    );
    return ids;
  });
}

export interface SoftDeleted {
  ids: string[];
  addressIds: string[];
  membershipIds: string[];
}

/**
 * Marks the customers and their live addresses and memberships deleted with one timestamp, which
 * is how restore knows exactly what this soft delete took.
 */
export async function softDeleteCustomers(ctx: Context, ids: string[]): Promise<SoftDeleted> {
  requireAdmin(ctx);
  checkBatchSize(ids, 'ids');
  const now = ctx.services.now();
  return transaction(ctx, async (tx) => {
    const live = await tx.customer.updateManyAndReturn({
      where: { id: { in: ids }, deletedAt: null },
      data: { deletedAt: now },
      select: { id: true },
    });
    requireAll(
      ids,
      live.map((c) => c.id),
      'ids',
    );
    const addresses = await tx.address.updateManyAndReturn({
      where: { customerId: { in: ids }, deletedAt: null },
      data: { deletedAt: now },
      select: { id: true },
    });
    const memberships = await tx.customerGroupCustomer.updateManyAndReturn({
      where: { customerId: { in: ids }, deletedAt: null },
      data: { deletedAt: now },
      select: { id: true },
    });
    await recordEvents(
      tx,
      actorOf(ctx),
      ids.map((id) => ({ name: 'customer.deleted' as const, payload: { id, soft: true } })),
    );
    return { ids, addressIds: addresses.map((a) => a.id).sort(), membershipIds: memberships.map((m) => m.id).sort() };
  });
}

export async function restoreCustomers(ctx: Context, ids: string[]): Promise<SoftDeleted> {
  requireAdmin(ctx);
  checkBatchSize(ids, 'ids');
  try {
    return await transaction(ctx, async (tx) => {
      // Locked, so that two restores (or a restore and a hard delete) of one customer take turns.
      const deleted = await tx.$queryRaw<
        { id: string; deletedAt: Date }[]
      >`SELECT id, deleted_at AS "deletedAt" FROM customer
        WHERE id IN (${Prisma.join(ids)}) AND deleted_at IS NOT NULL ORDER BY id FOR UPDATE`;
      requireAll(
        ids,
        deleted.map((c) => c.id),
        'ids',
      );
      const takenWithIt = { OR: deleted.map((c) => ({ customerId: c.id, deletedAt: c.deletedAt })) };
      // The customers first: a live membership of a deleted customer is refused by the database.
      await tx.customer.updateMany({ where: { id: { in: ids } }, data: { deletedAt: null } });
      const addresses = await tx.address.updateManyAndReturn({
        where: takenWithIt,
        data: { deletedAt: null },
        select: { id: true },
      });
      const memberships = await tx.customerGroupCustomer.updateManyAndReturn({
        where: takenWithIt,
        data: { deletedAt: null },
        select: { id: true },
      });
      await recordEvents(
        tx,
        actorOf(ctx),
        ids.map((id) => ({ name: 'customer.updated' as const, payload: { id, fields: ['deleted_at'] } })),
      );
      return { ids, addressIds: addresses.map((a) => a.id).sort(), membershipIds: memberships.map((m) => m.id).sort() };
    });
  } catch (error) {
    // An account email re-used since the soft delete: name the customers that cannot come back.
    if (uniqueViolated(error) === UNIQUE.accountEmail) {
      const conflicts = await ctx.db.$queryRaw<{ id: string }[]>`SELECT c.id FROM customer c
        WHERE c.id IN (${Prisma.join(ids)}) AND c.has_account AND EXISTS (
          SELECT 1 FROM customer o WHERE o.email = c.email AND o.has_account AND o.id <> c.id AND (o.deleted_at IS NULL OR o.id IN (${Prisma.join(ids)})))
        ORDER BY c.id`;
      throw new RestoreConflictError(conflicts.length ? conflicts.map((c) => c.id) : [...new Set(ids)].sort());
    }
    throw error;
  }
}
