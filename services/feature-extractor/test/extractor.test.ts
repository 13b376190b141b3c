/**
 * The feature extractor for real: a local S3 server, the real inference server with
 * the shipped bundle, and the extractor (worker pool of 2) between them.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '@ser/audio';
import {
  callUnary,
  createClient,
  FeatureExtractorServiceClient,
  GrpcError,
  HealthClient,
  type ModelIdentity,
  ServingStatus,
  status,
} from '@ser/grpc';
import { createLogger, type Logger } from '@ser/observability';
import { type LocalS3, ObjectStore, startLocalS3 } from '@ser/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipFeatures, loadClip } from '../../../packages/audio/src/index.js';
import { ModelBundle } from '../../../packages/model/src/index.js';
import { DEFAULT_MODEL_DIR, type InferenceServer, loadInferenceConfig, startInferenceServer } from '../../inference/src/index.js';
import { type ExtractorServer, loadExtractorConfig, startExtractorServer } from '../src/index.js';

const SHARED = new URL('../../../../shared/', import.meta.url);
const CLIP_22K = new URL('ravdess/Audio_Speech_Actors_01-24/Actor_01/03-01-05-01-01-01-01.flac', SHARED);
const CLIP_48K = new URL('ravdess-48k/Audio_Speech_Actors_01-24/Actor_21/03-01-03-02-01-01-21.flac', SHARED);

/** Log lines as written, captured by pino's streamWrite hook instead of going to stdout. */
function capturingLogger(service: string, level: string, lines: string[]): Logger {
  return createLogger(service, {
    level,
    hooks: {
      streamWrite: (line) => {
        lines.push(line);
        return '';
      },
    },
  });
}

let dir: string;
let s3: LocalS3;
let inference: InferenceServer;
let extractor: ExtractorServer;
let direct: ModelBundle;
let client: FeatureExtractorServiceClient;
let health: HealthClient;
const extractorLines: string[] = [];
const inferenceLines: string[] = [];
const inferenceConfig = loadInferenceConfig({ INFERENCE_PORT: '0', METRICS_PORT: '0' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-extractor-'));
  [s3, inference, direct] = await Promise.all([
    startLocalS3({ directory: join(dir, 's3') }),
    startInferenceServer(inferenceConfig, { logger: capturingLogger('inference', 'debug', inferenceLines) }),
    ModelBundle.load(DEFAULT_MODEL_DIR),
  ]);
  const env = {
    EXTRACTOR_PORT: '0',
    METRICS_PORT: '0',
    EXTRACTOR_THREADS: '2',
    INFERENCE_ADDRESS: inference.address,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'ser-test',
  };
  const config = loadExtractorConfig(env);
  const store = new ObjectStore(config);
  await store.ensureBucket();
  const clip = await readFile(CLIP_22K);
  await store.put('uploads/clip-22k.flac', clip, { size: clip.length });
  extractor = await startExtractorServer(config, {
    logger: capturingLogger('feature-extractor', 'info', extractorLines),
    probeIntervalMs: 100,
  });
  client = createClient(FeatureExtractorServiceClient, extractor.address, { deadlineMs: 10_000 });
  health = createClient(HealthClient, extractor.address);
});

