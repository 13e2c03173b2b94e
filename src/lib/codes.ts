// ISO codes from maintained data: ISO 4217 (currency-codes, with each currency's minor-unit digits)
// and ISO 3166-1 (i18n-iso-countries). The platform's Intl data is CLDR's, whose "digits" are a
// display preference (HUF and IDR 0 there, 2 in ISO 4217), not the minor unit amounts are kept in.
import currencyCodes from 'currency-codes';
import countries from 'i18n-iso-countries';

/** ASCII letters upper-cased, nothing else touched (SQL's `translate` in schema/money.ts does the same). */
export const asciiUpper = (value: string) => value.replace(/[a-z]+/g, (letters) => letters.toUpperCase());

const DIGITS = new Map(currencyCodes.data.map((currency) => [currency.code, currency.digits]));

/** An ISO 3166-1 alpha-2 country code (an assigned one, or XK), either case. */
export const isCountryCode = (code: string) => /^[A-Za-z]{2}$/.test(code) && countries.isValid(asciiUpper(code));

/** A currency's minor-unit digits per ISO 4217 (JPY 0, EUR 2, KWD 3); 2 for a code it does not list. */
export const currencyDigits = (code: string): number => DIGITS.get(asciiUpper(code)) ?? 2;

/** The currencies whose digits are not 2, in code order. */
export const currenciesOtherThanTwoDigits = (): [string, number][] =>
  [...DIGITS].filter(([, digits]) => digits !== 2).sort(([a], [b]) => a.localeCompare(b));
