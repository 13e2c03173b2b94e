import { Prisma } from '../generated/prisma/client.js';

// Database errors, read in one place: services ask which constraint a failed write broke and map
// it to their own domain error. The names are the indexes' names in prisma/schema.prisma (`map:`).

/** The unique indexes that services turn into domain errors. */
export const UNIQUE = {
  accountEmail: 'customer_email_account_unique',
  groupName: 'customer_group_name_unique',
} as const;

const PG_UNIQUE_VIOLATION = '23505';

/**
 * The name of the unique constraint that `error` reports as violated, or undefined when it is not
 * a unique violation (or the name cannot be told).
 *
 * Prisma's P2002 says it in different places depending on the driver: `meta.target` (a string)
 * or `meta.constraint` from the native engines; with driver adapters the driver's error under
 * `meta.driverAdapterError.cause`: `constraint.index` from @prisma/adapter-pg, and the
 * PostgreSQL message (`... violates unique constraint "name"`) from pglite-prisma-adapter, which
 * gives only the columns. A raw `pg` error (SQLSTATE 23505) carries it as `constraint`.
 */
export function uniqueViolated(error: unknown): string | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code !== 'P2002') return undefined;
    const meta = (error.meta ?? {}) as {
      target?: unknown;
      constraint?: unknown;
      driverAdapterError?: { cause?: { constraint?: { index?: unknown }; originalMessage?: unknown } };
    };
    const cause = meta.driverAdapterError?.cause;
    return (
      named(meta.target) ??
      named(meta.constraint) ??
      named(cause?.constraint?.index) ??
      quoted(cause?.originalMessage) ??
      /Unique constraint failed on the constraint: `([^`]+)`/.exec(error.message)?.[1]
    );
  }
  if (isPgError(error) && error.code === PG_UNIQUE_VIOLATION) return named(error.constraint) ?? quoted(error.message);
  return undefined;
}

function named(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function quoted(message: unknown): string | undefined {
  return typeof message === 'string' ? /unique constraint "([^"]+)"/.exec(message)?.[1] : undefined;
}

function isPgError(error: unknown): error is { code: unknown; constraint?: unknown; message?: unknown } {
  return typeof error === 'object' && error !== null && 'code' in error;
}
