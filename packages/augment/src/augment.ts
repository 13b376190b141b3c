/**
 * Augmentations on a clip's raw audio (mono float32 at the clip's sample rate).
 * Every random choice comes from the Random passed in, so a dataset built twice
 * with the same seed is identical.
 */
import { resample } from '@ser/audio';
import type { Random } from '@ser/ravdess';
import { timeStretch } from './phase-vocoder.js';

/** Zero-pads or trims to n samples (librosa.util.fix_length). */
export function fixLength(y: Float32Array, n: number): Float32Array {
  if (y.length === n) return y;
  const out = new Float32Array(n);
  out.set(y.subarray(0, n));
  return out;
}

/** Resampling between rates given as real numbers (scaled to integers; ratios like these take the direct path). */
function resampleBy(y: Float32Array, fromRate: number, toRate: number): Float32Array {
  const scale = 1000;
  return resample(y, Math.round(fromRate * scale), Math.round(toRate * scale));
}

/** The seed project's noise: amplitude 0.035 * U(0,1) * max|y|, times standard normal noise. */
export function addNoise(y: Float32Array, rng: Random, strength = 0.035): Float32Array {
  let peak = 0;
  for (const x of y) peak = Math.max(peak, Math.abs(x));
  const amp = strength * rng.next() * peak;
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] + amp * rng.normal();
  return out;
}

/**
 * librosa.effects.pitch_shift: time-stretch by 2^(-semitones/12) with the phase
 * vocoder, then resample back so the duration is unchanged and the pitch moves.
 */
export function pitchShift(y: Float32Array, sampleRate: number, semitones: number): Float32Array {
  const rate = 2 ** (-semitones / 12);
  return fixLength(resampleBy(timeStretch(y, rate), sampleRate / rate, sampleRate), y.length);
}

/** Tempo change without pitch change (phase vocoder); the result keeps the clip's length (trimmed or zero-padded). */
export function stretch(y: Float32Array, rate: number): Float32Array {
  return fixLength(timeStretch(y, rate), y.length);
}

/** Moves the clip by `seconds` (positive: later), filling with zeros rather than wrapping around. */
export function timeShift(y: Float32Array, sampleRate: number, seconds: number): Float32Array {
  const shift = Math.round(seconds * sampleRate);
  const out = new Float32Array(y.length);
  if (shift >= 0) out.set(y.subarray(0, Math.max(0, y.length - shift)), shift);
  else out.set(y.subarray(-shift));
  return out;
}

/** Tape-speed change: pitch and tempo move together (factor > 1 is faster and higher). Length kept. */
export function speed(y: Float32Array, sampleRate: number, factor: number): Float32Array {
  return fixLength(resampleBy(y, sampleRate * factor, sampleRate), y.length);
}
