/**
 * The seed system's feature recipe, computed as librosa 0.10 computes it:
 *
 *   zcr  = librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)
 *   rms  = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)
 *   mfcc = librosa.feature.mfcc(y=y, sr=22050)      # 20 coefficients
 *
 * Everything runs in Float64 on the float32 signal; the librosa golden values
 * (float32 pipeline) agree to about 1e-4 in MFCC.
 */
import { RealFft } from '../dsp/fft.js';
import { type MelBand, melFilterbank } from './mel.js';

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
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly bands: MelBand[];
  /** DCT-II (ortho) rows for the first nMfcc coefficients, each of length nMels. */
  private readonly dct: Float64Array[];
  private readonly frame: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly power: Float64Array;

  constructor(params: Partial<FeatureParams> = {}) {
    const p = { ...LIBROSA_DEFAULTS, ...params };
    this.params = p;
    const n = p.frameLength;
    this.fft = new RealFft(n);
    // Periodic Hann (scipy.signal.get_window('hann', n, fftbins=True)).
    this.window = new Float64Array(n);
    for (let i = 0; i < n; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    this.bands = melFilterbank(p.sampleRate, n, p.nMels);
    this.dct = [];
    for (let k = 0; k < p.nMfcc; k++) {
      const row = new Float64Array(p.nMels);
      const scale = k === 0 ? Math.sqrt(1 / p.nMels) : Math.sqrt(2 / p.nMels);
      for (let m = 0; m < p.nMels; m++) row[m] = scale * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * p.nMels));
      this.dct.push(row);
    }
    this.frame = new Float64Array(n);
    this.spectrum = new Float64Array(n + 2);
    this.power = new Float64Array(n / 2 + 1);
  }

  frameCount(length: number): number {
    return 1 + Math.floor(length / this.params.hopLength);
  }

  compute(y: ArrayLike<number>, options: { logmel?: boolean } = {}): Features {
    const T = this.frameCount(y.length);
    const zcr = this.zeroCrossingRate(y, T);
    const rms = this.rms(y, T);
    const logmel = this.logMel(y, T);
    const mfcc = this.dctRows(logmel, T);
    const features: Features = { frames: T, zcr, rms, mfcc };
    if (options.logmel) {
      const rows: Float64Array[] = [];
      for (let m = 0; m < this.params.nMels; m++) rows.push(logmel.subarray(m * T, (m + 1) * T));
      features.logmel = rows;
    }
    return features;
  }

  /** Centred frames with edge padding; a crossing is a sign-bit change, zero counted as positive. */
  private zeroCrossingRate(y: ArrayLike<number>, T: number): Float64Array {
    const { frameLength: n, hopLength: hop, zcrThreshold } = this.params;
    const len = y.length;
    const half = n / 2;
    const out = new Float64Array(T);
    if (len === 0) return out;
    // Sign bit per padded sample: 1 when negative after thresholding.
    const padded = new Uint8Array(len + n);
    const first = y[0];
    const last = y[len - 1];
    const signOf = (x: number) => (x < 0 && -x > zcrThreshold ? 1 : 0);
    padded.fill(signOf(first), 0, half);
    for (let i = 0; i < len; i++) padded[half + i] = signOf(y[i]);
    padded.fill(signOf(last), half + len);
    for (let t = 0; t < T; t++) {
      const s = t * hop;
      let count = 0;
      for (let i = s + 1; i < s + n; i++) count += padded[i] ^ padded[i - 1];
      out[t] = count / n;
    }
    return out;
  }

  /** Centred frames with zero padding, no window. */
  private rms(y: ArrayLike<number>, T: number): Float64Array {
    const { frameLength: n, hopLength: hop } = this.params;
    const len = y.length;
    const out = new Float64Array(T);
    if (n % (2 * hop) !== 0) {
      for (let t = 0; t < T; t++) {
        let energy = 0;
        for (let j = Math.max(0, t * hop - n / 2); j < Math.min(len, t * hop + n / 2); j++) energy += y[j] * y[j];
        out[t] = Math.sqrt(energy / n);
      }
      return out;
    }
    // Frames start on hop boundaries, so each is a whole number of hop-long blocks:
    // sum each block once (exact zeros stay zero, unlike prefix sums).
    const blocks = Math.ceil(len / hop);
    const blockEnergy = new Float64Array(blocks);
    for (let b = 0; b < blocks; b++) {
      let e = 0;
      const end = Math.min(len, (b + 1) * hop);
      for (let j = b * hop; j < end; j++) e += y[j] * y[j];
      blockEnergy[b] = e;
    }
    const perFrame = n / hop;
    for (let t = 0; t < T; t++) {
      let energy = 0;
      const first = t - perFrame / 2;
      for (let b = Math.max(0, first); b < Math.min(blocks, first + perFrame); b++) energy += blockEnergy[b];
      out[t] = Math.sqrt(energy / n);
    }
    return out;
  }

  /** power_to_db(melspectrogram(y)), mel-major: row m occupies [m*T, (m+1)*T). */
  private logMel(y: ArrayLike<number>, T: number): Float64Array {
    const { frameLength: n, hopLength: hop, nMels, amin, topDb } = this.params;
    const len = y.length;
    const half = n / 2;
    const frame = this.frame;
    const spectrum = this.spectrum;
    const power = this.power;
    const win = this.window;
    const bins = n / 2 + 1;
    const mel = new Float64Array(nMels * T);
    for (let t = 0; t < T; t++) {
      const start = t * hop - half;
      if (start >= 0 && start + n <= len) {
        for (let i = 0; i < n; i++) frame[i] = y[start + i] * win[i];
      } else {
        for (let i = 0; i < n; i++) {
          const j = start + i;
          frame[i] = j >= 0 && j < len ? y[j] * win[i] : 0;
        }
      }
      this.fft.forward(frame, spectrum);
      for (let k = 0; k < bins; k++) {
        const re = spectrum[2 * k];
        const im = spectrum[2 * k + 1];
        power[k] = re * re + im * im;
      }
      for (let m = 0; m < nMels; m++) {
        const { start: s0, weights } = this.bands[m];
        let acc = 0;
        for (let j = 0; j < weights.length; j++) acc += weights[j] * power[s0 + j];
        mel[m * T + t] = acc;
      }
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < mel.length; i++) {
      const db = 10 * Math.log10(Math.max(amin, mel[i]));
      mel[i] = db;
      if (db > max) max = db;
    }
    const floor = max - topDb;
    for (let i = 0; i < mel.length; i++) if (mel[i] < floor) mel[i] = floor;
    return mel;
  }

  private dctRows(logmel: Float64Array, T: number): Float64Array[] {
    const { nMels, nMfcc } = this.params;
    const rows: Float64Array[] = [];
    for (let k = 0; k < nMfcc; k++) {
      const row = new Float64Array(T);
      const basis = this.dct[k];
      for (let m = 0; m < nMels; m++) {
        const w = basis[m];
        const off = m * T;
        for (let t = 0; t < T; t++) row[t] += w * logmel[off + t];
      }
      rows.push(row);
    }
    return rows;
  }
}

/** The seed system's vector: T zcr values, T rms values, then MFCCs frame by frame (22*T values). */
export function featureVector(f: Features): Float64Array {
  const T = f.frames;
  const nMfcc = f.mfcc.length;
  const out = new Float64Array((2 + nMfcc) * T);
  out.set(f.zcr, 0);
  out.set(f.rms, T);
  let at = 2 * T;
  for (let t = 0; t < T; t++) for (let k = 0; k < nMfcc; k++) out[at++] = f.mfcc[k][t];
  return out;
}
