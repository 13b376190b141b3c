/**
 * The low-pass filter libsoxr 0.1.3 designs at quality HQ (what librosa's default
 * res_type='soxr_hq' uses), ported from its filter.c and soxr.c.
 *
 * For 48 kHz -> 22.05 kHz libsoxr runs two stages: a 445-tap Kaiser low-pass at
 * the input rate (this filter: it sets the response from 0.91 to 1.0 of the
 * output Nyquist), then a 147/320 polyphase stage whose own droop is below
 * 0.025 dB across the whole output band and which we leave out.
 */

/** SOXR_HQ: 20 bits of precision. */
const PRECISION_BITS = 20;
const dB = (x: number) => 20 * Math.log10(x);

// filter.c: the approximate shape of a Kaiser low-pass's transition band.
const sinePhi = (x: number) => ((2.0517e-7 * x - 1.1303e-4) * x + 0.023154) * x + 0.55924;
const sinePow = (x: number) => Math.log(0.5) / Math.log(Math.sin(x * 0.5));

function invFreqResponse(dropDb: number, att: number): number {
  let x = sinePhi(att);
  const drop = Math.exp(dropDb * (Math.LN10 * 0.05));
  const s = drop > 0.5 ? 1 - drop : drop;
  x = Math.asin(s ** (1 / sinePow(x))) / x;
  return drop > 0.5 ? x : 1 - x;
}

/** soxr_quality_spec(SOXR_HQ): passband end as a fraction of the lower Nyquist (0.91374...). */
export const HQ_PASSBAND_END = 1 - 0.05 / (1 - invFreqResponse(-3, PRECISION_BITS * dB(2)));
/** Attenuation budget of the first stage: (bits + 1) * 6.02 dB, +6.02 dB for an arbitrary-ratio stage. */
export const HQ_ATTENUATION_DB = (PRECISION_BITS + 1) * dB(2) + dB(2);

const KAISER_BETA_COEFS = [
  [-6.784957e-10, 1.02856e-5, 0.1087556, -0.8988365 + 0.001],
  [-6.897885e-10, 1.027433e-5, 0.10876, -0.8994658 + 0.002],
  [-1.000683e-9, 1.030092e-5, 0.1087677, -0.9007898 + 0.003],
  [-3.654474e-10, 1.040631e-5, 0.1087085, -0.8977766 + 0.006],
  [8.106988e-9, 6.983091e-6, 0.1091387, -0.9172048 + 0.015],
  [9.519571e-9, 7.272678e-6, 0.1090068, -0.9140768 + 0.025],
  [-5.626821e-9, 1.342186e-5, 0.1083999, -0.9065452 + 0.05],
  [-9.965946e-8, 5.073548e-5, 0.1040967, -0.7672778 + 0.085],
  [1.604808e-7, -5.856462e-5, 0.1185998, -1.34824 + 0.1],
  [-1.511964e-7, 6.363034e-5, 0.1064627, -0.9876665 + 0.18],
];

/** lsx_kaiser_beta: beta for an attenuation and a (normalised) transition half-width. */
export function kaiserBeta(att: number, trBw: number): number {
  if (att >= 60) {
    const realm = Math.log2(trBw / 0.0005);
    const i = Math.trunc(realm);
    const c0 = KAISER_BETA_COEFS[Math.min(Math.max(i, 0), 9)];
    const c1 = KAISER_BETA_COEFS[Math.min(Math.max(i + 1, 0), 9)];
    const b0 = ((c0[0] * att + c0[1]) * att + c0[2]) * att + c0[3];
    const b1 = ((c1[0] * att + c1[1]) * att + c1[2]) * att + c1[3];
    return b0 + (b1 - b0) * (realm - i);
  }
  if (att > 50) return 0.1102 * (att - 8.7);
  if (att > 20.96) return 0.58417 * (att - 20.96) ** 0.4 + 0.07886 * (att - 20.96);
  return 0;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for beta < 20). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export interface LowpassDesign {
  taps: Float64Array;
  /** Cut-off as a fraction of the filter rate's Nyquist. */
  cutoff: number;
  beta: number;
}

/**
 * lsx_design_lpf(Fp, Fs=1, Fn, att, n=0, k=-4, beta=-1) followed by lsx_make_lpf:
 * a single-phase linear-phase Kaiser low-pass with 4m+1 taps.
 * fn is the ratio of the filter's Nyquist to the band's Nyquist (>= 1).
 */
export function designHqLowpass(fn: number): LowpassDesign {
  const att = HQ_ATTENUATION_DB;
  const fp = HQ_PASSBAND_END / fn;
  const fs = 1 / fn;
  const trBw = Math.min(0.5 * (fs - fp), 0.5 * fs);
  const cutoff = fs - trBw;
  const beta = kaiserBeta(att, (trBw * 0.5) / cutoff);
  const a = ((0.0007528358 - 1.577737e-5 * beta) * beta + 0.6248022) * beta + 0.06186902;
  const modulo = 4;
  const rough = Math.ceil(a / trBw + 1);
  const numTaps = Math.floor((rough + modulo - 2) / modulo) * modulo + 1;
  const m = numTaps - 1;
  const taps = new Float64Array(numTaps);
  for (let i = 0; i <= m / 2; i++) {
    const h = kaiserSinc(i - 0.5 * m, cutoff, beta, m);
    taps[i] = h;
    taps[m - i] = h;
  }
  return { taps, cutoff, beta };
}

/**
 * lsx_make_lpf's impulse response at (possibly fractional) offset z from the centre
 * of an (m+1)-tap filter: Kaiser-windowed sinc, window stretched by rho = 0.5.
 */
export function kaiserSinc(z: number, cutoff: number, beta: number, m: number): number {
  const y = z / (0.5 * m + 0.5);
  if (Math.abs(y) >= 1) return 0;
  const x = z * Math.PI;
  return ((x ? Math.sin(cutoff * x) / x : cutoff) * besselI0(beta * Math.sqrt(1 - y * y))) / besselI0(beta);
}
