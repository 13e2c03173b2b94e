import { readFileSync } from 'node:fs';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './schema/builder.js';

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
  /** More than PASSWORD_CHECKS_PER_REQUEST of login/register/resetPassword/updateMe(password). */
  TOO_MANY_PASSWORD_CHECKS: 'TOO_MANY_PASSWORD_CHECKS',
  /** `__schema` or `__type` while introspection is off. */
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

export interface HardeningOptions {
  /** Production: masked errors without details, no suggestions. */
  production: boolean;
  introspection: boolean;
  csrfPrevention: boolean;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  passwordChecksPerRequest: number;
  /** For requests without an admin key. */
  maxBodyBytes: number;
  /** 0: no timeout. */
  requestTimeoutMs: number;
  /** Trusted documents by hash (e.g. from `loadPersistedOperations`); null: none. */
  persistedOperations: ReadonlyMap<string, string> | null;
  /** Refuse any operation not in `persistedOperations`. */
  persistedOperationsOnly: boolean;
  /** Whether the request carries an admin key (those get yoga's larger body limit instead). */
  isAdmin: (request: Request) => boolean;
}

/** A 400 refusal that, like a validation error, keeps status 200 for legacy `application/json` clients. */
function refusal(message: string, code: string, extensions: Record<string, unknown> = {}) {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status: 400, spec: true } } });
}

// graphql-armor's checks, reported with a code of their own instead of its generic "Syntax Error".
function armorReporter(code: string) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const coded = refusal(error.message.replace(/^Syntax Error: /, ''), code);
    // MAX_TOKENS runs inside the parser, which has no validation context: throwing aborts the parse.
    if (!context) throw coded;
    context.reportError(coded);
  };
}

function useArmor(o: HardeningOptions): Plugin {
  const checks = { propagateOnRejection: false, exposeLimits: true };
  return EnvelopArmorPlugin({
    maxDepth: { ...checks, n: o.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject: [armorReporter(HardeningCode.MAX_DEPTH)] },
    maxAliases: { ...checks, n: o.maxAliases, onReject: [armorReporter(HardeningCode.MAX_ALIASES)] },
    maxDirectives: { ...checks, n: o.maxDirectives, onReject: [armorReporter(HardeningCode.MAX_DIRECTIVES)] },
    maxTokens: { ...checks, n: o.maxTokens, onReject: [armorReporter(HardeningCode.MAX_TOKENS)] },
    // Armor's cost limit ignores variables and default page sizes; ours below does not.
    costLimit: { enabled: false },
    // Armor's regex misses "Did you mean the enum value ...?"; useHideSuggestions catches all.
    blockFieldSuggestion: { enabled: false },
  }) as Plugin;
}

const IntrospectionDisabled: ValidationRule = function IntrospectionDisabled(context) {
  return {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        context.reportError(
          new GraphQLError('Introspection is disabled on this server.', {
            nodes: node,
            extensions: { code: HardeningCode.INTROSPECTION_DISABLED },
          }),
        );
      }
    },
  };
};

function useDisableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(IntrospectionDisabled);
    },
  };
}

// --- Query cost

interface CostContext {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  memo: Map<string, number>;
}

function argumentValues(node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of node.arguments ?? []) values[arg.name.value] = valueFromASTUntyped(arg.value, variables);
  return values;
}

/** `first`/`last` as the resolver will use it: absent means the default page size, beyond the maximum is refused there. */
function pageSize(args: Record<string, unknown>): number {
  const sizes = [args.first, args.last].filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0);
  return sizes.length ? Math.min(Math.max(...sizes), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  return field.args.some((a) => a.name === 'first' || a.name === 'last') && isObjectType(type) && 'edges' in type.getFields();
}

