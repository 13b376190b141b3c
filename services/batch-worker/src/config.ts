/** The batch worker's settings, validated once at start-up (every bad key is named). */
import { type ConfigOf, env, loadConfig } from '@ser/config';
import { databaseSettings } from '@ser/db';
import { queueSettings } from '@ser/queue';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const batchWorkerSettings = {
  ...databaseSettings,
  ...queueSettings,
  /** The feature extractor's gRPC address; it fetches the audio from the bucket and asks inference. */
  extractorAddress: env.address('EXTRACTOR_ADDRESS', '127.0.0.1:50052'),
  /** Items classified at once by this process. */
  concurrency: env.int('WORKER_CONCURRENCY', 8, { min: 1, max: 256 }),
  /** Deadline of one Classify call; a call past it is retried like any transient failure. */
  classifyDeadlineMs: env.int('CLASSIFY_DEADLINE_MS', 10_000, { min: 100 }),
  /**
   * How long an item stays locked to a worker without a heartbeat. A killed worker's
   * items go back to the queue after about this long (BullMQ's stalled-job check).
   */
  lockDurationMs: env.int('WORKER_LOCK_DURATION_MS', 30_000, { min: 1_000 }),
  /**
   * A job still queued this long after it was created, none of whose items is in the
   * queue, was recorded by a gateway that stopped before queueing it: it is failed
   * (NOT_QUEUED). Far above the gateway's QUEUE_TIMEOUT_MS, so no job being queued is taken.
   */
  orphanAfterMs: env.int('ORPHAN_JOB_AFTER_MS', 600_000, { min: 60_000 }),
  /** HMAC-SHA256 key for the x-ser-signature header; absent: webhooks are unsigned. */
  webhookSecret: env.optional('WEBHOOK_SECRET'),
  webhookTimeoutMs: env.int('WEBHOOK_TIMEOUT_MS', 5_000, { min: 100, max: 120_000 }),
  /** Lets webhooks reach loopback and private networks (development, tests). Never in production. */
  webhookAllowPrivate: env.bool('WEBHOOK_ALLOW_PRIVATE', false),
  /** Prometheus /metrics port; 0 disables it. */
  metricsPort: env.port('METRICS_PORT', 9103),
  metricsHost: env.string('METRICS_HOST', '0.0.0.0'),
  logLevel: env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
};

export type BatchWorkerConfig = ConfigOf<typeof batchWorkerSettings>;

export function loadBatchWorkerConfig(environment: Record<string, string | undefined> = process.env): BatchWorkerConfig {
  return loadConfig('batch-worker', batchWorkerSettings, environment);
}
