import { timingSafeEqual } from 'node:crypto';
import type { Services, Viewer } from './context.js';
import { sha256 } from './lib/tokens.js';

export const SESSION_TOKEN_PREFIX = 'cgs';

export interface AdminKey {
  name: string;
  key: string;
}

/** Only the keys' hashes stay in memory; a presented key is hashed and compared with every one. */
export function adminKeyMatcher(keys: AdminKey[]) {
  const hashes = keys.map(({ name, key }) => ({ name, hash: Buffer.from(sha256(key), 'hex') }));
  return (presented: string): string | null => {
    const candidate = Buffer.from(sha256(presented), 'hex');
    let match: string | null = null;
    for (const { name, hash } of hashes) {
      if (timingSafeEqual(candidate, hash) && match === null) match = name;
    }
    return match;
  };
}

const ANONYMOUS: Viewer = { kind: 'anonymous' };

/**
 * `Authorization: Bearer <token>`: an admin API key, or a customer session token from `login`.
 * A missing, unknown or expired token is simply anonymous.
 */
export async function resolveViewer(
  authorization: string | null,
  services: Services,
  matchAdminKey: (key: string) => string | null,
): Promise<Viewer> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return ANONYMOUS;
  const admin = matchAdminKey(token);
  if (admin) return { kind: 'admin', keyName: admin };
  if (!token.startsWith(`${SESSION_TOKEN_PREFIX}_`)) return ANONYMOUS;
  const session = await services.db.customerSession.findUnique({
    where: { tokenHash: sha256(token) },
    select: { id: true, customerId: true, expiresAt: true, customer: { select: { deletedAt: true, hasAccount: true } } },
  });
  if (!session || session.expiresAt <= services.now() || session.customer.deletedAt || !session.customer.hasAccount) {
    return ANONYMOUS;
  }
  return { kind: 'customer', customerId: session.customerId, sessionId: session.id };
}
