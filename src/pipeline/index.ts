// The request pipeline: every yoga/envelop plugin the service runs, in one ordered list. Envelop
// calls each hook in this order, so the order is behaviour: a stage sees only what the stages
// before it let through.
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { Database } from '../db/index.js';
import type { Logger } from '../logger.js';
import { useMetrics } from '../observability.js';
import { type PlanDecision, type PlannedRequest, usePlanner } from '../planner/index.js';
import { type ArmorLimits, useArmor } from './armor.js';
import { useBadInput } from './bad-input.js';
import { useBodyLimit } from './body-limit.js';
import { useCsrf } from './csrf.js';
import { useErrorOrder } from './error-order.js';
import { useDisableIntrospection } from './introspection.js';
import { useNotAcceptable } from './not-acceptable.js';
import { type OperationLimits, useOperationLimits } from './operation-limits.js';
import { usePersisted } from './persisted.js';
import { useRequestLog } from './request-log.js';
import { useHideSuggestions } from './suggestions.js';
import { useTimeout } from './timeout.js';

export { operationCost } from '../schema/cost.js';
export { MAX_LIST_ITEMS } from './bad-input.js';
export { CSRF_HEADERS, HardeningCode } from './codes.js';
export { passwordChecks, type QueryCost } from './operation-limits.js';
export { loadPersistedOperations } from './persisted.js';
export { requestIdOf } from './request-log.js';

export interface HardeningOptions extends ArmorLimits, OperationLimits {
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
  /** For requests without an admin key. */
  maxBodyBytes: number;
  /** For requests with an admin key (batch operations). */
  adminMaxBodyBytes: number;
  /** 0: no timeout. */
  requestTimeoutMs: number;
  /** Levels of objects and arrays one JSON input value (metadata, `_Any`) may nest. */
  maxJsonDepth: number;
  /** Trusted documents by hash (e.g. from `loadPersistedOperations`); null: none. */
  persistedOperations: ReadonlyMap<string, string> | null;
  /** Refuse any operation not in `persistedOperations`. */
  persistedOperationsOnly: boolean;
}

export interface PipelineOptions extends HardeningOptions {
  log: Logger;
  db: Database;
  /** Whether the request carries an admin key (memoised per request: see `requestCredentials`). */
  isAdmin: (request: Request) => boolean;
  readPlanner: boolean;
  plannerPreparedStatements: number;
  onPlan?: (decision: PlanDecision) => void;
  metrics: boolean;
  /** More plugins (tracing, tests), after the service's own and before the readiness check. */
  extra: Plugin[];
  readiness: Plugin;
}

/** The stages in the order they act: HTTP, persisted lookup, parse, validate, execute, result. */
/** Each stage is typed for the context it reads; yoga gives every one the same. */
type Stage = Plugin | Plugin<Context>;

export function requestPipeline(o: PipelineOptions): Stage[] {
  const metrics = o.metrics ? useMetrics(o.db) : null;
  const onDecision = (decision: PlanDecision, request: PlannedRequest) => {
    metrics?.recordPlan(decision);
    if (decision.planned) o.log.debug(request, 'read planner: planned');
    else if (decision.kind === 'compile_error')
      o.log.error(
        { ...request, kind: decision.kind, reason: decision.reason },
        'read planner: compile error; the Pothos path answers',
      );
    else o.log.debug({ ...request, kind: decision.kind, reason: decision.reason }, 'read planner: fallback');
    o.onPlan?.(decision);
  };
  const stages: (Stage | Stage[] | false)[] = [
    // Request ID in, one log line per request out; unexpected errors logged before masking.
    useRequestLog(o.log),
    // Errors listed by path, so one request's errors come in one order however its fields settled.
    useErrorOrder(),
    // @defer and @stream: incremental delivery (multipart/mixed, or SSE with text/event-stream);
    // an answer no accepted media type can carry is a 406 that says why.
    useDeferStream() as Plugin,
    useNotAcceptable(),
    // Answers an admin read itself, or leaves it to execution. Before the timeout, so the
    // timeout bounds planned statements too.
    o.readPlanner &&
      usePlanner({ db: o.db, onDecision, preparedStatements: o.plannerPreparedStatements, strict: !o.production }),
    // NUL characters, overlong lists and JSON nested too deep in variables and literals; values
    // that do not fit their type.
    useBadInput(o.maxJsonDepth),
    o.csrfPrevention && useCsrf(),
    useBodyLimit({ anyone: o.maxBodyBytes, admin: o.adminMaxBodyBytes }, o.isAdmin),
    o.persistedOperations !== null && usePersisted(o.persistedOperations, o.persistedOperationsOnly),
    // Tokens (while parsing), depth, aliases, directives (while validating).
    useArmor(o),
    !o.introspection && useDisableIntrospection(o.federationSdlKey),
    // Cost and password checks: after validation, with the variables, before the context is built.
    useOperationLimits(o),
    o.requestTimeoutMs > 0 && useTimeout(o.requestTimeoutMs),
    o.production && useHideSuggestions(),
    metrics?.plugins ?? false,
    o.extra,
    o.readiness,
  ];
  return stages.flatMap((stage) => (stage === false ? [] : stage));
}
