import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import type { Prisma } from '../generated/prisma/client.js';
import { foldCase } from '../lib/fold-case.js';
import { passwordProblem } from '../lib/passwords.js';
import { PasswordTooLongError, ValidationError } from './errors.js';

/** Trimmed and lower-cased: emails compare case-insensitively everywhere, and are stored this way. */
export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!z.email().safeParse(normalized).success || normalized.length > 254) {
    throw new ValidationError('Enter a valid email address.', 'email');
  }
  return normalized;
}

export function checkPassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem === 'too_long') throw new PasswordTooLongError(field);
  if (problem === 'too_short') throw new ValidationError('Passwords need at least 8 bytes.', field);
}

/** Optional free text: trimmed, blank becomes null, at most `max` characters. */
export function text(value: string | null | undefined, field: string, max = 255): string | null | undefined {
  if (value === undefined) return undefined;
  const trimmed = value?.trim() ?? '';
  if (trimmed.length > max) throw new ValidationError(`At most ${max} characters.`, field);
  return trimmed || null;
}

export const METADATA_MAX_BYTES = 16 * 1024;

/**
 * Bytes of `value` as PostgreSQL prints a jsonb (`octet_length(metadata::text)`: ", " and ": "
 * between items): the one measure of the metadata limit, whether JavaScript checks a new value or
 * the database checks a merged one.
 */
export function storedJsonBytes(value: unknown): number {
  const items = (sizes: number[]) => 2 + sizes.reduce((sum, n) => sum + n, 0) + 2 * Math.max(0, sizes.length - 1);
  if (Array.isArray(value)) return items(value.map(storedJsonBytes));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return items(entries.map(([key, v]) => Buffer.byteLength(JSON.stringify(key)) + 2 + storedJsonBytes(v)));
  }
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

export function metadataTooLarge(field: string): ValidationError {
  return new ValidationError(
    `Metadata can be at most ${METADATA_MAX_BYTES} bytes as JSON, merged with what is stored.`,
    field,
  );
}

/** Metadata of a new row: null-valued keys are left out. */
export function newMetadata(
  update: Record<string, unknown> | null | undefined,
  field = 'metadata',
): Prisma.InputJsonObject | undefined {
  if (update === undefined || update === null) return undefined;
  const value = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== null));
  if (storedJsonBytes(value) > METADATA_MAX_BYTES) throw metadataTooLarge(field);
  return value as Prisma.InputJsonObject;
}

/**
 * A metadata patch to merge in the database (`mergeMetadataInto`), null values kept: they mark keys
 * to remove. What it sets must fit on its own; whether the merged result fits is checked there.
 */
export function metadataPatch(
  update: Record<string, unknown> | null | undefined,
  field = 'metadata',
): Prisma.InputJsonObject | undefined {
  if (update === undefined || update === null) return undefined;
  newMetadata(update, field);
  return update as Prisma.InputJsonObject;
}

/**
 * A phone number in E.164 form, read as written in `region` unless it starts with `+`; null when it
 * is not a possible number (Medusa stores any text as a phone, so an odd one is kept but not indexed).
 */
export function phoneE164(phone: string | null | undefined, region: CountryCode): string | null {
  if (!phone) return null;
  const parsed = parsePhoneNumberFromString(phone, region);
  return parsed?.isPossible() ? parsed.number : null;
}

/** `phone` as given (trimmed, at most 50 characters) with its E.164 form beside it. */
export function phoneFields(value: string | null | undefined, region: CountryCode, field = 'phone') {
  const phone = text(value, field, 50);
  if (phone === undefined) return {};
  return { phone, phoneE164: phoneE164(phone, region) };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export const MAX_TAGS_PER_CUSTOMER = 250;
export const MAX_TAG_LENGTH = 40;
export const MAX_NOTE_LENGTH = 5000;

/**
 * Tags as given, trimmed, each 1–40 characters, once each by fold_case (the database's case-fold:
 * "VIP" and "vip" are one tag, kept as first written).
 */
export function tagList(values: readonly string[], field: string): string[] {
  if (values.length === 0) throw new ValidationError('Give at least one tag.', field);
  if (values.length > MAX_TAGS_PER_CUSTOMER)
    throw new ValidationError(`At most ${MAX_TAGS_PER_CUSTOMER} tags per customer.`, field);
  const seen = new Map<string, string>();
  values.forEach((value, i) => {
    const tag = value.trim();
    if (tag.length === 0 || [...tag].length > MAX_TAG_LENGTH)
      throw new ValidationError(`A tag has 1 to ${MAX_TAG_LENGTH} characters after trimming.`, `${field}[${i}]`);
    if (CONTROL_CHARACTERS.test(tag))
      throw new ValidationError('A tag cannot hold control characters.', `${field}[${i}]`);
    const folded = foldCase(tag);
    if (!seen.has(folded)) seen.set(folded, tag);
  });
  return [...seen.values()];
}

/** A staff note's body: trimmed, 1–5,000 characters. */
export function noteBody(value: string, field = 'body'): string {
  const body = value.trim();
  if (body.length === 0) throw new ValidationError('A note cannot be empty.', field);
  if ([...body].length > MAX_NOTE_LENGTH)
    throw new ValidationError(`A note has at most ${MAX_NOTE_LENGTH} characters.`, field);
  return body;
}
