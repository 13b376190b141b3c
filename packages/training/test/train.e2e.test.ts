/**
 * A tiny training end to end: real RAVDESS clips -> feature set -> PyTorch
 * (a couple of epochs) -> ONNX export -> bundle checked and loaded by ONNX Runtime.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clipFeatures, DEFAULT_CLIP_SPEC, loadClip } from '@ser/audio';
import { buildDataset, writeDataset } from '@ser/dataset';
import { BundleError, ModelBundle } from '@ser/model';
import { EMOTIONS } from '@ser/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSplit, train } from '../src/index.js';

const CORPUS = resolve(import.meta.dirname, '../../../../shared/ravdess');
const work = mkdtempSync(join(tmpdir(), 'ser-train-'));
const data = join(work, 'data');
const out = join(work, 'bundle');

// Speech clips of one validation, one training and one test actor of holdout-21-24.
const filter = (c: { actor: number; channel: string; emotion: string }) =>
  [1, 3, 4, 21].includes(c.actor) && c.channel === 'speech' && ['neutral', 'happy', 'angry', 'sad'].includes(c.emotion);

beforeAll(async () => {
  await writeDataset(data, await buildDataset({ corpus: CORPUS, augmentations: ['noise'], filter }));
}, 120_000);

describe('training', () => {
  it('splits the feature set by the protocol, originals only in validation and test', async () => {
    const split = await makeSplit(data, 'holdout-21-24');
    const meta = JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8'));
    expect(split.test.every((i) => meta.rows[i].actor === 21 && meta.rows[i].augmentation === 'none')).toBe(true);
    expect(split.validation.every((i) => meta.rows[i].actor === 1)).toBe(true);
    expect(split.train.every((i) => [3, 4].includes(meta.rows[i].actor))).toBe(true);
  });

  it('limits training rows to the augmentations asked for', async () => {
    const meta = JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8'));
    const originals = await makeSplit(data, 'holdout-21-24', undefined, []);
    expect(originals.train.length).toBeGreaterThan(0);
    expect(originals.train.every((i) => meta.rows[i].augmentation === 'none')).toBe(true);
    await expect(makeSplit(data, 'holdout-21-24', undefined, ['pitch'])).rejects.toThrow(/no pitch rows/);
    await expect(makeSplit(data, 'seed')).rejects.toThrow(/no pitch, pitch\+noise rows/);
  });

  it('trains, exports ONNX that agrees with PyTorch, and writes a loadable bundle', async () => {
    const result = await train({
      data,
      protocol: 'holdout-21-24',
      arch: 'ser-cnn',
      out,
      name: 'tiny',
      version: '0.0.1',
      trainerArgs: ['--epochs', '2', '--batch-size', '16', '--no-bench', '--threads', '1'],
      quiet: true,
    });
    expect(result.status).toBe('done');
    if (result.status !== 'done') return;
    const { manifest } = result;
    expect(manifest).toMatchObject({ name: 'tiny', version: '0.0.1', architecture: 'ser-cnn', labels: [...EMOTIONS] });
    expect(manifest.featureSpec).toMatchObject({
      sampleRate: 22050,
      offsetSeconds: 0.6,
      durationSeconds: 2.5,
      pad: 'zeros',
      vectorLength: 2376,
    });
    expect(manifest.scaler.mean.length).toBe(2376);
    expect(manifest.parameterCount).toBeGreaterThan(1000);
    expect(manifest.metrics.onnxVsPytorchMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(manifest.training).toMatchObject({ protocol: 'holdout-21-24', fold: 6, epochsRun: 2 });

    // The bundle serves: a real clip through the serving path gives a probability distribution.
    const bundle = await ModelBundle.load(out);
    try {
      const clip = await loadClip(
        new Uint8Array(readFileSync(join(CORPUS, 'Audio_Speech_Actors_01-24/Actor_21/03-01-05-01-01-01-21.flac'))),
        DEFAULT_CLIP_SPEC,
      );
      const [p] = await bundle.predict([clipFeatures(clip.y).vector]);
      expect(p.length).toBe(8);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(bundle.scalerDigest).toMatch(/^[0-9a-f]{64}$/);
      await expect(bundle.predict([new Float64Array(100)])).rejects.toThrow(/100 values/);
    } finally {
      await bundle.close();
    }
  }, 300_000);

  it('refuses a bundle whose model.onnx does not match its manifest', async () => {
    const tampered = join(work, 'tampered');
    mkdirSync(tampered);
    copyFileSync(join(out, 'manifest.json'), join(tampered, 'manifest.json'));
    const onnx = readFileSync(join(out, 'model.onnx'));
    onnx[onnx.length - 1] ^= 1;
    writeFileSync(join(tampered, 'model.onnx'), onnx);
    await expect(ModelBundle.load(tampered)).rejects.toThrow(BundleError);
    await expect(ModelBundle.load(tampered)).rejects.toThrow(/SHA-256/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    manifest.scaler.mean.pop();
    writeFileSync(join(tampered, 'manifest.json'), JSON.stringify(manifest));
    await expect(ModelBundle.load(tampered)).rejects.toThrow(/scaler mean and scale must have 2376 values/);
  });
});
