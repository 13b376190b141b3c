export { type BatchItem, type BatchOutcome, DynamicBatcher } from './batcher.js';
export { DEFAULT_MODEL_DIR, type InferenceConfig, inferenceSettings, loadInferenceConfig } from './config.js';
export { checkPredictRequest, modelIdentity, modelMetadata } from './inference-service.js';
export { type InferenceServer, startInferenceServer } from './server.js';
