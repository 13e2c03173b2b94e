import { readFileSync } from 'node:fs';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import {
  BREAK,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  valueFromASTUntyped,
  ValuesOfCorrectTypeRule,
  visit,
  type ASTNode,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { adminKeyMatcher } from './auth.js';
import { argumentValues, operationCost } from './schema/cost.js';

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

export interface HardeningOptions {
  /** Production: masked errors without details, no suggestions. */
  production: boolean;
  introspection: boolean;
  /**
   * While introspection is off, the credential (a bearer token) that still gets federation's
   * `_service { sdl }`: what a supergraph build (rover, a gateway's IntrospectAndCompose) sends.
   * null: nobody gets it.
   */
  federationSdlKey: string | null;
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

/** Whether the document asks for `_service` (only Query has it), through any alias or fragment. */
function asksForSdl(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '_service') found = true;
      return found ? BREAK : undefined;
    },
  });
  return found;
}

/**
 * `_service { sdl }` is the whole schema, as introspection is, so it follows the same setting. A
 * schema build needs it, so its own credential gets it: a dedicated key rather than an admin key,
 * which a CI job publishing the schema should not hold. Checked after validation, not as a rule:
 * yoga caches validation per document, and this depends on the request's header.
 */
function useDisableIntrospection(sdlKey: string | null): Plugin {
  const matchesKey = adminKeyMatcher(sdlKey ? [{ name: 'federation', key: sdlKey }] : []);
  return {
    onValidate({ addValidationRule, params: { documentAST } }) {
      addValidationRule(IntrospectionDisabled);
      return ({ valid, context }) => {
        if (!valid || !asksForSdl(documentAST)) return;
        const request = (context as { request?: Request }).request;
        const token = /^Bearer\s+(\S+)$/i.exec(request?.headers.get('authorization') ?? '')?.[1];
        if (token !== undefined && matchesKey(token) !== null) return;
        throw refusal('Introspection is disabled on this server.', HardeningCode.INTROSPECTION_DISABLED);
      };
    },
  };
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
    onExecutionResult({ result, context }) {
      const cost = costs.get(context);
      if (!cost || !result || Array.isArray(result) || Symbol.asyncIterator in result) return;
      // In place: a copy would read a planned result's `data`, which it writes out as it is (src/planner).
      result.extensions = { ...result.extensions, cost };
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

// --- Bad input: the NUL character, lists too long, values that do not fit their type

const NUL = '\u0000';

/** A refusal the client can fix, naming where in its input the fault is (as `invalidArgument` does). */
function badInput(message: string, argumentName: string | undefined, from?: GraphQLError): GraphQLError {
  return new GraphQLError(message, {
    nodes: from?.nodes,
    source: from?.source,
    positions: from?.positions,
    path: from?.path,
    originalError: from?.originalError,
    extensions: { ...from?.extensions, code: 'BAD_USER_INPUT', ...(argumentName ? { argumentName } : {}) },
  });
}

/**
 * Where a value sits in the document, as the client wrote it: `filter.createdAt.gt`,
 * `filter.status[1]`, or `$d` for a variable's default. `chain` is the visitor's ancestors, then
 * the parent, then the node; arrays between nodes give list positions.
 */
function argumentPath(chain: readonly unknown[]): string | undefined {
  let path: string | undefined;
  chain.forEach((item, i) => {
    if (Array.isArray(item)) {
      const owner = chain[i - 1] as ASTNode | undefined;
      if (owner?.kind === Kind.LIST && path !== undefined && i + 1 < chain.length) path += `[${item.indexOf(chain[i + 1])}]`;
      return;
    }
    const node = item as ASTNode | undefined;
    if (node?.kind === Kind.ARGUMENT) path = node.name.value;
    else if (node?.kind === Kind.VARIABLE_DEFINITION) path = `$${node.variable.name.value}`;
    else if (node?.kind === Kind.OBJECT_FIELD && path !== undefined) path += `.${node.name.value}`;
  });
  return path;
}

const NUL_MESSAGE = 'Text cannot contain the NUL character (U+0000).';

/**
 * Items per list anywhere in the input. A filter's list becomes one bind parameter per item, and
 * PostgreSQL refuses a statement with more than 65,535 of them (a masked 500). Above MAX_BATCH
 * (5,000), so an oversized batch still gets its typed BatchTooLargeError.
 */
export const MAX_LIST_ITEMS = 10_000;
const tooLong = (length: number) => `at most ${MAX_LIST_ITEMS} items in a list, got ${length}.`;

/**
 * Input PostgreSQL cannot take, refused as bad input before it gets there: U+0000 (text and jsonb
 * cannot hold it) and lists beyond MAX_LIST_ITEMS. Checked on the parsed document, where every
 * escape (`\u0000`, `\u{0}`, `\u{000000}`) is already decoded, rather than on its text; per
 * value rather than in the String scalar, because NUL also arrives in IDs, JSON keys and values,
 * and federation representations, each with a scalar of its own. Variables: `variablesProblem`.
 */
const InputLimits: ValidationRule = function InputLimits(context) {
  const report = (node: ASTNode, chain: readonly unknown[], problem: string) => {
    const at = argumentPath(chain);
    context.reportError(badInput(at ? `Invalid argument "${at}": ${problem}` : problem, at, new GraphQLError('', { nodes: node })));
  };
  return {
    StringValue(node, _key, parent, _path, ancestors) {
      if (node.value.includes(NUL)) report(node, [...ancestors, parent, node], NUL_MESSAGE);
    },
    ListValue(node, _key, parent, _path, ancestors) {
      if (node.values.length > MAX_LIST_ITEMS) report(node, [...ancestors, parent, node], tooLong(node.values.length));
    },
  };
};

/** The first string or object key holding a NUL, or list too long, in the variables, with its path (`$input[0].metadata`). */
function variablesProblem(variables: unknown): { path: string; problem: string } | null {
  if (typeof variables !== 'object' || variables === null) return null;
  // Iterative: variables may nest as deep as the body limit allows.
  const stack: [unknown, string][] = Object.entries(variables).map(([name, value]) => [value, `$${name}`]);
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return { path, problem: NUL_MESSAGE };
    } else if (Array.isArray(value)) {
      if (value.length > MAX_LIST_ITEMS) return { path, problem: tooLong(value.length) };
      value.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes(NUL)) return { path, problem: NUL_MESSAGE };
        stack.push([item, `${path}.${key}`]);
      }
    }
  }
  return null;
}

