/**
 * The real pipeline for the batch worker's tests: a local S3 server holding the
 * uploads, the inference and feature-extractor servers in-process with the shipped
 * model, PostgreSQL, and Redis under a queue prefix of this test file's own.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createDb, createJob, type Db, getJob, type JobRow, type RecordingInput } from '@ser/db';
// Relative imports: these packages are not dependencies of the batch worker, only of its tests.
import { type ExtractorServer, loadExtractorConfig, startExtractorServer } from '@ser/feature-extractor';
import { createClient, FeatureExtractorServiceClient } from '@ser/grpc';
import { type InferenceServer, loadInferenceConfig, startInferenceServer } from '@ser/inference';
import { createLogger, createRegistry, newCorrelationId } from '@ser/observability';
import { type ClassifyItemPayload, ITEM_JOB_OPTIONS, itemJobId, itemsQueue, JOBS, producerConnection, workerConnection } from '@ser/queue';
import { type LocalS3, ObjectStore, startLocalS3 } from '@ser/storage';
import { type BatchWorker, type BatchWorkerSettings, startBatchWorker } from '../src/worker.js';

const SHARED = resolve(import.meta.dirname, '../../../../shared');
/** 22050 Hz FLAC (the training corpus) and the original 48 kHz recordings, as users upload them. */
export const CLIPS_22K = join(SHARED, 'ravdess/Audio_Speech_Actors_01-24/Actor_01');
export const CLIPS_48K = join(SHARED, 'ravdess-48k/Audio_Speech_Actors_01-24/Actor_21');

export async function clipPaths(dir: string, count: number): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.flac'))
    .sort()
    .slice(0, count)
    .map((f) => join(dir, f));
}

/** A file that looks like a WAV (RIFF/WAVE header) and is noise after it. */
export function corruptWav(): Buffer {
  const bytes = Buffer.alloc(4096);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
  bytes.write('RIFF', 0, 'ascii');
  bytes.writeUInt32LE(bytes.length - 8, 4);
  bytes.write('WAVE', 8, 'ascii');
  return bytes;
}

export interface Upload {
  filename: string;
  bytes: Buffer;
}

