/**
 * The mel power spectrogram through WebAssembly SIMD (../../assembly/mel-power.ts,
 * built into mel-power.wasm): four frames at once in f32x4 lanes, about three times
 * faster than the Float64 FFT of dsp/fft.ts on this path. Single precision, as librosa
 * computes it. This module owns the kernel's memory: its tables, its scratch, and one
 * chunk of signal and output at a time, so memory stays bounded for long recordings.
 */
import { compileWasm, ensureMemory, instantiateWasm } from '../wasm.js';
import type { MelBand } from './mel.js';

const wasmModule = compileWasm(new URL('./mel-power.wasm', import.meta.url));

interface MelPowerExports {
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
    scratch: number,
  ): void;
  melPower(signal: number, frames: number, out: number): void;
}

/** Frames per call: a multiple of 4 (the kernel's lanes). */
const CHUNK_FRAMES = 256;

/** Whether the kernel computes frames of this length: half of it must be a power of 4 (512, 2048, 8192 ...). */
export function melKernelSupports(frameLength: number): boolean {
  let h = frameLength / 2;
  if (!Number.isInteger(h) || h < 4) return false;
  while (h % 4 === 0) h /= 4;
  return h === 1;
}

export class MelPowerKernel {
  private readonly kernel: ReturnType<typeof instantiateWasm<MelPowerExports>>;
  private readonly frameLength: number;
  private readonly hop: number;
  private readonly nMels: number;
  /** Byte offsets of one chunk of signal and its output. */
  private readonly signalAt: number;
  private readonly outAt: number;
  private readonly signalLength: number;
  private readonly f32: Float32Array;

  constructor(frameLength: number, hop: number, window: ArrayLike<number>, bands: MelBand[]) {
    if (!melKernelSupports(frameLength)) throw new RangeError(`frame length ${frameLength}: half of it must be a power of 4`);
    this.kernel = instantiateWasm<MelPowerExports>(wasmModule);
    this.frameLength = frameLength;
    this.hop = hop;
    this.nMels = bands.length;
    const h = frameLength / 2;
    const weights = bands.reduce((n, b) => n + b.weights.length, 0);
    let twiddles = 0;
    for (let span = 4; span < h; span *= 4) twiddles += 6 * span;

    let end = 0;
    const take = (bytes: number) => {
      const at = end;
      end += Math.ceil(bytes / 16) * 16;
      return at;
    };
    const windowAt = take(4 * frameLength);
    const digitRevAt = take(4 * h);
    const twiddlesAt = take(4 * twiddles);
    const rotationAt = take(8 * (h + 1));
    const melStartAt = take(4 * this.nMels);
    const melLengthAt = take(4 * this.nMels);
    const melOffsetAt = take(4 * this.nMels);
    const melWeightsAt = take(4 * weights);
    const scratchAt = take(16 * (3 * h + 1));
    this.signalLength = (CHUNK_FRAMES - 1) * hop + frameLength;
    this.signalAt = take(4 * this.signalLength);
    this.outAt = take(4 * CHUNK_FRAMES * this.nMels);
    ensureMemory(this.kernel.memory, end);
    const f32 = new Float32Array(this.kernel.memory.buffer);
    const i32 = new Int32Array(this.kernel.memory.buffer);
    this.f32 = f32;

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
    this.kernel.configure(
      h,
      hop,
      this.nMels,
      windowAt,
      digitRevAt,
      twiddlesAt,
      rotationAt,
      melStartAt,
      melLengthAt,
      melOffsetAt,
      melWeightsAt,
      scratchAt,
    );
  }

  /**
   * melspectrogram of x[0, len) (centred frames, zero padding) into mel, frame-major
   * (frame t's bands at [t nMels, (t+1) nMels)), for frames 0..T-1; returns the largest value.
   */
  run(x: ArrayLike<number>, len: number, T: number, mel: number[]): number {
    const { f32, hop, nMels } = this;
    const signal = this.signalAt / 4;
    const out = this.outAt / 4;
    let max = 0;
    for (let first = 0; first < T; first += CHUNK_FRAMES) {
      const frames = Math.min(CHUNK_FRAMES, T - first);
      // Whole groups of four frames, the signal's edges padded with zeros.
      const length = (Math.ceil(frames / 4) * 4 - 1) * hop + this.frameLength;
      const start = first * hop - this.frameLength / 2;
      const from = Math.max(0, start);
      const to = Math.min(len, start + length);
      f32.fill(0, signal, signal + length);
      copyInto(x, from, to, f32, signal + from - start);
      this.kernel.melPower(this.signalAt, frames, this.outAt);
      max = Math.max(max, copyOut(f32, out, frames * nMels, mel, first * nMels));
    }
    return max;
  }
}

function copyInto(x: ArrayLike<number>, from: number, to: number, f32: Float32Array, at: number): void {
  for (let j = from; j < to; j++) f32[at + j - from] = x[j];
}

function copyOut(f32: Float32Array, from: number, count: number, mel: number[], at: number): number {
  let max = 0;
  for (let i = 0; i < count; i++) {
    const v = f32[from + i];
    mel[at + i] = v;
    if (v > max) max = v;
  }
  return max;
}
