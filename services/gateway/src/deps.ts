/** Everything the app talks to, built by server.ts (or a test) and handed in. */
import type { Db } from '@ser/db';
import type { FeatureExtractorServiceClient, InferenceServiceClient } from '@ser/grpc';
import type { Logger, Registry } from '@ser/observability';
import type { itemsQueue, producerConnection } from '@ser/queue';
import type { ObjectStore } from '@ser/storage';
import type { GatewayConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';

export type ItemsQueue = ReturnType<typeof itemsQueue>;
export type RedisConnection = ReturnType<typeof producerConnection>;

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  db: Db;
  store: ObjectStore;
  /** The batch items queue (BullMQ), on `redis`. */
  queue: ItemsQueue;
  /** The producer connection, pinged by /readyz. */
  redis: RedisConnection;
  extractor: FeatureExtractorServiceClient;
  inference: InferenceServiceClient;
  /** Defaults to a fresh registry with Node's default metrics. */
  registry?: Registry;
}

/** What each route plugin receives as its options. */
export interface RouteContext {
  deps: GatewayDeps;
  metrics: GatewayMetrics;
}
