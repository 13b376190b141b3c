/**
 * Band-limited resampling with libsoxr's HQ response, computed in the frequency
 * domain: a real FFT of the input at the input rate, the spectrum multiplied by
 * the HQ low-pass's exact frequency response and truncated (or extended) to the
 * output rate's band, an inverse real FFT at the output rate. With enough zero
 * padding this is linear, zero-phase FIR filtering followed by ideal rational
 * resampling, which is what libsoxr computes for a linear-phase recipe (its
 * output is delay-compensated).
 *
 * Long signals go through overlap-save blocks whose FFTs stay in cache (one huge
 * FFT is several times slower per point). A block starts on an input sample that
 * falls on the output grid (a multiple of p for the reduced ratio p/q), so its
 * outputs are exactly the signal's outputs; each block keeps only the outputs at
 * least one filter half-length away from its edges, where the circular
 * convolution equals the linear one.
 *
 * Output length follows librosa.resample: ceil(n * out / in) samples, where
 * libsoxr's own round(n * out / in) samples are kept and any extra one is zero.
 */
import { doubles } from './doubles.js';
import { ComplexFft, RealFft } from './fft.js';
import { designHqLowpass, kaiserSinc } from './soxr-filter.js';

/** Overlap-save layout for one rate pair, in units of p input (q output) samples. */
interface BlockPlan {
  transform: BandTransform;
  p: number;
  q: number;
  /** Units of guard on each side of a block's kept outputs. */
  guard: number;
  /** Units of kept outputs per block. */
  kept: number;
}

const MAX_PLANS = 16;
const plans = new Map<string, BandTransform | BlockPlan>();

/** Blocks hold at least this many input samples, so the FFTs' fixed costs stay small... */
const MIN_BLOCK_INPUT = 4096;
/** ...and at least this many times the guard on both sides: at least 75% of each block is kept. */
const MIN_KEPT_PER_GUARD = 6;
/**
 * Input samples between the filter's last tap and a kept output. The band-limited
 * interpolation between input samples has tails beyond the taps only at the
 * stopband's level (below -120 dB), so a few samples are plenty.
 */
const GUARD_MARGIN = 16;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function largestPrimeFactor(n: number): number {
  let largest = 1;
  for (let p = 2; p * p <= n; p++) {
    while (n % p === 0) {
      largest = p;
      n /= p;
    }
  }
  return Math.max(largest, n);
}

const isSmooth = (n: number) => largestPrimeFactor(n) <= 7;

/** FFT sizes: the smallest 7-smooth pair with inSize/outSize = p/q. */
function chooseSizes(minIn: number, p: number, q: number): [number, number] {
  for (let m = Math.ceil(minIn / p); ; m++) {
    const a = p * m;
    const b = q * m;
    if (a % 2 === 0 && b % 2 === 0 && isSmooth(m)) return [a, b];
  }
}

/** Reduced ratio inRate/outRate, or null when a side has a prime factor above 7 (e.g. 44053 Hz). */
function smoothRatio(inRate: number, outRate: number): [number, number] | null {
  const g = gcd(inRate, outRate);
  const p = inRate / g;
  const q = outRate / g;
  return isSmooth(p) && isSmooth(q) ? [p, q] : null;
}

/** The HQ filter at the input rate, its cut-off relative to the lower of the two Nyquists. */
const filterFor = (inRate: number, outRate: number) => designHqLowpass(inRate > outRate ? inRate / outRate : 1);

function cached<T extends BandTransform | BlockPlan>(key: string, make: () => T): T {
  const hit = plans.get(key);
  if (hit) {
    plans.delete(key);
    plans.set(key, hit);
    return hit as T;
  }
  const plan = make();
  plans.set(key, plan);
  if (plans.size > MAX_PLANS) plans.delete(plans.keys().next().value as string);
  return plan;
}

/**
 * Real FFT of inSize input samples, a real gain per bin, inverse real FFT of the
 * first outSize/2 + 1 bins into `output` (outSize samples). Both real FFTs go
 * through half-size complex FFTs; unpacking the forward spectrum, the gain and
 * packing the inverse's input are done in one pass over the bins.
 */
