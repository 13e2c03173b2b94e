// GraphQL Code Generator for a TypeScript client of this service: typed documents (the client
// preset, for Apollo Client 4, urql 6 or fetch) and the `possibleTypes` Apollo Client and
// graphcache need for the typed errors (`... on Error`, `... on Node`). Run from this folder:
// `npx graphql-codegen --config codegen.ts` (test/clients.test.ts runs it).
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Every custom scalar, as it arrives in JSON; strictScalars fails on one left out. */
export const scalars = {
  DateTime: 'string', // ISO 8601, UTC, milliseconds: "2026-12-07T14:00:00.000Z"
  JSONObject: 'Record<string, unknown>',
  Decimal: 'string', // exact: parse with a decimal library, never Number()
  CountryCode: 'string', // ISO 3166-1 alpha-2, upper-case
  CurrencyCode: 'string', // ISO 4217, upper-case
  _Any: 'unknown', // federation's entity representation: gateways only
};

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['operations/*.graphql'],
  generates: {
    'generated/': {
      preset: 'client',
      config: { scalars, strictScalars: true, enumsAsTypes: true, useTypeImports: true },
    },
    'generated/possible-types.json': { plugins: ['fragment-matcher'] },
  },
};

export default config;
