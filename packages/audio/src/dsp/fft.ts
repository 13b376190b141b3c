/**
 * Mixed-radix FFTs in Float64 (radices 8, 4, 2, 3, 5, 7 and a generic fallback).
 *
 * Stockham autosort formulation: every stage reads one buffer and writes another,
 * so the output comes out in natural order without a bit-reversal pass; the first
 * stage can read a real signal in place (runReal) and the last can write the
 * caller's buffer. Complex data is interleaved: [re0, im0, re1, im1, ...], in
 * packed double arrays (see doubles.ts) rather than Float64Arrays, for speed.
 *
 * Each radix has its own butterfly with the twiddles of a stage hoisted out of the
 * inner loop; the first stage's twiddles are all 1 and are skipped.
 */

import { doubles } from './doubles.js';

/**
 * Radices of n: powers of 4 (one 8 when the power of 2 is odd, so there is no
 * radix-2 pass), then 3, 5, 7, then primes above 7 for the generic butterfly.
 */
function factorize(n: number): number[] {
  const radices: number[] = [];
  let m = n;
  let twos = 0;
  while (m % 2 === 0) {
    twos++;
    m /= 2;
  }
  if (twos % 2 === 1) {
    radices.push(twos >= 3 ? 8 : 2);
    twos -= twos >= 3 ? 3 : 1;
  }
  for (; twos > 0; twos -= 2) radices.push(4);
  for (let p = 3; m > 1; p += 2) {
    while (m % p === 0) {
      radices.push(p);
      m /= p;
    }
  }
  // The first stage has no twiddles, which saves the most on the largest radix,
  // except that a radix 4 goes first when there is one: runReal's first stage reads
  // real signals directly.
  radices.sort((a, b) => b - a);
  const four = radices.indexOf(4);
  if (four > 0) radices.unshift(...radices.splice(four, 1));
  return radices;
}

interface Stage {
  radix: number;
  /** Span of the butterflies already combined before this stage. */
  span: number;
  /** Twiddles w^(r*k) for k in [0, span), r in [1, radix): interleaved, (radix-1) complex per k. */
  twiddles: number[];
  /** Generic radix only: cos/sin(2 pi r / p) with the direction's sign, and two scratch vectors. */
  generic?: { cos: number[]; sin: number[]; vr: number[]; vi: number[] };
}

/** A complex FFT of fixed size and direction (sign -1 forward, +1 inverse, unscaled). */
export class ComplexFft {
  readonly size: number;
  private readonly stages: Stage[];
  private readonly sign: number;
  private readonly bufA: number[];
  private readonly bufB: number[];

