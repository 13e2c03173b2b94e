// Who may see and do what. The credential a request carries (a bearer token: an admin key or a
// customer session), the viewer it makes, and every rule that follows from the viewer: the
// scopes Pothos checks per field, the owner rule per row, and the checks services repeat.
import { timingSafeEqual } from 'node:crypto';
import type { Context, Services, Viewer } from './context.js';
import type { Actor } from './events/outbox.js';
import { sha256 } from './lib/tokens.js';
import { ForbiddenError, invalidTokenRequestError, UnauthenticatedError } from './services/errors.js';

export const SESSION_TOKEN_PREFIX = 'cgs';

export interface AdminKey {
  name: string;
  key: string;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(authorization: string | null): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}

/**
 * Compares a presented key with the keys' SHA-256 hashes, each in constant time. The matcher
 * keeps only the hashes; the keys themselves stay in the settings it was built from.
 */
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
 * The credentials of requests, each request's token hashed once however many steps ask (the body
 * limit before parsing, the context after it).
 */
export function requestCredentials(adminKeys: AdminKey[], anonymousKeys: string[] = []) {
  const matchAdminKey = adminKeyMatcher(adminKeys);
  // Keys that unlock something for a request that is otherwise anonymous (FEDERATION_SDL_KEY):
  // known tokens, not invalid ones.
  const matchAnonymousKey = adminKeyMatcher(anonymousKeys.map((key) => ({ name: 'anonymous', key })));
  const admins = new WeakMap<Request, string | null>();

  /** The name of the admin key the request carries, or null. */
  function adminKeyName(request: Request): string | null {
    let name = admins.get(request);
    if (name === undefined) {
      const token = bearerToken(request.headers.get('authorization'));
      name = token === undefined ? null : matchAdminKey(token);
      admins.set(request, name);
    }
    return name;
  }

  /**
   * An admin key, or a customer session token from `login`; no token (or FEDERATION_SDL_KEY) is
   * anonymous. A token that identifies no one (not an admin key, an unknown, expired or revoked session, a customer who is
   * gone) throws invalidTokenRequestError: the request is refused with 401.
   */
  async function viewer(request: Request, services: Services): Promise<Viewer> {
    const admin = adminKeyName(request);
    if (admin) return { kind: 'admin', keyName: admin };
    const token = bearerToken(request.headers.get('authorization'));
    if (token === undefined || matchAnonymousKey(token)) return ANONYMOUS;
    if (!token.startsWith(`${SESSION_TOKEN_PREFIX}_`)) throw invalidTokenRequestError();
    const session = await services.db.customerSession.findUnique({
      where: { tokenHash: sha256(token) },
      select: {
        id: true,
        customerId: true,
        expiresAt: true,
        customer: { select: { deletedAt: true, hasAccount: true, disabledAt: true } },
      },
    });
    // A disabled account's sessions are deleted with the change; this refuses one written by a
    // login that raced it.
    const { customer } = session ?? {};
    if (
      !session ||
      session.expiresAt <= services.now() ||
      customer?.deletedAt ||
      !customer?.hasAccount ||
      customer.disabledAt
    ) {
      throw invalidTokenRequestError();
    }
    return { kind: 'customer', customerId: session.customerId, sessionId: session.id };
  }

  return { adminKeyName, viewer };
}

/** The scopes fields and types declare (`authScopes: { admin: true }`), from the viewer alone. */
export function scopesOf(viewer: Viewer, settings: { tagsVisibleToCustomers?: boolean } = {}) {
  return {
    public: true,
    anonymous: viewer.kind === 'anonymous',
    customer: viewer.kind === 'customer',
    admin: viewer.kind === 'admin',
    /** Staff data a customer sees of themselves only when CUSTOMER_TAGS_VISIBLE says so (tags). */
    customerStaffData: viewer.kind === 'customer' && settings.tagsVisibleToCustomers === true,
  };
}

/**
 * Who the request acts as, for the events it records and so the timeline: an admin key by name,
 * the signed-in customer, or (anonymous: register, a token's mutation) the customer concerned.
 */
export function actorOf(ctx: Context): Actor {
  if (ctx.viewer.kind === 'admin') return { kind: 'ADMIN', name: ctx.viewer.keyName };
  return { kind: 'CUSTOMER', name: ctx.viewer.kind === 'customer' ? ctx.viewer.customerId : null };
}

/**
 * Whether a scope map (a type's or field's `authScopes: { … }`) grants these scopes, as Pothos
 * scope-auth reads it: any of its entries (its default strategy), `$all` all of them, `$any` any;
 * a scope is named with `true`. Undefined for a form this reading does not know (another value,
 * an unknown scope, `$granted`): its callers refuse to guess.
 */
export function scopeMapGrants(
  map: Record<string, unknown>,
  held: Record<string, boolean>,
  all = false,
): boolean | undefined {
  const granted: boolean[] = [];
  for (const [name, value] of Object.entries(map)) {
    const result =
      name === '$any' || name === '$all'
        ? scopeMapGrants(value as Record<string, unknown>, held, name === '$all')
        : value === true && name in held
          ? held[name]
          : undefined;
    if (result === undefined) return undefined;
    granted.push(result);
  }
  return all ? granted.every(Boolean) : granted.some(Boolean);
}

/** An admin, or the customer who owns the row: signed in, or proven by credentials in this request. */
export function adminOrOwner(ctx: Context, ownerId: string | null): boolean {
  if (ctx.viewer.kind === 'admin') return true;
  if (ownerId === null) return false;
  return (ctx.viewer.kind === 'customer' && ctx.viewer.customerId === ownerId) || ctx.proven.has(ownerId);
}

/**
 * The owner rule as a filter on `customerId`, for lookups that must not tell someone else's row
 * from a missing one: nothing for an admin, the customer's own ID, or an ID no row has.
 */
export function ownRows(viewer: Viewer): { customerId?: string } {
  if (viewer.kind === 'admin') return {};
  return { customerId: viewer.kind === 'customer' ? viewer.customerId : '' };
}

/** A refusal as the client should read it: sign in first (anonymous), or not allowed (signed in). */
export function refusal(viewer: Viewer): ForbiddenError | UnauthenticatedError {
  return viewer.kind === 'anonymous' ? new UnauthenticatedError() : new ForbiddenError();
}

/** The admin key's name (recorded as `created_by`). Services check it themselves too: defence in depth. */
export function requireAdmin(ctx: Context): string {
  if (ctx.viewer.kind !== 'admin') throw refusal(ctx.viewer);
  return ctx.viewer.keyName;
}

/** The signed-in customer's session. */
export function requireSession(ctx: Context): Extract<Viewer, { kind: 'customer' }> {
  if (ctx.viewer.kind !== 'customer') throw refusal(ctx.viewer);
  return ctx.viewer;
}

/** The signed-in customer's ID. */
export function requireCustomer(ctx: Context): string {
  return requireSession(ctx).customerId;
}
