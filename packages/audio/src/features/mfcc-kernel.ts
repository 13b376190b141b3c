/**
 * MFCCs through WebAssembly SIMD (../../assembly/mfcc.ts, built into mfcc.wasm): the
 * mel power spectrogram four frames at once in f32x4 lanes, about three times faster
 * than the Float64 FFT of dsp/fft.ts, then power_to_db and the DCT. Single precision up
 * to the dB values, as librosa computes them; the DCT in f64. This module owns the
 * kernel's memory: its tables, its scratch, one chunk of signal at a time (memory grows
 * with the frames' mel values, not with the signal), and the output.
 */
import { compileWasm, ensureMemory, instantiateWasm } from '../wasm.js';
import type { MelBand } from './mel.js';

const wasmModule = compileWasm(new URL('./mfcc.wasm', import.meta.url));

interface MfccExports {
  configure(
    halfFrame: number,
    hop: number,
    mels: number,
    window: number,
    digitRev: number,
    twiddles: number,
    rotation: number,
    melStart: number,
    melLength: number,
    melOffset: number,
    melWeights: number,
    coefficients: number,
    dctBasis: number,
    scratch: number,
  ): void;
  melPower(signal: number, frames: number, out: number): number;
  mfcc(mel: number, frames: number, amin: number, floorDb: number, out: number): void;
}

export interface MfccSettings {
  frameLength: number;
  hopLength: number;
  /** The analysis window, frameLength values. */
  window: ArrayLike<number>;
  bands: MelBand[];
  nMfcc: number;
  /** power_to_db: amin, and the dynamic range kept below the clip's maximum. */
  amin: number;
  topDb: number;
}

/** Frames per melPower call: a multiple of 4 (the kernel's lanes). */
const CHUNK_FRAMES = 256;
/**
 * Frames whose mel values and coefficients the memory has room for from the start (12
 * minutes of 22050 Hz audio at a hop of 512, 22 MB of address space): only a longer
 * signal grows it (see ../wasm.ts).
 */
const RESERVED_FRAMES = 1 << 15;

