/** One Prometheus registry per process, with Node's default metrics and a `ser_` prefix for ours. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `ser_errors_total{kind}`: failures of any kind (an error code, a gRPC reason), the
 * same name in every service so one panel shows them all. Registered once per registry.
 */
export function errorsCounter(registry: Registry): Counter<'kind'> {
  return (
    (registry.getSingleMetric('ser_errors_total') as Counter<'kind'> | undefined) ??
    new Counter({
      name: 'ser_errors_total',
      help: 'Failures, by kind (an error code or reason; a bounded set).',
      labelNames: ['kind'],
      registers: [registry],
    })
  );
}

/** Latency buckets in seconds, from 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