function fieldCost(node: FieldNode, parent: GraphQLCompositeType, ctx: CostContext): number {
  if (node.name.value.startsWith('__') || !node.selectionSet) return 0;
  if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
  const field = parent.getFields()[node.name.value];
  const type = field && getNamedType(field.type);
  if (!field || !type || !isCompositeType(type)) return 0;
  const args = argumentValues(node, ctx.variables);
  if (isConnection(field)) return 1 + selectionCost(node.selectionSet, type, ctx, pageSize(args));
  // A plain list (nodes(ids:), federation's _entities(representations:)) is as long as its list argument.
  const lists = Object.values(args).filter(Array.isArray).map((list) => list.length);
  const items = isListType(getNullableType(field.type)) && lists.length ? Math.max(...lists) : 1;
  return items * (1 + selectionCost(node.selectionSet, type, ctx));
}

/** Within a connection (`perItem` set), `edges` and `nodes` cost once per item of the page. */
function selectionCost(set: SelectionSetNode, parent: GraphQLCompositeType, ctx: CostContext, perItem?: number): number {
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const cost = fieldCost(selection, parent, ctx);
      const repeated = perItem !== undefined && (selection.name.value === 'edges' || selection.name.value === 'nodes');
      total += repeated ? cost * perItem : cost;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? ctx.schema.getType(selection.typeCondition.name.value) : parent;
      if (type && isCompositeType(type)) total += selectionCost(selection.selectionSet, type, ctx, perItem);
    } else {
      total += fragmentCost(selection.name.value, ctx, perItem);
    }
  }
  return total;
}

// Memoised: a fragment's cost does not depend on where it is spread, and without this, fragments
// spreading fragments twice over would make the count exponential in the document's size.
function fragmentCost(name: string, ctx: CostContext, perItem: number | undefined): number {
  const key = `${name}/${perItem ?? ''}`;
  const known = ctx.memo.get(key);
  if (known !== undefined) return known;
  ctx.memo.set(key, 0);
  const fragment = ctx.fragments.get(name);
  const type = fragment && ctx.schema.getType(fragment.typeCondition.name.value);
  const cost = fragment && type && isCompositeType(type) ? selectionCost(fragment.selectionSet, type, ctx, perItem) : 0;
  ctx.memo.set(key, cost);
  return cost;
}

/**
 * The cost model (README "Limits"): a field returning an object costs 1 plus its fields; scalars,
 * `__typename` and introspection cost 0; a connection's `edges`/`nodes` cost once per item of
 * `first`/`last` (default 15, at most 100), so nested connections multiply.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return selectionCost(operation.selectionSet, root, { schema, fragments, variables, memo: new Map() });
}

// --- Password checks

const PASSWORD_MUTATIONS = new Set(['login', 'register', 'resetPassword']);

function checksPassword(node: FieldNode, variables: Record<string, unknown>): boolean {
  if (PASSWORD_MUTATIONS.has(node.name.value)) return true;
  if (node.name.value !== 'updateMe') return false;
  const input = argumentValues(node, variables).input;
  return typeof input === 'object' && input !== null && 'password' in input && input.password != null;
}

/**
 * Root mutation fields that check a password, by response key (as execution merges them):
 * through fragments, each alias separately.
 */
