import { env } from '@ser/config';

export const queueSettings = {
  redisUrl: env.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis', 'rediss']),
  /** Key prefix, so several platforms (or test runs) can share one Redis. */
  queuePrefix: env.string('QUEUE_PREFIX', 'ser'),
};
