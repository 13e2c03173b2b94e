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
      throw new GraphQLError('The operation ran out of time; this change was rolled back.', { extensions: { code: 'TIMEOUT' } });
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
 * The request's interactive transaction. Right before COMMIT it checks the request's deadline: a
 * request the timeout has cut rolls back instead, and the TIMEOUT answer waits for that.
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
  });
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
