import { GraphQLError } from 'graphql';

/** An expected failure the client can act on. Exposed in the schema as a typed result, never masked. */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION';
}

export class EmailTakenError extends DomainError {
  readonly code = 'EMAIL_TAKEN';
  constructor(field = 'email') {
    super('An account with this email already exists. Log in instead.', field);
  }
}

/** A soft-deleted customer cannot come back as it was: an account has its email now. */
export class RestoreConflictError extends DomainError {
  readonly code = 'RESTORE_CONFLICT';
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
  readonly code = 'PASSWORD_TOO_LONG';
  constructor(field = 'password') {
    super('Passwords can be at most 72 bytes (UTF-8).', field);
  }
}

export class InvalidCredentialsError extends DomainError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor(field?: string) {
    super(field ? 'The current password is wrong.' : 'The email or password is wrong.', field);
  }
}

export class InvalidTokenError extends DomainError {
  readonly code = 'INVALID_TOKEN';
  constructor(kind: 'reset' | 'verification' = 'reset') {
    super(
      kind === 'reset'
        ? 'The reset token is not valid for this email. Request a new one.'
        : 'The verification token is not valid. Request a new one.',
      'token',
    );
  }
}

export class TokenExpiredError extends DomainError {
  readonly code = 'TOKEN_EXPIRED';
  constructor(kind: 'reset' | 'verification' = 'reset') {
    super(`The ${kind} token has expired. Request a new one.`, 'token');
  }
}

/** Login refused until the email is verified (only when the service is set to require it). */
export class EmailNotVerifiedError extends DomainError {
  readonly code = 'EMAIL_NOT_VERIFIED';
  constructor() {
    super('Verify your email address first: we sent you a link. You can ask for a new one.', 'email');
  }
}

/** A merge that cannot be done as asked (into itself, or accounts without includeAccounts). */
export class MergeConflictError extends DomainError {
  readonly code = 'MERGE_CONFLICT';
}

export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(`Too many attempts. Try again in ${seconds} seconds.`);
    this.retryAfterSeconds = seconds;
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly ids: string[],
    field?: string,
  ) {
    super(`Not found: ${ids.join(', ')}`, field);
  }
}

export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED';
}

export class NameTakenError extends DomainError {
  readonly code = 'NAME_TAKEN';
  constructor(
    readonly names: string[],
    field = 'name',
  ) {
    super(`A customer group with this name already exists: ${names.join(', ')}`, field);
  }
}

/** A filter that would select every row: refused, so "delete everything" cannot happen by accident. */
export class EmptyFilterError extends DomainError {
  readonly code = 'EMPTY_FILTER';
  constructor(field = 'filter') {
    super('Give IDs or a filter with at least one condition.', field);
  }
}

export class BatchTooLargeError extends DomainError {
  readonly code = 'BATCH_TOO_LARGE';
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
  readonly code = 'FORBIDDEN';
  readonly field = undefined;
  constructor() {
    super('Not allowed for this viewer.', { extensions: { code: 'FORBIDDEN' } });
    this.name = 'ForbiddenError';
  }
}