class BandTransform {
  readonly output: number[];
  /** Input samples, for stretches that overhang the signal (zero-padded). */
  private readonly input: number[];
  private readonly forward: ComplexFft;
  private readonly inverse: ComplexFft;
  /** The inverse FFT's packed input (outSize/2 complex values). */
  private readonly packed: number[];
  /** Per output bin k in 0..outSize/2: gain (0 above the input band) and the two packing rotations. */
  private readonly gain: number[];
  private readonly inCos: number[];
  private readonly inSin: number[];
  private readonly outCos: number[];
  private readonly outSin: number[];

  constructor(
    readonly inSize: number,
    readonly outSize: number,
    taps: Float64Array,
  ) {
    const h = inSize / 2;
    const h2 = outSize / 2;
    this.forward = new ComplexFft(h, -1);
    this.inverse = new ComplexFft(h2, 1);
    this.input = doubles(inSize);
    this.output = doubles(outSize);
    this.packed = doubles(outSize);
    // The filter's frequency response at the input FFT's bins: centre tap at index 0.
    const impulse = new Float64Array(inSize);
    const centre = (taps.length - 1) / 2;
    for (let i = 0; i < taps.length; i++) impulse[(i - centre + inSize) % inSize] += taps[i];
    const response = new Float64Array(inSize + 2);
    new RealFft(inSize).forward(impulse, response);
    this.gain = doubles(h2 + 1);
    this.inCos = doubles(h2 + 1);
    this.inSin = doubles(h2 + 1);
    this.outCos = doubles(h2 + 1);
    this.outSin = doubles(h2 + 1);
    for (let k = 0; k <= h2; k++) {
      // 1/2 from unpacking the forward spectrum, 1/inSize: the inverse's 1/outSize times outSize/inSize.
      if (k <= h) this.gain[k] = (0.5 * response[2 * k]) / inSize;
      this.inCos[k] = Math.cos((2 * Math.PI * k) / inSize);
      this.inSin[k] = Math.sin((2 * Math.PI * k) / inSize);
      this.outCos[k] = Math.cos((2 * Math.PI * k) / outSize);
      this.outSin[k] = Math.sin((2 * Math.PI * k) / outSize);
    }
  }

  /** Transforms x[start .. start + inSize), zeros outside x. */
  run(x: Float32Array, start: number): void {
    const h = this.inSize >> 1;
    const h2 = this.outSize >> 1;
    let z: number[];
    if (start >= 0 && start + this.inSize <= x.length) {
      // The FFT's first stage reads the signal itself.
      z = this.forward.runReal(x, start, null);
    } else {
      loadPadded(x, start, this.input);
      z = this.forward.run(this.input, null);
    }
    const zz = this.packed;
    const { gain, inCos, inSin, outCos, outSin } = this;
    // Pairs (k, h2 - k) with k < h2 - k whose four input bins k, h-k, h2-k, h-h2+k are all
    // in 1..h-1 take the fast path; the few others (and upsampling's empty bins) the general one.
    const first = Math.max(1, h2 - h + 1);
    const last = Math.min(Math.ceil(h2 / 2) - 1, h - 1);
    for (let k = 0; k <= h2 >> 1; k++) if (k < first || k > last) this.pair(z, k, h2 - k);
    for (let k = first, j = h2 - first; k <= last; k++, j--) {
      // Bins k and j of the filtered spectrum, S = gain * X, with
      // 2X[k] = (Z[k] + conj Z[h-k]) - i e^{-2 pi i k / inSize} (Z[k] - conj Z[h-k]).
      let a = 2 * k;
      let b = 2 * (h - k);
      let er = z[a] + z[b];
      let ei = z[a + 1] - z[b + 1];
      let dr = z[a] - z[b];
      let di = z[a + 1] + z[b + 1];
      let c = inCos[k];
      let s = inSin[k];
      let g = gain[k];
      const skr = g * (er + c * di - s * dr);
      const ski = g * (ei - c * dr - s * di);
      a = 2 * j;
      b = 2 * (h - j);
      er = z[a] + z[b];
      ei = z[a + 1] - z[b + 1];
      dr = z[a] - z[b];
      di = z[a + 1] + z[b + 1];
      c = inCos[j];
      s = inSin[j];
      g = gain[j];
      const sjr = g * (er + c * di - s * dr);
      const sji = g * (ei - c * dr - s * di);
      // Packed inverse input: Z'[k] = (S[k] + conj S[j]) + i e^{2 pi i k / outSize} (S[k] - conj S[j]),
      // and Z'[j] the same with k and j swapped (so E' = conj E, D' = -conj D).
      er = skr + sjr;
      ei = ski - sji;
      dr = skr - sjr;
      di = ski + sji;
      c = outCos[k];
      s = outSin[k];
      zz[2 * k] = er - s * dr - c * di;
      zz[2 * k + 1] = ei + c * dr - s * di;
      c = outCos[j];
      s = outSin[j];
      zz[2 * j] = er + s * dr - c * di;
      zz[2 * j + 1] = -ei - c * dr - s * di;
    }
    this.inverse.run(zz, this.output);
  }

