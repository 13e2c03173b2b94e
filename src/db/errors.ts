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

// Driver and server signs that the database cannot be reached or is overwhelmed, rather than that
// the request was wrong: connection errors (SQLSTATE class 08), shutdowns (57P0x), too many
// connections (53300), statement timeout (57014), Prisma's connectivity codes, socket errors.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '53300', '57014',
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024',
]);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Can't reach database server|Client has encountered a connection error|connection (is )?closed|PGlite is closed|Unable to start a transaction in the given time/i;
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      kind?: unknown;
      message?: unknown;
      originalCode?: unknown;
      cause?: unknown;
      originalError?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.originalCode === 'string' && UNAVAILABLE_CODES.has(e.originalCode)) return true;
    if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    if (e.kind === 'postgres' && typeof (e as { code?: string }).code === 'string' && (e as { code: string }).code.startsWith('08')) return true;
    // Prisma keeps the driver's error (with the SQLSTATE) under meta.driverAdapterError.
    current = e.originalError ?? e.cause ?? e.meta?.driverAdapterError;
  }
  return false;
}
