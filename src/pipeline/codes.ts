import { GraphQLError } from 'graphql';

/**
 * `extensions.code` of every refusal this module makes. All but TIMEOUT happen before execution:
 * no resolver runs and no SQL is sent.
 */
export const HardeningCode = {
  /** Fields nested deeper than MAX_DEPTH (introspection's `__schema` is not counted). */
  MAX_DEPTH: 'MAX_DEPTH',
  /** More aliases than MAX_ALIASES in one operation. */
  MAX_ALIASES: 'MAX_ALIASES',
  /** More lexical tokens than MAX_TOKENS in the document (checked while parsing). */
  MAX_TOKENS: 'MAX_TOKENS',
  /** More directives than MAX_DIRECTIVES in one operation. */
  MAX_DIRECTIVES: 'MAX_DIRECTIVES',
  /** The operation's computed cost is above MAX_COST; `extensions.cost` has both numbers. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** More than PASSWORD_CHECKS_PER_REQUEST of login/register/resetPassword/acceptInvitation/requestEmailChange/updateMe(password). */
  TOO_MANY_PASSWORD_CHECKS: 'TOO_MANY_PASSWORD_CHECKS',
  /** `__schema` or `__type` (or federation's `_service` without FEDERATION_SDL_KEY) while introspection is off. */
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  /** A GET or "simple" POST without a CSRF header while CSRF prevention is on (HTTP 403). */
  CSRF_HEADER_REQUIRED: 'CSRF_HEADER_REQUIRED',
  /** Body above MAX_BODY_BYTES (ADMIN_MAX_BODY_BYTES with an admin key); HTTP 413. Yoga's code. */
  REQUEST_ENTITY_TOO_LARGE: 'REQUEST_ENTITY_TOO_LARGE',
  /** Execution ran longer than REQUEST_TIMEOUT_MS and was stopped (HTTP 504); nothing it was writing committed. */
  TIMEOUT: 'TIMEOUT',
  /** Persisted operations (the plugin's codes): unknown hash; a query sent while only persisted ones are allowed. */
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  CANNOT_SEND_PQ_ID_AND_BODY: 'CANNOT_SEND_PQ_ID_AND_BODY',
} as const;

/** Headers any of which marks a GET or simple POST as deliberate (a browser form cannot send them). */
export const CSRF_HEADERS = ['x-graphql-csrf', 'x-graphql-yoga-csrf', 'apollo-require-preflight'];

/** A 400 refusal that, like a validation error, keeps status 200 for legacy `application/json` clients. */
export function refusal(message: string, code: string, extensions: Record<string, unknown> = {}) {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status: 400, spec: true } } });
}
