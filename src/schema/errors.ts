import {
  BatchTooLargeError,
  ERROR_CATALOGUE,
  NameTakenError,
  NotFoundError,
  RateLimitedError,
  RestoreConflictError,
} from '../services/errors.js';
import { builder } from './builder.js';

const ErrorCode = builder.enumType('ErrorCode', { values: ERROR_CATALOGUE.map((error) => error.code) });

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

for (const error of ERROR_CATALOGUE) builder.objectType(error, { name: error.name, ...errorOptions });

// The fields some errors have besides `Error`'s.
builder.objectFields(RateLimitedError, (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }));
builder.objectFields(NotFoundError, (t) => ({
  ids: t.exposeIDList('ids', { description: 'The IDs that were not found.' }),
}));
builder.objectFields(NameTakenError, (t) => ({
  names: t.exposeStringList('names', { description: 'The names that are taken.' }),
}));
builder.objectFields(BatchTooLargeError, (t) => ({ max: t.exposeInt('max') }));
builder.objectFields(RestoreConflictError, (t) => ({
  customerIds: t.exposeIDList('customerIds', {
    description: 'The customers that cannot be restored: an account has their email now.',
  }),
}));
