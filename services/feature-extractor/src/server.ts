/**
 * Builds and starts the feature extractor: worker pool, inference client, object
 * storage, FeatureExtractorService and Health on gRPC, metrics on HTTP; stops
 * gracefully. Health follows inference: NOT_SERVING while inference is unreachable.
 */
import { Server } from '@grpc/grpc-js';
import {
  bindServer,
  FEATURE_EXTRACTOR_SERVICE_NAME,
  FeatureExtractorServiceService,
  HealthImplementation,
  type MetricsServer,
  ServingStatus,
  shutdownServer,
  startMetricsServer,
  unaryWrapper,
} from '@ser/grpc';
import { createLogger, createRegistry, type Logger, type Registry } from '@ser/observability';
import { ObjectStore } from '@ser/storage';
import type { ExtractorConfig } from './config.js';
import { extractorService } from './extractor-service.js';
import { createFeaturePool, type FeaturePool } from './feature-pool.js';
import { createExtractorMetrics } from './metrics.js';
import { ModelClient } from './model-client.js';

export interface ExtractorServer {
  /** host:port clients dial. */
  address: string;
  port: number;
  health: HealthImplementation;
  registry: Registry;
  models: ModelClient;
  pool: FeaturePool;
  metrics: MetricsServer | undefined;
  /** Idempotent. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  registry?: Registry;
  /** How often inference's readiness is asked, for this server's health (default 2 s). */
  probeIntervalMs?: number;
}

export async function startExtractorServer(config: ExtractorConfig, options: StartOptions = {}): Promise<ExtractorServer> {
  const logger = options.logger ?? createLogger('feature-extractor', { level: config.logLevel });
  const registry = options.registry ?? createRegistry('feature-extractor');
  const health = new HealthImplementation({ '': ServingStatus.NOT_SERVING, [FEATURE_EXTRACTOR_SERVICE_NAME]: ServingStatus.NOT_SERVING });
  let stopping = false;
  const models = new ModelClient(config.inferenceAddress, config.inferenceDeadlineMs, (reachable) => {
    if (stopping) return;
    logger[reachable ? 'info' : 'warn'](
      { inference: config.inferenceAddress },
      reachable ? 'inference reachable' : 'inference unreachable',
    );
    health.setAll(reachable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  });
  const pool = await createFeaturePool(config.threads, logger);
  const store = config.s3Endpoint ? new ObjectStore(config) : undefined;

  const server = new Server({ 'grpc.max_receive_message_length': config.maxMessageBytes });
  const unary = unaryWrapper({ registry, logger });
  server.addService(
    FeatureExtractorServiceService,
    extractorService({
      models,
      pool,
      store,
      maxAudioSeconds: config.maxAudioSeconds,
      metrics: createExtractorMetrics(registry),
      logger,
      unary,
    }),
  );
  health.addTo(server);

  let port: number;
  let metrics: MetricsServer | undefined;
  try {
    port = await bindServer(server, config.host, config.port);
    metrics = await startMetricsServer(registry, config.metricsPort, config.host);
  } catch (err) {
    server.forceShutdown();
    models.close();
    await pool.close();
    throw err;
  }
  // Inference may start after us: the first probe (and every later one) sets the health status.
  const probe = () => void models.ready().then(() => models.model().catch(() => undefined));
  probe();
  const prober = setInterval(probe, options.probeIntervalMs ?? 2000);
  prober.unref();

  const address = `${config.host}:${port}`;
  logger.info(
    {
      address,
      inference: config.inferenceAddress,
      threads: pool.threads,
      storage: store ? store.bucket : null,
      metricsPort: metrics?.port,
    },
    'feature extractor serving',
  );

  let stopped: Promise<void> | undefined;
  const shutdown = () =>
    (stopped ??= (async () => {
      stopping = true;
      clearInterval(prober);
      health.setAll(ServingStatus.NOT_SERVING);
      health.endWatches();
      unary.endStreams();
      const clean = await shutdownServer(server, config.shutdownGraceMs);
      models.close();
      await pool.close();
      await metrics?.close();
      logger.info({ clean }, 'feature extractor stopped');
    })());

  return { address, port, health, registry, models, pool, metrics, shutdown };
}
