import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The outbox's metrics, in a registry of their own that `/metrics` merges in (src/observability.ts):
 * the sinks and the worker update them wherever they run, as prom-client's own default metrics are.
 * A broker outage shows here and not in `/ready`: the service itself is fine without its broker.
 */
export const eventMetrics = new Registry();

export const sinkUp = new Gauge({
  name: 'event_sink_up',
  help: 'Whether the event sink is connected to its broker (1) or not (0).',
  labelNames: ['sink'],
  registers: [eventMetrics],
});

export const deliveryFailures = new Counter({
  name: 'outbox_delivery_failures_total',
  help: 'Outbox events whose delivery attempt failed (each is retried).',
  labelNames: ['sink'],
  registers: [eventMetrics],
});

export const eventsDelivered = new Counter({
  name: 'outbox_events_delivered_total',
  help: 'Outbox events the broker acknowledged.',
  labelNames: ['sink'],
  registers: [eventMetrics],
});

let countUndelivered: (() => Promise<number>) | undefined;

/** The worker names how to count what waits (the latest started worker's database). */
export function countUndeliveredWith(count: (() => Promise<number>) | undefined) {
  countUndelivered = count;
}

new Gauge({
  name: 'outbox_undelivered_events',
  help: 'Events in the outbox not delivered yet (absent without a worker, or while the database is away).',
  registers: [eventMetrics],
  async collect() {
    if (!countUndelivered) return;
    try {
      this.set(await countUndelivered());
    } catch {
      this.reset();
    }
  },
});
