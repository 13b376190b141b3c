/**
 * The WebAssembly MFCCs equal a Float64 computation: STFT, filterbank, power_to_db and
 * DCT, to 1e-3 (the librosa golden set's tolerance) in every dB value and coefficient.
 */
import { describe, expect, it } from 'vitest';
import { RealFft } from '../src/dsp/fft.js';
import { FeatureExtractor } from '../src/features/extractor.js';
import { melFilterbank } from '../src/features/mel.js';
import { mfccKernelSupports } from '../src/features/mfcc-kernel.js';

/** librosa's melspectrogram in dB (ref 1, amin 1e-10, top_db 80), in Float64 throughout. */
function referenceLogMel(y: Float32Array, sampleRate = 22050, n = 2048, hop = 512, nMels = 128): Float64Array[] {
  const T = 1 + Math.floor(y.length / hop);
  const padded = new Array<number>(y.length + n).fill(0);
  for (let i = 0; i < y.length; i++) padded[n / 2 + i] = y[i];
  const window = Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const power = new Array<number>(n / 2 + 1).fill(0);
  const fft = new RealFft(n);
  const bands = melFilterbank(sampleRate, n, nMels);
  const mel = bands.map(() => new Float64Array(T));
  let max = 0;
  for (let t = 0; t < T; t++) {
    fft.windowedPower(padded, t * hop, window, power);
    bands.forEach((band, m) => {
      let sum = 0;
      for (let i = 0; i < band.weights.length; i++) sum += band.weights[i] * power[band.start + i];
      mel[m][t] = sum;
      max = Math.max(max, sum);
    });
  }
  const floor = 10 * Math.log10(Math.max(1e-10, max)) - 80;
  return mel.map((row) => row.map((e) => Math.max(floor, 10 * Math.log10(Math.max(1e-10, e)))));
}

/** librosa's mfcc from its dB values: DCT-II, orthonormal, 20 coefficients. */
function referenceMfcc(logmel: Float64Array[]): Float64Array[] {
  const M = logmel.length;
  return Array.from({ length: 20 }, (_, k) => {
    const scale = Math.sqrt((k === 0 ? 1 : 2) / M);
    return logmel[0].map((_, t) => {
      let sum = 0;
      for (let m = 0; m < M; m++) sum += logmel[m][t] * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * M));
      return scale * sum;
    });
  });
}

/** The largest difference between two sets of rows. */
function worstDifference(got: Float64Array[], want: Float64Array[]): number {
  expect(got.map((row) => row.length)).toEqual(want.map((row) => row.length));
  let worst = 0;
  for (let i = 0; i < want.length; i++) for (let t = 0; t < want[i].length; t++) worst = Math.max(worst, Math.abs(got[i][t] - want[i][t]));
  return worst;
}

/** A chirp under a slow envelope, a stretch of silence, then noise: every part of the spectrum and the dB floor. */
function testSignal(length: number): Float32Array {
  const y = new Float32Array(length);
  let seed = 12345;
  for (let i = 0; i < length; i++) {
    const s = i / 22050;
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = seed / 2 ** 32 - 0.5;
    const part = Math.floor((3 * i) / length);
    if (part === 0) y[i] = 0.5 * Math.sin(2 * Math.PI * (100 + 2000 * s) * s) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.7 * s));
    else if (part === 2) y[i] = 0.05 * noise;
  }
  return y;
}

describe('MFCC kernel (WebAssembly SIMD)', () => {
  it('agrees with Float64 to 1e-3: long signals (several chunks, a last group of one frame), short ones and empty', () => {
    const fx = new FeatureExtractor();
    // 600,100 samples: 1173 frames, five chunks of 256 and 4 x 146 + 1 frames in the last.
    for (const length of [600_100, 22_050 * 3, 3000, 100, 0]) {
      const y = testSignal(length);
      const got = fx.compute(y, { logmel: true });
      const logmel = referenceLogMel(y);
      expect(worstDifference(got.logmel!, logmel), `${length} samples: dB`).toBeLessThanOrEqual(1e-3);
      expect(worstDifference(got.mfcc, referenceMfcc(logmel)), `${length} samples: MFCC`).toBeLessThanOrEqual(1e-3);
    }
  });

  it('takes frame lengths whose half is a power of 4, and the extractor refuses others', () => {
    expect([512, 2048, 8192].map(mfccKernelSupports)).toEqual([true, true, true]);
    expect([1024, 4096, 2000, 4].map(mfccKernelSupports)).toEqual([false, false, false, false]);
    expect(() => new FeatureExtractor({ frameLength: 1024 })).toThrow(/power of 4/);
    const small = new FeatureExtractor({ frameLength: 512, hopLength: 128 });
    const y = testSignal(5000);
    const got = small.compute(y, { logmel: true });
    const logmel = referenceLogMel(y, 22050, 512, 128);
    expect(worstDifference(got.logmel!, logmel)).toBeLessThanOrEqual(1e-3);
    expect(worstDifference(got.mfcc, referenceMfcc(logmel))).toBeLessThanOrEqual(1e-3);
  });
});
