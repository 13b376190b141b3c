/** The worker pool computes what the main thread computes; scaling from wire metadata matches ModelBundle's. */
import { readFile } from 'node:fs/promises';
import { AudioError } from '@ser/audio';
import { ModelMetadataResponse } from '@ser/grpc';
import { createLogger } from '@ser/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelBundle } from '../../../packages/model/src/index.js';
import { DEFAULT_MODEL_DIR, modelMetadata } from '../../inference/src/index.js';
import { computeClipFeatures, createFeaturePool, type FeaturePool, scaleVector, servedModel } from '../src/index.js';

const CLIPS = ['03-01-03-02-01-01-21.flac', '03-01-05-01-02-01-21.flac', '03-01-06-02-01-02-21.flac', '03-01-08-01-01-01-21.flac'].map(
  (name) => new URL(`../../../../shared/ravdess-48k/Audio_Speech_Actors_01-24/Actor_21/${name}`, import.meta.url),
);

let pool: FeaturePool;
let bundle: ModelBundle;

beforeAll(async () => {
  [pool, bundle] = await Promise.all([
    createFeaturePool(2, createLogger('pool-test', { level: 'silent' })),
    ModelBundle.load(DEFAULT_MODEL_DIR),
  ]);
});
afterAll(async () => {
  await pool?.close();
  await bundle?.close();
});

describe('feature pool', () => {
  it('gives the same vectors in worker threads as on the main thread', async () => {
    const spec = bundle.manifest.featureSpec;
    const jobs = await Promise.all(CLIPS.map(async (file) => ({ bytes: new Uint8Array(await readFile(file)), spec, maxSeconds: 600 })));
    const pooled = await Promise.all(jobs.map((job) => pool.compute(job)));
    for (const [i, job] of jobs.entries()) {
      const inline = await computeClipFeatures(job);
      expect(pooled[i].vector).toEqual(inline.vector);
      expect(pooled[i].audio).toEqual(inline.audio);
    }
    expect(jobs[0].bytes.length).toBeGreaterThan(0); // the caller keeps its bytes
  });

  it('brings AudioError back with its code', async () => {
    const job = { bytes: new TextEncoder().encode('not audio'), spec: bundle.manifest.featureSpec, maxSeconds: 600 };
    const err = await pool.compute(job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect((err as AudioError).code).toBe('UNSUPPORTED_FORMAT');
  });
});

describe('scaling with the served model’s metadata', () => {
  it('matches ModelBundle.scale to within one float32 step', () => {
    // Through the wire format, as the extractor receives it (the scaler travels as float32).
    const wire = ModelMetadataResponse.decode(ModelMetadataResponse.encode(modelMetadata(bundle)).finish());
    const model = servedModel(wire);
    expect(model.spec).toEqual({ sampleRate: 22050, offsetSeconds: 0.6, durationSeconds: 2.5, pad: 'zeros' });
    const raw = Float64Array.from({ length: 2376 }, (_, i) => Math.sin(i) * 40);
    const ours = scaleVector(model, raw);
    const theirs = bundle.scale([raw]);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThanOrEqual(Math.abs(theirs[i]) * 2 ** -22);
  });
});
