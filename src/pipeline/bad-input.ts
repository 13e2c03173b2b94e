import {
  type ASTNode,
  type ASTVisitor,
  GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isLeafType,
  isListType,
  Kind,
  specifiedRules,
  typeFromAST,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
  ValuesOfCorrectTypeRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { refusal } from './codes.js';

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
      if (owner?.kind === Kind.LIST && path !== undefined && i + 1 < chain.length)
        path += `[${item.indexOf(chain[i + 1])}]`;
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
    context.reportError(
      badInput(at ? `Invalid argument "${at}": ${problem}` : problem, at, new GraphQLError('', { nodes: node })),
    );
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
      value.forEach((item, i) => {
        stack.push([item, `${path}[${i}]`]);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes(NUL)) return { path, problem: NUL_MESSAGE };
        stack.push([item, `${path}.${key}`]);
      }
    }
  }
  return null;
}

const tooDeep = (maxDepth: number) => `JSON nested more than ${maxDepth} levels deep.`;

/**
 * Whether a JSON value nests objects and arrays more than `maxDepth` levels (`{}` is one level,
 * `{"a":[]}` two). Iterative, and it goes no deeper than one level past the limit, so a value
 * nested as deep as the body allows costs no stack and a walk of at most its first levels.
 */
function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [item, level] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (level > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, level + 1]);
    }
  }
  return false;
}

/** The same for a literal in the document (whose depth MAX_TOKENS bounds anyway: the rule is one). */
function literalDeeperThan(node: ValueNode, maxDepth: number): boolean {
  const stack: [ValueNode, number][] = [[node, 1]];
  while (stack.length) {
    const [item, level] = stack.pop()!;
    if (item.kind !== Kind.OBJECT && item.kind !== Kind.LIST) continue;
    if (level > maxDepth) return true;
    for (const child of item.kind === Kind.OBJECT ? item.fields.map((f) => f.value) : item.values)
      stack.push([child, level + 1]);
  }
  return false;
}

/**
 * A literal JSON value (an object or list at a leaf type's position: `metadata: {…}`) nested
 * deeper than `maxDepth`, refused naming its argument path (`input.metadata`). As a validation
 * rule its result is cached with the document, which suits a literal: it is part of the document.
 */
function jsonDepthRule(maxDepth: number): ValidationRule {
  return function JsonDepth(context) {
    let root: ASTNode | null = null;
    const enter = (node: ValueNode, parent: unknown, ancestors: readonly unknown[]) => {
      const type = context.getInputType();
      if (root || !type || !isLeafType(getNamedType(type))) return;
      root = node;
      if (!literalDeeperThan(node, maxDepth)) return;
      const at = argumentPath([...ancestors, parent, node]);
      context.reportError(
        badInput(
          at ? `Invalid argument "${at}": ${tooDeep(maxDepth)}` : tooDeep(maxDepth),
          at,
          new GraphQLError('', { nodes: node }),
        ),
      );
    };
    const leave = (node: ValueNode) => {
      if (node === root) root = null;
    };
    return {
      ObjectValue: { enter: (node, _key, parent, _path, ancestors) => enter(node, parent, ancestors), leave },
      ListValue: { enter: (node, _key, parent, _path, ancestors) => enter(node, parent, ancestors), leave },
    };
  };
}

/**
 * The path of the first JSON value in the variables nested deeper than `maxDepth`, or null. The
 * walk follows each variable's declared type, so the path names where the JSON starts
 * (`$input[1].metadata`, `$representations[0]`): input objects and lists are walked by their fields
 * and items, and whatever sits at a scalar's position, in a field the type does not have, in a
 * variable the operation does not declare or where the type wants something else is measured as
 * JSON. Nothing here recurses. It runs before anything reads the values deeply: the services'
 * metadata size check, Prisma and the planner's cache key all recurse, and a value nested some
 * thousands deep overflowed the stack into "Unexpected error.".
 */
