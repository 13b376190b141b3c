export { BundleError, type LoadOptions, ModelBundle, readManifest, sha256 } from './bundle.js';
export type { ModelManifest, TensorSpec } from './manifest.js';
export { argmax, type ClassMetrics, computeMetrics, type Metrics } from './metrics.js';
