/**
 * The inference server for real: the shipped bundle, a loopback gRPC server on a
 * free port, RAVDESS clips through the serving path.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callUnary, createClient, float32ToBytes, GrpcError, HealthClient, InferenceServiceClient, ServingStatus, status } from '@ser/grpc';
import { BundleError, ModelBundle } from '@ser/model';
import { createLogger } from '@ser/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipFeatures, loadClip } from '../../../packages/audio/src/index.js';
import { DEFAULT_MODEL_DIR, type InferenceServer, loadInferenceConfig, startInferenceServer } from '../src/index.js';

const RAVDESS = new URL('../../../../shared/ravdess/Audio_Speech_Actors_01-24/Actor_01/', import.meta.url);
const CLIPS = ['03-01-05-01-01-01-01.flac', '03-01-03-02-02-01-01.flac', '03-01-08-01-01-02-01.flac'];

const config = loadInferenceConfig({ INFERENCE_PORT: '0', METRICS_PORT: '0', BATCH_MAX_DELAY_MS: '5' });
const silent = createLogger('inference-test', { level: 'silent' });
let server: InferenceServer;
let direct: ModelBundle;
let client: InferenceServiceClient;
let health: HealthClient;

beforeAll(async () => {
  [server, direct] = await Promise.all([startInferenceServer(config, { logger: silent }), ModelBundle.load(DEFAULT_MODEL_DIR)]);
  client = createClient(InferenceServiceClient, server.address, { deadlineMs: 5000 });
  health = createClient(HealthClient, server.address);
});

afterAll(async () => {
  client?.close();
  health?.close();
  await server?.shutdown();
  await direct?.close();
});

/** Seeded standard-normal-ish rows: plausible scaled vectors. */
function rows(count: number, seed: number): Float32Array {
  const out = new Float32Array(count * direct.vectorLength);
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

const predict = (
  input: Float32Array,
  extra: Partial<{ scalerDigest: string; rows: number; model: { name: string; version: string } }> = {},
) =>
  callUnary(client, 'predict', {
    scalerDigest: direct.scalerDigest,
    rows: input.length / direct.vectorLength,
    rawInput: float32ToBytes(input),
    ...extra,
  });

async function rejection(promise: Promise<unknown>): Promise<GrpcError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcError);
  return err as GrpcError;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('inference server', () => {
  it('describes the served model as its manifest does', async () => {
    const m = direct.manifest;
    const meta = await callUnary(client, 'modelMetadata', {});
    expect(meta.model).toEqual({ name: m.name, version: m.version });
    expect(meta.labels).toEqual(m.labels);
    expect(meta.inputShape).toEqual([-1, 2376]);
    expect(meta.featureSpec).toEqual({ ...m.featureSpec });
    expect(meta.scalerDigest).toBe(direct.scalerDigest);
    expect(meta.scaler?.mean).toEqual(m.scaler.mean.map(Math.fround));
    expect(meta.scaler?.scale).toEqual(m.scaler.scale.map(Math.fround));
    expect([meta.architecture, meta.parameterCount]).toEqual([m.architecture, m.parameterCount]);
    expect(JSON.parse(meta.metricsJson)).toEqual({ metrics: m.metrics, notes: m.notes ?? [] });
    expect(await callUnary(client, 'serverLive', {})).toEqual({ live: true });
    expect(await callUnary(client, 'serverReady', {})).toEqual({ ready: true, model: meta.model });
  });

  it('classifies real RAVDESS clips as ModelBundle does', async () => {
    const spec = direct.manifest.featureSpec;
    const vectors = [];
    for (const name of CLIPS) {
      const bytes = await readFile(new URL(name, RAVDESS));
      vectors.push(clipFeatures((await loadClip(new Uint8Array(bytes), spec)).y, spec).vector);
    }
    const expected = await direct.predict(vectors);
    const together = await predict(direct.scale(vectors));
    expect(together).toMatchObject({
      model: { name: 'ser-default', version: direct.manifest.version },
      rows: 3,
      labels: direct.manifest.labels,
    });
    expect(
      maxDiff(
        together.probabilities,
        expected.flatMap((p) => Array.from(p)),
      ),
    ).toBeLessThanOrEqual(1e-6);
    const alone = await Promise.all(vectors.map((v) => predict(direct.scale([v]))));
    for (const [i, res] of alone.entries()) expect(maxDiff(res.probabilities, expected[i])).toBeLessThanOrEqual(1e-6);
  });

  it('merges 50 concurrent single-row requests into batches, each answered with its own row', async () => {
    const input = rows(50, 7);
    const n = direct.vectorLength;
    const expected = await direct.predictScaled(input);
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => predict(input.slice(i * n, (i + 1) * n))));
    responses.forEach((res, i) => {
      expect(res.rows).toBe(1);
      expect(maxDiff(res.probabilities, expected[i])).toBeLessThanOrEqual(1e-6);
      expect(res.batchSize).toBeLessThanOrEqual(config.batchMaxSize);
      expect(res.queueMs).toBeGreaterThanOrEqual(0);
      expect(res.computeMs).toBeGreaterThan(0);
    });
    expect(Math.max(...responses.map((r) => r.batchSize))).toBeGreaterThan(1);
    const metrics = await server.registry.getSingleMetricAsString('ser_inference_rows_total');
    expect(metrics).toMatch(/ser_inference_rows_total\{service="inference"\} \d+/);
  });

  it('refuses vectors scaled for another model, or asked of another model', async () => {
    const wrong = await rejection(predict(rows(1, 1), { scalerDigest: 'f'.repeat(64) }));
    expect([wrong.code, wrong.reason]).toEqual([status.FAILED_PRECONDITION, 'SCALER_MISMATCH']);
    const other = await rejection(predict(rows(1, 1), { model: { name: 'ser-default', version: '0.0.0-other' } }));
    expect([other.code, other.reason]).toEqual([status.FAILED_PRECONDITION, 'MODEL_MISMATCH']);
    expect((await predict(rows(1, 1), { model: { name: 'ser-default', version: direct.manifest.version } })).rows).toBe(1);
  });

  it('refuses input of the wrong size', async () => {
    const short = await rejection(predict(rows(2, 3), { rows: 3 }));
    expect([short.code, short.reason]).toEqual([status.INVALID_ARGUMENT, 'SHAPE_MISMATCH']);
    const none = await rejection(predict(new Float32Array(0), { rows: 0 }));
    expect([none.code, none.reason]).toEqual([status.INVALID_ARGUMENT, 'NO_ROWS']);
    const nan = rows(1, 4);
    nan[5] = Number.NaN;
    expect((await rejection(predict(nan))).reason).toBe('NON_FINITE_INPUT');
  });

  it('answers an expired deadline with DEADLINE_EXCEEDED', async () => {
    const input = rows(1, 5);
    const err = await rejection(
      callUnary(
        client,
        'predict',
        { scalerDigest: direct.scalerDigest, rows: 1, rawInput: float32ToBytes(input) },
        { deadline: Date.now() - 1000 },
      ),
    );
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('reports SERVING through the health service', async () => {
    expect(await callUnary(health, 'check', { service: '' })).toEqual({ status: ServingStatus.SERVING });
    expect(await callUnary(health, 'check', { service: 'ser.v1.InferenceService' })).toEqual({ status: ServingStatus.SERVING });
  });
});

