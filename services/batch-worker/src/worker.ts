/**
 * The two BullMQ workers of the batch pipeline, built from injected dependencies so
 * tests run them against real services: items (classify and record) and webhooks.
 */
import type { Db } from '@ser/db';
import type { FeatureExtractorServiceClient } from '@ser/grpc';
import { type Logger, type Registry, withCorrelationId } from '@ser/observability';
import { type ClassifyItemPayload, itemsQueue, QUEUES, type WebhookPayload, webhooksQueue, type workerConnection } from '@ser/queue';
import { type Job, type Queue, Worker } from 'bullmq';
import type { BatchWorkerConfig } from './config.js';
import { createBatchMetrics, registerQueueDepth } from './metrics.js';
import { checkOrphanedJobs } from './orphaned-jobs.js';
import { MAX_STALLS, processItem } from './process-item.js';
import { processWebhook } from './process-webhook.js';

export type BatchWorkerSettings = Pick<
  BatchWorkerConfig,
  | 'queuePrefix'
  | 'concurrency'
  | 'classifyDeadlineMs'
  | 'lockDurationMs'
  | 'orphanAfterMs'
  | 'webhookSecret'
  | 'webhookTimeoutMs'
  | 'webhookAllowPrivate'
>;

/** ioredis, as @ser/queue makes it. */
type Redis = ReturnType<typeof workerConnection>;

export interface BatchWorkerDeps {
  config: BatchWorkerSettings;
  db: Db;
  extractor: FeatureExtractorServiceClient;
  /** For the workers: waits for Redis forever (maxRetriesPerRequest: null). BullMQ duplicates it for blocking reads. */
  workerConnection: Redis;
  /** For queueing webhooks and reading queue depth: fails fast when Redis is down. */
  producerConnection: Redis;
  registry: Registry;
  logger: Logger;
}

export interface BatchWorker {
  items: Worker<ClassifyItemPayload>;
  webhooks: Worker<WebhookPayload>;
  /** Finishes the items in flight and takes no new ones; the connections stay the caller's to close. */
  close(): Promise<void>;
}

export function startBatchWorker(deps: BatchWorkerDeps): BatchWorker {
  const { config, db, logger } = deps;
  const metrics = createBatchMetrics(deps.registry);
  const webhookQueue = webhooksQueue(deps.producerConnection, config.queuePrefix) as Queue<WebhookPayload>;
  const itemQueue = itemsQueue(deps.producerConnection, config.queuePrefix);
  registerQueueDepth(deps.registry, [itemQueue, webhookQueue]);

  const common = {
    connection: deps.workerConnection,
    prefix: config.queuePrefix,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.lockDurationMs,
    // processItem gives an item up after MAX_STALLS, recording it as failed. BullMQ itself
    // would fail it without calling processItem, so nothing would be recorded and its batch
    // job would never finish: its own limit only backs ours up.
    maxStalledCount: MAX_STALLS + 10,
  };
  const items = new Worker<ClassifyItemPayload>(
    QUEUES.items,
    (job: Job<ClassifyItemPayload>, token?: string) =>
      withCorrelationId(job.data.correlationId, () =>
        processItem(
          job,
          {
            db,
            extractor: deps.extractor,
            webhooks: webhookQueue,
            classifyDeadlineMs: config.classifyDeadlineMs,
            metrics,
            logger,
          },
          token,
        ),
      ),
    { ...common, concurrency: config.concurrency },
  );
  const webhooks = new Worker<WebhookPayload>(
    QUEUES.webhooks,
    (job: Job<WebhookPayload>) =>
      withCorrelationId(job.data.correlationId, () =>
        processWebhook(job, {
          db,
          secret: config.webhookSecret,
          timeoutMs: config.webhookTimeoutMs,
          allowPrivate: config.webhookAllowPrivate,
          metrics,
          logger,
        }),
      ),
    { ...common, concurrency: Math.min(config.concurrency, 16) },
  );
  for (const worker of [items, webhooks]) {
    // Without a listener an 'error' event would crash the process; BullMQ reconnects by itself.
    worker.on('error', (err) => {
      metrics.errors.inc({ kind: 'QUEUE_ERROR' });
      logger.error({ queue: worker.name, err }, 'worker error');
    });
    worker.on('stalled', (jobId) => logger.warn({ queue: worker.name, queueJobId: jobId }, 'stalled job back in the queue'));
  }
  // Checked a few times within the threshold, at most once a minute.
  const orphans = checkOrphanedJobs(
    { db, items: itemQueue, olderThanMs: config.orphanAfterMs, logger },
    Math.min(60_000, config.orphanAfterMs / 4),
  );
  logger.info({ prefix: config.queuePrefix, concurrency: config.concurrency }, 'batch worker started');

  let closing: Promise<void> | undefined;
  return {
    items,
    webhooks,
    close: () =>
      (closing ??= (async () => {
        await Promise.all([items.close(), webhooks.close(), orphans.stop()]);
        await Promise.all([itemQueue.close(), webhookQueue.close()]);
        logger.info('batch worker stopped');
      })()),
  };
}
