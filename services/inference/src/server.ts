/**
 * Builds and starts the inference server: loads the bundle (refusing a bad one),
 * serves InferenceService and Health on gRPC and the metrics on HTTP, and stops
 * gracefully (NOT_SERVING, calls in flight finish, queued batches run, session
 * released).
 */
import { Server } from '@grpc/grpc-js';
import {
  bindServer,
  HealthImplementation,
  INFERENCE_SERVICE_NAME,
  InferenceServiceService,
  type MetricsServer,
  ServingStatus,
  shutdownServer,
  startMetricsServer,
  unaryWrapper,
} from '@ser/grpc';
import { ModelBundle } from '@ser/model';
import { createLogger, createRegistry, type Logger, type Registry } from '@ser/observability';
import { DynamicBatcher } from './batcher.js';
import type { InferenceConfig } from './config.js';
import { inferenceService, modelIdentity } from './inference-service.js';
import { createInferenceMetrics } from './metrics.js';

export interface InferenceServer {
  /** host:port clients dial. */
  address: string;
  port: number;
  bundle: ModelBundle;
  batcher: DynamicBatcher;
  health: HealthImplementation;
  registry: Registry;
  metrics: MetricsServer | undefined;
  /** Idempotent. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  registry?: Registry;
}

/** A Predict of up to ~1700 rows fits (grpc-js's default limit of 4 MiB takes ~440). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Starts serving; rejects with BundleError when the bundle is not sound. */
export async function startInferenceServer(config: InferenceConfig, options: StartOptions = {}): Promise<InferenceServer> {
  const logger = options.logger ?? createLogger('inference', { level: config.logLevel });
  const bundle = await ModelBundle.load(config.modelDir, { threads: config.threads });
  const registry = options.registry ?? createRegistry('inference');
  const identity = modelIdentity(bundle);
  const classes = bundle.manifest.labels.length;
  const batcher = new DynamicBatcher(
    async (input) => {
      const rows = await bundle.predictScaled(input);
      const out = new Float32Array(rows.length * classes);
      for (const [r, p] of rows.entries()) out.set(p, r * classes);
      return out;
    },
    {
      maxSize: config.batchMaxSize,
      maxDelayMs: config.batchMaxDelayMs,
      vectorLength: bundle.vectorLength,
      classes,
      metrics: createInferenceMetrics(registry, identity),
    },
  );
  let ready = false;
  const health = new HealthImplementation({ '': ServingStatus.NOT_SERVING, [INFERENCE_SERVICE_NAME]: ServingStatus.NOT_SERVING });
  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  const unary = unaryWrapper({ registry, logger });
  server.addService(InferenceServiceService, inferenceService({ bundle, batcher, unary, isReady: () => ready }));
  health.addTo(server);

  let port: number;
  let metrics: MetricsServer | undefined;
  try {
    port = await bindServer(server, config.host, config.port);
    metrics = await startMetricsServer(registry, config.metricsPort, config.host);
  } catch (err) {
    server.forceShutdown();
    await bundle.close();
    throw err;
  }
  ready = true;
  health.setAll(ServingStatus.SERVING);
  const address = `${config.host}:${port}`;
  logger.info(
    {
      address,
      model: identity,
      scalerDigest: bundle.scalerDigest,
      metricsPort: metrics?.port,
      batch: [config.batchMaxSize, config.batchMaxDelayMs],
    },
    'inference serving',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      ready = false;
      health.setAll(ServingStatus.NOT_SERVING);
      health.endWatches();
      unary.endStreams();
      // Queued requests run now rather than after their batching delay; calls in flight finish.
      const [clean] = await Promise.all([shutdownServer(server, config.shutdownGraceMs), batcher.drain()]);
      await bundle.close();
      await metrics?.close();
      logger.info({ clean }, 'inference stopped');
    })());

  return { address, port, bundle, batcher, health, registry, metrics, shutdown };
}
