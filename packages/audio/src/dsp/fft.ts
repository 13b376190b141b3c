/**
 * Mixed-radix FFTs in Float64 (radices 4, 2, 3, 5, 7 and a generic fallback).
 *
 * Stockham autosort formulation: every stage reads one buffer and writes the
 * other, so the output comes out in natural order without a bit-reversal pass.
 * Complex data is interleaved: [re0, im0, re1, im1, ...].
 */

const SIN_3 = Math.sin((2 * Math.PI) / 3);

/** Radices of n, largest powers of 4 first (fewest passes), or null if n has a factor above 7. */
function factorize(n: number): number[] {
  const radices: number[] = [];
  let m = n;
  while (m % 4 === 0) {
    radices.push(4);
    m /= 4;
  }
  for (const p of [2, 3, 5, 7]) {
    while (m % p === 0) {
      radices.push(p);
      m /= p;
    }
  }
  // Anything left is a prime > 7: handled by the generic O(p^2) butterfly.
  if (m > 1) radices.push(m);
  return radices;
}

interface Stage {
  radix: number;
  /** Span of the butterflies already combined before this stage. */
  span: number;
  /** Twiddles w^(r*k) for k in [0, span), r in [1, radix): interleaved, (radix-1) complex per k. */
  twiddles: Float64Array;
}

/** A complex FFT of fixed size and direction (sign -1 forward, +1 inverse, unscaled). */
export class ComplexFft {
  readonly size: number;
  private readonly stages: Stage[];
  private readonly scratch: Float64Array;
  private readonly sign: number;

