import { GraphQLError } from 'graphql';

/** An expected failure the client can act on. Exposed in the schema as a typed result, never masked. */
export abstract class DomainError extends Error {
  /** The stable `code` clients switch on; each class declares its own. */
  static readonly code: string;
  get code(): string {
    return (this.constructor as typeof DomainError).code;
  }
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  static override readonly code = 'VALIDATION';
}

export class EmailTakenError extends DomainError {
  static override readonly code = 'EMAIL_TAKEN';
  constructor(field = 'email') {
    super('An account with this email already exists. Log in instead.', field);
  }
}

/** A soft-deleted customer cannot come back as it was: an account has its email now. */
export class RestoreConflictError extends DomainError {
  static override readonly code = 'RESTORE_CONFLICT';
  constructor(
    readonly customerIds: string[],
    field = 'ids',
  ) {
    super(
      `Cannot restore ${customerIds.join(', ')}: another account has this email now. Change or delete one of them first.`,
      field,
    );
  }
}

export class PasswordTooLongError extends DomainError {
  static override readonly code = 'PASSWORD_TOO_LONG';
  constructor(field = 'password') {
    super('Passwords can be at most 72 bytes (UTF-8).', field);
  }
}

export class InvalidCredentialsError extends DomainError {
  static override readonly code = 'INVALID_CREDENTIALS';
  constructor(field?: string) {
    super(field ? 'The current password is wrong.' : 'The email or password is wrong.', field);
  }
}

/** What a one-time token was for, as its errors name it. */
type TokenKind = 'reset' | 'verification' | 'email change' | 'invitation' | 'confirmation' | 'unsubscribe';

export class InvalidTokenError extends DomainError {
  static override readonly code = 'INVALID_TOKEN';
  constructor(kind: TokenKind = 'reset') {
    super(
      kind === 'reset'
        ? 'The reset token is not valid for this email. Request a new one.'
        : `The ${kind} token is not valid. Request a new one.`,
      'token',
    );
  }
}

export class TokenExpiredError extends DomainError {
  static override readonly code = 'TOKEN_EXPIRED';
  constructor(kind: TokenKind = 'reset') {
    super(`The ${kind} token has expired. Request a new one.`, 'token');
  }
}

/** Login refused until the email is verified (only when the service is set to require it). */
export class EmailNotVerifiedError extends DomainError {
  static override readonly code = 'EMAIL_NOT_VERIFIED';
  constructor() {
    super('Verify your email address first: we sent you a link. You can ask for a new one.', 'email');
  }
}

/** Login refused: an admin disabled the account. Said only after a correct password. */
export class AccountDisabledError extends DomainError {
  static override readonly code = 'ACCOUNT_DISABLED';
  constructor() {
    super('This account is disabled. Contact the shop.');
  }
}

/** An invitation to customers who have an account already (enabled, disabled or invited). */
export class AccountExistsError extends DomainError {
  static override readonly code = 'ACCOUNT_EXISTS';
  constructor(
    readonly customerIds: string[],
    field = 'ids',
  ) {
    super(`Already registered accounts, not guests: ${customerIds.join(', ')}`, field);
  }
}

/** A merge that cannot be done as asked (into itself, or accounts without includeAccounts). */
export class MergeConflictError extends DomainError {
  static override readonly code = 'MERGE_CONFLICT';
}

export class RateLimitedError extends DomainError {
  static override readonly code = 'RATE_LIMITED';
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(`Too many attempts. Try again in ${seconds} seconds.`);
    this.retryAfterSeconds = seconds;
  }
}

export class NotFoundError extends DomainError {
  static override readonly code = 'NOT_FOUND';
  constructor(
    readonly ids: string[],
    field?: string,
  ) {
    super(`Not found: ${ids.join(', ')}`, field);
  }
}

export class LimitExceededError extends DomainError {
  static override readonly code = 'LIMIT_EXCEEDED';
}

export class NameTakenError extends DomainError {
  static override readonly code = 'NAME_TAKEN';
  constructor(
    readonly names: string[],
    field = 'name',
  ) {
    super(`A customer group with this name already exists: ${names.join(', ')}`, field);
  }
}

/** A filter that would select every row: refused, so "delete everything" cannot happen by accident. */
export class EmptyFilterError extends DomainError {
  static override readonly code = 'EMPTY_FILTER';
  constructor(field = 'filter') {
    super('Give IDs or a filter with at least one condition.', field);
  }
}

export class BatchTooLargeError extends DomainError {
  static override readonly code = 'BATCH_TOO_LARGE';
  constructor(
    readonly max: number,
    field: string,
  ) {
    super(`At most ${max} items per call.`, field);
  }
}

/**
 * Access denied. A GraphQLError too, so that where a field has no typed error union (queries) it
 * still reaches the client with its code instead of being masked.
 */
export class ForbiddenError extends GraphQLError {
  static readonly code = 'FORBIDDEN';
  readonly code = ForbiddenError.code;
  readonly field = undefined;
  constructor() {
    super('Not allowed for this viewer.', { extensions: { code: ForbiddenError.code } });
    this.name = 'ForbiddenError';
  }
}

/**
 * No credential where one is needed: the caller is not signed in (a field or mutation for
 * customers or admins, asked anonymously). A client signs in and asks again; a signed-in caller
 * refused by a rule gets ForbiddenError instead.
 */
export class UnauthenticatedError extends GraphQLError {
  static readonly code = 'UNAUTHENTICATED';
  readonly code = UnauthenticatedError.code;
  readonly field = undefined;
  constructor() {
    super('Sign in first: this needs a customer session or an admin key.', {
      extensions: { code: UnauthenticatedError.code },
    });
    this.name = 'UnauthenticatedError';
  }
}

/**
 * A bearer token that identifies no one (unknown, expired, revoked, or a customer who is gone):
 * the whole request is refused before it runs, with 401 and RFC 6750's `WWW-Authenticate`, so
 * that a client drops the token and signs in again instead of reading as anonymous.
 */
export function invalidTokenRequestError(): GraphQLError {
  return new GraphQLError('The bearer token is not valid: it is unknown, expired or revoked. Sign in again.', {
    extensions: {
      code: UnauthenticatedError.code,
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
    },
  });
}

/**
 * Every failure a client receives as a typed result, in the order of the schema's `ErrorCode`:
 * each class is a GraphQL type of the same name implementing `Error` (src/schema/errors.ts), and
 * its static `code` a value of `ErrorCode`. A new error is a class here and an entry in this list.
 */
export const ERROR_CATALOGUE = [
  ValidationError,
  EmailTakenError,
  PasswordTooLongError,
  InvalidCredentialsError,
  InvalidTokenError,
  TokenExpiredError,
  RateLimitedError,
  NotFoundError,
  LimitExceededError,
  NameTakenError,
  EmptyFilterError,
  BatchTooLargeError,
  ForbiddenError,
  UnauthenticatedError,
  EmailNotVerifiedError,
  MergeConflictError,
  RestoreConflictError,
  AccountDisabledError,
  AccountExistsError,
] as const;
