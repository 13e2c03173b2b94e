import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { Address, Prisma } from '../generated/prisma/client.js';
import { Prisma as P } from '../generated/prisma/client.js';
import { isCountryCode } from '../lib/codes.js';
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
import { BatchTooLargeError, LimitExceededError, NotFoundError, ValidationError } from './errors.js';
import { metadataPatch, newMetadata, text } from './validation.js';

export const MAX_ADDRESSES_PER_CUSTOMER = 100;

export interface AddressInput {
  addressName?: string | null;
  company?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  address1?: string | null;
  address2?: string | null;
  city?: string | null;
  countryCode?: string | null;
  province?: string | null;
  postalCode?: string | null;
  phone?: string | null;
  metadata?: Record<string, unknown> | null;
  isDefaultShipping?: boolean | null;
  isDefaultBilling?: boolean | null;
}

/** The columns of a new address, or of an update without its metadata (`mergeMetadataInto` merges that). */
function addressData(input: AddressInput) {
  const countryCode = text(input.countryCode, 'countryCode', 2)?.toLowerCase();
  if (countryCode && !isCountryCode(countryCode)) {
    throw new ValidationError('Use a two-letter ISO 3166-1 country code.', 'countryCode');
  }
  const metadata = newMetadata(input.metadata);
  return {
    addressName: text(input.addressName, 'addressName'),
    company: text(input.company, 'company'),
    firstName: text(input.firstName, 'firstName'),
    lastName: text(input.lastName, 'lastName'),
    address1: text(input.address1, 'address1'),
    address2: text(input.address2, 'address2'),
    city: text(input.city, 'city'),
    countryCode,
    province: text(input.province, 'province'),
    postalCode: text(input.postalCode, 'postalCode', 20),
    phone: text(input.phone, 'phone', 50),
    ...(metadata ? { metadata } : {}),
    ...(input.isDefaultShipping != null ? { isDefaultShipping: input.isDefaultShipping } : {}),
    ...(input.isDefaultBilling != null ? { isDefaultBilling: input.isDefaultBilling } : {}),
  };
}

/** Serializes address writes of one customer: the count cap and the default swap cannot race. */
async function lockCustomer(tx: Prisma.TransactionClient, customerId: string): Promise<void> {
  const rows = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id FROM customer WHERE id = ${customerId} AND deleted_at IS NULL FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError([customerId], 'customerId');
}

/** A new default takes over: the previous default of that kind is unset in the same transaction. */
async function releaseDefaults(tx: Prisma.TransactionClient, customerId: string, input: AddressInput, keepId?: string) {
  const others = { customerId, deletedAt: null, ...(keepId ? { id: { not: keepId } } : {}) };
  if (input.isDefaultShipping)
    await tx.address.updateMany({ where: { ...others, isDefaultShipping: true }, data: { isDefaultShipping: false } });
  if (input.isDefaultBilling)
    await tx.address.updateMany({ where: { ...others, isDefaultBilling: true }, data: { isDefaultBilling: false } });
}

export async function addAddress(ctx: Context, customerId: string, input: AddressInput): Promise<Address> {
  const data = addressData(input);
  return transaction(ctx, async (tx) => {
    await lockCustomer(tx, customerId);
    const count = await tx.address.count({ where: { customerId, deletedAt: null } });
    if (count >= MAX_ADDRESSES_PER_CUSTOMER) {
      throw new LimitExceededError(`A customer can have at most ${MAX_ADDRESSES_PER_CUSTOMER} addresses.`);
    }
    await releaseDefaults(tx, customerId, input);
    const address = await tx.address.create({ data: { id: newId('Address'), customerId, ...data } });
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer_address.created', payload: { id: address.id, customer_id: customerId } },
    ]);
    return address;
  });
}

