/** The inference service's own Prometheus metrics (the gRPC server metrics come from @ser/grpc). */
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@ser/observability';

export interface InferenceMetrics {
  batchSize: Histogram;
  queueSeconds: Histogram;
  computeSeconds: Histogram;
  rows: Counter;
}

export function createInferenceMetrics(registry: Registry, model: { name: string; version: string }): InferenceMetrics {
  const info = new Gauge({
    name: 'ser_model_info',
    help: 'The served model bundle (always 1).',
    labelNames: ['name', 'version'],
    registers: [registry],
  });
  info.set({ name: model.name, version: model.version }, 1);
  return {
    batchSize: new Histogram({
      name: 'ser_inference_batch_size',
      help: 'Rows per model run, after dynamic batching.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    queueSeconds: new Histogram({
      name: 'ser_inference_queue_seconds',
      help: 'Time a request waited for its model run.',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    computeSeconds: new Histogram({
      name: 'ser_inference_compute_seconds',
      help: 'Duration of one model run.',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    rows: new Counter({ name: 'ser_inference_rows_total', help: 'Rows classified.', registers: [registry] }),
  };
}
