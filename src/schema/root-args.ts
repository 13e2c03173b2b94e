// Arguments several root fields take alike, declared once.
import { builder } from './builder.js';

/** The ID of the one row a field is about. */
export const idArg = builder.args((t) => ({ id: t.id({ required: true }) }));

/** Soft-deleted rows too, on the root lists and lookups of the types that can be soft-deleted. */
export const withDeletedArg = builder.args((t) => ({ withDeleted: t.boolean({ defaultValue: false }) }));