export async function updateAddress(
  ctx: Context,
  customerId: string,
  addressId: string,
  input: AddressInput,
): Promise<Address> {
  const data = addressData({ ...input, metadata: undefined });
  const patch = metadataPatch(input.metadata);
  return transaction(ctx, async (tx) => {
    await lockCustomer(tx, customerId);
    const current = await tx.address.findFirst({ where: { id: addressId, customerId, deletedAt: null } });
    if (!current) throw new NotFoundError([addressId], 'id');
    await releaseDefaults(tx, customerId, input, addressId);
    if (patch) await mergeMetadataInto(tx, 'customer_address', [addressId], patch, 'metadata', ctx.services.now());
    const address = await tx.address.update({ where: { id: addressId }, data });
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer_address.updated', payload: { id: address.id, customer_id: customerId } },
    ]);
    return address;
  });
}

/** Deleting a default address promotes no other address: the customer chooses a new default. */
export async function deleteAddress(ctx: Context, customerId: string, addressId: string): Promise<Address> {
  return transaction(ctx, async (tx) => {
    await lockCustomer(tx, customerId);
    const current = await tx.address.findFirst({ where: { id: addressId, customerId, deletedAt: null } });
    if (!current) throw new NotFoundError([addressId], 'id');
    await tx.address.delete({ where: { id: addressId } });
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer_address.deleted', payload: { id: addressId, customer_id: customerId } },
    ]);
    return current;
  });
}

// Admin batch operations. Each is one transaction of a constant number of statements.

