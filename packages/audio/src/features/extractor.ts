/**
 * The seed system's feature recipe, computed as librosa 0.10 computes it:
 *
 *   zcr  = librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)
 *   rms  = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)
 *   mfcc = librosa.feature.mfcc(y=y, sr=22050)      # 20 coefficients
 *
 * The mel power spectrogram runs in single precision with WebAssembly SIMD, as librosa
 * computes it in float32 (mel-kernel.ts); everything else in Float64. The librosa
 * golden values agree to about 1e-4 in MFCC.
 */
import { doubles } from '../dsp/doubles.js';
import { melFilterbank } from './mel.js';
import { MelPowerKernel } from './mel-kernel.js';

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

/** 10 / ln 10: dB from a natural log (Math.log is cheaper than Math.log10 in V8). */
const DB_PER_NEPER = 10 / Math.LN10;

export class FeatureExtractor {
  readonly params: FeatureParams;
  private readonly melPower: MelPowerKernel;
  /**
   * DCT-II (ortho) basis, nMfcc rows. For even nMels, row k over the first nMels/2
   * inputs only: basis[M-1-m] = (-1)^k basis[m], so coefficient k is a dot product
   * with x[m] + x[M-1-m] (k even) or x[m] - x[M-1-m] (k odd), half the work.
   */
  private readonly dctBasis: number[];
  /** Per-call scratch, grown as needed: the signal, mel energies (frame-major) and zero-crossing counts. */
  private signal = doubles(0);
  private mel = doubles(0);
  private crossings = doubles(0);
  private readonly folded: number[];

  constructor(params: Partial<FeatureParams> = {}) {
    const p = { ...LIBROSA_DEFAULTS, ...params };
    this.params = p;
    const n = p.frameLength;
    // Periodic Hann (scipy.signal.get_window('hann', n, fftbins=True)).
    const window = new Float64Array(n);
    for (let i = 0; i < n; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    this.melPower = new MelPowerKernel(n, p.hopLength, window, melFilterbank(p.sampleRate, n, p.nMels));

    const width = p.nMels % 2 === 0 ? p.nMels / 2 : p.nMels;
    this.dctBasis = doubles(p.nMfcc * width);
    for (let k = 0; k < p.nMfcc; k++) {
      const scale = k === 0 ? Math.sqrt(1 / p.nMels) : Math.sqrt(2 / p.nMels);
      for (let m = 0; m < width; m++) this.dctBasis[k * width + m] = scale * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * p.nMels));
    }
    this.folded = doubles(2 * width);
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
    const maxEnergy = this.melEnergies(x, len, T);
    const logmel = options.logmel ? this.newRows(this.params.nMels, T) : null;
    const mfcc = this.mfcc(T, maxEnergy, logmel);
    const features: Features = { frames: T, zcr, rms, mfcc };
    if (logmel) features.logmel = logmel;
    return features;
  }

  /**
   * The signal as a double array: every kernel then reads it without typed-array
   * overheads (see dsp/doubles.ts), six times per sample in all.
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

  /** melspectrogram(y) into this.mel, frame-major (frame t at [t*nMels, (t+1)*nMels)); returns the largest value. */
  private melEnergies(x: number[], len: number, T: number): number {
    if (this.mel.length < this.params.nMels * T) this.mel = doubles(this.params.nMels * T);
    return this.melPower.run(x, len, T, this.mel);
  }

  /**
   * power_to_db (ref 1, amin, top_db) then the DCT, frame by frame. Values more than
   * top_db below the maximum are clipped to it: they are recognised in the linear
   * domain and skip the logarithm.
   */
  private mfcc(T: number, maxEnergy: number, logmel: Float64Array[] | null): Float64Array[] {
    const { nMels, nMfcc, amin, topDb } = this.params;
    const mel = this.mel;
    const floor = DB_PER_NEPER * Math.log(Math.max(amin, maxEnergy)) - topDb;
    // Below this energy a value's dB is below the floor (the log is monotonic).
    const clipBelow = Math.max(amin, maxEnergy) * 10 ** (-topDb / 10);
    const rows = this.newRows(nMfcc, T);
    const basis = this.dctBasis;
    const folded = this.folded;
    const even = nMels % 2 === 0;
    const width = even ? nMels / 2 : nMels;
    for (let t = 0; t < T; t++) {
      const row = t * nMels;
      for (let m = 0; m < nMels; m++) {
        const e = Math.max(amin, mel[row + m]);
        let db = floor;
        if (e >= clipBelow) {
          db = DB_PER_NEPER * Math.log(e);
          if (db < floor) db = floor;
        }
        mel[row + m] = db;
      }
      if (logmel) for (let m = 0; m < nMels; m++) logmel[m][t] = mel[row + m];
      if (even) {
        // folded[0..width): x[m] + x[M-1-m]; folded[width..2 width): x[m] - x[M-1-m].
        for (let m = 0; m < width; m++) {
          const a = mel[row + m];
          const b = mel[row + nMels - 1 - m];
          folded[m] = a + b;
          folded[width + m] = a - b;
        }
        for (let k = 0; k < nMfcc; k++) {
          const base = k * width;
          const src = (k & 1) * width;
          let acc0 = 0;
          let acc1 = 0;
          let acc2 = 0;
          let acc3 = 0;
          let m = 0;
          for (; m + 3 < width; m += 4) {
            acc0 += basis[base + m] * folded[src + m];
            acc1 += basis[base + m + 1] * folded[src + m + 1];
            acc2 += basis[base + m + 2] * folded[src + m + 2];
            acc3 += basis[base + m + 3] * folded[src + m + 3];
          }
          for (; m < width; m++) acc0 += basis[base + m] * folded[src + m];
          rows[k][t] = acc0 + acc1 + (acc2 + acc3);
        }
      } else {
        for (let k = 0; k < nMfcc; k++) {
          const base = k * width;
          let acc = 0;
          for (let m = 0; m < nMels; m++) acc += basis[base + m] * mel[row + m];
          rows[k][t] = acc;
        }
      }
    }
    return rows;
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