export function passwordChecks(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  if (operation.operation !== 'mutation') return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const keys = new Set<string>();
  const seen = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (checksPassword(selection, variables)) keys.add(selection.alias?.value ?? selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return keys.size;
}

function variablesWithDefaults(operation: OperationDefinitionNode, given: unknown): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  const provided = typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (name in provided) variables[name] = provided[name];
    else if (definition.defaultValue) variables[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return variables;
}

export interface QueryCost {
  requested: number;
  maximum: number;
}

/**
 * Password checks and cost depend on the variables, so they run after validation, not as rules:
 * yoga caches validation results per document. Throwing here ends the request before the context
 * (and its session lookup) is built.
 */
function useOperationLimits(o: HardeningOptions): Plugin {
  const costs = new WeakMap<object, QueryCost>();
  return {
    onValidate({ params: { schema, documentAST } }) {
      return ({ valid, context }) => {
        if (!valid) return;
        const operation = getOperationAST(documentAST, context.params?.operationName);
        if (!operation) return;
        const variables = variablesWithDefaults(operation, context.params?.variables);
        const checks = passwordChecks(documentAST, operation, variables);
        if (checks > o.passwordChecksPerRequest) {
          throw refusal(
            `At most ${o.passwordChecksPerRequest} password-checking mutation (login, register, resetPassword, updateMe with a password) per request; this one has ${checks}.`,
            HardeningCode.TOO_MANY_PASSWORD_CHECKS,
          );
        }
        const cost: QueryCost = { requested: operationCost(schema, documentAST, operation, variables), maximum: o.maxCost };
        costs.set(context, cost);
        if (cost.requested > cost.maximum) {
          throw refusal(
            `Query cost ${cost.requested} is above the maximum of ${cost.maximum}. Ask for fewer items (first/last) or fewer nested connections.`,
            HardeningCode.QUERY_TOO_COMPLEX,
            { cost },
          );
        }
      };
    },
    onExecutionResult({ result, setResult, context }) {
      const cost = costs.get(context);
      if (!cost || !result || Array.isArray(result) || Symbol.asyncIterator in result) return;
      setResult({ ...result, extensions: { ...result.extensions, cost } });
    },
  };
}

// --- Production error hygiene

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** "Did you mean ...?" (fields, arguments, types, enum values) reveals the schema piece by piece. */
function useHideSuggestions(): Plugin {
  return {
    onExecutionResult({ result }) {
      if (!result || Array.isArray(result) || Symbol.asyncIterator in result) return;
      for (const error of result.errors ?? []) {
        if (error.message.includes('Did you mean')) error.message = error.message.replace(SUGGESTION, '');
      }
    },
  };
}

function useCsrf(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: CSRF_HEADERS });
  return {
    onRequestParse(payload) {
      try {
        return csrf.onRequestParse?.(payload);
      } catch {
        throw createGraphQLError(`Send a Content-Type of application/json, or one of the headers ${CSRF_HEADERS.join(', ')}.`, {
          extensions: { code: HardeningCode.CSRF_HEADER_REQUIRED, http: { status: 403 } },
        });
      }
    },
  };
}

// --- Request body size

function bodyTooLarge(limit: number) {
  return createGraphQLError(`Request body is larger than ${limit} bytes.`, {
    extensions: { code: HardeningCode.REQUEST_ENTITY_TOO_LARGE, http: { status: 413 } },
  });
}

/**
 * Yoga's own limit (set to the admin limit) is the same for every request; this one is lower for
 * requests without an admin key. Refused from Content-Length before reading, or while streaming.
 */
function useBodyLimit(limit: number, isAdmin: (request: Request) => boolean): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (isAdmin(request)) return;
      const length = request.headers.get('content-length');
      if (length !== null && /^\d+$/.test(length) && Number(length) > limit) throw bodyTooLarge(limit);
      if (!requestParser || !request.body) return;
      const parseRequest = requestParser;
      setRequestParser((req) => {
        if (!req.body) return parseRequest(req);
        let read = 0;
        // As yoga does: a native stream needs the native TransformStream.
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const body = req.body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(bodyTooLarge(limit));
              else controller.enqueue(chunk);
            },
          }),
        );
        const init: RequestInit & { duplex: 'half' } = { method: req.method, headers: req.headers, signal: req.signal, body, duplex: 'half' };
        return parseRequest(new fetchAPI.Request(req.url, init));
      });
    },
  };
}

// --- Timeout

/** The part of the context the timeout needs: the request's deadline, which its transactions honour. */
interface Deadline {
  expire(): boolean;
  settled(): Promise<void>;
}

/**
 * Stops an operation after `ms`. A write is never both answered TIMEOUT and committed: the
 * request's transactions check the deadline right before COMMIT (and roll back once it has
 * passed), the TIMEOUT answer waits until they have, and a request with a write already committed
 * or committing is not cut but answered.
 */
