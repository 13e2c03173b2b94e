import { createHash } from 'node:crypto';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { databaseFailure } from '../db/errors.js';
import type { Database } from '../db/index.js';
import {
  bindViewer,
  type CompiledPlan,
  compile,
  nodeIdColumns,
  type PlannerEnv,
  ROW_REFUSED,
  VIEWER_ID,
} from './compile.js';
import { DataModel } from './datamodel.js';
import { type FallbackKind, Unplannable } from './unplannable.js';

export { Unplannable };

/**
 * What the planner decided for one admin query (for metrics, logs and tests). A fallback's `kind`
 * is one of a few values (a metric label); `reason` says exactly what.
 */
export type PlanDecision =
  | { planned: true; sql: string }
  | { planned: false; kind: FallbackKind | 'statement_failed' | 'compile_error'; reason: string };

/** Which request a decision was for (for the log). */
export interface PlannedRequest {
  requestId: string;
  operationName: string | null;
}

export interface PlannerOptions {
  db: Pick<Database, 'prisma' | 'query'>;
  /** Distinct plans run as named prepared statements (planned once per connection); the rest unnamed. */
  preparedStatements: number;
  onDecision?: (decision: PlanDecision, request: PlannedRequest) => void;
  /**
   * A defect of the compiler (an exception that is not Unplannable) fails the request instead of
   * falling back, so development and tests cannot miss it. In production the Pothos path answers.
   */
  strict: boolean;
}

/**
 * The read planner: a query from an admin or a signed-in customer that the planner accepts is
 * answered by one SQL statement in which PostgreSQL builds the response's `data`; everything else
 * (mutations, anonymous requests, fields the planner does not know or the viewer may not read,
 * argument errors) runs on the Pothos path unchanged.
 *
 * Scope rules are applied as scope-auth applies them: scope maps of fields and types are
 * evaluated for the viewer when compiling (a refusal falls back, and scope-auth answers), and an
 * owner rule (owner.ts) becomes a check of each row in SQL for a customer; a type whose rule is
 * any other function is not planned. It sits before the timeout plugin, which then bounds the
 * planned statement too (besides PostgreSQL's statement_timeout), and after validation and the
 * limits (cost, depth, aliases), which have refused what they refuse before execution starts.
 */
// Plans per document (as yoga caches parsed documents), by viewer kind, operation name and
// variables: a plan depends on nothing else (a customer's ID is bound when it runs).
const PLANS_PER_DOCUMENT = 64;

export function usePlanner({ db, onDecision, preparedStatements, strict }: PlannerOptions): Plugin<Context> {
  let env: Promise<PlannerEnv> | undefined;
  const plans = new WeakMap<DocumentNode, Map<string, CompiledPlan | Unplannable>>();
  const names = new Set<string>();
  return {
    async onExecute({ args, executeFn, setExecuteFn }) {
      const ctx = args.contextValue as Context;
      const viewer = ctx.viewer;
      // Customers too, where every field and row they read is theirs by a rule the planner writes
      // in SQL (owner.ts); not while a request proves more than the session (ctx.proven).
      if (viewer?.kind !== 'admin' && !(viewer?.kind === 'customer' && ctx.proven.size === 0)) return;
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'query') return;
      env ??= (async () => {
        const dm = new DataModel();
        return { schema: args.schema, dm, nodeIds: await nodeIdColumns(args.schema, dm) };
      })();
      const planner = await env;
      const request: PlannedRequest = { requestId: ctx.requestId, operationName: operation.name?.value ?? null };
      if (planner.schema !== args.schema) return;
      let cached = plans.get(args.document);
      if (!cached) {
        cached = new Map();
        plans.set(args.document, cached);
      }
      const key = `${viewer.kind}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
      let plan = cached.get(key);
      if (!plan) {
        try {
          plan = compile(
            planner,
            args.document,
            operation,
            args.variableValues as Record<string, unknown> | undefined,
            viewer.kind === 'customer' ? { ...ctx, viewer: { ...viewer, customerId: VIEWER_ID } } : ctx,
          );
        } catch (error) {
          if (error instanceof Unplannable) plan = error;
          else if (strict) throw error;
          else {
            onDecision?.(
              { planned: false, kind: 'compile_error', reason: String((error as Error).stack ?? error) },
              request,
            );
            return;
          }
        }
        if (cached.size >= PLANS_PER_DOCUMENT) cached.clear();
        cached.set(key, plan);
      }
      if (plan instanceof Unplannable) {
        onDecision?.({ planned: false, kind: plan.kind, reason: plan.message }, request);
        return;
      }
      const { sql } = plan;
      const params = viewer.kind === 'customer' ? bindViewer(plan.params, viewer.customerId) : plan.params;
      // Every pooled connection keeps its prepared statements: their number is bounded.
      if (plan.name === undefined)
        plan.name =
          names.size < preparedStatements ? `cg_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}` : null;
      if (plan.name) names.add(plan.name);
      const name = plan.name ?? undefined;
      const fallback = executeFn;
      setExecuteFn(async (execution: ExecutionArgs & { signal?: AbortSignal }): Promise<ExecutionResult> => {
        let rows: { data: string }[];
        try {
          rows = await abortable(db.query<{ data: string }>(sql, params, name), execution.signal);
        } catch (error) {
          if (execution.signal?.aborted) throw error;
          const reason = (error as Error).message;
          // A row the planner refuses to render as the schema would not (see compile.ts), or the
          // database failing: the Pothos path answers, with its own errors.
          if (String(reason).includes(ROW_REFUSED) || databaseFailure(error)) {
            onDecision?.({ planned: false, kind: 'statement_failed', reason }, request);
            return fallback(execution) as Promise<ExecutionResult>;
          }
          // Otherwise: if the Pothos path fails too, the database is at fault (a table gone); if it
          // answers, the compiler wrote SQL that it should not have: a defect, as a compile error is.
          const result = (await fallback(execution)) as ExecutionResult;
          if (result.errors?.length) {
            onDecision?.({ planned: false, kind: 'statement_failed', reason }, request);
          } else if (strict) {
            throw new Error(`read planner: the planned statement failed where the Pothos path answers: ${reason}`, {
              cause: error,
            });
          } else {
            onDecision?.({ planned: false, kind: 'compile_error', reason: `statement failed: ${reason}` }, request);
          }
          return result;
        }
        onDecision?.({ planned: true, sql }, request);
        return plan.verbatim
          ? verbatimResult(rows[0]!.data)
          : { data: JSON.parse(rows[0]!.data) as Record<string, unknown> };
      });
    },
  };
}

/**
 * A result whose `data` is the statement's JSON text, written into the response as it is (yoga
 * calls a result's own `stringify`) and parsed only if something reads `data`. Once `data` has
 * been read (and might have been changed), or errors were added, it is written as any other.
 */
function verbatimResult(json: string): ExecutionResult & { stringify(result: ExecutionResult): string } {
  let data: Record<string, unknown> | undefined;
  return {
    get data() {
      data ??= JSON.parse(json) as Record<string, unknown>;
      return data;
    },
    stringify(result) {
      if (data !== undefined || result.errors?.length) return JSON.stringify(result);
      return result.extensions
        ? `{"data":${json},"extensions":${JSON.stringify(result.extensions)}}`
        : `{"data":${json}}`;
    },
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