  constructor(size: number, sign: -1 | 1 = -1) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size must be a positive integer, got ${size}`);
    this.size = size;
    this.sign = sign;
    this.bufA = doubles(2 * size);
    this.bufB = doubles(2 * size);
    this.stages = [];
    let span = 1;
    for (const radix of factorize(size)) {
      const twiddles = doubles(2 * span * (radix - 1));
      for (let k = 0; k < span; k++) {
        for (let r = 1; r < radix; r++) {
          const angle = (sign * 2 * Math.PI * r * k) / (span * radix);
          const at = 2 * (k * (radix - 1) + r - 1);
          twiddles[at] = Math.cos(angle);
          twiddles[at + 1] = Math.sin(angle);
        }
      }
      const stage: Stage = { radix, span, twiddles };
      if (radix > 7) {
        const cos = doubles(radix);
        const sin = doubles(radix);
        for (let r = 0; r < radix; r++) {
          cos[r] = Math.cos((2 * Math.PI * r) / radix);
          sin[r] = sign * Math.sin((2 * Math.PI * r) / radix);
        }
        stage.generic = { cos, sin, vr: doubles(radix), vi: doubles(radix) };
      }
      this.stages.push(stage);
      span *= radix;
    }
  }

  /** Transforms `data` (interleaved, length 2*size) in place. */
  transform(data: Float64Array): void {
    const n2 = 2 * this.size;
    const z = this.bufB;
    for (let i = 0; i < n2; i++) z[i] = data[i];
    const result = this.run(z, null);
    for (let i = 0; i < n2; i++) data[i] = result[i];
  }

  /**
   * Transforms `src` (2*size values, left untouched) and returns the buffer holding
   * the result: `out` when given (it must not be `src`), else an internal buffer
   * that the next call overwrites.
   */
  run(src: number[], out: number[] | null): number[] {
    const stages = this.stages;
    const count = stages.length;
    if (count === 0) {
      if (out === null) return src;
      out[0] = src[0];
      out[1] = src[1];
      return out;
    }
    // Destinations alternate between the two internal buffers; the last stage writes `out`.
    let from = src;
    for (let s = 0; s < count; s++) {
      const to = s === count - 1 && out !== null ? out : from === this.bufA ? this.bufB : this.bufA;
      runStage(stages[s], this.size, this.sign, from, to);
      from = to;
    }
    return from;
  }

  /**
   * The transform of z[j] = x[offset+2j] + i x[offset+2j+1] (a stretch of a real
   * signal, two samples per complex value), each sample times window[i] when a
   * window is given, without building z: when the plan starts with radix 4 (see
   * factorize), that first stage reads the signal itself. Returns the internal
   * buffer holding the result.
   */
  runReal(x: Float32Array | number[], offset: number, window: number[] | null): number[] {
    const stages = this.stages;
    const n2 = 2 * this.size;
    if (stages.length === 0 || stages[0].radix !== 4) {
      const z = this.bufB;
      if (window) for (let i = 0; i < n2; i++) z[i] = x[offset + i] * window[i];
      else for (let i = 0; i < n2; i++) z[i] = x[offset + i];
      return this.run(z, null);
    }
    if (window) windowedRadix4(x, offset, window, this.bufA, this.size, this.sign);
    else realRadix4(x, offset, this.bufA, this.size, this.sign);
    let from = this.bufA;
    for (let s = 1; s < stages.length; s++) {
      const to = from === this.bufA ? this.bufB : this.bufA;
      runStage(stages[s], this.size, this.sign, from, to);
      from = to;
    }
    return from;
  }
}

/** radix4's first (twiddle-free) stage, its inputs read from a real signal. */
function realRadix4(x: Float32Array | number[], offset: number, dst: number[], n: number, sign: number): void {
  const s1 = n / 2;
  const s2 = 2 * s1;
  const s3 = 3 * s1;
  for (let j = offset, o = 0, end = offset + s1; j < end; j += 2, o += 8) {
    firstButterfly4(dst, o, sign, x[j], x[j + 1], x[j + s1], x[j + s1 + 1], x[j + s2], x[j + s2 + 1], x[j + s3], x[j + s3 + 1]);
  }
}

/** realRadix4 with every sample times window[i]. */
function windowedRadix4(x: Float32Array | number[], offset: number, win: number[], dst: number[], n: number, sign: number): void {
  const s1 = n / 2;
  const s2 = 2 * s1;
  const s3 = 3 * s1;
  for (let i = 0, j = offset, o = 0; i < s1; i += 2, j += 2, o += 8) {
    firstButterfly4(
      dst,
      o,
      sign,
      x[j] * win[i],
      x[j + 1] * win[i + 1],
      x[j + s1] * win[i + s1],
      x[j + s1 + 1] * win[i + s1 + 1],
      x[j + s2] * win[i + s2],
      x[j + s2 + 1] * win[i + s2 + 1],
      x[j + s3] * win[i + s3],
      x[j + s3 + 1] * win[i + s3 + 1],
    );
  }
}

/** One twiddle-free radix-4 butterfly (a, b, c, d) into dst[o .. o+8) (small enough for V8 to inline). */
function firstButterfly4(
  dst: number[],
  o: number,
  sign: number,
  ar: number,
  ai: number,
  br: number,
  bi: number,
  cr: number,
  ci: number,
  dr: number,
  di: number,
): void {
  const s0r = ar + cr;
  const s0i = ai + ci;
  const d0r = ar - cr;
  const d0i = ai - ci;
  const t1r = br + dr;
  const t1i = bi + di;
  // (b - d) times sign*i
  const d1r = -sign * (bi - di);
  const d1i = sign * (br - dr);
  dst[o] = s0r + t1r;
  dst[o + 1] = s0i + t1i;
  dst[o + 2] = d0r + d1r;
  dst[o + 3] = d0i + d1i;
  dst[o + 4] = s0r - t1r;
  dst[o + 5] = s0i - t1i;
  dst[o + 6] = d0r - d1r;
  dst[o + 7] = d0i - d1i;
}

function runStage(stage: Stage, n: number, sign: number, src: number[], dst: number[]): void {
  const { radix, span, twiddles } = stage;
  switch (radix) {
    case 8:
      radix8(src, dst, n, span, twiddles, sign);
      return;
    case 4:
      radix4(src, dst, n, span, twiddles, sign);
      return;
    case 2:
      radix2(src, dst, n, span, twiddles);
      return;
    case 3:
      radix3(src, dst, n, span, twiddles, sign);
      return;
    case 5:
      radix5(src, dst, n, span, twiddles, sign);
      return;
    case 7:
      radix7(src, dst, n, span, twiddles, sign);
      return;
    default:
      radixGeneric(src, dst, n, stage);
  }
}

// Butterfly index layout, for radix p, span l, stride n/p and blocks n/(p*l):
//   input r of butterfly (b, k):  b*l + k + r*stride
//   output q:                     b*l*p + q*l + k
// Loops run over k outside (twiddles loaded once) and b inside; all offsets are
// doubled for the interleaved layout.

const SQRT_HALF = Math.SQRT1_2;

/**
 * 8-point DFT as two 4-point DFTs (even and odd inputs) joined with w8^q = e^(sign i pi q / 4):
 * w8 = (1 + sign i) / sqrt 2, w8^2 = sign i, w8^3 = (-1 + sign i) / sqrt 2.
 */
function radix8(src: number[], dst: number[], n: number, span: number, tw: number[], sign: number): void {
  const blocks = n / (8 * span);
  const s1 = n / 4; // 2 * stride
  const is = 2 * span;
  const os = 16 * span;
  const q1 = 2 * span;
  for (let k = 0; k < span; k++) {
    const t = 14 * k;
    const first = span === 1;
    const w1r = first ? 1 : tw[t];
    const w1i = first ? 0 : tw[t + 1];
    const w2r = first ? 1 : tw[t + 2];
    const w2i = first ? 0 : tw[t + 3];
    const w3r = first ? 1 : tw[t + 4];
    const w3i = first ? 0 : tw[t + 5];
    const w4r = first ? 1 : tw[t + 6];
    const w4i = first ? 0 : tw[t + 7];
    const w5r = first ? 1 : tw[t + 8];
    const w5i = first ? 0 : tw[t + 9];
    const w6r = first ? 1 : tw[t + 10];
    const w6i = first ? 0 : tw[t + 11];
    const w7r = first ? 1 : tw[t + 12];
    const w7i = first ? 0 : tw[t + 13];
    for (let b = 0, i = 2 * k, o = 2 * k; b < blocks; b++, i += is, o += os) {
      const x0r = src[i];
      const x0i = src[i + 1];
      let j = i + s1;
      let xr = src[j];
      let xi = src[j + 1];
      const x1r = xr * w1r - xi * w1i;
      const x1i = xr * w1i + xi * w1r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x2r = xr * w2r - xi * w2i;
      const x2i = xr * w2i + xi * w2r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x3r = xr * w3r - xi * w3i;
      const x3i = xr * w3i + xi * w3r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x4r = xr * w4r - xi * w4i;
      const x4i = xr * w4i + xi * w4r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x5r = xr * w5r - xi * w5i;
      const x5i = xr * w5i + xi * w5r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x6r = xr * w6r - xi * w6i;
      const x6i = xr * w6i + xi * w6r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x7r = xr * w7r - xi * w7i;
      const x7i = xr * w7i + xi * w7r;
      // Even inputs: 4-point DFT a.
      const e0r = x0r + x4r;
      const e0i = x0i + x4i;
      const e1r = x0r - x4r;
      const e1i = x0i - x4i;
      const e2r = x2r + x6r;
      const e2i = x2i + x6i;
      const e3r = -sign * (x2i - x6i);
      const e3i = sign * (x2r - x6r);
      const a0r = e0r + e2r;
      const a0i = e0i + e2i;
      const a2r = e0r - e2r;
      const a2i = e0i - e2i;
      const a1r = e1r + e3r;
      const a1i = e1i + e3i;
      const a3r = e1r - e3r;
      const a3i = e1i - e3i;
      // Odd inputs: 4-point DFT b.
      const f0r = x1r + x5r;
      const f0i = x1i + x5i;
      const f1r = x1r - x5r;
      const f1i = x1i - x5i;
      const f2r = x3r + x7r;
      const f2i = x3i + x7i;
      const f3r = -sign * (x3i - x7i);
      const f3i = sign * (x3r - x7r);
      const b0r = f0r + f2r;
      const b0i = f0i + f2i;
      const b2r = f0r - f2r;
      const b2i = f0i - f2i;
      let br = f1r + f3r;
      let bi = f1i + f3i;
      // w8 * b1
      const b1r = SQRT_HALF * (br - sign * bi);
      const b1i = SQRT_HALF * (bi + sign * br);
      br = f1r - f3r;
      bi = f1i - f3i;
      // w8^3 * b3
      const b3r = SQRT_HALF * (-br - sign * bi);
      const b3i = SQRT_HALF * (sign * br - bi);
      // w8^2 * b2 = sign i b2
      const c2r = -sign * b2i;
      const c2i = sign * b2r;
      dst[o] = a0r + b0r;
      dst[o + 1] = a0i + b0i;
      let q = o + q1;
      dst[q] = a1r + b1r;
      dst[q + 1] = a1i + b1i;
      q += q1;
      dst[q] = a2r + c2r;
      dst[q + 1] = a2i + c2i;
      q += q1;
      dst[q] = a3r + b3r;
      dst[q + 1] = a3i + b3i;
      q += q1;
      dst[q] = a0r - b0r;
      dst[q + 1] = a0i - b0i;
      q += q1;
      dst[q] = a1r - b1r;
      dst[q + 1] = a1i - b1i;
      q += q1;
      dst[q] = a2r - c2r;
      dst[q + 1] = a2i - c2i;
      q += q1;
      dst[q] = a3r - b3r;
      dst[q + 1] = a3i - b3i;
    }
  }
}

function radix2(src: number[], dst: number[], n: number, span: number, tw: number[]): void {
  const blocks = n / (2 * span);
  const is = 2 * span;
  const os = 4 * span;
  // 2 * stride = n.
  for (let k = 0; k < span; k++) {
    const wr = tw[2 * k];
    const wi = tw[2 * k + 1];
    for (let b = 0, i = 2 * k, o = 2 * k; b < blocks; b++, i += is, o += os) {
      const ar = src[i];
      const ai = src[i + 1];
      const xr = src[i + n];
      const xi = src[i + n + 1];
      const br = xr * wr - xi * wi;
      const bi = xr * wi + xi * wr;
      dst[o] = ar + br;
      dst[o + 1] = ai + bi;
      dst[o + is] = ar - br;
      dst[o + is + 1] = ai - bi;
    }
  }
}

function radix4(src: number[], dst: number[], n: number, span: number, tw: number[], sign: number): void {
  const blocks = n / (4 * span);
  const s1 = n / 2; // 2 * stride
  const s2 = 2 * s1;
  const s3 = 3 * s1;
  const is = 2 * span;
  const os = 8 * span;
  const q1 = 2 * span;
  const q2 = 4 * span;
  const q3 = 6 * span;
  if (span === 1) {
    // First stage: all twiddles are 1.
    for (let b = 0, i = 0, o = 0; b < blocks; b++, i += 2, o += 8) {
      const ar = src[i];
      const ai = src[i + 1];
      const br = src[i + s1];
      const bi = src[i + s1 + 1];
      const cr = src[i + s2];
      const ci = src[i + s2 + 1];
      const dr = src[i + s3];
      const di = src[i + s3 + 1];
      const s0r = ar + cr;
      const s0i = ai + ci;
      const d0r = ar - cr;
      const d0i = ai - ci;
      const t1r = br + dr;
      const t1i = bi + di;
      // (b - d) times sign*i
      const d1r = -sign * (bi - di);
      const d1i = sign * (br - dr);
      dst[o] = s0r + t1r;
      dst[o + 1] = s0i + t1i;
      dst[o + 2] = d0r + d1r;
      dst[o + 3] = d0i + d1i;
      dst[o + 4] = s0r - t1r;
      dst[o + 5] = s0i - t1i;
      dst[o + 6] = d0r - d1r;
      dst[o + 7] = d0i - d1i;
    }
    return;
  }
  if (blocks < span) {
    for (let b = 0; b < blocks; b++) {
      for (let k = 0, i = 2 * b * span, o = 2 * b * span * 4, t = 0; k < span; k++, i += 2, o += 2, t += 6) {
        const w1r = tw[t];
        const w1i = tw[t + 1];
        const w2r = tw[t + 2];
        const w2i = tw[t + 3];
        const w3r = tw[t + 4];
        const w3i = tw[t + 5];
        const ar = src[i];
        const ai = src[i + 1];
        let xr = src[i + s1];
        let xi = src[i + s1 + 1];
        const br = xr * w1r - xi * w1i;
        const bi = xr * w1i + xi * w1r;
        xr = src[i + s2];
        xi = src[i + s2 + 1];
        const cr = xr * w2r - xi * w2i;
        const ci = xr * w2i + xi * w2r;
        xr = src[i + s3];
        xi = src[i + s3 + 1];
        const dr = xr * w3r - xi * w3i;
        const di = xr * w3i + xi * w3r;
        const s0r = ar + cr;
        const s0i = ai + ci;
        const d0r = ar - cr;
        const d0i = ai - ci;
        const t1r = br + dr;
        const t1i = bi + di;
        const d1r = -sign * (bi - di);
        const d1i = sign * (br - dr);
        dst[o] = s0r + t1r;
        dst[o + 1] = s0i + t1i;
        dst[o + q1] = d0r + d1r;
        dst[o + q1 + 1] = d0i + d1i;
        dst[o + q2] = s0r - t1r;
        dst[o + q2 + 1] = s0i - t1i;
        dst[o + q3] = d0r - d1r;
        dst[o + q3 + 1] = d0i - d1i;
      }
    }
    return;
  }
  for (let k = 0; k < span; k++) {
    const t = 6 * k;
    const w1r = tw[t];
    const w1i = tw[t + 1];
    const w2r = tw[t + 2];
    const w2i = tw[t + 3];
    const w3r = tw[t + 4];
    const w3i = tw[t + 5];
    for (let b = 0, i = 2 * k, o = 2 * k; b < blocks; b++, i += is, o += os) {
      const ar = src[i];
      const ai = src[i + 1];
      let xr = src[i + s1];
      let xi = src[i + s1 + 1];
      const br = xr * w1r - xi * w1i;
      const bi = xr * w1i + xi * w1r;
      xr = src[i + s2];
      xi = src[i + s2 + 1];
      const cr = xr * w2r - xi * w2i;
      const ci = xr * w2i + xi * w2r;
      xr = src[i + s3];
      xi = src[i + s3 + 1];
      const dr = xr * w3r - xi * w3i;
      const di = xr * w3i + xi * w3r;
      const s0r = ar + cr;
      const s0i = ai + ci;
      const d0r = ar - cr;
      const d0i = ai - ci;
      const t1r = br + dr;
      const t1i = bi + di;
      const d1r = -sign * (bi - di);
      const d1i = sign * (br - dr);
      dst[o] = s0r + t1r;
      dst[o + 1] = s0i + t1i;
      dst[o + q1] = d0r + d1r;
      dst[o + q1 + 1] = d0i + d1i;
      dst[o + q2] = s0r - t1r;
      dst[o + q2 + 1] = s0i - t1i;
      dst[o + q3] = d0r - d1r;
      dst[o + q3 + 1] = d0i - d1i;
    }
  }
}

const SIN_3 = Math.sin((2 * Math.PI) / 3);

function radix3(src: number[], dst: number[], n: number, span: number, tw: number[], sign: number): void {
  const blocks = n / (3 * span);
  const s1 = (2 * n) / 3;
  const s2 = 2 * s1;
  const is = 2 * span;
  const os = 6 * span;
  const q1 = 2 * span;
  const q2 = 4 * span;
  const c = sign * SIN_3;
  for (let k = 0; k < span; k++) {
    const t = 4 * k;
    const w1r = tw[t];
    const w1i = tw[t + 1];
    const w2r = tw[t + 2];
    const w2i = tw[t + 3];
    for (let b = 0, i = 2 * k, o = 2 * k; b < blocks; b++, i += is, o += os) {
      const ar = src[i];
      const ai = src[i + 1];
      let xr = src[i + s1];
      let xi = src[i + s1 + 1];
      const br = xr * w1r - xi * w1i;
      const bi = xr * w1i + xi * w1r;
      xr = src[i + s2];
      xi = src[i + s2 + 1];
      const cr = xr * w2r - xi * w2i;
      const ci = xr * w2i + xi * w2r;
      const sr = br + cr;
      const si = bi + ci;
      const mr = ar - 0.5 * sr;
      const mi = ai - 0.5 * si;
      // sign*i*sin(2pi/3)*(b - c)
      const rr = -c * (bi - ci);
      const ri = c * (br - cr);
      dst[o] = ar + sr;
      dst[o + 1] = ai + si;
      dst[o + q1] = mr + rr;
      dst[o + q1 + 1] = mi + ri;
      dst[o + q2] = mr - rr;
      dst[o + q2 + 1] = mi - ri;
    }
  }
}

const C5_1 = Math.cos((2 * Math.PI) / 5);
const C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = Math.sin((2 * Math.PI) / 5);
const S5_2 = Math.sin((4 * Math.PI) / 5);

/**
 * X_q = x0 + sum_r cos(q r theta) (x_r + x_{5-r}) + sign i sum_r sin(q r theta) (x_r - x_{5-r}),
 * for q = 1, 2, with X_{5-q} the same sums with the sine part negated.
 */
function radix5(src: number[], dst: number[], n: number, span: number, tw: number[], sign: number): void {
  const blocks = n / (5 * span);
  const s1 = (2 * n) / 5;
  const is = 2 * span;
  const os = 10 * span;
  const q1 = 2 * span;
  const s1s = sign * S5_1;
  const s2s = sign * S5_2;
  for (let k = 0; k < span; k++) {
    const t = 8 * k;
    const w1r = tw[t];
    const w1i = tw[t + 1];
    const w2r = tw[t + 2];
    const w2i = tw[t + 3];
    const w3r = tw[t + 4];
    const w3i = tw[t + 5];
    const w4r = tw[t + 6];
    const w4i = tw[t + 7];
    for (let b = 0, i = 2 * k, o = 2 * k; b < blocks; b++, i += is, o += os) {
      const ar = src[i];
      const ai = src[i + 1];
      let j = i + s1;
      let xr = src[j];
      let xi = src[j + 1];
      const x1r = xr * w1r - xi * w1i;
      const x1i = xr * w1i + xi * w1r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x2r = xr * w2r - xi * w2i;
      const x2i = xr * w2i + xi * w2r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x3r = xr * w3r - xi * w3i;
      const x3i = xr * w3i + xi * w3r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x4r = xr * w4r - xi * w4i;
      const x4i = xr * w4i + xi * w4r;
      const p1r = x1r + x4r;
      const p1i = x1i + x4i;
      const p2r = x2r + x3r;
      const p2i = x2i + x3i;
      const m1r = x1r - x4r;
      const m1i = x1i - x4i;
      const m2r = x2r - x3r;
      const m2i = x2i - x3i;
      const a1r = ar + C5_1 * p1r + C5_2 * p2r;
      const a1i = ai + C5_1 * p1i + C5_2 * p2i;
      const a2r = ar + C5_2 * p1r + C5_1 * p2r;
      const a2i = ai + C5_2 * p1i + C5_1 * p2i;
      // b = sine sums (already times sign); i*b = (-b_i, b_r)
      const b1r = s1s * m1r + s2s * m2r;
      const b1i = s1s * m1i + s2s * m2i;
      const b2r = s2s * m1r - s1s * m2r;
      const b2i = s2s * m1i - s1s * m2i;
      dst[o] = ar + p1r + p2r;
      dst[o + 1] = ai + p1i + p2i;
      let q = o + q1;
      dst[q] = a1r - b1i;
      dst[q + 1] = a1i + b1r;
      q += q1;
      dst[q] = a2r - b2i;
      dst[q + 1] = a2i + b2r;
      q += q1;
      dst[q] = a2r + b2i;
      dst[q + 1] = a2i - b2r;
      q += q1;
      dst[q] = a1r + b1i;
      dst[q + 1] = a1i - b1r;
    }
  }
}

const C7_1 = Math.cos((2 * Math.PI) / 7);
const C7_2 = Math.cos((4 * Math.PI) / 7);
const C7_3 = Math.cos((6 * Math.PI) / 7);
const S7_1 = Math.sin((2 * Math.PI) / 7);
const S7_2 = Math.sin((4 * Math.PI) / 7);
const S7_3 = Math.sin((6 * Math.PI) / 7);

/** Same scheme as radix 5: cos(q r theta) and sin(q r theta) for q, r in 1..3 reduce to the constants above. */
function radix7(src: number[], dst: number[], n: number, span: number, tw: number[], sign: number): void {
  const blocks = n / (7 * span);
  const s1 = (2 * n) / 7;
  const is = 2 * span;
  const os = 14 * span;
  const q1 = 2 * span;
  const e1 = sign * S7_1;
  const e2 = sign * S7_2;
  const e3 = sign * S7_3;
  for (let k = 0; k < span; k++) {
    const t = 12 * k;
    const w1r = tw[t];
    const w1i = tw[t + 1];
    const w2r = tw[t + 2];
    const w2i = tw[t + 3];
    const w3r = tw[t + 4];
    const w3i = tw[t + 5];
    const w4r = tw[t + 6];
    const w4i = tw[t + 7];
    const w5r = tw[t + 8];
    const w5i = tw[t + 9];
    const w6r = tw[t + 10];
    const w6i = tw[t + 11];
    for (let b = 0, i = 2 * k, o = 2 * k; b < blocks; b++, i += is, o += os) {
      const ar = src[i];
      const ai = src[i + 1];
      let j = i + s1;
      let xr = src[j];
      let xi = src[j + 1];
      const x1r = xr * w1r - xi * w1i;
      const x1i = xr * w1i + xi * w1r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x2r = xr * w2r - xi * w2i;
      const x2i = xr * w2i + xi * w2r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x3r = xr * w3r - xi * w3i;
      const x3i = xr * w3i + xi * w3r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x4r = xr * w4r - xi * w4i;
      const x4i = xr * w4i + xi * w4r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x5r = xr * w5r - xi * w5i;
      const x5i = xr * w5i + xi * w5r;
      j += s1;
      xr = src[j];
      xi = src[j + 1];
      const x6r = xr * w6r - xi * w6i;
      const x6i = xr * w6i + xi * w6r;
      const p1r = x1r + x6r;
      const p1i = x1i + x6i;
      const p2r = x2r + x5r;
      const p2i = x2i + x5i;
      const p3r = x3r + x4r;
      const p3i = x3i + x4i;
      const m1r = x1r - x6r;
      const m1i = x1i - x6i;
      const m2r = x2r - x5r;
      const m2i = x2i - x5i;
      const m3r = x3r - x4r;
      const m3i = x3i - x4i;
      // cos(q r theta) for (q, r): (1,*) = c1 c2 c3, (2,*) = c2 c3 c1, (3,*) = c3 c1 c2.
      const a1r = ar + C7_1 * p1r + C7_2 * p2r + C7_3 * p3r;
      const a1i = ai + C7_1 * p1i + C7_2 * p2i + C7_3 * p3i;
      const a2r = ar + C7_2 * p1r + C7_3 * p2r + C7_1 * p3r;
      const a2i = ai + C7_2 * p1i + C7_3 * p2i + C7_1 * p3i;
      const a3r = ar + C7_3 * p1r + C7_1 * p2r + C7_2 * p3r;
      const a3i = ai + C7_3 * p1i + C7_1 * p2i + C7_2 * p3i;
      // sin(q r theta) for (q, r): (1,*) = s1 s2 s3, (2,*) = s2 -s3 -s1, (3,*) = s3 -s1 s2.
      const b1r = e1 * m1r + e2 * m2r + e3 * m3r;
      const b1i = e1 * m1i + e2 * m2i + e3 * m3i;
      const b2r = e2 * m1r - e3 * m2r - e1 * m3r;
      const b2i = e2 * m1i - e3 * m2i - e1 * m3i;
      const b3r = e3 * m1r - e1 * m2r + e2 * m3r;
      const b3i = e3 * m1i - e1 * m2i + e2 * m3i;
      dst[o] = ar + p1r + p2r + p3r;
      dst[o + 1] = ai + p1i + p2i + p3i;
      let q = o + q1;
      dst[q] = a1r - b1i;
      dst[q + 1] = a1i + b1r;
      q += q1;
      dst[q] = a2r - b2i;
      dst[q + 1] = a2i + b2r;
      q += q1;
      dst[q] = a3r - b3i;
      dst[q + 1] = a3i + b3r;
      q += q1;
      dst[q] = a3r + b3i;
      dst[q + 1] = a3i - b3r;
      q += q1;
      dst[q] = a2r + b2i;
      dst[q + 1] = a2i - b2r;
      q += q1;
      dst[q] = a1r + b1i;
      dst[q + 1] = a1i - b1r;
    }
  }
}

/** Primes above 7: twiddle, then a direct DFT of size p. */
function radixGeneric(src: number[], dst: number[], n: number, stage: Stage): void {
  const { radix: p, span, twiddles: tw } = stage;
  const { cos: cosT, sin: sinT, vr, vi } = stage.generic as NonNullable<Stage['generic']>;
  const stride = n / p;
  const blocks = stride / span;
  for (let b = 0; b < blocks; b++) {
    const outBase = 2 * b * span * p;
    for (let k = 0; k < span; k++) {
      const i0 = 2 * (b * span + k);
      vr[0] = src[i0];
      vi[0] = src[i0 + 1];
      for (let r = 1; r < p; r++) {
        const i = i0 + 2 * r * stride;
        const t = 2 * (k * (p - 1) + r - 1);
        const xr = src[i];
        const xi = src[i + 1];
        vr[r] = xr * tw[t] - xi * tw[t + 1];
        vi[r] = xr * tw[t + 1] + xi * tw[t];
      }
      for (let q = 0; q < p; q++) {
        let sr = 0;
        let si = 0;
        let idx = 0;
        for (let r = 0; r < p; r++) {
          const wr = cosT[idx];
          const wi = sinT[idx];
          sr += vr[r] * wr - vi[r] * wi;
          si += vr[r] * wi + vi[r] * wr;
          idx += q;
          if (idx >= p) idx -= p;
        }
        const o = outBase + 2 * (k + q * span);
        dst[o] = sr;
        dst[o + 1] = si;
      }
    }
  }
}

/**
 * Real FFT of even size n through one complex FFT of size n/2.
 * Spectrum layout: interleaved complex bins 0..n/2 (length n + 2).
 */
export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly forwardFft: ComplexFft;
  private readonly inverseFft: ComplexFft;
  private readonly work: number[];
  private readonly rotCos: number[];
  private readonly rotSin: number[];

  constructor(size: number) {
    if (size % 2 !== 0 || size < 2) throw new RangeError(`real FFT size must be even, got ${size}`);
    this.size = size;
    this.half = size / 2;
    this.forwardFft = new ComplexFft(this.half, -1);
    this.inverseFft = new ComplexFft(this.half, 1);
    this.work = doubles(size);
    this.rotCos = doubles(this.half + 1);
    this.rotSin = doubles(this.half + 1);
    for (let k = 0; k <= this.half; k++) {
      this.rotCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.rotSin[k] = Math.sin((2 * Math.PI * k) / size);
    }
  }

  /** input: n real samples; out: n + 2 values (bins 0..n/2, interleaved). */
  forward(input: ArrayLike<number>, out: Float64Array): void {
    // n reals are n/2 interleaved complex values as they stand.
    const x = this.work;
    for (let i = 0; i < this.size; i++) x[i] = input[i];
    const z = this.forwardFft.run(x, null);
    postForward(z, out, this.half, this.rotCos, this.rotSin);
  }

  /** Power spectrum |X[k]|^2 (k in 0..n/2) of window[i] * x[offset + i], i in 0..n-1 (the stretch must lie inside x). */
  windowedPower(x: number[], offset: number, window: number[], power: number[]): void {
    const z = this.forwardFft.runReal(x, offset, window);
    postPower(z, power, this.half, this.rotCos, this.rotSin);
  }

  /** spectrum: n + 2 values (bins 0..n/2); out: n real samples, scaled by 1/n. */
  inverse(spectrum: Float64Array, out: Float64Array): void {
    const z = this.work;
    preInverse(spectrum, z, this.half, this.rotCos, this.rotSin, 1 / this.size);
    const result = this.inverseFft.run(z, null);
    for (let i = 0; i < this.size; i++) out[i] = result[i];
  }
}

/** X[k] = (Z[k] + conj Z[h-k]) / 2 - i e^{-2 pi i k / n} (Z[k] - conj Z[h-k]) / 2, bins k and h-k together. */
function postForward(z: number[], out: Float64Array, h: number, cs: number[], sn: number[]): void {
  out[0] = z[0] + z[1];
  out[1] = 0;
  out[2 * h] = z[0] - z[1];
  out[2 * h + 1] = 0;
  for (let k = 1, j = h - 1; k <= j; k++, j--) {
    const ar = z[2 * k];
    const ai = z[2 * k + 1];
    const br = z[2 * j];
    const bi = z[2 * j + 1];
    // For bin k: E = (Z[k] + conj Z[j]) / 2, D = (Z[k] - conj Z[j]) / 2; bin j swaps the roles.
    const er = 0.5 * (ar + br);
    const ei = 0.5 * (ai - bi);
    const dr = 0.5 * (ar - br);
    const di = 0.5 * (ai + bi);
    // -i * w * D, with w = cos - i sin (bin k); bin j has w_j = -conj(w_k) and D_j = -conj(D_k).
    const c = cs[k];
    const s = sn[k];
    const wdr = dr * c + di * s;
    const wdi = di * c - dr * s;
    out[2 * k] = er + wdi;
    out[2 * k + 1] = ei - wdr;
    out[2 * j] = er - wdi;
    out[2 * j + 1] = -ei - wdr;
  }
}

/** postForward's bins reduced to their squared magnitudes (the 1/2 factors become 1/4). */
function postPower(z: number[], power: number[], h: number, cs: number[], sn: number[]): void {
  const dc = z[0] + z[1];
  const ny = z[0] - z[1];
  power[0] = dc * dc;
  power[h] = ny * ny;
  for (let k = 1, j = h - 1; k <= j; k++, j--) {
    const ar = z[2 * k];
    const ai = z[2 * k + 1];
    const br = z[2 * j];
    const bi = z[2 * j + 1];
    const er = ar + br;
    const ei = ai - bi;
    const dr = ar - br;
    const di = ai + bi;
    const c = cs[k];
    const s = sn[k];
    const wdr = dr * c + di * s;
    const wdi = di * c - dr * s;
    const xr = er + wdi;
    const xi = ei - wdr;
    const yr = er - wdi;
    const yi = ei + wdr;
    power[k] = 0.25 * (xr * xr + xi * xi);
    power[j] = 0.25 * (yr * yr + yi * yi);
  }
}

/** Inverse of postForward, with the 1/n scale folded in: Z[k] = E + i conj(w) D. */
function preInverse(spectrum: Float64Array, z: number[], h: number, cs: number[], sn: number[], scale: number): void {
  for (let k = 0, j = h; k <= j; k++, j--) {
    const ar = spectrum[2 * k] * scale;
    const ai = spectrum[2 * k + 1] * scale;
    const br = spectrum[2 * j] * scale;
    const bi = spectrum[2 * j + 1] * scale;
    const er = ar + br;
    const ei = ai - bi;
    const dr = ar - br;
    const di = ai + bi;
    const c = cs[k];
    const s = sn[k];
    const wdr = dr * c - di * s;
    const wdi = dr * s + di * c;
    if (k < h) {
      z[2 * k] = er - wdi;
      z[2 * k + 1] = ei + wdr;
    }
    if (j < h && j !== k) {
      // Bin j: E_j = conj(E_k), D_j = -conj(D_k), w_j = -conj(w_k): Z[j] = conj(E_k) + i conj(w_k D_k)... expanded.
      z[2 * j] = er + wdi;
      z[2 * j + 1] = -ei + wdr;
    }
  }
}