  /** The same as the fast path for any pair, with indices taken mod h and bins above the input band empty. */
  private pair(z: number[], k: number, j: number): void {
    const h = this.inSize >> 1;
    const h2 = this.outSize >> 1;
    const [skr, ski] = this.filtered(z, k, h);
    const [sjr, sji] = this.filtered(z, j, h);
    const zz = this.packed;
    if (k < h2) {
      const er = skr + sjr;
      const ei = ski - sji;
      const dr = skr - sjr;
      const di = ski + sji;
      const c = this.outCos[k];
      const s = this.outSin[k];
      zz[2 * k] = er - s * dr - c * di;
      zz[2 * k + 1] = ei + c * dr - s * di;
    }
    if (j < h2 && j !== k) {
      const er = sjr + skr;
      const ei = sji - ski;
      const dr = sjr - skr;
      const di = sji + ski;
      const c = this.outCos[j];
      const s = this.outSin[j];
      zz[2 * j] = er - s * dr - c * di;
      zz[2 * j + 1] = ei + c * dr - s * di;
    }
  }

  private filtered(z: number[], k: number, h: number): [number, number] {
    if (k > h) return [0, 0];
    const a = 2 * (k % h);
    const b = 2 * ((h - k) % h);
    const er = z[a] + z[b];
    const ei = z[a + 1] - z[b + 1];
    const dr = z[a] - z[b];
    const di = z[a + 1] + z[b + 1];
    const c = this.inCos[k];
    const s = this.inSin[k];
    const g = this.gain[k];
    return [g * (er + c * di - s * dr), g * (ei - c * dr - s * di)];
  }
}

/** One transform over the whole (zero-padded) signal. */
function wholePlan(length: number, inRate: number, outRate: number, [p, q]: [number, number]): BandTransform {
  const { taps } = filterFor(inRate, outRate);
  // Zero padding at least one filter length keeps the circular convolution linear.
  const [inSize, outSize] = chooseSizes(length + taps.length + 64, p, q);
  return cached(`whole:${inRate}:${outRate}:${inSize}`, () => new BandTransform(inSize, outSize, taps));
}

function blockPlan(inRate: number, outRate: number, [p, q]: [number, number]): BlockPlan {
  return cached(`block:${inRate}:${outRate}`, () => {
    const { taps } = filterFor(inRate, outRate);
    const guard = Math.ceil(((taps.length - 1) / 2 + GUARD_MARGIN) / p);
    // Units per block: a power of two keeps the FFTs on their fastest radices.
    let units = 2;
    while (units < 2 * guard + MIN_KEPT_PER_GUARD * guard || p * units < MIN_BLOCK_INPUT) units *= 2;
    return { transform: new BandTransform(p * units, q * units, taps), p, q, guard, kept: units - 2 * guard };
  });
}

