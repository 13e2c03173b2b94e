import { useOpenTelemetry } from '@envelop/opentelemetry';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { type TracerProvider, trace } from '@opentelemetry/api';
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { databaseFailure } from './db/errors.js';
import type { Database } from './db/index.js';
import { eventMetrics } from './events/metrics.js';
import type { PlanDecision } from './planner/index.js';

const FAILURE_ANSWERS = {
  SERVICE_UNAVAILABLE: { message: 'The service is temporarily unavailable. Try again shortly.', status: 503 },
  TIMEOUT: { message: 'The database did not finish in time and the operation was stopped.', status: 504 },
} as const;

/**
 * Yoga's masking, except that a database failure that is not the request's fault says which it is
 * (`databaseFailure`): a client (or load balancer) can retry a 503 `SERVICE_UNAVAILABLE` and knows
 * a 504 `TIMEOUT` ran out of time, while "Unexpected error." tells it nothing.
 */
export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  const failure = databaseFailure(error);
  if (failure) {
    const { message: said, status } = FAILURE_ANSWERS[failure];
    const at = error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {};
    return createGraphQLError(said, { ...at, extensions: { code: failure, http: { status } } });
  }
  return yogaMaskError(error, message, isDev);
}

/**
 * Prometheus metrics at `/metrics`: requests and their duration per operation, errors by code, pool
 * usage, the read planner's decisions.
 */
export function useMetrics(db: Database): {
  plugins: Plugin[];
  registry: Registry;
  recordPlan: (decision: PlanDecision) => void;
} {
  // The outbox's metrics are kept where the sinks and the worker run (src/events/metrics.ts).
  const registry = Registry.merge([new Registry(), eventMetrics]);
  collectDefaultMetrics({ register: registry });
  const plans = new Counter({
    name: 'graphql_read_planner_decisions_total',
    help: 'Admin queries the read planner answered (decision="planned") or left to the Pothos path (decision="fallback", by kind).',
    labelNames: ['decision', 'kind'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors in responses, by extensions.code.',
    labelNames: ['code', 'operationName'],
    registers: [registry],
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'PostgreSQL pool connections by state (absent on the embedded database).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      if (!stats) return;
      this.set({ state: 'max' }, stats.max);
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  const countErrors: Plugin = {
    onExecutionResult({ result, context }) {
      const results = Array.isArray(result) ? result : [result];
      const operationName = (context as { params?: { operationName?: string } }).params?.operationName ?? '';
      for (const r of results) {
        for (const error of (r as { errors?: readonly GraphQLError[] }).errors ?? []) {
          errors.inc({ code: String(error.extensions?.code ?? 'UNKNOWN'), operationName });
        }
      }
    },
  };
  return {
    registry,
    recordPlan: (decision) =>
      plans.inc(decision.planned ? { decision: 'planned', kind: '' } : { decision: 'fallback', kind: decision.kind }),
    plugins: [
      usePrometheus({
        registry,
        endpoint: '/metrics',
        metrics: {
          graphql_envelop_request: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_error_result: true,
          graphql_yoga_http_duration: true,
          // The plugin's other metrics are on unless turned off; the deprecated-field counter alone
          // walks every document on every request (5% of a simple read's CPU).
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_phase_parse: false,
          graphql_envelop_phase_validate: false,
          graphql_envelop_phase_context: false,
          graphql_envelop_phase_execute: false,
          graphql_envelop_phase_subscribe: false,
          graphql_envelop_execute_resolver: false,
        },
      }),
      countErrors,
    ],
  };
}

/** OpenTelemetry spans for every operation (and resolver), sent to the given provider's exporter. */
export function useTracing(provider: TracerProvider = trace.getTracerProvider()): Plugin {
  return useOpenTelemetry({ resolvers: true, variables: false, result: false }, provider) as Plugin;
}

/** Tracing to stdout, for trying it out; production sets up its own provider and exporter. */
export async function consoleTracing(): Promise<Plugin> {
  const { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } = await import(
    '@opentelemetry/sdk-trace-base'
  );
  return useTracing(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }));
}
