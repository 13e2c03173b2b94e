import { createHash } from 'node:crypto';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { QueryClient } from '../db/index.js';

/** rate_limit.key is VARCHAR(255) and PostgreSQL text holds no NUL: long or odd keys are stored hashed. */
function storeKey(key: string): string {
  return key.length <= 200 && !key.includes('\u0000')
    ? key
    : `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * A counter per key in the database, so every instance behind a load balancer sees the same
 * counts. `points` hits within `seconds`, then the key is blocked for `seconds`.
 */
export class Throttle {
  private readonly limiter: RateLimiterPostgres;

  /** The `rate_limit.key` of `key`'s counter (rate-limiter-flexible's `<prefix>:<key>`). */
  storedKey(key: string): string {
    return `${this.name}:${storeKey(key)}`;
  }

  constructor(
    client: QueryClient,
    private readonly name: string,
    readonly points: number,
    seconds: number,
  ) {
    this.limiter = new RateLimiterPostgres({
      storeClient: client,
      storeType: 'client',
      tableName: 'rate_limit',
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: name,
      points,
      duration: seconds,
      blockDuration: seconds,
    });
  }

  /** Milliseconds until `key` may try again, or 0 when it is not blocked. Does not count as a hit. */
  async retryAfter(key: string): Promise<number> {
    const res = await this.limiter.get(storeKey(key));
    return res && res.consumedPoints >= this.points ? Math.max(res.msBeforeNext, 1) : 0;
  }

  /**
   * Counts a hit. Milliseconds until the key may try again if this hit went over the limit, else 0.
   * One upsert that increments and returns the count, so of hits arriving at once exactly `points`
   * get 0, however many there are.
   */
  async hit(key: string): Promise<number> {
    try {
      await this.limiter.consume(storeKey(key));
      return 0;
    } catch (result) {
      if (result instanceof RateLimiterRes) return Math.max(result.msBeforeNext, 1);
      throw result;
    }
  }

  /** Gives back one hit, e.g. for an attempt that turned out not to be a failure. */
  async refund(key: string): Promise<void> {
    await this.limiter.reward(storeKey(key), 1);
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(storeKey(key));
  }
}
