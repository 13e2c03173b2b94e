// The error catalogue is the one list of typed failures: every error class is in it, and the
// schema's ErrorCode and error types are made from it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphQLEnumType, GraphQLObjectType } from 'graphql';
import { schema } from '../src/schema/index.js';
import * as errors from '../src/services/errors.js';

const classes = Object.values(errors).filter(
  (value): value is typeof errors.ForbiddenError | typeof errors.ValidationError =>
    typeof value === 'function' && 'code' in value && typeof value.code === 'string',
);

test('every error class with a code is in ERROR_CATALOGUE, and each code is its own', () => {
  assert.ok(classes.length >= 16, `found ${classes.length} error classes`);
  assert.deepEqual(
    classes.filter((c) => !(errors.ERROR_CATALOGUE as readonly unknown[]).includes(c)).map((c) => c.name),
    [],
  );
  const codes = errors.ERROR_CATALOGUE.map((c) => c.code);
  assert.equal(new Set(codes).size, codes.length, 'no code twice');
  assert.equal(new errors.NotFoundError(['x']).code, 'NOT_FOUND', 'an instance answers its class code');
  assert.equal(new errors.ForbiddenError().extensions.code, 'FORBIDDEN');
});

test("the schema's ErrorCode and error types are the catalogue's", () => {
  const errorCode = schema.getType('ErrorCode') as GraphQLEnumType;
  assert.deepEqual(
    errorCode
      .getValues()
      .map((v) => v.name)
      .sort(),
    errors.ERROR_CATALOGUE.map((c) => c.code).sort(),
  );
  const implementing = schema
    .getImplementations(schema.getType('Error') as never)
    .objects.map((o: GraphQLObjectType) => o.name);
  assert.deepEqual(implementing.sort(), errors.ERROR_CATALOGUE.map((c) => c.name).sort());
});
