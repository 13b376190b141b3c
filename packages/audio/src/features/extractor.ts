/**
 * The seed system's feature recipe, computed as librosa 0.10 computes it:
 *
 *   zcr  = librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)
 *   rms  = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)
 *   mfcc = librosa.feature.mfcc(y=y, sr=22050)      # 20 coefficients
 *
 * The MFCCs come from WebAssembly SIMD (mfcc-kernel.ts), single precision up to the dB
 * values as librosa computes them in float32; zcr and rms in Float64. The librosa golden
 * values agree to about 3e-4 in MFCC.
 */
import { doubles } from '../dsp/doubles.js';
import { melFilterbank } from './mel.js';
import { MfccKernel } from './mfcc-kernel.js';

export interface FeatureParams {
  sampleRate: number;
  frameLength: number;
  hopLength: number;
  nMels: number;
  nMfcc: number;
  /** power_to_db: amin, and the dynamic range kept below the clip's maximum. */
  amin: number;
  topDb: number;
  /** zero_crossing_rate: |x| at or below this counts as zero (librosa compares in float32). */
  zcrThreshold: number;
}

export const LIBROSA_DEFAULTS: Readonly<FeatureParams> = Object.freeze({
  sampleRate: 22050,
  frameLength: 2048,
  hopLength: 512,
  nMels: 128,
  nMfcc: 20,
  amin: 1e-10,
  topDb: 80,
  zcrThreshold: Math.fround(1e-10),
});

export interface Features {
  /** Number of frames T = 1 + floor(len(y) / hop). */
  frames: number;
  zcr: Float64Array;
  rms: Float64Array;
  /** nMfcc rows of T values (coefficient-major, like librosa's mfcc array). */
  mfcc: Float64Array[];
  /** nMels rows of T values in dB, when requested. */
  logmel?: Float64Array[];
}

export class FeatureExtractor {
  readonly params: FeatureParams;
  private readonly mfccKernel: MfccKernel;
  /** Per-call scratch, grown as needed: the signal and zero-crossing counts. */
  private signal = doubles(0);
  private crossings = doubles(0);

