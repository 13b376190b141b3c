/**
 * The generated contracts (ts-proto, from proto/), re-exported by name: the
 * files each declare helpers with the same names (MessageFns, DeepPartial), so a
 * blanket `export *` would be ambiguous.
 */
export {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthListRequest,
  HealthListResponse,
  type HealthServer,
  HealthService,
} from './gen/grpc/health/v1/health.js';
export { CallError, CallHeader } from './gen/ser/v1/call_stream.js';
export {
  AudioInfo,
  AudioSource,
  ClassifyRequest,
  ClassifyResponse,
  ClassifyStreamRequest,
  ClassifyStreamResponse,
  ExtractRequest,
  ExtractResponse,
  FeatureExtractorServiceClient,
  type FeatureExtractorServiceServer,
  FeatureExtractorServiceService,
  Timings,
} from './gen/ser/v1/feature_extractor.js';
export {
  FeatureSpec,
  InferenceServiceClient,
  type InferenceServiceServer,
  InferenceServiceService,
  ModelIdentity,
  ModelMetadataRequest,
  ModelMetadataResponse,
  PredictRequest,
  PredictResponse,
  PredictStreamRequest,
  PredictStreamResponse,
  Scaler,
  ServerLiveRequest,
  ServerLiveResponse,
  ServerReadyRequest,
  ServerReadyResponse,
} from './gen/ser/v1/inference.js';

/** Fully qualified service names, as health checks and reflection spell them. */
export const INFERENCE_SERVICE_NAME = 'ser.v1.InferenceService';
export const FEATURE_EXTRACTOR_SERVICE_NAME = 'ser.v1.FeatureExtractorService';
