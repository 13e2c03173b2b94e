import type { Context } from '../context.js';
import type { Address, Prisma } from '../generated/prisma/client.js';
import { recordEvents } from '../events/outbox.js';
import { newId } from '../lib/ids.js';
import { LimitExceededError, NotFoundError, ValidationError } from './errors.js';
import { mergeMetadata, text } from './validation.js';

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

function addressData(input: AddressInput, currentMetadata: unknown = {}) {
  const countryCode = text(input.countryCode, 'countryCode', 2)?.toLowerCase();
  if (countryCode && !/^[a-z]{2}$/.test(countryCode)) {
    throw new ValidationError('Use a two-letter ISO 3166-1 country code.', 'countryCode');
  }
  const metadata = mergeMetadata(currentMetadata, input.metadata);
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
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM customer WHERE id = ${customerId} AND deleted_at IS NULL FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError([customerId], 'customerId');
}

/** A new default takes over: the previous default of that kind is unset in the same transaction. */
async function releaseDefaults(tx: Prisma.TransactionClient, customerId: string, input: AddressInput, keepId?: string) {
  const others = { customerId, deletedAt: null, ...(keepId ? { id: { not: keepId } } : {}) };
  if (input.isDefaultShipping) await tx.address.updateMany({ where: { ...others, isDefaultShipping: true }, data: { isDefaultShipping: false } });
  if (input.isDefaultBilling) await tx.address.updateMany({ where: { ...others, isDefaultBilling: true }, data: { isDefaultBilling: false } });
}

export async function addAddress(ctx: Context, customerId: string, input: AddressInput): Promise<Address> {
  const data = addressData(input);
  return ctx.db.$transaction(async (tx) => {
    await lockCustomer(tx, customerId);
    const count = await tx.address.count({ where: { customerId, deletedAt: null } });
    if (count >= MAX_ADDRESSES_PER_CUSTOMER) {
      throw new LimitExceededError(`A customer can have at most ${MAX_ADDRESSES_PER_CUSTOMER} addresses.`);
    }
    await releaseDefaults(tx, customerId, input);
    const address = await tx.address.create({ data: { id: newId('Address'), customerId, ...data } });
    await recordEvents(tx, [{ name: 'customer_address.created', payload: { id: address.id, customer_id: customerId } }]);
    return address;
  });
}

export async function updateAddress(ctx: Context, customerId: string, addressId: string, input: AddressInput): Promise<Address> {
  return ctx.db.$transaction(async (tx) => {
    await lockCustomer(tx, customerId);
    const current = await tx.address.findFirst({ where: { id: addressId, customerId, deletedAt: null } });
    if (!current) throw new NotFoundError([addressId], 'id');
    const data = addressData(input, current.metadata);
    await releaseDefaults(tx, customerId, input, addressId);
    const address = await tx.address.update({ where: { id: addressId }, data });
    await recordEvents(tx, [{ name: 'customer_address.updated', payload: { id: address.id, customer_id: customerId } }]);
    return address;
  });
}

/** Deleting a default address promotes no other address: the customer chooses a new default. */
export async function deleteAddress(ctx: Context, customerId: string, addressId: string): Promise<Address> {
  return ctx.db.$transaction(async (tx) => {
    await lockCustomer(tx, customerId);
    const current = await tx.address.findFirst({ where: { id: addressId, customerId, deletedAt: null } });
    if (!current) throw new NotFoundError([addressId], 'id');
    await tx.address.delete({ where: { id: addressId } });
    await recordEvents(tx, [{ name: 'customer_address.deleted', payload: { id: addressId, customer_id: customerId } }]);
    return current;
  });
}
