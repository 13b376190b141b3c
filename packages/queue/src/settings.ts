import { env } from '@ser/config';
import { ITEM_JOB_OPTIONS } from './definitions.js';

export const queueSettings = {
  redisUrl: env.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis', 'rediss']),
  /** Key prefix, so several platforms (or test runs) can share one Redis. */
  queuePrefix: env.string('QUEUE_PREFIX', 'ser'),
  /** Attempts of one batch item (the first included) before it is recorded as RETRIES_EXHAUSTED; read by whoever queues items. */
  itemAttempts: env.int('ITEM_ATTEMPTS', ITEM_JOB_OPTIONS.attempts, { min: 1, max: 100 }),
  /** First retry delay of a batch item; each later one doubles it. */
  itemBackoffMs: env.int('ITEM_BACKOFF_MS', ITEM_JOB_OPTIONS.backoff.delay, { min: 10, max: 600_000 }),
};
