/**
 * @ser/grpc: the generated ser.v1 and grpc.health.v1 contracts, and the plumbing
 * every gRPC server and client of the platform shares (correlation ids, error
 * statuses with reasons, metrics, health, deadlines, float32 tensors).
 */
export { Metadata, type Server, status } from '@grpc/grpc-js';
export {
  CallStream,
  type CallStreamRequest,
  type CallStreamResponse,
  callStream,
  closeClient,
  type StreamMethodName,
} from './call-stream.js';
export {
  type CallSettings,
  type CreateClientOptions,
  callUnary,
  createClient,
  DEFAULT_DEADLINE_MS,
  isRetryable,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
} from './client.js';
export { callCorrelationId, correlationInterceptor, correlationMetadata } from './correlation.js';
export { ERROR_REASON_KEY, GrpcError, statusName, toGrpcError } from './errors.js';
export { bytesToFloat32, float32ToBytes } from './float32.js';
export * from './generated.js';
export { HealthImplementation, ServingStatus } from './health.js';
export { type MetricsServer, metricsRequestListener, startMetricsServer } from './metrics-server.js';
export { bindServer, shutdownServer, stopOnSignals } from './server-lifecycle.js';
export {
  type CallContext,
  type GrpcServerMetrics,
  grpcServerMetrics,
  type Unary,
  type UnaryHandler,
  type UnaryOptions,
  unaryWrapper,
} from './unary.js';
