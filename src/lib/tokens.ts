import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe. */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Tokens are stored only as this digest, so a database leak does not leak live credentials. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