/** Resamples a mono signal; returns float32 samples (as librosa does). */
export function resample(x: Float32Array, inRate: number, outRate: number): Float32Array {
  if (!(inRate > 0 && outRate > 0)) throw new RangeError(`sample rates must be positive, got ${inRate} -> ${outRate}`);
  if (inRate === outRate || x.length === 0) return x.slice();
  const n = x.length;
  const outLength = Math.ceil((n * outRate) / inRate);
  // libsoxr's own output length: (long)(n / io_ratio + .5).
  const soxrLength = Math.min(outLength, Math.floor(n / (inRate / outRate) + 0.5));
  const ratio = smoothRatio(inRate, outRate);
  if (!ratio) return resampleDirect(x, inRate, outRate, outLength, soxrLength);
  const y = new Float32Array(outLength);
  const blocks = blockPlan(inRate, outRate, ratio);
  // Signals that fit in a couple of blocks: one transform is as cheap and simpler.
  if (soxrLength <= 2 * blocks.q * blocks.kept) {
    const t = wholePlan(n, inRate, outRate, ratio);
    t.run(x, 0);
    storeFloat32(t.output, 0, y, 0, soxrLength);
    return y;
  }
  resampleBlocks(x, blocks, y, soxrLength);
  return y;
}

function resampleBlocks(x: Float32Array, plan: BlockPlan, y: Float32Array, count: number): void {
  const { transform: t, p, q, guard, kept } = plan;
  const keptOut = q * kept;
  for (let first = 0, unit = 0; first < count; first += keptOut, unit += kept) {
    t.run(x, p * (unit - guard));
    storeFloat32(t.output, q * guard, y, first, Math.min(keptOut, count - first));
  }
}

// The copies below are functions of their own so that V8's on-the-spot compilation
// of their loops (on-stack replacement) never covers code that has not run yet.

/** input[i] = x[start + i], zero outside x. */
function loadPadded(x: Float32Array, start: number, input: number[]): void {
  const lo = Math.max(0, -start);
  const hi = Math.max(lo, Math.min(input.length, x.length - start));
  for (let i = 0; i < lo; i++) input[i] = 0;
  for (let i = lo; i < hi; i++) input[i] = x[start + i];
  for (let i = hi; i < input.length; i++) input[i] = 0;
}

function storeFloat32(from: number[], at: number, y: Float32Array, first: number, count: number): void {
  for (let j = 0; j < count; j++) y[first + j] = from[at + j];
}

/**
 * Rates whose ratio has a large prime factor: the same HQ filter applied directly,
 * its kernel tabulated finely and read at each output instant (slower, exact ratio).
 */
function resampleDirect(x: Float32Array, inRate: number, outRate: number, outLength: number, soxrLength: number): Float32Array {
  const { taps } = filterFor(inRate, outRate);
  const half = (taps.length - 1) / 2;
  // Kernel at 1/STEPS sample resolution, from the same closed form the taps come from.
  const STEPS = 512;
  const { kernel } = tabulateKernel(inRate, outRate, STEPS);
  const y = new Float32Array(outLength);
  const step = inRate / outRate;
  for (let k = 0; k < soxrLength; k++) {
    const t = k * step;
    const first = Math.max(0, Math.ceil(t - half));
    const last = Math.min(x.length - 1, Math.floor(t + half));
    let acc = 0;
    for (let j = first; j <= last; j++) {
      const pos = Math.abs(t - j) * STEPS;
      const i = Math.floor(pos);
      const frac = pos - i;
      acc += x[j] * (kernel[i] + frac * (kernel[i + 1] - kernel[i]));
    }
    y[k] = acc;
  }
  return y;
}

function tabulateKernel(inRate: number, outRate: number, steps: number): { kernel: Float64Array } {
  const { taps, cutoff, beta } = filterFor(inRate, outRate);
  const m = taps.length - 1;
  const kernel = new Float64Array(Math.ceil((m / 2) * steps) + 2);
  for (let i = 0; i < kernel.length; i++) kernel[i] = kaiserSinc(i / steps, cutoff, beta, m);
  return { kernel };
}
