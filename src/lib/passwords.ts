import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

export const MIN_PASSWORD_BYTES = 8;
/** bcrypt reads at most 72 bytes; anything longer would be silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

export type PasswordProblem = 'too_short' | 'too_long' | null;

export function passwordProblem(password: string): PasswordProblem {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > MAX_PASSWORD_BYTES) return 'too_long';
  if (bytes < MIN_PASSWORD_BYTES) return 'too_short';
  return null;
}

/** A counting semaphore: at most `limit` bcrypt operations run at once. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * bcrypt on libuv's thread pool (never on the event loop), with a cap on concurrent hashes so a
 * login burst queues instead of starving every other request of the pool.
 */
export class Passwords {
  private readonly gate: Gate;
  /** Compared against when an email is unknown, so that answer takes as long as a wrong password. */
  private readonly dummyHash: Promise<string>;

  constructor(
    readonly cost: number,
    concurrency: number,
  ) {
    this.gate = new Gate(concurrency);
    this.dummyHash = bcrypt.hash(randomBytes(16).toString('hex'), cost);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => bcrypt.hash(password, this.cost));
  }

  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const against = hash ?? (await this.dummyHash);
    const matches = await this.gate.run(() => bcrypt.compare(password, against));
    return matches && hash != null;
  }
}
