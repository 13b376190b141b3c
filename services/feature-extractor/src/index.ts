export { type AudioSummary, computeClipFeatures, type FeatureJob, type FeatureResult } from './clip-features.js';
export { type ExtractorConfig, extractorSettings, loadExtractorConfig } from './config.js';
export { createFeaturePool, type FeaturePool } from './feature-pool.js';
export { ModelClient, type ServedModel, scaleVector, servedModel } from './model-client.js';
export { type ExtractorServer, startExtractorServer } from './server.js';