function useTimeout(ms: number): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(async (args: ExecutionArgs) => {
        const deadline = (args.contextValue as { deadline?: Deadline } | undefined)?.deadline;
        const controller = new AbortController();
        const timer = setTimeout(() => {
          if (deadline && !deadline.expire()) return;
          controller.abort(
            createGraphQLError(`The operation took longer than ${ms} ms and was stopped; nothing it was writing was applied.`, {
              extensions: { code: HardeningCode.TIMEOUT, http: { status: 504 } },
            }),
          );
        }, ms);
        // graphql-tools' executor stops at the next field and rejects with the signal's reason.
        const withSignal: ExecutionArgs & { signal: AbortSignal } = { ...args, signal: controller.signal };
        try {
          return await executeFn(withSignal);
        } finally {
          clearTimeout(timer);
          // Resolvers run on after the cut: answer only once their transactions have rolled back.
          if (controller.signal.aborted) await deadline?.settled();
        }
      });
    },
  };
}

// --- Persisted operations

/**
 * Reads a JSON object of hash → GraphQL document (what Apollo Client's persisted-query tooling
 * and graphql-codegen's client preset emit). Every document must parse: a broken store fails at start.
 */
export function loadPersistedOperations(file: string): ReadonlyMap<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: expected a JSON object mapping each hash to its GraphQL document`);
  }
  const operations = new Map<string, string>();
  for (const [hash, document] of Object.entries(parsed)) {
    if (typeof document !== 'string') throw new Error(`${file}: the value of "${hash}" is not a string`);
    try {
      parse(document);
    } catch (error) {
      throw new Error(`${file}: the document of "${hash}" does not parse: ${(error as Error).message}`);
    }
    operations.set(hash, document);
  }
  return operations;
}

function usePersisted(operations: ReadonlyMap<string, string>, only: boolean): Plugin {
  const http400 = { http: { status: 400 } };
  return usePersistedOperations({
    // A Map, not an object: "constructor" or "__proto__" must be unknown hashes, not prototype members.
    getPersistedOperation: (hash) => operations.get(hash) ?? null,
    allowArbitraryOperations: !only,
    customErrors: {
      notFound: { message: 'PersistedQueryNotFound', extensions: { code: HardeningCode.PERSISTED_QUERY_NOT_IN_LIST, ...http400 } },
      persistedQueryOnly: {
        message: 'PersistedQueryOnly: this server runs only operations from its persisted list.',
        extensions: { code: HardeningCode.CANNOT_SEND_PQ_ID_AND_BODY, ...http400 },
      },
      keyNotFound: { message: 'PersistedQueryKeyNotFound', extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', ...http400 } },
    },
  }) as Plugin;
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000: any input with it (a variable, a literal, a
 * metadata key) is refused up front, instead of failing in the database as "Unexpected error.".
 */
function useNoNulCharacter(): Plugin {
  return {
    onParams({ params, setResult }) {
      const input = `${params.query ?? ''}${JSON.stringify(params.variables ?? {})}`;
      if (input.includes('\u0000') || /\\u0000/i.test(input)) {
        setResult({
          errors: [createGraphQLError('Text cannot contain the NUL character (U+0000).', { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })],
        });
      }
    },
  };
}

/** Every protection, in the order they act: HTTP, persisted lookup, parse, validate, execute, result. */
export function hardeningPlugins(o: HardeningOptions): Plugin[] {
  const plugins: Plugin[] = [useNoNulCharacter()];
  if (o.csrfPrevention) plugins.push(useCsrf());
  plugins.push(useBodyLimit(o.maxBodyBytes, o.isAdmin));
  if (o.persistedOperations) plugins.push(usePersisted(o.persistedOperations, o.persistedOperationsOnly));
  plugins.push(useArmor(o));
  if (!o.introspection) plugins.push(useDisableIntrospection());
  plugins.push(useOperationLimits(o));
  if (o.requestTimeoutMs > 0) plugins.push(useTimeout(o.requestTimeoutMs));
  if (o.production) plugins.push(useHideSuggestions());
  return plugins;
}
