/** `ser eval` on the shipped default model reproduces the figures its manifest records. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const manifest = JSON.parse(readFileSync(resolve(ROOT, 'models/ser-default/manifest.json'), 'utf8'));

function serEval(corpus: string) {
  const r = spawnSync(
    'pnpm',
    ['--silent', 'ser', 'eval', '--model', 'models/ser-default', '--data', corpus, '--protocol', 'holdout-21-24', '--json'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('ser eval --json (models/ser-default, holdout-21-24)', () => {
  for (const corpus of ['../shared/ravdess', '../shared/ravdess-48k']) {
    it(`reproduces the manifest's figures on ${corpus}`, () => {
      const report = serEval(corpus);
      const recorded = manifest.metrics.servingPath[corpus];
      expect(report).toMatchObject({ protocol: 'holdout-21-24', folds: [6], counts: { total: 416, speech: 240, song: 176 } });
      for (const part of [report, report.speech, report.song]) {
        for (const key of ['wa', 'ua', 'macroF1', 'weightedF1', 'microF1', 'perClass', 'confusion']) expect(part).toHaveProperty(key);
      }
      expect(report.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(416);
      // Same figures; the margin (one clip of the smallest class) allows for ONNX Runtime kernels of another CPU flipping a near tie.
      const oneClip = 1 / (16 * 8) + 1e-9;
      expect(Math.abs(report.ua - recorded.ua)).toBeLessThanOrEqual(oneClip);
      expect(Math.abs(report.wa - recorded.wa)).toBeLessThanOrEqual(oneClip);
      expect(Math.abs(report.speech.ua - recorded.speech.ua)).toBeLessThanOrEqual(oneClip);
      expect(Math.abs(report.song.ua - recorded.song.ua)).toBeLessThanOrEqual(oneClip);
    });
  }

  it('refuses the leaky seed protocol, which has no clip-level test set', () => {
    const r = spawnSync(
      'pnpm',
      ['--silent', 'ser', 'eval', '--model', 'models/ser-default', '--data', '../shared/ravdess', '--protocol', 'seed'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/leaky/);
  });
});
