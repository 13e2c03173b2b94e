import type { Context } from '../context.js';
import { BatchTooLargeError, EmptyFilterError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';

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

/** `ids` or `filter`, exactly one; a filter must hold at least one condition. */
export function checkSelection(ids: readonly string[] | null | undefined, filter: object | null | undefined): void {
  if (ids && filter) throw new ValidationError('Give either ids or a filter, not both.', 'filter');
  if (ids) return checkBatchSize(ids, 'ids');
  const conditions = Object.values(filter ?? {}).filter((v) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0));
  if (conditions.length === 0) throw new EmptyFilterError();
}

/** Throws NOT_FOUND listing every requested ID that is not among `found`. */
export function requireAll(requested: readonly string[], found: Iterable<string>, field: string): void {
  const have = new Set(found);
  const missing = [...new Set(requested)].filter((id) => !have.has(id));
  if (missing.length) throw new NotFoundError(missing, field);
}
