/**
 * The real things the gateway tests run against: PostgreSQL (TEST_DATABASE_URL),
 * Redis (TEST_REDIS_URL, a queue prefix of the test file's own), a local S3 server
 * in a temp dir, and, when asked for, the real inference server with the shipped
 * model and the real feature extractor, in-process on free ports.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db } from '@ser/db';
import { createClient, FeatureExtractorServiceClient, InferenceServiceClient } from '@ser/grpc';
import { createLogger, createRegistry } from '@ser/observability';
import { itemsQueue, producerConnection } from '@ser/queue';
import { type LocalS3, listLocalS3Keys, ObjectStore, startLocalS3 } from '@ser/storage';
import type { FastifyInstance } from 'fastify';
import { loadExtractorConfig, startExtractorServer } from '../../feature-extractor/src/index.js';
import { DEFAULT_MODEL_DIR, loadInferenceConfig, startInferenceServer } from '../../inference/src/index.js';
import { buildGateway } from '../src/app.js';
import { type GatewayConfig, loadGatewayConfig } from '../src/config.js';
import type { GatewayDeps } from '../src/deps.js';

export const RAVDESS = new URL('../../../../shared/ravdess/Audio_Speech_Actors_01-24/', import.meta.url);
export const clip = (actor: string, name: string) => new URL(`Actor_${actor}/${name}`, RAVDESS);
/** The version of the shipped model, which the real inference server serves. */
export const SHIPPED_VERSION: string = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')).version;

const silent = createLogger('gateway-test', { level: 'silent' });

/** Debug log lines kept in `lines` instead of going to stdout. */
function capturingLogger(lines: string[]) {
  return createLogger('feature-extractor', {
    level: 'debug',
    hooks: {
      streamWrite: (line) => {
        lines.push(line);
        return '';
      },
    },
  });
}

export type InferenceHandle = Awaited<ReturnType<typeof startInferenceServer>>;
export type ExtractorHandle = Awaited<ReturnType<typeof startExtractorServer>>;

export interface Backends {
  db: Db;
  s3: LocalS3;
  store: ObjectStore;
  queue: GatewayDeps['queue'];
  redis: GatewayDeps['redis'];
  queuePrefix: string;
  inference?: InferenceHandle;
  extractor?: ExtractorHandle;
  /** Objects in the bucket now. */
  objectCount(): Promise<number>;
  /** Environment for loadGatewayConfig that points at these backends. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export function startInference(): Promise<InferenceHandle> {
  return startInferenceServer(loadInferenceConfig({ INFERENCE_PORT: '0', METRICS_PORT: '0' }), { logger: silent });
}

/** `name` keeps each test file's queue and bucket apart from the others'. */
export async function startBackends(name: string, options: { classifiers: boolean; extractorLog?: string[] }): Promise<Backends> {
  const dir = await mkdtemp(join(tmpdir(), `ser-gateway-${name}-`));
  const [s3, inference] = await Promise.all([
    startLocalS3({ directory: join(dir, 's3') }),
    options.classifiers ? startInference() : undefined,
  ]);
  const bucket = `gw-${name}`;
  const env: Record<string, string> = {
    GATEWAY_PORT: '0',
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    PUBLIC_DIR: join(dir, 'public'),
    LOG_LEVEL: 'silent',
    // Nothing listens on port 1: without classifiers, calls fail fast as UNAVAILABLE.
    INFERENCE_ADDRESS: inference?.address ?? '127.0.0.1:1',
    EXTRACTOR_ADDRESS: '127.0.0.1:1',
  };
  const extractor = inference
    ? await startExtractorServer(
        loadExtractorConfig({
          ...env,
          EXTRACTOR_PORT: '0',
          METRICS_PORT: '0',
          EXTRACTOR_THREADS: '1',
          INFERENCE_ADDRESS: inference.address,
        }),
        { logger: options.extractorLog ? capturingLogger(options.extractorLog) : silent, probeIntervalMs: 100 },
      )
    : undefined;
  if (extractor) env.EXTRACTOR_ADDRESS = extractor.address;

  const store = new ObjectStore({
    s3Endpoint: s3.endpoint,
    s3AccessKey: s3.accessKey,
    s3SecretKey: s3.secretKey,
    s3Bucket: bucket,
    s3Region: 'us-east-1',
  });
  await store.ensureBucket();
  const db = createDb(process.env.TEST_DATABASE_URL!);
  const queuePrefix = `ser-test-gateway-${name}-${randomUUID().slice(0, 8)}`;
  const redis = producerConnection(process.env.TEST_REDIS_URL!);
  const queue = itemsQueue(redis, queuePrefix);
  return {
    db,
    s3,
    store,
    queue,
    redis,
    queuePrefix,
    inference,
    extractor,
    env,
    async objectCount() {
      return (await listLocalS3Keys(join(dir, 's3'), bucket)).length;
    },
    async close() {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      redis.disconnect();
      await db.$disconnect();
      await extractor?.shutdown();
      await inference?.shutdown();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  config: GatewayConfig;
  deps: GatewayDeps;
  close(): Promise<void>;
}

/** The gateway on the backends, with settings overridden by `env`. Its gRPC clients are its own. */
export async function buildTestApp(b: Backends, env: Record<string, string> = {}, overrides: Partial<GatewayDeps> = {}): Promise<TestApp> {
  const config = loadGatewayConfig({ ...b.env, ...env });
  const extractor = createClient(FeatureExtractorServiceClient, config.extractorAddress, { deadlineMs: config.classifyDeadlineMs });
  const inference = createClient(InferenceServiceClient, config.inferenceAddress);
  const deps: GatewayDeps = {
    config,
    logger: silent,
    db: b.db,
    store: b.store,
    queue: b.queue,
    redis: b.redis,
    extractor,
    inference,
    registry: createRegistry('gateway-test'),
    ...overrides,
  };
  const app = await buildGateway(deps);
  return {
    app,
    config,
    deps,
    async close() {
      await app.close();
      extractor.close();
      inference.close();
    },
  };
}

export interface FormPart {
  name: string;
  /** Makes the part a file. */
  filename?: string;
  /** Raw Content-Disposition parameters, for names no client library would write (e.g. filename*=). */
  rawDisposition?: Buffer | string;
  contentType?: string;
  data: Buffer | string;
}

/**
 * A multipart/form-data body written by hand: FormData percent-encodes quotes in
 * file names and cannot send raw non-UTF-8 bytes, which the tests need.
 */
export function multipart(parts: FormPart[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----ser-test-${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.rawDisposition !== undefined
        ? Buffer.concat([Buffer.from(`form-data; name="${part.name}"; `), Buffer.from(part.rawDisposition)])
        : Buffer.from(`form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`);
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: `), disposition, Buffer.from('\r\n'));
    if (part.contentType !== undefined || part.filename !== undefined || part.rawDisposition !== undefined)
      chunks.push(Buffer.from(`Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n`));
    chunks.push(Buffer.from('\r\n'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export { parseCsv } from '@ser/e2e-tests/csv';
