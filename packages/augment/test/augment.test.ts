import { Random } from '@ser/ravdess';
import { describe, expect, it } from 'vitest';
import { addNoise, applyRecipe, pitchShift, RECIPES, type RecipeName, speed, timeShift, timeStretch } from '../src/index.js';

const SR = 22050;

function tone(freq: number, n = 55125): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / SR));
}

/** Frequency from upward zero crossings over the middle of the signal. */
function frequency(x: Float32Array): number {
  const from = 4096;
  const to = x.length - 4096;
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings++;
  return (crossings * SR) / (to - from);
}

describe('augmentation', () => {
  it('time stretch changes the length, not the pitch', () => {
    for (const rate of [0.8, 1.25]) {
      const y = timeStretch(tone(440), rate);
      expect(y.length).toBe(Math.round(55125 / rate));
      expect(frequency(y)).toBeCloseTo(440, 0);
    }
  });

  it('pitch shift moves the pitch by the semitones asked, keeping the length', () => {
    for (const steps of [0.7, -2]) {
      const y = pitchShift(tone(440), SR, steps);
      expect(y.length).toBe(55125);
      expect(Math.abs(frequency(y) - 440 * 2 ** (steps / 12))).toBeLessThan(1);
    }
  });

  it('speed change moves pitch and tempo together', () => {
    const y = speed(tone(440), SR, 1.1);
    expect(y.length).toBe(55125);
    expect(Math.abs(frequency(y.subarray(0, 50000)) - 484)).toBeLessThan(1);
    // The faster clip ends early: the rest is silence.
    expect(Math.max(...y.subarray(51000).map(Math.abs))).toBeLessThan(1e-3);
  });

  it('time shift moves the clip and fills with zeros', () => {
    const x = Float32Array.from({ length: 10 }, (_, i) => i + 1);
    expect(Array.from(timeShift(x, 10, 0.3))).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(timeShift(x, 10, -0.2))).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 0, 0]);
  });

  it("noise follows the seed project's level: at most 0.035 x peak, and reproducible", () => {
    const x = tone(440, 22050);
    const a = addNoise(x, new Random(7));
    const b = addNoise(x, new Random(7));
    expect(a).toEqual(b);
    let energy = 0;
    for (let i = 0; i < x.length; i++) energy += (a[i] - x[i]) ** 2;
    const rms = Math.sqrt(energy / x.length);
    expect(rms).toBeGreaterThan(0);
    expect(rms).toBeLessThan(0.035 * 0.5 * 1.1);
  });

  it('every recipe is reproducible from its seed and keeps the clip length', () => {
    const x = tone(300, 22050);
    for (const name of Object.keys(RECIPES) as RecipeName[]) {
      const a = applyRecipe(name, x, SR, new Random(3));
      expect(a.length, name).toBe(x.length);
      expect(applyRecipe(name, x, SR, new Random(3)), name).toEqual(a);
    }
  });
});
