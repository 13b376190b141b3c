/** The batch worker's Prometheus metrics. Queue depth is read from Redis on each scrape. */
import { Counter, errorsCounter, Gauge, Histogram, type Registry } from '@ser/observability';
import type { Queue } from 'bullmq';

export interface BatchMetrics {
  items: Counter<'outcome'>;
  itemSeconds: Histogram;
  jobSeconds: Histogram;
  webhooks: Counter<'outcome'>;
  /** Batch items classified, as `ser_predictions_total` (the gateway counts single files under the same name). */
  predictions: Counter<'emotion' | 'model_version'>;
  /** `ser_errors_total{kind}`: failed items by error code, webhooks not delivered, queue errors. */
  errors: Counter<'kind'>;
}

const JOB_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];
const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused', 'prioritized'] as const;

export function createBatchMetrics(registry: Registry): BatchMetrics {
  const metrics: BatchMetrics = {
    items: new Counter({
      name: 'ser_batch_items_total',
      help: 'Batch items processed, by outcome (succeeded, failed, retried; deferred: put back to wait for the database).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    itemSeconds: new Histogram({
      name: 'ser_batch_item_duration_seconds',
      help: 'Time to process one attempt of a batch item (classify and record).',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobSeconds: new Histogram({
      name: 'ser_batch_job_duration_seconds',
      help: 'Time from a batch job being created to its last item being recorded.',
      buckets: JOB_BUCKETS,
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'ser_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome (delivered, retried, failed, refused).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    predictions: new Counter({
      name: 'ser_predictions_total',
      help: 'Batch items classified, by emotion and model version.',
      labelNames: ['emotion', 'model_version'],
      registers: [registry],
    }),
    errors: errorsCounter(registry),
  };
  // Every outcome appears from the first scrape, so rate() sees the first increment.
  for (const outcome of ['succeeded', 'failed', 'retried', 'deferred']) metrics.items.inc({ outcome }, 0);
  for (const outcome of ['delivered', 'retried', 'failed', 'refused']) metrics.webhooks.inc({ outcome }, 0);
  return metrics;
}

/** `ser_queue_jobs{queue,state}`, refreshed from Redis when scraped; a Redis outage keeps the last values. */
export function registerQueueDepth(registry: Registry, queues: Queue[]): void {
  new Gauge({
    name: 'ser_queue_jobs',
    help: 'Jobs in each BullMQ queue, by state.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      await Promise.all(
        queues.map(async (queue) => {
          const counts = await queue.getJobCounts(...STATES).catch(() => undefined);
          for (const state of STATES) if (counts) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }),
      );
    },
  });
}
