/** The gateway's Prometheus metrics (HTTP traffic, uploads, predictions, errors). */
import { Counter, errorsCounter, Histogram, LATENCY_BUCKETS, type Registry } from '@ser/observability';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  uploadBytes: Counter<'endpoint'>;
  uploadFiles: Counter<'endpoint' | 'outcome'>;
  predictions: Counter<'emotion' | 'model_version'>;
  errors: Counter<'kind'>;
  /** `ser_errors_total{kind}`, the name every service shares (same kinds as `errors`). */
  serviceErrors: Counter<'kind'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    registry,
    requests: new Counter({
      name: 'ser_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'ser_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      // Uploads of tens of MB take longer than the gRPC latency buckets reach.
      buckets: [...LATENCY_BUCKETS, 30, 60],
      registers: [registry],
    }),
    uploadBytes: new Counter({
      name: 'ser_upload_bytes_total',
      help: 'Bytes of uploaded files received, by endpoint.',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    uploadFiles: new Counter({
      name: 'ser_upload_files_total',
      help: 'Uploaded files, by endpoint and outcome (stored, rejected).',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
    predictions: new Counter({
      name: 'ser_predictions_total',
      help: 'Single-file predictions made, by emotion and model version.',
      labelNames: ['emotion', 'model_version'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'ser_http_errors_total',
      help: 'Error responses, by kind (the error code).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    serviceErrors: errorsCounter(registry),
  };
}
