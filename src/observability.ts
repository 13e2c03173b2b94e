import { useOpenTelemetry } from '@envelop/opentelemetry';
import { trace, type TracerProvider } from '@opentelemetry/api';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError, type Plugin } from 'graphql-yoga';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from './db/index.js';

// Driver and server signs that the database cannot be reached or is overwhelmed, rather than that
// the request was wrong: connection errors (SQLSTATE class 08), shutdowns (57P0x), too many
// connections (53300), statement timeout (57014), Prisma's connectivity codes, socket errors.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '53300', '57014',
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024',
]);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Can't reach database server|Client has encountered a connection error|connection (is )?closed|PGlite is closed|Unable to start a transaction in the given time/i;
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      kind?: unknown;
      message?: unknown;
      originalCode?: unknown;
      cause?: unknown;
      originalError?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.originalCode === 'string' && UNAVAILABLE_CODES.has(e.originalCode)) return true;
    if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    if (e.kind === 'postgres' && typeof (e as { code?: string }).code === 'string' && (e as { code: string }).code.startsWith('08')) return true;
    // Prisma keeps the driver's error (with the SQLSTATE) under meta.driverAdapterError.
    current = e.originalError ?? e.cause ?? e.meta?.driverAdapterError;
  }
  return false;
}

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
