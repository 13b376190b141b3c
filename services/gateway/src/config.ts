/** The gateway's settings, validated once at start-up (every bad key is named). */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytes, type ConfigOf, env, loadConfig, type Setting } from '@ser/config';
import { databaseSettings } from '@ser/db';
import { queueSettings } from '@ser/queue';
import { storageSettings } from '@ser/storage';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** services/gateway/public, located from this file so the gateway starts from any working directory. */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/** A directory; a relative one is taken from the working directory, as a shell user expects. */
function directory(key: string, fallback: string): Setting<string> {
  return { key, read: (raw) => (raw === undefined ? fallback : resolve(raw.trim())) };
}

export const gatewaySettings = {
  host: env.string('GATEWAY_HOST', '127.0.0.1'),
  /** 0: any free port (tests). */
  port: env.port('GATEWAY_PORT', 8080),
  extractorAddress: env.address('EXTRACTOR_ADDRESS', '127.0.0.1:50052'),
  inferenceAddress: env.address('INFERENCE_ADDRESS', '127.0.0.1:50051'),
  /** Largest single upload; a bigger file is answered 413. */
  maxFileBytes: bytes('MAX_FILE_BYTES', 50 * 1024 * 1024),
  /** Most files in one batch job; more are answered 413. */
  maxFiles: env.int('MAX_FILES', 500, { min: 1, max: 100_000 }),
  /** Deadline of one synchronous Classify call (POST /v1/predictions). */
  classifyDeadlineMs: env.int('CLASSIFY_DEADLINE_MS', 10_000, { min: 1 }),
  /** How long queueing a job's items may take before the job is failed with 503 (BullMQ waits for Redis forever). */
  queueTimeoutMs: env.int('QUEUE_TIMEOUT_MS', 5_000, { min: 1 }),
  /** Each readiness check gives up after this long. */
  readyTimeoutMs: env.int('READY_TIMEOUT_MS', 2_000, { min: 1 }),
  /** How long a shutdown waits for requests in flight. */
  shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
  /** The web page: index.html there is served at /. */
  publicDir: directory('PUBLIC_DIR', DEFAULT_PUBLIC_DIR),
  logLevel: env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  /** Every /v1 route asks for an API key (x-api-key or Authorization: Bearer); off by default. */
  apiKeysRequired: env.bool('API_KEYS_REQUIRED', false),
  /** How long a looked-up key is trusted before it is read again: a revocation takes effect within this. */
  apiKeyCacheMs: env.int('API_KEY_CACHE_MS', 5_000, { min: 0, max: 60_000 }),
  /** The window each key's rate limit counts over (keys' limits are per minute; shorter only for tests). */
  rateLimitWindowMs: env.int('RATE_LIMIT_WINDOW_MS', 60_000, { min: 100, max: 3_600_000 }),
  ...databaseSettings,
  ...queueSettings,
  ...storageSettings,
};

export type GatewayConfig = ConfigOf<typeof gatewaySettings>;

export function loadGatewayConfig(environment: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig('gateway', gatewaySettings, environment);
}
