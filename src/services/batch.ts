import type { Context } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import { BatchTooLargeError, DomainError, EmptyFilterError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';

/** Most items (or IDs) one call may touch; above it the call is refused whole. */
export const MAX_BATCH = 5000;

/** The admin key's name, recorded as `created_by`. Services check it themselves too: defence in depth. */
export function adminName(ctx: Context): string {
  if (ctx.viewer.kind !== 'admin') throw new ForbiddenError();
  return ctx.viewer.keyName;
}

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
  if (ids) return checkBatchSize(ids, 'ids');
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
 * Merges a metadata patch into every selected row in one statement: keys set to null are removed,
 * the others set (top level only, as `mergeMetadata` does for one row).
 */
export async function mergeMetadataInto(tx: Prisma.TransactionClient, table: 'customer' | 'customer_address', ids: string[], patch: Prisma.InputJsonObject) {
  const removed = Object.keys(patch).filter((key) => patch[key] === null);
  const set = JSON.stringify(Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== null)));
  const minus = removed.length ? Prisma.sql` - ARRAY[${Prisma.join(removed)}]::text[]` : Prisma.empty;
  await tx.$executeRaw`UPDATE ${Prisma.raw(`"${table}"`)} SET metadata = (coalesce(metadata, '{}'::jsonb) || ${set}::jsonb)${minus} WHERE id IN (${Prisma.join(ids)})`;
}

