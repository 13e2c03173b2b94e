import { useOpenTelemetry } from '@envelop/opentelemetry';
import { trace, type TracerProvider } from '@opentelemetry/api';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError, type Plugin } from 'graphql-yoga';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { isDatabaseUnavailable } from './db/errors.js';
import type { Database } from './db/index.js';

/**
 * Yoga's masking, except that a database outage says so: a client (or load balancer) can retry
 * a 503 `SERVICE_UNAVAILABLE`, while "Unexpected error." tells it nothing.
 */
export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (isDatabaseUnavailable(error)) {
    return createGraphQLError('The service is temporarily unavailable. Try again shortly.', {
      extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
    });
  }
  return yogaMaskError(error, message, isDev);
}

/** Prometheus metrics at `/metrics`: requests and their duration per operation, errors by code, pool usage. */
export function useMetrics(db: Database): { plugins: Plugin[]; registry: Registry } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
  const { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  return useTracing(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }));
}
