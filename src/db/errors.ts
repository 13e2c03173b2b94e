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

/**
 * What a failed database call means for the client, when it is not the request's fault and not a
 * domain error: `TIMEOUT` (HTTP 504: the work ran out of time) or `SERVICE_UNAVAILABLE` (HTTP 503:
 * the database cannot serve now; the same request may well succeed shortly). Anything else is
 * unexpected (masked and logged). Every call that failed this way changed nothing: a statement that
 * fails is undone, and its transaction with it.
 */
export type DatabaseFailure = 'TIMEOUT' | 'SERVICE_UNAVAILABLE';

// PostgreSQL's SQLSTATEs, by code or by class (the first two characters).
const SQLSTATES: Record<string, DatabaseFailure> = {
  // query_canceled: the statement ran past statement_timeout (DB_STATEMENT_TIMEOUT_MS), or was cancelled.
  '57014': 'TIMEOUT',
  // lock_not_available: waited past lock_timeout for a row or table lock.
  '55P03': 'TIMEOUT',
  // idle_in_transaction_session_timeout: the server ended a transaction left idle too long (rolled back).
  '25P03': 'TIMEOUT',
  // serialization_failure, deadlock_detected: the transaction was rolled back; the same request may be retried.
  '40001': 'SERVICE_UNAVAILABLE',
  '40P01': 'SERVICE_UNAVAILABLE',
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting or recovering), idle_session_timeout.
  '57P01': 'SERVICE_UNAVAILABLE',
  '57P02': 'SERVICE_UNAVAILABLE',
  '57P03': 'SERVICE_UNAVAILABLE',
  '57P05': 'SERVICE_UNAVAILABLE',
};
const SQLSTATE_CLASSES: Record<string, DatabaseFailure> = {
  // connection_exception (08000, 08003 connection does not exist, 08006 connection failure, …).
  '08': 'SERVICE_UNAVAILABLE',
  // insufficient_resources: 53100 disk full, 53200 out of memory, 53300 too many connections, 53400.
  '53': 'SERVICE_UNAVAILABLE',
  // system_error: 58030 I/O error and the like, on the server's side.
  '58': 'SERVICE_UNAVAILABLE',
};

// Prisma's codes, driver adapters' error kinds and Node's socket errors.
const CODES: Record<string, DatabaseFailure> = {
  P1001: 'SERVICE_UNAVAILABLE', // cannot reach the database server
  P1002: 'SERVICE_UNAVAILABLE', // reached, but it timed out
  P1008: 'SERVICE_UNAVAILABLE', // socket timeout: the server stopped answering
  P1017: 'SERVICE_UNAVAILABLE', // the server closed the connection
  P2024: 'SERVICE_UNAVAILABLE', // no pooled connection within the wait
  P2034: 'SERVICE_UNAVAILABLE', // write conflict or deadlock (40001, 40P01): rolled back, retry
  P2037: 'SERVICE_UNAVAILABLE', // too many connections (53300)
  DatabaseNotReachable: 'SERVICE_UNAVAILABLE',
  ConnectionClosed: 'SERVICE_UNAVAILABLE',
  SocketTimeout: 'SERVICE_UNAVAILABLE',
  TooManyConnections: 'SERVICE_UNAVAILABLE',
  TransactionWriteConflict: 'SERVICE_UNAVAILABLE',
  ECONNREFUSED: 'SERVICE_UNAVAILABLE',
  ECONNRESET: 'SERVICE_UNAVAILABLE',
  ETIMEDOUT: 'SERVICE_UNAVAILABLE',
  EPIPE: 'SERVICE_UNAVAILABLE',
  ENOTFOUND: 'SERVICE_UNAVAILABLE',
  EAI_AGAIN: 'SERVICE_UNAVAILABLE',
  EHOSTUNREACH: 'SERVICE_UNAVAILABLE',
};

// Said only in messages: Prisma's P2028 ("Transaction API error") covers an interactive transaction
// that outlived its timeout (TIMEOUT) and one that could not start within maxWait (no connection
// free in time: SERVICE_UNAVAILABLE), but also misuse (a closed transaction used again), which
// stays unexpected; node-postgres' pool and PGlite say theirs in words.
const MESSAGES: [RegExp, DatabaseFailure][] = [
  [/cannot be executed on an expired transaction/, 'TIMEOUT'],
  [/Unable to start a transaction in the given time/, 'SERVICE_UNAVAILABLE'],
  [
    /Connection terminated|timeout exceeded when trying to connect|Can't reach database server|Client has encountered a connection error|connection (is )?closed|PGlite is closed/i,
    'SERVICE_UNAVAILABLE',
  ],
];

/**
 * Whether `error` (or what it wraps: Prisma keeps the driver's error under
 * meta.driverAdapterError, node-postgres and graphql-js under cause / originalError) is a
 * `DatabaseFailure`, and which. Domain errors (a unique violation a service maps) are not.
 */
export function databaseFailure(error: unknown): DatabaseFailure | undefined {
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
    for (const code of [e.code, e.originalCode, e.kind]) {
      if (typeof code !== 'string') continue;
      const failure = Object.hasOwn(CODES, code)
        ? CODES[code]
        : /^[0-9A-Z]{5}$/.test(code)
          ? (SQLSTATES[code] ?? SQLSTATE_CLASSES[code.slice(0, 2)])
          : undefined;
      if (failure) return failure;
    }
    if (typeof e.message === 'string') {
      const match = MESSAGES.find(([pattern]) => pattern.test(e.message as string));
      if (match) return match[1];
    }
    current = e.originalError ?? e.cause ?? e.meta?.driverAdapterError;
  }
  return undefined;
}

/** The database cannot serve now (down, restarting, out of connections): retry, and `/ready` says so. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseFailure(error) === 'SERVICE_UNAVAILABLE';
}
