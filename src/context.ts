import type { CountryCode } from 'libphonenumber-js';
import type { RequestDeadline } from './db/transaction.js';
import type { EventFeed } from './events/feed.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { Passwords } from './lib/passwords.js';
import type { Throttle } from './lib/throttle.js';

/** Who is asking. Scopes (admin, customer-self) are decided from this alone. */
export type Viewer =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'customer'; readonly customerId: string; readonly sessionId: string }
  | { readonly kind: 'admin'; readonly keyName: string };

/** Built once per process: what services need besides the request. */
export interface Services {
  readonly db: PrismaClient;
  /**
   * One SQL statement on the pool, past Prisma's raw-query path (which costs about 1.6 ms of CPU
   * more for a 1,000-element array parameter); with a name, prepared once per connection.
   */
  readonly query: <T>(text: string, values: unknown[], name?: string) => Promise<T[]>;
  readonly passwords: Passwords;
  readonly throttles: {
    readonly loginPerEmail: Throttle;
    readonly loginPerClient: Throttle;
    readonly registerPerClient: Throttle;
  };
  readonly sessionTtlMs: number;
  readonly emailVerification: {
    readonly ttlMs: number;
    /** Registration sends the first verification token itself. */
    readonly onRegister: boolean;
    /** `login` refuses accounts whose email is not verified. */
    readonly requiredForLogin: boolean;
  };
  /** CUSTOMER_TAGS_VISIBLE: a customer reads their own tags. */
  readonly tagsVisibleToCustomers: boolean;
  readonly marketing: {
    /** MARKETING_CONFIRMED_OPT_IN: subscribing is PENDING until confirmed by a token. */
    readonly confirmedOptIn: boolean;
    readonly confirmationTtlMs: number;
    /** Signs unsubscribe tokens (MARKETING_UNSUBSCRIBE_SECRET, or one per process). */
    readonly unsubscribeSecret: string;
  };
  readonly invitationTtlMs: number;
  /** The region a phone number without `+` is read in, for its E.164 form. */
  readonly phoneRegion: CountryCode;
  /** The clock every expiry is measured by; tests move it. */
  readonly now: () => Date;
  /** Distinct representations one federation `_entities` call resolves (MAX_ENTITY_REPRESENTATIONS). */
  readonly maxEntityRepresentations: number;
  /** Delivered events for subscriptions (src/events/feed.ts). */
  readonly feed: EventFeed;
  /** MAX_SUBSCRIPTIONS_PER_KEY, and the open subscriptions per admin key on this process. */
  readonly maxSubscriptionsPerKey: number;
  readonly subscriptions: Map<string, number>;
}

export interface Context {
  readonly viewer: Viewer;
  readonly db: PrismaClient;
  readonly services: Services;
  readonly requestId: string;
  /** Who is calling, for per-client rate limits: the socket address, or the proxy's word when trusted. */
  readonly clientAddress: string;
  /**
   * Customers whose credentials this request presented (register, login, resetPassword): the
   * payload of those mutations may show that customer, though the request itself is anonymous.
   */
  readonly proven: Set<string>;
  /** Shared by the request timeout and the request's transactions (`transaction` in src/db). */
  readonly deadline: RequestDeadline;
}
