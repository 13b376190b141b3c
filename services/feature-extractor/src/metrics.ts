/** The extractor's own Prometheus metrics (the gRPC server metrics come from @ser/grpc). */
import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from '@ser/observability';

export interface ExtractorMetrics {
  /** stage: fetch, decode, features, inference. */
  stageSeconds: Histogram<'stage'>;
  /** outcome: ok, or the failure's reason (too_long, object_not_found, inference_unavailable, ...). */
  requests: Counter<'method' | 'outcome'>;
}

export function createExtractorMetrics(registry: Registry): ExtractorMetrics {
  return {
    stageSeconds: new Histogram({
      name: 'ser_feature_extraction_seconds',
      help: 'Time per stage of a request: fetch (object storage), decode, features (resample + features), inference.',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'ser_extractor_requests_total',
      help: 'Extract and Classify requests by outcome.',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
  };
}