describe('start-up and shutdown', () => {
  it('refuses a bundle whose model file does not match its manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ser-bad-bundle-'));
    try {
      const manifest = JSON.parse(await readFile(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8'));
      manifest.onnx.sha256 = '0'.repeat(64);
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      await copyFile(join(DEFAULT_MODEL_DIR, 'model.onnx'), join(dir, 'model.onnx'));
      await expect(startInferenceServer({ ...config, modelDir: dir }, { logger: silent })).rejects.toThrow(BundleError);
      await expect(startInferenceServer({ ...config, modelDir: join(dir, 'missing') }, { logger: silent })).rejects.toThrow(
        /not a model bundle/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finishes the calls in flight, then stops serving', async () => {
    // A long batching delay: the calls wait in the queue until the shutdown runs them.
    const second = await startInferenceServer({ ...config, batchMaxDelayMs: 10_000 }, { logger: silent });
    const c = createClient(InferenceServiceClient, second.address);
    const n = direct.vectorLength;
    const input = rows(8, 11);
    const calls = Array.from({ length: 8 }, (_, i) =>
      callUnary(c, 'predict', { scalerDigest: direct.scalerDigest, rows: 1, rawInput: float32ToBytes(input.slice(i * n, (i + 1) * n)) }),
    );
    while (second.batcher.pendingRows < 8) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await second.shutdown();
    expect(Date.now() - started).toBeLessThan(5000);
    const answered = await Promise.all(calls);
    expect(answered.map((a) => a.batchSize)).toEqual(Array(8).fill(8));
    expect(second.health.getStatus('')).toBe(ServingStatus.NOT_SERVING);
    const after = await rejection(callUnary(c, 'serverLive', {}, { deadlineMs: 500 }));
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(after.code);
    c.close();
  });
});