afterAll(async () => {
  client?.close();
  health?.close();
  await extractor?.shutdown();
  await inference?.shutdown();
  await direct?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The serving path without any service: decode, features, scale, ONNX Runtime. */
async function directPath(bundle: ModelBundle, file: URL) {
  const spec = bundle.manifest.featureSpec;
  const clip = await loadClip(new Uint8Array(await readFile(file)), spec);
  return { probabilities: (await bundle.predict([clipFeatures(clip.y, spec).vector]))[0], source: clip.source };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const inline = (bytes: Uint8Array) => ({ audio: { source: { $case: 'content' as const, value: Buffer.from(bytes) }, filename: 'x' } });
const stored = (key: string) => ({ audio: { source: { $case: 'objectKey' as const, value: key }, filename: '' } });

async function rejection(promise: Promise<unknown>): Promise<GrpcError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcError);
  return err as GrpcError;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const healthStatus = () => callUnary(health, 'check', { service: 'ser.v1.FeatureExtractorService' }).then((r) => r.status);

describe('Classify', () => {
  it('classifies a 22050 Hz recording from the bucket as the direct serving path does', async () => {
    const res = await callUnary(client, 'classify', stored('uploads/clip-22k.flac'));
    const { probabilities: expected, source } = await directPath(direct, CLIP_22K);
    expect(maxDiff(res.probabilities, expected)).toBeLessThanOrEqual(1e-5);
    const best = expected.indexOf(Math.max(...expected));
    expect(res).toMatchObject({ model: { name: 'ser-default', version: direct.manifest.version }, labels: direct.manifest.labels });
    expect([res.emotion, res.confidence]).toEqual([direct.manifest.labels[best], res.probabilities[best]]);
    expect(res.audio).toEqual({ durationSeconds: source.totalFrames / 22050, sampleRate: 22050, channels: 1, format: 'flac' });
    expect(res.audio?.durationSeconds).toBeCloseTo(3.87, 2);
    expect(res.timings?.fetchMs).toBeGreaterThan(0);
    expect(res.timings?.totalMs).toBeGreaterThanOrEqual((res.timings?.featuresMs ?? 0) + (res.timings?.inferenceMs ?? 0));
  });

  it('classifies an inline 48 kHz recording as the direct serving path does', async () => {
    const bytes = await readFile(CLIP_48K);
    const res = await callUnary(client, 'classify', inline(bytes));
    expect(maxDiff(res.probabilities, (await directPath(direct, CLIP_48K)).probabilities)).toBeLessThanOrEqual(1e-5);
    expect(res.audio?.sampleRate).toBe(48000);
  });

  it('refuses undecodable, empty and too long audio with INVALID_ARGUMENT and the reason', async () => {
    const flac = await readFile(CLIP_48K);
    const cases: [Uint8Array, string][] = [
      [Buffer.from('this is not audio at all, just some text'), 'UNSUPPORTED_FORMAT'],
      [new Uint8Array(0), 'EMPTY'],
      [flac.subarray(0, flac.length >> 1), 'TRUNCATED'],
      [flac.subarray(0, 3000), 'DECODE_FAILED'],
      [encodeWav([new Float32Array(1000 * 601)], 1000, 'int16'), 'TOO_LONG'],
    ];
    for (const [bytes, reason] of cases) {
      const err = await rejection(callUnary(client, 'classify', inline(bytes)));
      expect([err.code, err.reason]).toEqual([status.INVALID_ARGUMENT, reason]);
    }
    const none = await rejection(callUnary(client, 'classify', { audio: undefined }));
    expect([none.code, none.reason]).toEqual([status.INVALID_ARGUMENT, 'NO_AUDIO']);
  });

  it('answers NOT_FOUND for a key that is not in the bucket', async () => {
    const err = await rejection(callUnary(client, 'classify', stored('uploads/nope.wav')));
    expect([err.code, err.reason]).toEqual([status.NOT_FOUND, 'OBJECT_NOT_FOUND']);
  });

  it('logs under the caller’s correlation id, and passes it on to inference', async () => {
    await callUnary(client, 'classify', stored('uploads/clip-22k.flac'), { correlationId: 'req-test-0042' });
    const mine = (lines: string[]) => lines.map((l) => JSON.parse(l)).filter((l) => l.correlationId === 'req-test-0042');
    expect(mine(extractorLines).map((l) => l.msg)).toContain('classified');
    expect(mine(inferenceLines).map((l) => l.method)).toContain('Predict');
  });
});

describe('Extract', () => {
  it('returns the raw vector, or the vector scaled for the served model with its identity', async () => {
    const spec = direct.manifest.featureSpec;
    const raw = clipFeatures((await loadClip(new Uint8Array(await readFile(CLIP_22K)), spec)).y, spec).vector;
    const plain = await callUnary(client, 'extract', { ...stored('uploads/clip-22k.flac'), scaled: false });
    expect(plain.vectorLength).toBe(2376);
    expect(Array.from(new Float32Array(new Uint8Array(plain.vector).buffer))).toEqual(Array.from(Float32Array.from(raw)));
    expect([plain.model, plain.scalerDigest]).toEqual([undefined, '']);
    const scaled = await callUnary(client, 'extract', { ...stored('uploads/clip-22k.flac'), scaled: true });
    expect(scaled.model).toEqual({ name: 'ser-default', version: direct.manifest.version });
    expect(scaled.scalerDigest).toBe(direct.scalerDigest);
    expect(maxDiff(new Float32Array(new Uint8Array(scaled.vector).buffer), direct.scale([raw]))).toBeLessThanOrEqual(1e-5);
  });
});

describe('when inference goes away and comes back', () => {
  it('reports SERVING while inference is up', async () => {
    await waitFor('SERVING', async () => (await healthStatus()) === ServingStatus.SERVING);
  });

  it('answers UNAVAILABLE and turns NOT_SERVING while inference is down', async () => {
    await inference.shutdown();
    const err = await rejection(callUnary(client, 'classify', stored('uploads/clip-22k.flac')));
    expect([err.code, err.reason]).toEqual([status.UNAVAILABLE, 'INFERENCE_UNAVAILABLE']);
    await waitFor('NOT_SERVING', async () => (await healthStatus()) === ServingStatus.NOT_SERVING);
  });

  it('works again after a restart, and follows a model change (new scaler) by fetching the metadata again', async () => {
    // The same network with a different scaler and version: vectors scaled for the shipped version are refused by it.
    const bundleDir = join(dir, 'bundle-v2');
    const manifest = JSON.parse(await readFile(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8'));
    manifest.version = '1.0.1-test';
    manifest.scaler.mean[0] += 0.5;
    await mkdir(bundleDir);
    await writeFile(join(bundleDir, 'manifest.json'), JSON.stringify(manifest));
    await copyFile(join(DEFAULT_MODEL_DIR, 'model.onnx'), join(bundleDir, 'model.onnx'));
    inference = await startInferenceServer(
      { ...inferenceConfig, port: inference.port, modelDir: bundleDir },
      { logger: createLogger('inference', { level: 'silent' }) },
    );
    let identity: ModelIdentity | undefined;
    await waitFor('a successful Classify', async () => {
      identity = (await callUnary(client, 'classify', stored('uploads/clip-22k.flac'))).model;
      return true;
    });
    expect(identity).toEqual({ name: 'ser-default', version: '1.0.1-test' });
    // The extractor fetched the new model's metadata: either its health probe saw the new
    // version first, or a Predict with the old digest was refused (FAILED_PRECONDITION) and
    // it fetched the metadata then. Which comes first is a race; both are right.
    expect(await inference.registry.getSingleMetricAsString('ser_grpc_server_handled_total')).toMatch(/method="ModelMetadata",code="OK"/);
    const v2 = await ModelBundle.load(bundleDir);
    try {
      const res = await callUnary(client, 'classify', stored('uploads/clip-22k.flac'));
      expect(maxDiff(res.probabilities, (await directPath(v2, CLIP_22K)).probabilities)).toBeLessThanOrEqual(1e-5);
    } finally {
      await v2.close();
    }
    await waitFor('SERVING again', async () => (await healthStatus()) === ServingStatus.SERVING);
  });
});
