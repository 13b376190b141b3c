/**
 * Builds the real dependencies, makes sure the bucket exists, listens, and stops
 * gracefully: no new connections, requests in flight finish, then the queue,
 * Redis, the database pool and the gRPC channels are closed.
 */
import { createDb } from '@ser/db';
import { closeClient, createClient, FeatureExtractorServiceClient, InferenceServiceClient } from '@ser/grpc';
import { createLogger, type Logger } from '@ser/observability';
import { itemsQueue, producerConnection } from '@ser/queue';
import { ObjectStore } from '@ser/storage';
import type { FastifyInstance } from 'fastify';
import { buildGateway } from './app.js';
import type { GatewayConfig } from './config.js';

export interface RunningGateway {
  /** http://host:port */
  url: string;
  app: FastifyInstance;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * The other services create the bucket too when they start, at the same moment:
 * the loser of that race gets an error although the bucket now exists, and object
 * storage may itself still be starting. A few quick retries settle both.
 */
async function ensureBucket(store: ObjectStore, logger: Logger, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.ensureBucket();
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      logger.warn({ err: (err as Error).message, attempt }, 'could not ensure the bucket yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

export async function startGateway(config: GatewayConfig, options: { logger?: Logger } = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway', { level: config.logLevel });
  const store = new ObjectStore(config);
  await ensureBucket(store, logger);

  const db = createDb(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
  });
  const redis = producerConnection(config.redisUrl);
  // Without a listener ioredis prints every reconnect failure; /readyz reports Redis instead.
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = itemsQueue(redis, config.queuePrefix, { attempts: config.itemAttempts, backoffMs: config.itemBackoffMs });
  queue.on('error', (err: Error) => logger.warn({ err: err.message }, 'queue error'));
  const extractor = createClient(FeatureExtractorServiceClient, config.extractorAddress, { deadlineMs: config.classifyDeadlineMs });
  const inference = createClient(InferenceServiceClient, config.inferenceAddress);

  const releaseBackends = async () => {
    await queue.close().catch((err: unknown) => logger.warn({ err }, 'closing the queue failed'));
    redis.disconnect();
    await db.$disconnect();
    closeClient(extractor);
    inference.close();
  };

  let app: FastifyInstance;
  try {
    app = await buildGateway({ config, logger, db, store, queue, redis, extractor, inference });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await releaseBackends();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const timer = setTimeout(() => {
        logger.warn('requests still in flight after the grace period: closing their connections');
        app.server.closeAllConnections();
      }, config.shutdownGraceMs);
      await app.close();
      clearTimeout(timer);
      await releaseBackends();
      logger.info('gateway stopped');
    })());

  return { url, app, close };
}