  constructor(params: Partial<FeatureParams> = {}) {
    const p = { ...LIBROSA_DEFAULTS, ...params };
    this.params = p;
    const n = p.frameLength;
    // Periodic Hann (scipy.signal.get_window('hann', n, fftbins=True)).
    const window = new Float64Array(n);
    for (let i = 0; i < n; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    this.mfccKernel = new MfccKernel({
      frameLength: n,
      hopLength: p.hopLength,
      window,
      bands: melFilterbank(p.sampleRate, n, p.nMels),
      nMfcc: p.nMfcc,
      amin: p.amin,
      topDb: p.topDb,
    });
  }

  frameCount(length: number): number {
    return 1 + Math.floor(length / this.params.hopLength);
  }

  // The signal-length loops below each sit in a function of their own that returns
  // right after the loop: V8 compiles a long-running loop on the spot (on-stack
  // replacement), and any code after it in the same function that had not run yet
  // would deoptimise on every later call.

  compute(y: ArrayLike<number>, options: { logmel?: boolean } = {}): Features {
    const len = y.length;
    const x = this.load(y);
    const T = this.frameCount(len);
    const zcr = this.zeroCrossingRate(x, len, T);
    const rms = this.rms(x, len, T);
    const logmel = options.logmel ? this.newRows(this.params.nMels, T) : null;
    const mfcc = this.mfccKernel.compute(x, len, T, logmel);
    const features: Features = { frames: T, zcr, rms, mfcc };
    if (logmel) features.logmel = logmel;
    return features;
  }

  /**
   * The signal as a double array: every kernel then reads it without typed-array
   * overheads (see dsp/doubles.ts), three times per sample in all.
   */
  private load(y: ArrayLike<number>): number[] {
    const len = y.length;
    if (this.signal.length < len) this.signal = doubles(len);
    const x = this.signal;
    for (let i = 0; i < len; i++) x[i] = y[i];
    return x;
  }

  private newRows(count: number, T: number): Float64Array[] {
    const rows: Float64Array[] = [];
    for (let i = 0; i < count; i++) rows.push(new Float64Array(T));
    return rows;
  }

  /**
   * Centred frames with edge padding; a crossing is a sign-bit change between
   * neighbours, zero counted as positive. Edge padding repeats a sample, which
   * never crosses, so a frame's count is a difference of running crossing counts.
   */
  private zeroCrossingRate(x: number[], len: number, T: number): Float64Array {
    const { frameLength: n, hopLength: hop, zcrThreshold } = this.params;
    const out = new Float64Array(T);
    if (len === 0) return out;
    if (this.crossings.length < len) this.crossings = doubles(len);
    const counts = this.crossings;
    runningCrossings(x, len, -zcrThreshold, counts);
    // Frame t covers padded samples s..s+n-1 (s = t*hop), signal samples s-n/2 ..;
    // its neighbour pairs (j-1, j) inside the signal have j in [s - n/2 + 1, s + n/2 - 1].
    const half = n / 2;
    for (let t = 0; t < T; t++) {
      const lo = Math.max(1, t * hop - half + 1);
      const hi = Math.min(len - 1, t * hop + half - 1);
      out[t] = hi >= lo ? (counts[hi] - counts[lo - 1]) / n : 0;
    }
    return out;
  }

  /** Centred frames with zero padding, no window. */
  private rms(x: number[], len: number, T: number): Float64Array {
    const { frameLength: n, hopLength: hop } = this.params;
    const out = new Float64Array(T);
    if (n % (2 * hop) !== 0) {
      for (let t = 0; t < T; t++) {
        let energy = 0;
        for (let j = Math.max(0, t * hop - n / 2); j < Math.min(len, t * hop + n / 2); j++) energy += x[j] * x[j];
        out[t] = Math.sqrt(energy / n);
      }
      return out;
    }
    // Frames start on hop boundaries, so each is a whole number of hop-long blocks:
    // sum each block once (exact zeros stay zero, unlike prefix sums).
    const blocks = Math.ceil(len / hop);
    const blockEnergy = new Float64Array(blocks);
    blockEnergies(x, len, hop, blockEnergy);
    const perFrame = n / hop;
    for (let t = 0; t < T; t++) {
      let energy = 0;
      const first = t - perFrame / 2;
      for (let b = Math.max(0, first); b < Math.min(blocks, first + perFrame); b++) energy += blockEnergy[b];
      out[t] = Math.sqrt(energy / n);
    }
    return out;
  }
}

/**
 * counts[i]: sign changes between neighbours (j-1, j) for j in 1..i, a sample
 * being negative when below `below` (-threshold).
 */
function runningCrossings(x: number[], len: number, below: number, counts: number[]): void {
  let count = 0;
  let prev = x[0] < below ? 1 : 0;
  counts[0] = 0;
  for (let i = 1; i < len; i++) {
    // boolean ^ 0 is 0 or 1 without a branch (a ?: mispredicts on every other crossing).
    const sign = ((x[i] < below) as unknown as number) ^ 0;
    count += sign ^ prev;
    prev = sign;
    counts[i] = count;
  }
}

/** Sum of squares of each hop-long block of x (the last one possibly short). */
function blockEnergies(x: number[], len: number, hop: number, out: Float64Array): void {
  for (let b = 0; b < out.length; b++) {
    let e = 0;
    const end = Math.min(len, (b + 1) * hop);
    for (let j = b * hop; j < end; j++) e += x[j] * x[j];
    out[b] = e;
  }
}

/** The seed system's vector: T zcr values, T rms values, then MFCCs frame by frame (22*T values). */
export function featureVector(f: Features): Float64Array {
  const T = f.frames;
  const nMfcc = f.mfcc.length;
  const out = new Float64Array((2 + nMfcc) * T);
  out.set(f.zcr, 0);
  out.set(f.rms, T);
  for (let k = 0; k < nMfcc; k++) {
    const row = f.mfcc[k];
    for (let t = 0, at = 2 * T + k; t < T; t++, at += nMfcc) out[at] = row[t];
  }
  return out;
}