function deepJsonInVariables(
  declared: ReadonlyMap<string, GraphQLInputType | undefined>,
  variables: Record<string, unknown>,
  maxDepth: number,
): string | null {
  const stack: [unknown, GraphQLInputType | undefined, string][] = Object.entries(variables).map(([name, value]) => [
    value,
    declared.get(name),
    `$${name}`,
  ]);
  while (stack.length) {
    const [value, declaredType, path] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    const type = declaredType && getNullableType(declaredType);
    if (type && isListType(type)) {
      // A single value where a list is expected is coerced to a list of one.
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          stack.push([item, type.ofType, `${path}[${i}]`]);
        });
      } else stack.push([value, type.ofType, path]);
    } else if (type && isInputObjectType(type) && !Array.isArray(value)) {
      const fields = type.getFields();
      for (const [key, item] of Object.entries(value))
        stack.push([item, Object.hasOwn(fields, key) ? fields[key]!.type : undefined, `${path}.${key}`]);
    } else if (nestedDeeperThan(value, maxDepth)) {
      return path;
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
  const prefix =
    cause && error.message.endsWith(`; ${cause}`) ? error.message.slice(0, -cause.length - 2) : error.message;
  const inside = new RegExp(` at "${name}((?:\\.[_A-Za-z][_0-9A-Za-z]*|\\[\\d+\\])+)"$`).exec(prefix)?.[1];
  return `$${name}${inside ?? ''}`;
}

/** The variables' declared types, by name, for `deepJsonInVariables`. */
function declaredTypes(
  schema: GraphQLSchema,
  operation: ReturnType<typeof getOperationAST>,
): Map<string, GraphQLInputType | undefined> {
  return new Map(
    (operation?.variableDefinitions ?? []).map((d) => [
      d.variable.name.value,
      typeFromAST(schema, d.type) as GraphQLInputType | undefined,
    ]),
  );
}

/** @param maxJsonDepth MAX_JSON_DEPTH: levels of objects and arrays one JSON value may nest. */
export function useBadInput(maxJsonDepth: number): Plugin {
  const JsonDepth = jsonDepthRule(maxJsonDepth);
  return {
    onParams({ params, setResult }) {
      const inVariables = variablesProblem(params.variables);
      if (inVariables) {
        const { path, problem } = inVariables;
        setResult({
          errors: [refusal(`Invalid argument "${path}": ${problem}`, 'BAD_USER_INPUT', { argumentName: path })],
        });
      } else if (typeof params.query === 'string' && params.query.includes(NUL)) {
        // A raw NUL (which the lexer would call a syntax error) is bad input as an escaped one is.
        setResult({ errors: [refusal(NUL_MESSAGE, 'BAD_USER_INPUT')] });
      }
    },
    onValidate({ validateFn, setValidationFn, addValidationRule, params: { schema, documentAST } }) {
      addValidationRule(InputLimits);
      addValidationRule(JsonDepth);
      setValidationFn((schema, document, rules, ...rest) =>
        validateFn(
          schema,
          document,
          (rules ?? specifiedRules).map((rule: ValidationRule) =>
            rule === ValuesOfCorrectTypeRule ? CodedValuesOfCorrectType : rule,
          ),
          ...rest,
        ),
      );
      // The variables' depth needs their declared types, so it is checked once the document is
      // valid, and thrown rather than set as the result: yoga caches validation results per
      // document, and a later request with the same document may send other variables.
      return ({ valid, context }) => {
        const params = (context as { params?: { variables?: unknown; operationName?: string | null } }).params;
        const variables = params?.variables;
        if (!valid || typeof variables !== 'object' || variables === null) return;
        const at = deepJsonInVariables(
          declaredTypes(schema, getOperationAST(documentAST, params?.operationName)),
          variables as Record<string, unknown>,
          maxJsonDepth,
        );
        if (at)
          throw refusal(`Invalid argument "${at}": ${tooDeep(maxJsonDepth)}`, 'BAD_USER_INPUT', { argumentName: at });
      };
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
