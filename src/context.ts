import type { PrismaClient } from './generated/prisma/client.js';

/** Who is asking. Scopes (admin, customer-self) are decided from this alone. */
export type Viewer = { kind: 'anonymous' };

export interface Context {
  readonly viewer: Viewer;
  readonly db: PrismaClient;
  readonly requestId: string;
}
