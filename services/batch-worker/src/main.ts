/**
 * The batch worker process: `node --import tsx services/batch-worker/src/main.ts`.
 * On SIGTERM/SIGINT it finishes the items in flight, takes no new ones, then closes
 * the gRPC channel, Redis and the database.
 */
import { ConfigError } from '@ser/config';
import { createDb } from '@ser/db';
import { closeClient, createClient, FeatureExtractorServiceClient, startMetricsServer, stopOnSignals } from '@ser/grpc';
import { createLogger, createRegistry } from '@ser/observability';
import { producerConnection, workerConnection } from '@ser/queue';
import { type BatchWorkerConfig, loadBatchWorkerConfig } from './config.js';
import { startBatchWorker } from './worker.js';

let config: BatchWorkerConfig;
try {
  config = loadBatchWorkerConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const logger = createLogger('batch-worker', { level: config.logLevel });
const registry = createRegistry('batch-worker');
const db = createDb(config.databaseUrl, {
  poolSize: config.databasePoolSize,
  connectTimeoutMs: config.databaseConnectTimeoutMs,
  queryTimeoutMs: config.databaseQueryTimeoutMs,
});
const extractor = createClient(FeatureExtractorServiceClient, config.extractorAddress, { deadlineMs: config.classifyDeadlineMs });
const workerRedis = workerConnection(config.redisUrl);
const producerRedis = producerConnection(config.redisUrl);
// ioredis reconnects by itself; without a listener its 'error' events would crash the process.
for (const redis of [workerRedis, producerRedis]) redis.on('error', (err) => logger.warn({ err: err.message }, 'redis'));

const worker = startBatchWorker({
  config,
  db,
  extractor,
  workerConnection: workerRedis,
  producerConnection: producerRedis,
  registry,
  logger,
});
const metrics = await startMetricsServer(registry, config.metricsPort, config.metricsHost).catch((err: Error) => {
  logger.fatal({ err }, `batch worker refuses to start: metrics port ${config.metricsPort}: ${err.message}`);
  process.exit(1);
});
logger.info({ extractor: config.extractorAddress, metricsPort: metrics?.port }, 'batch worker ready');

stopOnSignals(async () => {
  await worker.close();
  closeClient(extractor);
  await Promise.allSettled([workerRedis.quit(), producerRedis.quit(), db.$disconnect(), metrics?.close()]);
}, logger);