export interface Harness {
  db: Db;
  store: ObjectStore;
  prefix: string;
  redisUrl: string;
  extractorAddress: string;
  extractorClient: FeatureExtractorServiceClient;
  items: ReturnType<typeof itemsQueue>;
  /** Uploads the files and creates the job and its recordings, as the gateway does. */
  createBatch(
    files: Upload[],
    callbackUrl?: string,
  ): Promise<{ jobId: string; recordings: RecordingInput[]; payloads: ClassifyItemPayload[] }>;
  /** Queues one item per recording with the predictable ids (addBulk, as the gateway does). */
  enqueue(payloads: ClassifyItemPayload[], options?: Record<string, unknown>): Promise<void>;
  waitForJob(jobId: string, timeoutMs?: number): Promise<JobRow>;
  startWorker(settings?: Partial<BatchWorkerSettings>): { worker: BatchWorker; registry: ReturnType<typeof createRegistry> };
  stopExtractor(): Promise<void>;
  /** Starts the extractor again on the same port. */
  startExtractor(): Promise<void>;
  close(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startHarness(name: string): Promise<Harness> {
  const logger = createLogger('batch-worker-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const redisUrl = process.env.TEST_REDIS_URL!;
  const prefix = `test-bw-${name}-${randomUUID().slice(0, 8)}`;
  const db = createDb(process.env.TEST_DATABASE_URL!);
  const directory = await mkdtemp(join(tmpdir(), 'ser-batch-s3-'));
  const s3: LocalS3 = await startLocalS3({ directory });
  const storage = {
    s3Endpoint: s3.endpoint,
    s3AccessKey: s3.accessKey,
    s3SecretKey: s3.secretKey,
    s3Bucket: 'ser-audio',
    s3Region: 'us-east-1',
  };
  const store = new ObjectStore(storage);
  await store.ensureBucket();

  const quiet = { METRICS_PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' };
  const inference: InferenceServer = await startInferenceServer(loadInferenceConfig({ ...quiet, INFERENCE_PORT: '0' }));
  const extractorEnv = {
    ...quiet,
    INFERENCE_ADDRESS: inference.address,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    SHUTDOWN_GRACE_MS: '2000',
  };
  let extractor: ExtractorServer | undefined = await startExtractorServer(loadExtractorConfig({ ...extractorEnv, EXTRACTOR_PORT: '0' }));
  const extractorPort = extractor.port;
  const extractorAddress = extractor.address;
  const extractorClient = createClient(FeatureExtractorServiceClient, extractorAddress);

  const producer = producerConnection(redisUrl);
  const items = itemsQueue(producer, prefix);
  const workers: { worker: BatchWorker; connections: ReturnType<typeof workerConnection>[]; client: FeatureExtractorServiceClient }[] = [];

  return {
    db,
    store,
    prefix,
    redisUrl,
    extractorAddress,
    extractorClient,
    items,
    async createBatch(files, callbackUrl) {
      const jobId = randomUUID();
      const correlationId = newCorrelationId();
      const recordings: RecordingInput[] = [];
      for (const file of files) {
        const id = randomUUID();
        const objectKey = `uploads/${jobId}/${id}`;
        await store.put(objectKey, file.bytes, { size: file.bytes.length });
        recordings.push({
          id,
          objectKey,
          filename: file.filename,
          contentType: 'audio/flac',
          bytes: file.bytes.length,
          sha256: createHash('sha256').update(file.bytes).digest('hex'),
        });
      }
      await createJob(db, { id: jobId, recordings, callbackUrl, correlationId });
      const payloads = recordings.map((r, position) => ({
        jobId,
        recordingId: r.id,
        objectKey: r.objectKey,
        filename: r.filename,
        position,
        correlationId,
      }));
      return { jobId, recordings, payloads };
    },
    async enqueue(payloads, options = {}) {
      await items.addBulk(
        payloads.map((data) => ({
          name: JOBS.classify,
          data,
          opts: { ...ITEM_JOB_OPTIONS, ...options, jobId: itemJobId(data.jobId, data.recordingId) },
        })),
      );
    },
    waitForJob: (jobId, timeoutMs = 30_000) =>
      waitFor(
        `job ${jobId} to finish`,
        async () => {
          const row = await getJob(db, jobId);
          return row?.finishedAt ? row : undefined;
        },
        timeoutMs,
      ),
    startWorker(settings = {}) {
      const registry = createRegistry('batch-worker');
      const connections = [workerConnection(redisUrl), producerConnection(redisUrl)];
      const client = createClient(FeatureExtractorServiceClient, extractorAddress);
      const worker = startBatchWorker({
        config: {
          queuePrefix: prefix,
          concurrency: 4,
          classifyDeadlineMs: 10_000,
          lockDurationMs: 30_000,
          orphanAfterMs: 600_000,
          webhookSecret: undefined,
          webhookTimeoutMs: 2_000,
          webhookAllowPrivate: false,
          ...settings,
        },
        db,
        extractor: client,
        workerConnection: connections[0],
        producerConnection: connections[1],
        registry,
        logger,
      });
      workers.push({ worker, connections, client });
      return { worker, registry };
    },
    async stopExtractor() {
      await extractor?.shutdown();
      extractor = undefined;
    },
    async startExtractor() {
      extractor = await startExtractorServer(loadExtractorConfig({ ...extractorEnv, EXTRACTOR_PORT: String(extractorPort) }));
    },
    async close() {
      for (const { worker, connections, client } of workers) {
        await worker.close();
        client.close();
        for (const c of connections) c.disconnect();
      }
      await items.obliterate({ force: true }).catch(() => undefined);
      const keys = await producer.keys(`${prefix}:*`);
      if (keys.length) await producer.del(...keys);
      producer.disconnect();
      extractorClient.close();
      await extractor?.shutdown();
      await inference.shutdown();
      await s3.close();
      await db.$disconnect();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function readClips(paths: string[]): Promise<Upload[]> {
  return Promise.all(paths.map(async (path) => ({ filename: basename(path), bytes: await readFile(path) })));
}