/** Locks the customers' rows (one statement), so caps and default swaps cannot race. */
async function lockCustomers(tx: Prisma.TransactionClient, customerIds: string[]): Promise<string[]> {
  const rows = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id FROM customer WHERE id IN (${P.join(customerIds)}) AND deleted_at IS NULL ORDER BY id FOR UPDATE`;
  return rows.map((r) => r.id);
}

async function releaseDefaultsOf(
  tx: Prisma.TransactionClient,
  kind: 'isDefaultShipping' | 'isDefaultBilling',
  customerIds: string[],
  keep: string[] = [],
) {
  if (customerIds.length === 0) return;
  await tx.address.updateMany({
    where: {
      customerId: { in: customerIds },
      deletedAt: null,
      [kind]: true,
      ...(keep.length ? { id: { notIn: keep } } : {}),
    },
    data: { [kind]: false },
  });
}

export interface CreateAddressInput extends AddressInput {
  customerId: string;
}

export async function addAddresses(ctx: Context, inputs: CreateAddressInput[]): Promise<Address[]> {
  requireAdmin(ctx);
  checkBatchSize(inputs, 'input');
  const rows = inputs.map((input, i) =>
    atItem('input', i, () => ({ id: newId('Address'), customerId: input.customerId, ...addressData(input) })),
  );
  for (const kind of ['isDefaultShipping', 'isDefaultBilling'] as const) {
    const seen = new Set<string>();
    rows.forEach((row, i) => {
      if (!row[kind]) return;
      if (seen.has(row.customerId))
        throw new ValidationError('One default of each kind per customer.', `input[${i}].${kind}`);
      seen.add(row.customerId);
    });
  }
  const customerIds = [...new Set(rows.map((r) => r.customerId))];
  return transaction(ctx, async (tx) => {
    requireAll(customerIds, await lockCustomers(tx, customerIds), 'input.customerId');
    const counts = await tx.address.groupBy({
      by: ['customerId'],
      where: { customerId: { in: customerIds }, deletedAt: null },
      _count: { _all: true },
    });
    const adding = new Map<string, number>();
    for (const row of rows) adding.set(row.customerId, (adding.get(row.customerId) ?? 0) + 1);
    const over =
      counts.find((c) => c._count._all + (adding.get(c.customerId) ?? 0) > MAX_ADDRESSES_PER_CUSTOMER) ??
      [...adding].find(([, n]) => n > MAX_ADDRESSES_PER_CUSTOMER);
    if (over)
      throw new LimitExceededError(`A customer can have at most ${MAX_ADDRESSES_PER_CUSTOMER} addresses.`, 'input');
    await releaseDefaultsOf(
      tx,
      'isDefaultShipping',
      rows.filter((r) => r.isDefaultShipping).map((r) => r.customerId),
    );
    await releaseDefaultsOf(
      tx,
      'isDefaultBilling',
      rows.filter((r) => r.isDefaultBilling).map((r) => r.customerId),
    );
    const created = await tx.address.createManyAndReturn({ data: rows });
    await recordEvents(
      tx,
      actorOf(ctx),
      created.map((a) => ({
        name: 'customer_address.created' as const,
        payload: { id: a.id, customer_id: a.customerId },
      })),
    );
    return created.sort((a, b) => (a.id < b.id ? -1 : 1));
  });
}

/**
 * The live addresses of the selection, chosen and locked inside the caller's transaction: their
 * customers first (FOR UPDATE, the order every address writer takes), then the addresses, re-checked
 * live. An address soft-deleted or deleted since it matched is not touched (by IDs it is NOT_FOUND).
 * Three statements.
 */
async function selectAddresses(tx: Prisma.TransactionClient, selection: Selection<Prisma.AddressWhereInput>) {
  checkSelection(selection.ids, selection.filter);
  const where = selection.ids ? { id: { in: [...selection.ids] }, deletedAt: null } : selection.where!;
  const candidates = await tx.address.findMany({
    where,
    select: { id: true, customerId: true },
    orderBy: { id: 'asc' },
    take: MAX_BATCH + 1,
  });
  if (candidates.length > MAX_BATCH) throw new BatchTooLargeError(MAX_BATCH, 'filter');
  let found: { id: string; customerId: string }[] = [];
  if (candidates.length) {
    await lockCustomers(tx, [...new Set(candidates.map((a) => a.customerId))].sort());
    found = await tx.$queryRaw`SELECT id, customer_id AS "customerId" FROM customer_address
      WHERE id IN (${P.join(candidates.map((a) => a.id))}) AND deleted_at IS NULL ORDER BY id FOR UPDATE`;
  }
  if (selection.ids)
    requireAll(
      selection.ids,
      found.map((a) => a.id),
      'ids',
    );
  return found;
}

export async function updateAddresses(
  ctx: Context,
  selection: Selection<Prisma.AddressWhereInput>,
  input: AddressInput,
): Promise<Address[]> {
  requireAdmin(ctx);
  const { metadata: _ignored, ...data } = addressData({ ...input, metadata: undefined });
  const patch = metadataPatch(input.metadata, 'input.metadata');
  return transaction(ctx, async (tx) => {
    const targets = await selectAddresses(tx, selection);
    const ids = targets.map((a) => a.id);
    const customerIds = [...new Set(targets.map((a) => a.customerId))];
    if ((input.isDefaultShipping || input.isDefaultBilling) && customerIds.length < targets.length) {
      throw new ValidationError(
        'Only one address per customer can become its default.',
        input.isDefaultShipping ? 'input.isDefaultShipping' : 'input.isDefaultBilling',
      );
    }
    if (ids.length === 0) return [];
    if (input.isDefaultShipping) await releaseDefaultsOf(tx, 'isDefaultShipping', customerIds, ids);
    if (input.isDefaultBilling) await releaseDefaultsOf(tx, 'isDefaultBilling', customerIds, ids);
    await tx.address.updateMany({ where: { id: { in: ids } }, data: { ...data, updatedAt: ctx.services.now() } });
    if (patch) await mergeMetadataInto(tx, 'customer_address', ids, patch, 'input.metadata', ctx.services.now());
    await recordEvents(
      tx,
      actorOf(ctx),
      targets.map((a) => ({
        name: 'customer_address.updated' as const,
        payload: { id: a.id, customer_id: a.customerId },
      })),
    );
    return tx.address.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  });
}

export async function deleteAddresses(ctx: Context, selection: Selection<Prisma.AddressWhereInput>): Promise<string[]> {
  requireAdmin(ctx);
  return transaction(ctx, async (tx) => {
    const targets = await selectAddresses(tx, selection);
    if (targets.length === 0) return [];
    await tx.address.deleteMany({ where: { id: { in: targets.map((a) => a.id) } } });
    await recordEvents(
      tx,
      actorOf(ctx),
      targets.map((a) => ({
        name: 'customer_address.deleted' as const,
        payload: { id: a.id, customer_id: a.customerId },
      })),
    );
    return targets.map((a) => a.id).sort();
  });
}
