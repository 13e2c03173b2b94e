// Arguments several root fields take alike, and how a root lookup finds its row by them, declared once.
import type { IdType } from '../lib/ids.js';
import { builder, LIVE } from './builder.js';
import { parseId } from './inputs.js';
import type { LookupSpec } from './keyset.js';

/** The ID of the one row a field is about. */
export const idArg = builder.args((t) => ({ id: t.id({ required: true }) }));

/** Soft-deleted rows too, on the root lists and lookups of the types that can be soft-deleted. */
export const withDeletedArg = builder.args((t) => ({ withDeleted: t.boolean({ defaultValue: false }) }));

type LookupArgs = { id: string | number; withDeleted?: boolean | null };

/**
 * A root lookup of `model` by `idArg`. Soft-deleted rows: `never` for a model that has none,
 * `hidden` always left out, `onRequest` left out unless `withDeletedArg` asks for them.
 */
export function lookupById(model: IdType, softDeleted: 'never' | 'hidden' | 'onRequest'): LookupSpec<LookupArgs> {
  return {
    model,
    where: (args) => {
      const id = parseId(String(args.id), model, 'id');
      const hideDeleted = softDeleted === 'hidden' || (softDeleted === 'onRequest' && !args.withDeleted);
      return hideDeleted ? { id, ...LIVE } : { id };
    },
  };
}
