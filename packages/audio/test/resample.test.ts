import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeatureExtractor, RealFft, resample } from '../src/index.js';
import { GOLDEN_DIR, loadGolden, readF32 } from './golden.js';

const fx = new FeatureExtractor();

function tone(freq: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

/** Peak frequency and amplitude of the middle 8192 samples (Hann window). */
function spectrumPeak(y: Float32Array, rate: number): { freq: number; amplitude: number } {
  const n = 8192;
  const fft = new RealFft(n);
  const frame = new Float64Array(n);
  const start = Math.floor((y.length - n) / 2);
  for (let i = 0; i < n; i++) frame[i] = y[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const spec = new Float64Array(n + 2);
  fft.forward(frame, spec);
  let best = 0;
  let bestMag = 0;
  for (let k = 1; k <= n / 2; k++) {
    const mag = Math.hypot(spec[2 * k], spec[2 * k + 1]);
    if (mag > bestMag) [best, bestMag] = [k, mag];
  }
  // Amplitude from the RMS of the same stretch: a pure tone's RMS is amplitude / sqrt 2.
  let energy = 0;
  for (let i = 0; i < n; i++) energy += y[start + i] ** 2;
  return { freq: (best * rate) / n, amplitude: Math.sqrt((2 * energy) / n) };
}

describe('resample against librosa soxr_hq (golden 48 kHz inputs)', () => {
  for (const name of ['03-01-01-01-01-01-01', '03-01-03-01-02-01-20']) {
    it(`${name}: MFCC within 1.0 of soxr_hq, closer than soxr_vhq`, () => {
      const src = readF32(join(GOLDEN_DIR, `${name}.src48k.f32`));
      const { item, y: reference } = loadGolden(name);
      const y = resample(src, 48000, 22050);
      expect(y.length).toBe(reference.length);
      let yDiff = 0;
      for (let i = 0; i < y.length; i++) yDiff = Math.max(yDiff, Math.abs(y[i] - reference[i]));
      expect(yDiff).toBeLessThan(1e-4);

      const f = fx.compute(y);
      let mfccDiff = 0;
      for (let k = 0; k < 20; k++)
        for (let t = 0; t < f.frames; t++) mfccDiff = Math.max(mfccDiff, Math.abs(f.mfcc[k][t] - item.mfcc[k][t]));
      const resamplers = JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.resamplers.json`), 'utf8')).resamplers;
      const vhq = resamplers.soxr_vhq.max_abs_diff_vs_soxr_hq.mfcc as number;
      expect(mfccDiff).toBeLessThanOrEqual(1.0);
      expect(mfccDiff).toBeLessThan(vhq);
    });
  }
});

describe('resample', () => {
  it('returns a copy when the rates are equal', () => {
    const x = tone(440, 22050, 0.1);
    const y = resample(x, 22050, 22050);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
  });

  it('gives ceil(n * out / in) samples, like librosa', () => {
    expect(resample(new Float32Array(120000), 48000, 22050).length).toBe(55125);
    expect(resample(new Float32Array(1001), 44100, 22050).length).toBe(501);
    expect(resample(new Float32Array(16000), 16000, 22050).length).toBe(22050);
  });

  for (const [rate, freq] of [
    [48000, 1000],
    [44100, 3000],
    [96000, 5000],
    [16000, 2000],
    [8000, 440],
    [11025, 1500],
  ] as const) {
    it(`keeps a ${freq} Hz tone at ${freq} Hz and unit gain from ${rate} Hz`, () => {
      const y = resample(tone(freq, rate, 1), rate, 22050);
      const peak = spectrumPeak(y, 22050);
      expect(Math.abs(peak.freq - freq)).toBeLessThan(22050 / 8192);
      expect(peak.amplitude).toBeGreaterThan(0.48);
      expect(peak.amplitude).toBeLessThan(0.52);
    });
  }

  it('removes content above the output band instead of aliasing it (48 kHz, 15 kHz tone)', () => {
    const y = resample(tone(15000, 48000, 1), 48000, 22050);
    let peak = 0;
    for (let i = 1000; i < y.length - 1000; i++) peak = Math.max(peak, Math.abs(y[i]));
    // 0.5 in, below -120 dB out.
    expect(peak).toBeLessThan(0.5 * 1e-6);
  });

  it('handles rates with large prime factors', () => {
    const y = resample(tone(1000, 44053, 0.5), 44053, 22050);
    expect(y.length).toBe(Math.ceil((22027 * 22050) / 44053));
    expect(Math.abs(spectrumPeak(y, 22050).freq - 1000)).toBeLessThan(22050 / 8192);
  });
});
