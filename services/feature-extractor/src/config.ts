/** The feature extractor's settings, validated once at start-up (every bad key is named). */
import { bytes, type ConfigOf, env, loadConfig } from '@ser/config';
import { storageSettings } from '@ser/storage';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const extractorSettings = {
  host: env.string('EXTRACTOR_HOST', '127.0.0.1'),
  /** 0: any free port (tests). */
  port: env.port('EXTRACTOR_PORT', 50052),
  inferenceAddress: env.address('INFERENCE_ADDRESS', '127.0.0.1:50051'),
  /** 1: features on the main thread; N >= 2: a pool of N worker threads. */
  threads: env.int('EXTRACTOR_THREADS', 2, { min: 1, max: 64 }),
  /** Longer recordings are refused (INVALID_ARGUMENT, reason TOO_LONG). */
  maxAudioSeconds: env.number('MAX_AUDIO_SECONDS', 600, { min: 1 }),
  /** Largest request accepted (inline audio travels in it). */
  maxMessageBytes: bytes('MAX_MESSAGE_BYTES', 64 * 1024 * 1024),
  /** Deadline of each call to inference (shortened to the caller's own deadline). */
  inferenceDeadlineMs: env.int('INFERENCE_DEADLINE_MS', 5000, { min: 1 }),
  /** Prometheus /metrics port; 0 disables it. */
  metricsPort: env.port('METRICS_PORT', 9102),
  /** How long a shutdown waits for calls in flight before cancelling them. */
  shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
  logLevel: env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  ...storageSettings,
};

export type ExtractorConfig = ConfigOf<typeof extractorSettings>;

export function loadExtractorConfig(environment: Record<string, string | undefined> = process.env): ExtractorConfig {
  return loadConfig('feature-extractor', extractorSettings, environment);
}
