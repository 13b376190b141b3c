/**
 * Redis connections as BullMQ's production guide asks: producers fail fast when
 * Redis is down (no offline queue, few retries); workers wait for it forever
 * (maxRetriesPerRequest: null) so a Redis restart pauses them instead of killing them.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ITEM_JOB_OPTIONS, QUEUES, WEBHOOK_JOB_OPTIONS } from './definitions.js';

export function producerConnection(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000, lazyConnect: false });
}

export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** `retry` overrides ITEM_JOB_OPTIONS' attempts and first backoff delay (the ITEM_ATTEMPTS, ITEM_BACKOFF_MS settings). */
export function itemsQueue(connection: Redis, prefix: string, retry?: { attempts: number; backoffMs: number }): Queue {
  const defaultJobOptions = retry
    ? { ...ITEM_JOB_OPTIONS, attempts: retry.attempts, backoff: { ...ITEM_JOB_OPTIONS.backoff, delay: retry.backoffMs } }
    : ITEM_JOB_OPTIONS;
  return new Queue(QUEUES.items, { connection, prefix, defaultJobOptions });
}

export function webhooksQueue(connection: Redis, prefix: string): Queue {
  return new Queue(QUEUES.webhooks, { connection, prefix, defaultJobOptions: WEBHOOK_JOB_OPTIONS });
}