/** Whether the kernel computes frames of this length: half of it must be a power of 4 (512, 2048, 8192 ...). */
export function mfccKernelSupports(frameLength: number): boolean {
  let h = frameLength / 2;
  if (!Number.isInteger(h) || h < 4) return false;
  while (h % 4 === 0) h /= 4;
  return h === 1;
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

export class MfccKernel {
  private readonly kernel: ReturnType<typeof instantiateWasm<MfccExports>>;
  private readonly settings: MfccSettings;
  private readonly nMels: number;
  /** Byte offsets: one chunk of signal, then the per-call mel values and coefficients. */
  private readonly signalAt: number;
  private readonly melAt: number;

  constructor(settings: MfccSettings) {
    const { frameLength, hopLength, window, bands, nMfcc } = settings;
    if (!mfccKernelSupports(frameLength)) throw new RangeError(`frame length ${frameLength}: half of it must be a power of 4`);
    this.settings = settings;
    const nMels = bands.length;
    this.nMels = nMels;
    const h = frameLength / 2;
    const weights = bands.reduce((n, b) => n + b.weights.length, 0);
    let twiddles = 0;
    for (let span = 4; span < h; span *= 4) twiddles += 6 * span;
    // DCT-II (ortho) basis, nMfcc rows; for even nMels folded to the first nMels/2 inputs (see the kernel).
    const width = nMels % 2 === 0 ? nMels / 2 : nMels;

    let end = 0;
    const take = (bytes: number) => {
      const at = end;
      end += align(bytes);
      return at;
    };
    const windowAt = take(4 * frameLength);
    const digitRevAt = take(4 * h);
    const twiddlesAt = take(4 * twiddles);
    const rotationAt = take(8 * (h + 1));
    const melStartAt = take(4 * nMels);
    const melLengthAt = take(4 * nMels);
    const melOffsetAt = take(4 * nMels);
    const melWeightsAt = take(4 * weights);
    const dctBasisAt = take(8 * nMfcc * width);
    const scratchAt = take(16 * (3 * h + 1) + 16 * width);
    this.signalAt = take(4 * ((CHUNK_FRAMES - 1) * hopLength + frameLength));
    this.melAt = end;
    this.kernel = instantiateWasm<MfccExports>(wasmModule, this.bytesFor(RESERVED_FRAMES));
    const f32 = new Float32Array(this.kernel.memory.buffer);
    const f64 = new Float64Array(this.kernel.memory.buffer);
    const i32 = new Int32Array(this.kernel.memory.buffer);

    for (let i = 0; i < frameLength; i++) f32[windowAt / 4 + i] = window[i];
    const digits = Math.round(Math.log(h) / Math.log(4));
    for (let n = 0; n < h; n++) {
      let reversed = 0;
      for (let d = 0, v = n; d < digits; d++, v >>= 2) reversed = reversed * 4 + (v & 3);
      i32[digitRevAt / 4 + n] = reversed;
    }
    let at = twiddlesAt / 4;
    for (let span = 4; span < h; span *= 4) {
      for (let k = 0; k < span; k++) {
        for (let q = 1; q <= 3; q++) {
          const angle = (2 * Math.PI * q * k) / (4 * span);
          f32[at++] = Math.cos(angle);
          f32[at++] = -Math.sin(angle);
        }
      }
    }
    for (let k = 0; k <= h; k++) {
      const angle = (Math.PI * k) / h;
      f32[rotationAt / 4 + 2 * k] = Math.cos(angle);
      f32[rotationAt / 4 + 2 * k + 1] = -Math.sin(angle);
    }
    let offset = 0;
    bands.forEach((band, m) => {
      i32[melStartAt / 4 + m] = band.start;
      i32[melLengthAt / 4 + m] = band.weights.length;
      i32[melOffsetAt / 4 + m] = offset;
      f32.set(band.weights, melWeightsAt / 4 + offset);
      offset += band.weights.length;
    });
    for (let k = 0; k < nMfcc; k++) {
      const scale = k === 0 ? Math.sqrt(1 / nMels) : Math.sqrt(2 / nMels);
      for (let m = 0; m < width; m++) f64[dctBasisAt / 8 + k * width + m] = scale * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * nMels));
    }
    this.kernel.configure(
      h,
      hopLength,
      nMels,
      windowAt,
      digitRevAt,
      twiddlesAt,
      rotationAt,
      melStartAt,
      melLengthAt,
      melOffsetAt,
      melWeightsAt,
      nMfcc,
      dctBasisAt,
      scratchAt,
    );
  }

  /** Memory for T frames: the tables and a chunk of signal, then T frames' mel values and coefficients. */
  private bytesFor(T: number): number {
    return this.melAt + align(4 * T * this.nMels) + 8 * T * this.settings.nMfcc;
  }

  /**
   * MFCCs (nMfcc rows of T values) of x[0, len) in centred, zero-padded frames; with
   * `logmel`, also each band's dB values into its rows (nMels rows of T).
   */
  compute(x: ArrayLike<number>, len: number, T: number, logmel: Float64Array[] | null): Float64Array[] {
    const { frameLength, hopLength: hop, nMfcc, amin, topDb } = this.settings;
    const { nMels, kernel } = this;
    const outAt = this.melAt + align(4 * T * nMels);
    ensureMemory(kernel.memory, this.bytesFor(T));
    const f32 = new Float32Array(kernel.memory.buffer);
    const signal = this.signalAt / 4;
    let largest = 0;
    for (let first = 0; first < T; first += CHUNK_FRAMES) {
      const frames = Math.min(CHUNK_FRAMES, T - first);
      // Whole groups of four frames, the signal's edges padded with zeros.
      const length = (Math.ceil(frames / 4) * 4 - 1) * hop + frameLength;
      const start = first * hop - frameLength / 2;
      const from = Math.max(0, start);
      const to = Math.min(len, start + length);
      f32.fill(0, signal, signal + length);
      copyInto(x, from, to, f32, signal + from - start);
      largest = Math.max(largest, kernel.melPower(this.signalAt, frames, this.melAt + 4 * first * nMels));
    }
    const floorDb = 10 * Math.log10(Math.max(amin, largest)) - topDb;
    kernel.mfcc(this.melAt, T, amin, floorDb, outAt);

    const f64 = new Float64Array(kernel.memory.buffer, outAt, T * nMfcc);
    const rows: Float64Array[] = [];
    for (let k = 0; k < nMfcc; k++) rows.push(column(f64, k, nMfcc, T));
    if (logmel) {
      const db = f32.subarray(this.melAt / 4, this.melAt / 4 + T * nMels);
      for (let m = 0; m < nMels; m++) logmel[m].set(column(db, m, nMels, T));
    }
    return rows;
  }
}

function copyInto(x: ArrayLike<number>, from: number, to: number, f32: Float32Array, at: number): void {
  for (let j = from; j < to; j++) f32[at + j - from] = x[j];
}

/** Values k, k + stride, k + 2 stride, ... (count of them). */
function column(values: Float32Array | Float64Array, k: number, stride: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let t = 0, at = k; t < count; t++, at += stride) out[t] = values[at];
  return out;
}
