/** The inference service's settings, validated once at start-up (every bad key is named). */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConfigOf, env, loadConfig, type Setting } from '@ser/config';

/** The shipped bundle, located from this file so the service starts from any working directory. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/ser-default', import.meta.url));

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A directory; a relative one is taken from the working directory, as a shell user expects. */
function directory(key: string, fallback: string): Setting<string> {
  return { key, read: (raw) => (raw === undefined ? fallback : resolve(raw.trim())) };
}

export const inferenceSettings = {
  host: env.string('INFERENCE_HOST', '127.0.0.1'),
  /** 0: any free port (tests). */
  port: env.port('INFERENCE_PORT', 50051),
  modelDir: directory('MODEL_DIR', DEFAULT_MODEL_DIR),
  /** Most rows in one model run. */
  batchMaxSize: env.int('BATCH_MAX_SIZE', 32, { min: 1, max: 4096 }),
  /** How long the first request of an idle server waits for company. */
  batchMaxDelayMs: env.number('BATCH_MAX_DELAY_MS', 2, { min: 0, max: 1000 }),
  /** ONNX Runtime intra-op threads. */
  threads: env.int('INFERENCE_THREADS', 1, { min: 1, max: 64 }),
  /** Prometheus /metrics port; 0 disables it. */
  metricsPort: env.port('METRICS_PORT', 9101),
  /** How long a shutdown waits for calls in flight before cancelling them. */
  shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
  logLevel: env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
};

export type InferenceConfig = ConfigOf<typeof inferenceSettings>;

export function loadInferenceConfig(environment: Record<string, string | undefined> = process.env): InferenceConfig {
  return loadConfig('inference', inferenceSettings, environment);
}