  constructor(size: number, sign: -1 | 1 = -1) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size must be a positive integer, got ${size}`);
    this.size = size;
    this.sign = sign;
    this.scratch = new Float64Array(2 * size);
    this.stages = [];
    let span = 1;
    for (const radix of factorize(size)) {
      const twiddles = new Float64Array(2 * span * (radix - 1));
      for (let k = 0; k < span; k++) {
        for (let r = 1; r < radix; r++) {
          const angle = (sign * 2 * Math.PI * r * k) / (span * radix);
          const at = 2 * (k * (radix - 1) + r - 1);
          twiddles[at] = Math.cos(angle);
          twiddles[at + 1] = Math.sin(angle);
        }
      }
      this.stages.push({ radix, span, twiddles });
      span *= radix;
    }
  }

  /**
   * Transforms `data` (interleaved, length 2*size) in place.
   */
  transform(data: Float64Array): void {
    let src = data;
    let dst = this.scratch;
    for (const stage of this.stages) {
      runStage(stage, this.size, this.sign, src, dst);
      const t = src;
      src = dst;
      dst = t;
    }
    if (src !== data) data.set(src);
  }
}

function runStage(stage: Stage, n: number, sign: number, src: Float64Array, dst: Float64Array): void {
  const { radix, span, twiddles } = stage;
  const stride = n / radix; // distance between the inputs of one butterfly
  const blocks = stride / span;
  switch (radix) {
    case 4:
      radix4(src, dst, span, blocks, stride, twiddles, sign);
      return;
    case 2:
      radix2(src, dst, span, blocks, stride, twiddles);
      return;
    case 3:
      radix3(src, dst, span, blocks, stride, twiddles, sign);
      return;
    default:
      radixGeneric(src, dst, radix, span, blocks, stride, twiddles, sign);
  }
}

function radix2(
  src: Float64Array,
  dst: Float64Array,
  span: number,
  blocks: number,
  stride: number,
  tw: Float64Array,
): void {
  for (let b = 0; b < blocks; b++) {
    for (let k = 0; k < span; k++) {
      const j = b * span + k;
      const i0 = 2 * j;
      const i1 = 2 * (j + stride);
      const wr = tw[2 * k];
      const wi = tw[2 * k + 1];
      const ar = src[i0];
      const ai = src[i0 + 1];
      const xr = src[i1];
      const xi = src[i1 + 1];
      const br = xr * wr - xi * wi;
      const bi = xr * wi + xi * wr;
      const o = 2 * (b * span * 2 + k);
      const o1 = o + 2 * span;
      dst[o] = ar + br;
      dst[o + 1] = ai + bi;
      dst[o1] = ar - br;
      dst[o1 + 1] = ai - bi;
    }
  }
}

function radix4(
  src: Float64Array,
  dst: Float64Array,
  span: number,
  blocks: number,
  stride: number,
  tw: Float64Array,
  sign: number,
): void {
  const s2 = 2 * stride;
  for (let b = 0; b < blocks; b++) {
    const outBase = 2 * b * span * 4;
    for (let k = 0; k < span; k++) {
      const i0 = 2 * (b * span + k);
      const i1 = i0 + s2;
      const i2 = i1 + s2;
      const i3 = i2 + s2;
      const t = 6 * k;
      const w1r = tw[t];
      const w1i = tw[t + 1];
      const w2r = tw[t + 2];
      const w2i = tw[t + 3];
      const w3r = tw[t + 4];
      const w3i = tw[t + 5];
      const ar = src[i0];
      const ai = src[i0 + 1];
      let xr = src[i1];
      let xi = src[i1 + 1];
      const br = xr * w1r - xi * w1i;
      const bi = xr * w1i + xi * w1r;
      xr = src[i2];
      xi = src[i2 + 1];
      const cr = xr * w2r - xi * w2i;
      const ci = xr * w2i + xi * w2r;
      xr = src[i3];
      xi = src[i3 + 1];
      const dr = xr * w3r - xi * w3i;
      const di = xr * w3i + xi * w3r;
      const s0r = ar + cr;
      const s0i = ai + ci;
      const d0r = ar - cr;
      const d0i = ai - ci;
      const s1r = br + dr;
      const s1i = bi + di;
      // (b - d) multiplied by sign*i
      const d1r = -sign * (bi - di);
      const d1i = sign * (br - dr);
      const o = outBase + 2 * k;
      const q = 2 * span;
      dst[o] = s0r + s1r;
      dst[o + 1] = s0i + s1i;
      dst[o + q] = d0r + d1r;
      dst[o + q + 1] = d0i + d1i;
      dst[o + 2 * q] = s0r - s1r;
      dst[o + 2 * q + 1] = s0i - s1i;
      dst[o + 3 * q] = d0r - d1r;
      dst[o + 3 * q + 1] = d0i - d1i;
    }
  }
}

function radix3(
  src: Float64Array,
  dst: Float64Array,
  span: number,
  blocks: number,
  stride: number,
  tw: Float64Array,
  sign: number,
): void {
  const s2 = 2 * stride;
  const c = sign * SIN_3;
  for (let b = 0; b < blocks; b++) {
    const outBase = 2 * b * span * 3;
    for (let k = 0; k < span; k++) {
      const i0 = 2 * (b * span + k);
      const i1 = i0 + s2;
      const i2 = i1 + s2;
      const t = 4 * k;
      const w1r = tw[t];
      const w1i = tw[t + 1];
      const w2r = tw[t + 2];
      const w2i = tw[t + 3];
      const ar = src[i0];
      const ai = src[i0 + 1];
      let xr = src[i1];
      let xi = src[i1 + 1];
      const br = xr * w1r - xi * w1i;
      const bi = xr * w1i + xi * w1r;
      xr = src[i2];
      xi = src[i2 + 1];
      const cr = xr * w2r - xi * w2i;
      const ci = xr * w2i + xi * w2r;
      const sr = br + cr;
      const si = bi + ci;
      const mr = ar - 0.5 * sr;
      const mi = ai - 0.5 * si;
      // sign*i*sin(2pi/3)*(b - c)
      const rr = -c * (bi - ci);
      const ri = c * (br - cr);
      const o = outBase + 2 * k;
      const q = 2 * span;
      dst[o] = ar + sr;
      dst[o + 1] = ai + si;
      dst[o + q] = mr + rr;
      dst[o + q + 1] = mi + ri;
      dst[o + 2 * q] = mr - rr;
      dst[o + 2 * q + 1] = mi - ri;
    }
  }
}

/** Any radix (used for 5, 7 and larger primes): twiddle, then a direct DFT of size p. */
function radixGeneric(
  src: Float64Array,
  dst: Float64Array,
  p: number,
  span: number,
  blocks: number,
  stride: number,
  tw: Float64Array,
  sign: number,
): void {
  const vr = new Float64Array(p);
  const vi = new Float64Array(p);
  const cosT = new Float64Array(p);
  const sinT = new Float64Array(p);
  for (let r = 0; r < p; r++) {
    cosT[r] = Math.cos((2 * Math.PI * r) / p);
    sinT[r] = sign * Math.sin((2 * Math.PI * r) / p);
  }
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
  private readonly work: Float64Array;
  private readonly rotCos: Float64Array;
  private readonly rotSin: Float64Array;

  constructor(size: number) {
    if (size % 2 !== 0 || size < 2) throw new RangeError(`real FFT size must be even, got ${size}`);
    this.size = size;
    this.half = size / 2;
    this.forwardFft = new ComplexFft(this.half, -1);
    this.inverseFft = new ComplexFft(this.half, 1);
    this.work = new Float64Array(size);
    this.rotCos = new Float64Array(this.half + 1);
    this.rotSin = new Float64Array(this.half + 1);
    for (let k = 0; k <= this.half; k++) {
      this.rotCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.rotSin[k] = Math.sin((2 * Math.PI * k) / size);
    }
  }

  /** input: n real samples; out: n + 2 values (bins 0..n/2, interleaved). */
  forward(input: ArrayLike<number>, out: Float64Array): void {
    const h = this.half;
    const z = this.work;
    for (let i = 0; i < this.size; i++) z[i] = input[i];
    this.forwardFft.transform(z);
    const cs = this.rotCos;
    const sn = this.rotSin;
    // X[k] = (Z[k] + conj Z[h-k]) / 2 - i e^{-2 pi i k / n} (Z[k] - conj Z[h-k]) / 2
    out[0] = z[0] + z[1];
    out[1] = 0;
    out[2 * h] = z[0] - z[1];
    out[2 * h + 1] = 0;
    for (let k = 1; k < h; k++) {
      const ar = z[2 * k];
      const ai = z[2 * k + 1];
      const br = z[2 * (h - k)];
      const bi = -z[2 * (h - k) + 1];
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const dr = 0.5 * (ar - br);
      const di = 0.5 * (ai - bi);
      // -i * w * d, with w = cos - i sin
      const c = cs[k];
      const s = sn[k];
      const wdr = dr * c + di * s;
      const wdi = di * c - dr * s;
      out[2 * k] = er + wdi;
      out[2 * k + 1] = ei - wdr;
    }
  }

  /** spectrum: n + 2 values (bins 0..n/2); out: n real samples, scaled by 1/n. */
  inverse(spectrum: Float64Array, out: Float64Array): void {
    const h = this.half;
    const z = this.work;
    const cs = this.rotCos;
    const sn = this.rotSin;
    for (let k = 0; k < h; k++) {
      const ar = spectrum[2 * k];
      const ai = spectrum[2 * k + 1];
      const br = spectrum[2 * (h - k)];
      const bi = -spectrum[2 * (h - k) + 1];
      const er = ar + br;
      const ei = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      // Z[k] = E + i * conj(w) * D, with conj(w) = cos + i sin
      const c = cs[k];
      const s = sn[k];
      const wdr = dr * c - di * s;
      const wdi = dr * s + di * c;
      z[2 * k] = er - wdi;
      z[2 * k + 1] = ei + wdr;
    }
    this.inverseFft.transform(z);
    const scale = 1 / this.size;
    for (let i = 0; i < this.size; i++) out[i] = z[i] * scale;
  }
}