/**
 * Literal values (validation) and variable values (coercion) that do not fit their type are bad
 * input like any other: BAD_USER_INPUT naming the argument, not GRAPHQL_VALIDATION_FAILED or no
 * code at all. A literal names its argument path; a variable its name and the path inside it.
 */
const CodedValuesOfCorrectType: ValidationRule = function ValuesOfCorrectType(context) {
  let at: string | undefined;
  const reporting = Object.create(context, {
    reportError: {
      value: (error: GraphQLError) =>
        context.reportError(badInput(at ? `Invalid argument "${at}": ${error.message}` : error.message, at, error)),
    },
  }) as ValidationContext;
  const inner = ValuesOfCorrectTypeRule(reporting) as Record<string, (...args: unknown[]) => unknown>;
  return Object.fromEntries(
    Object.entries(inner).map(([kind, enter]) => [
      kind,
      (node: ASTNode, key: unknown, parent: unknown, path: unknown, ancestors: readonly unknown[]) => {
        at = argumentPath([...ancestors, parent, node]);
        return enter(node, key, parent, path, ancestors);
      },
    ]),
  ) as ASTVisitor;
};

/** Where a variable's coercion error is: `$f`, or `$input[0].metadata` (graphql-js prints the path into the message). */
function variableErrorPath(error: GraphQLError, name: string): string {
  const cause = error.originalError?.message;
  const prefix = cause && error.message.endsWith(`; ${cause}`) ? error.message.slice(0, -cause.length - 2) : error.message;
  const inside = new RegExp(` at "${name}((?:\\.[_A-Za-z][_0-9A-Za-z]*|\\[\\d+\\])+)"$`).exec(prefix)?.[1];
  return `$${name}${inside ?? ''}`;
}

function useBadInput(): Plugin {
  return {
    onParams({ params, setResult }) {
      const inVariables = variablesProblem(params.variables);
      if (inVariables) {
        const { path, problem } = inVariables;
        setResult({ errors: [refusal(`Invalid argument "${path}": ${problem}`, 'BAD_USER_INPUT', { argumentName: path })] });
      } else if (typeof params.query === 'string' && params.query.includes(NUL)) {
        // A raw NUL (which the lexer would call a syntax error) is bad input as an escaped one is.
        setResult({ errors: [refusal(NUL_MESSAGE, 'BAD_USER_INPUT')] });
      }
    },
    onValidate({ validateFn, setValidationFn, addValidationRule }) {
      addValidationRule(InputLimits);
      setValidationFn((schema, document, rules, ...rest) =>
        validateFn(schema, document, (rules ?? specifiedRules).map((rule: ValidationRule) => (rule === ValuesOfCorrectTypeRule ? CodedValuesOfCorrectType : rule)), ...rest),
      );
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          // Coercion errors are the ones raised on a variable definition, before any field ran.
          const variableOf = (error: GraphQLError) => {
            const node = error.nodes?.[0];
            return !error.path && node?.kind === Kind.VARIABLE_DEFINITION ? node.variable.name.value : null;
          };
          if (!result.errors.some(variableOf)) return;
          setResult({
            ...result,
            errors: result.errors.map((error) => {
              const name = variableOf(error);
              return name ? badInput(error.message, variableErrorPath(error, name), error) : error;
            }),
          });
        },
      };
    },
  };
}

/** Every protection, in the order they act: HTTP, persisted lookup, parse, validate, execute, result. */
export function hardeningPlugins(o: HardeningOptions): Plugin[] {
  const plugins: Plugin[] = [useBadInput()];
  if (o.csrfPrevention) plugins.push(useCsrf());
  plugins.push(useBodyLimit(o.maxBodyBytes, o.isAdmin));
  if (o.persistedOperations) plugins.push(usePersisted(o.persistedOperations, o.persistedOperationsOnly));
  plugins.push(useArmor(o));
  if (!o.introspection) plugins.push(useDisableIntrospection(o.federationSdlKey));
  plugins.push(useOperationLimits(o));
  if (o.requestTimeoutMs > 0) plugins.push(useTimeout(o.requestTimeoutMs));
  if (o.production) plugins.push(useHideSuggestions());
  return plugins;
}
