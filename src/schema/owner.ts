import { adminOrOwner } from '../auth.js';
import type { Context } from '../context.js';

/**
 * A type's owner rule, declared once: scope-auth checks every row of the type with `adminOrOwner`
 * on `column`, and the read planner (src/planner/) writes the same check in SQL for customers'
 * queries from the `readPlan.owner` it declares.
 */
export const ownedBy = <Column extends string>(column: Column) => ({
  authScopes: (row: { [K in Column]: string | null }, ctx: Context) => adminOrOwner(ctx, row[column]),
  extensions: { readPlan: { owner: column } },
});
