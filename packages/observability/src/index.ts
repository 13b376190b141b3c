export {
  acceptCorrelationId,
  CORRELATION_HEADER,
  currentCorrelationId,
  newCorrelationId,
  withCorrelationId,
} from './correlation.js';
export { createLogger, type Logger } from './logger.js';
export { Counter, createRegistry, errorsCounter, Gauge, Histogram, LATENCY_BUCKETS, Registry } from './metrics.js';
