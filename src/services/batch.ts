import { Prisma } from '../generated/prisma/client.js';
import { BatchTooLargeError, DomainError, EmptyFilterError, NotFoundError, ValidationError } from './errors.js';
import { METADATA_MAX_BYTES, metadataTooLarge } from './validation.js';

/** Most items (or IDs) one call may touch; above it the call is refused whole. */
export const MAX_BATCH = 5000;

export function checkBatchSize(items: readonly unknown[], field: string): void {
  if (items.length > MAX_BATCH) throw new BatchTooLargeError(MAX_BATCH, field);
  if (items.length === 0) throw new ValidationError('Give at least one item.', field);
}

/** Whether a filter value constrains anything: blank strings, empty lists and empty ranges do not. */
function isCondition(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Date) return true;
  if (typeof value === 'object') return Object.values(value).some(isCondition);
  return true;
}

/**
 * `ids` or `filter`, exactly one; a filter must hold at least one real condition, or a batch
 * update or delete would select every row.
 */
export function checkSelection(ids: readonly string[] | null | undefined, filter: object | null | undefined): void {
  if (ids && filter) throw new ValidationError('Give either ids or a filter, not both.', 'filter');
  if (ids) {
    checkBatchSize(ids, 'ids');
    return;
  }
  if (!isCondition(filter)) throw new EmptyFilterError();
}

/** Throws NOT_FOUND listing every requested ID that is not among `found`. */
export function requireAll(requested: readonly string[], found: Iterable<string>, field: string): void {
  const have = new Set(found);
  const missing = [...new Set(requested)].filter((id) => !have.has(id));
  if (missing.length) throw new NotFoundError(missing, field);
}

/** Which rows a batch call acts on: IDs, or a filter (its Prisma form, and the raw input to check). */
export interface Selection<Where> {
  ids?: readonly string[] | null;
  filter?: object | null;
  where?: Where;
}

/** Runs `check`, naming `field` as any validation error's field (`newEmail` rather than `email`). */
export function atField<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof DomainError) Object.defineProperty(error, 'field', { value: field });
    throw error;
  }
}

/** Runs `check` for item `index`, naming the item in any validation error's field: `input[3].email`. */
export function atItem<T>(field: string, index: number, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof DomainError) {
      const at = `${field}[${index}]${error.field ? `.${error.field}` : ''}`;
      Object.defineProperty(error, 'field', { value: at });
    }
    throw error;
  }
}

/**
 * Medusa's metadata update, in the database inside the caller's transaction so that concurrent
 * patches of one row cannot lose each other's keys: keys set to null are removed, the others set
 * (top level only; jsonb_strip_nulls would also strip nested nulls). One statement however many
 * rows. The merged result of every row must fit, or ValidationError naming `field` is thrown and
 * the caller's transaction writes nothing.
 */
export async function mergeMetadataInto(
  tx: Prisma.TransactionClient,
  table: 'customer' | 'customer_address' | 'customer_group',
  ids: string[],
  patch: Prisma.InputJsonObject,
  field: string,
  now: Date,
): Promise<void> {
  if (ids.length === 0) return;
  const removed = Object.keys(patch).filter((key) => patch[key] === null);
  const set = JSON.stringify(Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== null)));
  const minus = removed.length ? Prisma.sql` - ARRAY[${Prisma.join(removed)}]::text[]` : Prisma.empty;
  const oversize = await tx.$queryRaw<{ id: string }[]>`WITH merged AS (
      UPDATE ${Prisma.raw(`"${table}"`)} SET metadata = (coalesce(metadata, '{}'::jsonb) || ${set}::jsonb)${minus}, updated_at = ${now}
      WHERE id IN (${Prisma.join(ids)})
      RETURNING id, octet_length(metadata::text) AS bytes)
    SELECT id FROM merged WHERE bytes > ${METADATA_MAX_BYTES} LIMIT 1`;
  if (oversize.length) throw metadataTooLarge(field);
}
