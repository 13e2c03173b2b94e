import {
  BatchTooLargeError,
  EmailNotVerifiedError,
  EmailTakenError,
  EmptyFilterError,
  ForbiddenError,
  InvalidCredentialsError,
  InvalidTokenError,
  LimitExceededError,
  MergeConflictError,
  NameTakenError,
  NotFoundError,
  PasswordTooLongError,
  RateLimitedError,
  RestoreConflictError,
  TokenExpiredError,
  ValidationError,
} from '../services/errors.js';
import { builder } from './builder.js';

const ErrorCode = builder.enumType('ErrorCode', {
  values: [
    'VALIDATION',
    'EMAIL_TAKEN',
    'PASSWORD_TOO_LONG',
    'INVALID_CREDENTIALS',
    'INVALID_TOKEN',
    'TOKEN_EXPIRED',
    'RATE_LIMITED',
    'NOT_FOUND',
    'LIMIT_EXCEEDED',
    'NAME_TAKEN',
    'EMPTY_FILTER',
    'BATCH_TOO_LARGE',
    'FORBIDDEN',
    'EMAIL_NOT_VERIFIED',
    'MERGE_CONFLICT',
    'RESTORE_CONFLICT',
  ] as const,
});

interface ErrorShape {
  message: string;
  code: string;
  field?: string;
}

export const ErrorInterface = builder.interfaceRef<ErrorShape>('Error').implement({
  description: 'An expected failure. `code` is stable; `field` names the input at fault, where one is.',
  authScopes: { public: true },
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCode, resolve: (error) => error.code as typeof ErrorCode.$inferType }),
    field: t.exposeString('field', { nullable: true }),
  }),
});

const errorOptions = { interfaces: [ErrorInterface], authScopes: { public: true } };

export const ValidationErrorType = builder.objectType(ValidationError, { name: 'ValidationError', ...errorOptions });
export const EmailTakenErrorType = builder.objectType(EmailTakenError, { name: 'EmailTakenError', ...errorOptions });
export const PasswordTooLongErrorType = builder.objectType(PasswordTooLongError, {
  name: 'PasswordTooLongError',
  ...errorOptions,
});
export const InvalidCredentialsErrorType = builder.objectType(InvalidCredentialsError, {
  name: 'InvalidCredentialsError',
  ...errorOptions,
});
export const InvalidTokenErrorType = builder.objectType(InvalidTokenError, {
  name: 'InvalidTokenError',
  ...errorOptions,
});
export const TokenExpiredErrorType = builder.objectType(TokenExpiredError, {
  name: 'TokenExpiredError',
  ...errorOptions,
});
export const LimitExceededErrorType = builder.objectType(LimitExceededError, {
  name: 'LimitExceededError',
  ...errorOptions,
});
export const EmptyFilterErrorType = builder.objectType(EmptyFilterError, { name: 'EmptyFilterError', ...errorOptions });
export const EmailNotVerifiedErrorType = builder.objectType(EmailNotVerifiedError, {
  name: 'EmailNotVerifiedError',
  ...errorOptions,
});
export const MergeConflictErrorType = builder.objectType(MergeConflictError, {
  name: 'MergeConflictError',
  ...errorOptions,
});
export const ForbiddenErrorType = builder.objectType(ForbiddenError, { name: 'ForbiddenError', ...errorOptions });
export const RateLimitedErrorType = builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  ...errorOptions,
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});
export const NotFoundErrorType = builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  ...errorOptions,
  fields: (t) => ({ ids: t.exposeIDList('ids', { description: 'The IDs that were not found.' }) }),
});
export const NameTakenErrorType = builder.objectType(NameTakenError, {
  name: 'NameTakenError',
  ...errorOptions,
  fields: (t) => ({ names: t.exposeStringList('names', { description: 'The names that are taken.' }) }),
});
export const BatchTooLargeErrorType = builder.objectType(BatchTooLargeError, {
  name: 'BatchTooLargeError',
  ...errorOptions,
  fields: (t) => ({ max: t.exposeInt('max') }),
});
export const RestoreConflictErrorType = builder.objectType(RestoreConflictError, {
  name: 'RestoreConflictError',
  ...errorOptions,
  fields: (t) => ({
    customerIds: t.exposeIDList('customerIds', {
      description: 'The customers that cannot be restored: an account has their email now.',
    }),
  }),
});
