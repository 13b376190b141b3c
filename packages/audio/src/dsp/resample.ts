/**
 * Band-limited resampling with libsoxr's HQ response, computed in the frequency
 * domain: one real FFT of the (zero-padded) input at the input rate, the
 * spectrum multiplied by the HQ low-pass's exact frequency response and
 * truncated (or extended) to the output rate's band, one inverse real FFT at
 * the output rate. With enough zero padding this is exactly linear, zero-phase
 * FIR filtering followed by ideal rational resampling, which is what libsoxr
 * computes for a linear-phase recipe (its output is delay-compensated).
 *
 * Output length follows librosa.resample: ceil(n * out / in) samples, where
 * libsoxr's own round(n * out / in) samples are kept and any extra one is zero.
 */
import { RealFft } from './fft.js';
import { designHqLowpass } from './soxr-filter.js';

interface Plan {
  inSize: number;
  outSize: number;
  inFft: RealFft;
  outFft: RealFft;
  /** Real gain per shared bin (filter response times the size ratio). */
  gain: Float64Array;
  input: Float64Array;
  inSpectrum: Float64Array;
  outSpectrum: Float64Array;
  output: Float64Array;
}

const MAX_PLANS = 16;
const plans = new Map<string, Plan>();

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

/** FFT sizes: the smallest 7-smooth pair with inSize/outSize = inRate/outRate, exactly when the rates allow it. */
function chooseSizes(minIn: number, inRate: number, outRate: number): [number, number] {
  const g = gcd(inRate, outRate);
  const p = inRate / g;
  const q = outRate / g;
  if (isSmooth(p) && isSmooth(q)) {
    for (let m = Math.ceil(minIn / p); ; m++) {
      const a = p * m;
      const b = q * m;
      if (a % 2 === 0 && b % 2 === 0 && isSmooth(m)) return [a, b];
    }
  }
  // Rates with a large prime factor (e.g. 44056 Hz): nearest smooth sizes. The
  // ratio is then off by less than one part in outSize, well under a sample of drift.
  for (let a = minIn + (minIn % 2); ; a += 2) {
    if (!isSmooth(a)) continue;
    const b = 2 * Math.round((a * outRate) / inRate / 2);
    if (isSmooth(b)) return [a, b];
  }
}

function getPlan(length: number, inRate: number, outRate: number): Plan {
  const ratio = Math.max(inRate, outRate) / Math.min(inRate, outRate);
  // Filter designed at the input rate, cut-off relative to the lower of the two Nyquists.
  const { taps } = designHqLowpass(inRate > outRate ? ratio : 1);
  // Zero padding at least one filter length keeps the circular convolution linear.
  const [inSize, outSize] = chooseSizes(length + taps.length + 64, inRate, outRate);
  const key = `${inRate}:${outRate}:${inSize}`;
  const cached = plans.get(key);
  if (cached) {
    plans.delete(key);
    plans.set(key, cached);
    return cached;
  }
  const inFft = new RealFft(inSize);
  const outFft = inSize === outSize ? inFft : new RealFft(outSize);
  // The filter's frequency response at the input FFT's bins: centre tap at index 0.
  const impulse = new Float64Array(inSize);
  const centre = (taps.length - 1) / 2;
  for (let i = 0; i < taps.length; i++) impulse[(i - centre + inSize) % inSize] = taps[i];
  const response = new Float64Array(inSize + 2);
  inFft.forward(impulse, response);
  const bins = Math.min(inSize, outSize) / 2 + 1;
  const gain = new Float64Array(bins);
  const scale = outSize / inSize;
  for (let k = 0; k < bins; k++) gain[k] = response[2 * k] * scale;
  const plan: Plan = {
    inSize,
    outSize,
    inFft,
    outFft,
    gain,
    input: new Float64Array(inSize),
    inSpectrum: new Float64Array(inSize + 2),
    outSpectrum: new Float64Array(outSize + 2),
    output: new Float64Array(outSize),
  };
  plans.set(key, plan);
  if (plans.size > MAX_PLANS) plans.delete(plans.keys().next().value as string);
  return plan;
}

/** Resamples a mono signal; returns float32 samples (as librosa does). */
export function resample(x: Float32Array, inRate: number, outRate: number): Float32Array {
  if (!(inRate > 0 && outRate > 0)) throw new RangeError(`sample rates must be positive, got ${inRate} -> ${outRate}`);
  if (inRate === outRate || x.length === 0) return x.slice();
  const n = x.length;
  const outLength = Math.ceil((n * outRate) / inRate);
  // libsoxr's own output length: (long)(n / io_ratio + .5).
  const soxrLength = Math.min(outLength, Math.floor(n / (inRate / outRate) + 0.5));
  const plan = getPlan(n, inRate, outRate);
  const { input, inSpectrum, outSpectrum, output, gain } = plan;
  input.set(x);
  input.fill(0, n);
  plan.inFft.forward(input, inSpectrum);
  outSpectrum.fill(0);
  for (let k = 0; k < gain.length; k++) {
    const g = gain[k];
    outSpectrum[2 * k] = inSpectrum[2 * k] * g;
    outSpectrum[2 * k + 1] = inSpectrum[2 * k + 1] * g;
  }
  plan.outFft.inverse(outSpectrum, output);
  const y = new Float32Array(outLength);
  for (let i = 0; i < soxrLength; i++) y[i] = output[i];
  return y;
}
