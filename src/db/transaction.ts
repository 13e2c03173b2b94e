import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';

/**
 * What a request's timeout and its transactions agree on, so that a write is never both answered
 * TIMEOUT and committed. The timeout may cut a request only while none of its transactions has
 * committed or is committing; from then on no transaction of the request starts or commits.
 */
export class RequestDeadline {
  private expired = false;
  private committing = 0;
  private committed = false;
  private readonly open = new Set<Promise<unknown>>();
  /** When the request's time is up (performance.now()), or undefined without a request timeout. */
  private readonly endsAt: number | undefined;

  /** @param timeoutMs the request's timeout (REQUEST_TIMEOUT_MS), from now; 0: none. */
  constructor(timeoutMs = 0) {
    this.endsAt = timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
  }

  /** Milliseconds left before the request's timeout (at least 0), or undefined without one. */
  remainingMs(): number | undefined {
    return this.endsAt === undefined ? undefined : Math.max(0, this.endsAt - performance.now());
  }

  /**
   * The time is up. Returns whether the request may be answered TIMEOUT now: false if a write of
   * it has committed or is committing (the request then runs to its answer, which tells of that
   * write; later transactions of it still refuse to commit).
   */
  expire(): boolean {
    this.expired = true;
    return this.committing === 0 && !this.committed;
  }

  /** Resolves once every transaction of the request has ended (once expired, they roll back). */
  async settled(): Promise<void> {
    while (this.open.size) await Promise.allSettled([...this.open]);
  }

  /** @internal for `transaction` */
  refuseIfExpired(): void {
    if (this.expired) {
      throw new GraphQLError('The operation ran out of time; this change was rolled back.', {
        extensions: { code: 'TIMEOUT' },
      });
    }
  }

  /** @internal for `transaction`: the check and the mark are one synchronous step, so no timeout falls between them. */
  beginCommit(): void {
    this.refuseIfExpired();
    this.committing++;
  }

  /** @internal */
  endCommit(committed: boolean): void {
    this.committing--;
    if (committed) this.committed = true;
  }

  /** @internal */
  track(transaction: Promise<unknown>): void {
    this.open.add(transaction);
    void transaction.catch(() => {}).finally(() => this.open.delete(transaction));
  }
}

/**
 * How long an interactive transaction may run when the request has no timeout
 * (REQUEST_TIMEOUT_MS=0): well past what the largest batch allowed (5,000 items, a fixed number of
 * statements, each bounded by DB_STATEMENT_TIMEOUT_MS) takes on a busy machine, where Prisma's own
 * default of 5 s was not.
 */
export const UNBOUNDED_REQUEST_TRANSACTION_MS = 120_000;

/**
 * How long past the request's timeout its transaction may still run or wait to start. The request
 * timeout acts first (it answers TIMEOUT and the transaction rolls back at its COMMIT); Prisma's
 * transaction timeout is the backstop that ends a transaction stuck past it.
 */
const TRANSACTION_GRACE_MS = 1_000;

/**
 * Prisma's interactive transaction options for the request: one deadline, the request's. Prisma's
 * defaults (5 s to run, 2 s to start) knew nothing of REQUEST_TIMEOUT_MS, and expired a valid
 * 1,000-item batch on a busy machine into "Unexpected error.". Without a request timeout, the
 * client's own wait to start (the pool's connection wait) stays.
 */
export function transactionOptions(deadline: RequestDeadline): { timeout: number; maxWait?: number } {
  const remaining = deadline.remainingMs();
  if (remaining === undefined) return { timeout: UNBOUNDED_REQUEST_TRANSACTION_MS };
  return { timeout: remaining + TRANSACTION_GRACE_MS, maxWait: remaining + TRANSACTION_GRACE_MS };
}

/**
 * The request's interactive transaction, given the request's time (`transactionOptions`). Right
 * before COMMIT it checks the request's deadline: a request the timeout has cut rolls back instead,
 * and the TIMEOUT answer waits for that.
 */
export async function transaction<T>(ctx: Context, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  const deadline = ctx.deadline;
  deadline.refuseIfExpired();
  let committing = false;
  const run = ctx.db.$transaction(async (tx) => {
    const result = await fn(tx);
    deadline.beginCommit();
    committing = true;
    return result;
  }, transactionOptions(deadline));
  deadline.track(run);
  let committed = false;
  try {
    const result = await run;
    committed = true;
    return result;
  } finally {
    if (committing) deadline.endCommit(committed);
  }
}

/**
 * A write that is one statement, sent outside any transaction: PostgreSQL makes it atomic alone, so
 * it saves the round trips of BEGIN and COMMIT. Like `transaction`, it is refused once the request
 * has run out of time, and from the moment it is sent the request's timeout no longer cuts it: the
 * statement may commit, so the request is answered.
 */
export async function singleStatement<T>(ctx: Context, fn: (db: Context['db']) => Promise<T>): Promise<T> {
  const deadline = ctx.deadline;
  deadline.beginCommit();
  let committed = false;
  try {
    const run = fn(ctx.db);
    deadline.track(run);
    const result = await run;
    committed = true;
    return result;
  } finally {
    deadline.endCommit(committed);
  }
}
