/**
 * Features against librosa 0.10.2's own values (../shared/golden/librosa), computed
 * from the exact signal librosa worked on. Tolerances from the golden README.
 */
import { describe, expect, it } from 'vitest';
import { FeatureExtractor, featureVector } from '../src/index.js';
import { goldenNames, loadGolden } from './golden.js';

const fx = new FeatureExtractor();
const names = goldenNames();

describe('librosa golden features', () => {
  it('covers the whole public golden set', () => {
    expect(names.length).toBeGreaterThanOrEqual(11);
  });

  for (const name of names) {
    it(name, () => {
      const { item, y } = loadGolden(name);
      expect(y.length).toBe(item.len_y);
      const f = fx.compute(y, { logmel: true });
      expect(f.frames).toBe(item.n_frames);

      let mfccDiff = 0;
      for (let k = 0; k < 20; k++)
        for (let t = 0; t < f.frames; t++) mfccDiff = Math.max(mfccDiff, Math.abs(f.mfcc[k][t] - item.mfcc[k][t]));
      expect(mfccDiff).toBeLessThanOrEqual(1e-3);

      for (let t = 0; t < f.frames; t++) {
        const ref = item.rms[t];
        const diff = Math.abs(f.rms[t] - ref);
        expect(ref === 0 ? diff : diff / ref).toBeLessThanOrEqual(1e-5);
        // zcr is exact (multiples of 1/2048); the golden JSON stores it as float32.
        const crossings = Math.abs(Math.round(f.zcr[t] * 2048) - Math.round(item.zcr[t] * 2048));
        if (f.rms[t] > 1e-3) expect(crossings).toBe(0);
        else expect(crossings).toBeLessThanOrEqual(1);
      }

      if (item.logmel) {
        let logmelDiff = 0;
        for (let m = 0; m < 128; m++)
          for (let t = 0; t < f.frames; t++) logmelDiff = Math.max(logmelDiff, Math.abs(f.logmel![m][t] - item.logmel[m][t]));
        expect(logmelDiff).toBeLessThanOrEqual(1e-3);
      }

      // Vector layout: zcr[T], rms[T], then MFCC frame by frame.
      const vector = featureVector(f);
      expect(vector.length).toBe(item.vector_len);
      let vectorDiff = 0;
      for (let i = 0; i < vector.length; i++) vectorDiff = Math.max(vectorDiff, Math.abs(vector[i] - item.vector[i]));
      expect(vectorDiff).toBeLessThanOrEqual(1e-3);
    });
  }
});
