/**
 * Money and codes, each written once for both read paths: the TypeScript the Pothos path serializes
 * with and the SQL the read planner writes (as date-time.ts does for DateTime).
 *
 * - `Money { amount: Decimal!, currencyCode: CurrencyCode! }` (Shopify's MoneyV2 shape): amounts are
 *   stored as 64-bit integers of the currency's minor unit and shown as a decimal string in its
 *   major unit with exactly the currency's digits ("1250.00" EUR, "1250" JPY, "1.250" KWD), so no
 *   client parses a float and none meets 32-bit integer limits.
 * - `CurrencyCode` (ISO 4217) and `CountryCode` (ISO 3166-1 alpha-2) are shown upper-case, as the
 *   standards write them; Medusa stores them lower-case, and so do we.
 *
 * The digits of each currency come from src/lib/codes.ts (ISO 4217 data).
 */
import { type SQL, sql } from 'pg-sql2';
import { asciiUpper, currenciesOtherThanTwoDigits, currencyDigits } from '../lib/codes.js';
import { builder } from './builder.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const OTHER_DIGITS = currenciesOtherThanTwoDigits();

/** A code column as the schema shows it. */
export const codeSql = (value: SQL): SQL =>
  sql`translate(${value}, ${sql.literal(LOWER)}, ${sql.literal(LOWER.toUpperCase())})`;

/** Minor units as the decimal string of the major unit, with the currency's digits. */
export function formatMinorUnits(minor: bigint, currency: string): string {
  const digits = currencyDigits(currency);
  const magnitude = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, '0');
  const text = digits ? `${magnitude.slice(0, -digits)}.${magnitude.slice(-digits)}` : magnitude;
  return minor < 0n ? `-${text}` : text;
}

/** formatMinorUnits in SQL: `minor` a bigint expression, `currency` the (lower-case) code column. */
export function minorUnitsSql(minor: SQL, currency: SQL): SQL {
  const cases = OTHER_DIGITS.map(([code, digits]) => sql`WHEN ${sql.literal(code)} THEN ${sql.literal(digits)}`);
  const digits = sql`(CASE ${codeSql(currency)} ${sql.join(cases, ' ')} ELSE 2 END)`;
  return sql`round(${minor}::numeric / power(10::numeric, ${digits}), ${digits})::text`;
}

// Output only: inputs take codes as String in either case (services validate them with a typed
// ValidationError per item), and no argument takes a Decimal yet.
for (const [name, standard] of [
  ['CurrencyCode', 'ISO 4217'],
  ['CountryCode', 'ISO 3166-1 alpha-2'],
] as const) {
  builder.scalarType(name, {
    description: `An ${standard} code, shown upper-case.`,
    serialize: (value) => asciiUpper(String(value)),
  });
}

builder.scalarType('Decimal', {
  description:
    'An exact decimal number as a string ("1250.00"): never a float. Amounts carry exactly their currency’s digits.',
  serialize: (value) => String(value),
});

/** What a Money field reads: its amount's columns (multiplied) and the column of its currency. */
export interface MoneyPlan {
  kind: 'money';
  /** Columns of the row whose product is the amount in minor units. */
  amount: string[];
  /** The currency: a column of the row, or of the row a to-one relation leads to. */
  currency: { field: string; relation?: string };
}

export interface MoneyValue {
  minor: bigint;
  currency: string;
}

export const Money = builder.objectRef<MoneyValue>('Money').implement({
  description: 'An amount in a currency (Shopify’s MoneyV2 shape).',
  authScopes: { public: true },
  fields: (t) => ({
    amount: t.field({
      type: 'Decimal',
      description: 'In the currency’s major unit, with exactly its digits: "1250.00" EUR, "1250" JPY.',
      resolve: (money) => formatMinorUnits(money.minor, money.currency),
    }),
    currencyCode: t.field({ type: 'CurrencyCode', resolve: (money) => money.currency }),
  }),
});
