// AssemblyScript: MFCCs as librosa computes them, with WebAssembly SIMD. Built into
// ../src/features/mfcc.wasm by `pnpm --filter @ser/audio build:wasm`; the caller
// (../src/features/mfcc-kernel.ts) owns the memory layout and every table.
//
// melPower: the mel power spectrogram (STFT power through the mel filterbank), four
// frames at a time. Lane j of every f32x4 belongs to frame t + j ("vertical" SIMD), so
// the FFT is the scalar algorithm on vectors: no shuffles. Per group of four frames:
// window the frame and pack it as a complex signal of half length (x[2n] + i x[2n+1])
// in base-4 digit-reversed order, run an in-place radix-4 FFT, split that into the real
// frame's spectrum (bins 0..h), square, and sum each mel band's bins.
//
// mfcc: power_to_db (four bands at a time), then the DCT-II (ortho) in f64.

let h: i32 = 0; // complex FFT size: frameLength / 2, a power of 4
let hopBytes: usize = 0;
let nMels: i32 = 0;
let window: usize = 0; // f32[2h]
let digitRev: usize = 0; // i32[h]: base-4 digit reversal of n (the position of x[2n] + i x[2n+1])
let twiddles: usize = 0; // f32: stages L = 4, 16, .. h/4, for k < L: w^k, w^2k, w^3k (cos, sin), w = e^(-2 pi i / 4L)
let rotation: usize = 0; // f32[2(h+1)]: cos, sin of -2 pi k / 2h
let melStart: usize = 0; // i32[nMels]: first bin of each band
let melLength: usize = 0; // i32[nMels]: bins in each band
let melOffset: usize = 0; // i32[nMels]: where each band's weights start in melWeights
let melWeights: usize = 0; // f32
let re: usize = 0; // v128[h] scratch: real parts
let im: usize = 0; // v128[h] scratch: imaginary parts
let power: usize = 0; // v128[h+1] scratch: the four frames' power spectra
let nMfcc: i32 = 0;
let dctWidth: i32 = 0; // nMels / 2 for even nMels (the basis folded), else nMels
let dctBasis: usize = 0; // f64[nMfcc * dctWidth]
let folded: usize = 0; // f64[2 * dctWidth] scratch

export function configure(
  halfFrame: i32,
  hop: i32,
  mels: i32,
  windowAt: usize,
  digitRevAt: usize,
  twiddlesAt: usize,
  rotationAt: usize,
  melStartAt: usize,
  melLengthAt: usize,
  melOffsetAt: usize,
  melWeightsAt: usize,
  coefficients: i32,
  dctBasisAt: usize,
  scratchAt: usize,
): void {
  h = halfFrame;
  hopBytes = <usize>hop << 2;
  nMels = mels;
  window = windowAt;
  digitRev = digitRevAt;
  twiddles = twiddlesAt;
  rotation = rotationAt;
  melStart = melStartAt;
  melLength = melLengthAt;
  melOffset = melOffsetAt;
  melWeights = melWeightsAt;
  nMfcc = coefficients;
  dctWidth = mels % 2 == 0 ? mels / 2 : mels;
  dctBasis = dctBasisAt;
  re = scratchAt;
  im = re + (<usize>h << 4);
  power = im + (<usize>h << 4);
  folded = power + (<usize>(h + 1) << 4);
}

/**
 * Mel energies of `frames` frames into out (f32, frame-major: frame t's bands at
 * out + 4 nMels t); returns the largest. Frame t reads f32 samples from
 * signal + t * hop; the signal must hold whole groups of four frames.
 */
export function melPower(signal: usize, frames: i32, out: usize): f32 {
  let largest: f32 = 0;
  for (let t: i32 = 0; t < frames; t += 4) {
    pack(signal + <usize>t * hopBytes);
    fft();
    spectrum();
    largest = max(largest, bands(out + (<usize>(t * nMels) << 2), min(4, frames - t)));
  }
  return largest;
}

function pack(f0: usize): void {
  const f1 = f0 + hopBytes;
  const f2 = f1 + hopBytes;
  const f3 = f2 + hopBytes;
  for (let n: i32 = 0; n < h; n++) {
    const o = <usize>n << 3;
    let a = v128.load32_zero(f0 + o);
    a = v128.load32_lane(f1 + o, a, 1);
    a = v128.load32_lane(f2 + o, a, 2);
    a = v128.load32_lane(f3 + o, a, 3);
    let b = v128.load32_zero(f0 + o, 4);
    b = v128.load32_lane(f1 + o, b, 1, 4);
    b = v128.load32_lane(f2 + o, b, 2, 4);
    b = v128.load32_lane(f3 + o, b, 3, 4);
    const at = <usize>load<i32>(digitRev + (<usize>n << 2)) << 4;
    v128.store(re + at, f32x4.mul(a, f32x4.splat(load<f32>(window + o))));
    v128.store(im + at, f32x4.mul(b, f32x4.splat(load<f32>(window + o, 4))));
  }
}

/** Radix-4 decimation in time, in place; the first stage's twiddles are all 1. */
function fft(): void {
  const end = <usize>h << 4;
  for (let p: usize = 0; p < end; p += 64) firstButterfly(p);
  let tw = twiddles;
  for (let span: i32 = 4; span < h; span <<= 2) {
    const spanBytes = <usize>span << 4;
    const step = spanBytes << 2;
    for (let k: i32 = 0; k < span; k++) {
      const c1 = f32x4.splat(load<f32>(tw));
      const s1 = f32x4.splat(load<f32>(tw, 4));
      const c2 = f32x4.splat(load<f32>(tw, 8));
      const s2 = f32x4.splat(load<f32>(tw, 12));
      const c3 = f32x4.splat(load<f32>(tw, 16));
      const s3 = f32x4.splat(load<f32>(tw, 20));
      tw += 24;
      for (let p = <usize>k << 4; p < end; p += step) butterfly(p, spanBytes, c1, s1, c2, s2, c3, s3);
    }
  }
}

@inline
function butterfly(p: usize, span: usize, c1: v128, s1: v128, c2: v128, s2: v128, c3: v128, s3: v128): void {
  const p1 = p + span;
  const p2 = p1 + span;
  const p3 = p2 + span;
  const x1r = v128.load(re + p1);
  const x1i = v128.load(im + p1);
  const x2r = v128.load(re + p2);
  const x2i = v128.load(im + p2);
  const x3r = v128.load(re + p3);
  const x3i = v128.load(im + p3);
  combine(
    p,
    span,
    v128.load(re + p),
    v128.load(im + p),
    f32x4.sub(f32x4.mul(x1r, c1), f32x4.mul(x1i, s1)),
    f32x4.add(f32x4.mul(x1r, s1), f32x4.mul(x1i, c1)),
    f32x4.sub(f32x4.mul(x2r, c2), f32x4.mul(x2i, s2)),
    f32x4.add(f32x4.mul(x2r, s2), f32x4.mul(x2i, c2)),
    f32x4.sub(f32x4.mul(x3r, c3), f32x4.mul(x3i, s3)),
    f32x4.add(f32x4.mul(x3r, s3), f32x4.mul(x3i, c3)),
  );
}

/** The butterfly of the first stage (span 1), whose twiddles are all 1. */
@inline
function firstButterfly(p: usize): void {
  combine(
    p,
    16,
    v128.load(re + p),
    v128.load(im + p),
    v128.load(re + p, 16),
    v128.load(im + p, 16),
    v128.load(re + p, 32),
    v128.load(im + p, 32),
    v128.load(re + p, 48),
    v128.load(im + p, 48),
  );
}

/** A radix-4 butterfly's sums of its twiddled inputs a0..a3, stored at p, p + span, p + 2 span, p + 3 span. */
@inline
function combine(p: usize, span: usize, a0r: v128, a0i: v128, a1r: v128, a1i: v128, a2r: v128, a2i: v128, a3r: v128, a3i: v128): void {
  const b0r = f32x4.add(a0r, a2r);
  const b0i = f32x4.add(a0i, a2i);
  const b1r = f32x4.sub(a0r, a2r);
  const b1i = f32x4.sub(a0i, a2i);
  const b2r = f32x4.add(a1r, a3r);
  const b2i = f32x4.add(a1i, a3i);
  const b3r = f32x4.sub(a1r, a3r);
  const b3i = f32x4.sub(a1i, a3i);
  v128.store(re + p, f32x4.add(b0r, b2r));
  v128.store(im + p, f32x4.add(b0i, b2i));
  v128.store(re + p + 2 * span, f32x4.sub(b0r, b2r));
  v128.store(im + p + 2 * span, f32x4.sub(b0i, b2i));
  // Outputs 1 and 3: b1 -/+ i b3.
  v128.store(re + p + span, f32x4.add(b1r, b3i));
  v128.store(im + p + span, f32x4.sub(b1i, b3r));
  v128.store(re + p + 3 * span, f32x4.sub(b1r, b3i));
  v128.store(im + p + 3 * span, f32x4.add(b1i, b3r));
}

/** X[k] = E + w^k O with E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i; power |X[k]|^2. */
function spectrum(): void {
  const half = f32x4.splat(0.5);
  const mask = h - 1;
  for (let k: i32 = 0; k <= h; k++) {
    const pk = <usize>(k & mask) << 4;
    const pj = <usize>((h - k) & mask) << 4;
    const zr = v128.load(re + pk);
    const zi = v128.load(im + pk);
    const cr = v128.load(re + pj);
    const ci = v128.load(im + pj);
    const er = f32x4.mul(f32x4.add(zr, cr), half);
    const ei = f32x4.mul(f32x4.sub(zi, ci), half);
    const or = f32x4.mul(f32x4.add(zi, ci), half);
    const oi = f32x4.mul(f32x4.sub(cr, zr), half);
    const rot = rotation + (<usize>k << 3);
    const wc = f32x4.splat(load<f32>(rot));
    const ws = f32x4.splat(load<f32>(rot, 4));
    const xr = f32x4.add(er, f32x4.sub(f32x4.mul(or, wc), f32x4.mul(oi, ws)));
    const xi = f32x4.add(ei, f32x4.add(f32x4.mul(or, ws), f32x4.mul(oi, wc)));
    v128.store(power + (<usize>k << 4), f32x4.add(f32x4.mul(xr, xr), f32x4.mul(xi, xi)));
  }
}

/** Each band's sum for the first `lanes` frames of the group; returns the largest. */
function bands(out: usize, lanes: i32): f32 {
  const row = <usize>nMels << 2;
  let largest = f32x4.splat(0);
  for (let m: i32 = 0; m < nMels; m++) {
    const mb = <usize>m << 2;
    const length = load<i32>(melLength + mb);
    const w = melWeights + (<usize>load<i32>(melOffset + mb) << 2);
    let p = power + (<usize>load<i32>(melStart + mb) << 4);
    // Two running sums: one would be a chain of dependent additions.
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let i: i32 = 0;
    for (; i + 1 < length; i += 2) {
      const wi = w + (<usize>i << 2);
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(p), f32x4.splat(load<f32>(wi))));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(p, 16), f32x4.splat(load<f32>(wi, 4))));
      p += 32;
    }
    if (i < length) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(p), f32x4.splat(load<f32>(w + (<usize>i << 2)))));
    const acc = f32x4.add(acc0, acc1);
    largest = f32x4.max(largest, acc);
    v128.store32_lane(out + mb, acc, 0);
    if (lanes > 1) v128.store32_lane(out + row + mb, acc, 1);
    if (lanes > 2) v128.store32_lane(out + 2 * row + mb, acc, 2);
    if (lanes > 3) v128.store32_lane(out + 3 * row + mb, acc, 3);
  }
  // The lanes past the last frame hold frames that do not exist.
  let result = f32x4.extract_lane(largest, 0);
  if (lanes > 1) result = max(result, f32x4.extract_lane(largest, 1));
  if (lanes > 2) result = max(result, f32x4.extract_lane(largest, 2));
  if (lanes > 3) result = max(result, f32x4.extract_lane(largest, 3));
  return result;
}

/**
 * power_to_db (ref 1, amin; values below floorDb raised to it) of each frame's mel
 * energies, in place, then its DCT into out (f64, frame-major: nMfcc per frame).
 */
export function mfcc(mel: usize, frames: i32, amin: f32, floorDb: f32, out: usize): void {
  const vAmin = f32x4.splat(amin);
  const vFloor = f32x4.splat(floorDb);
  const vector = nMels & ~3;
  for (let t: i32 = 0; t < frames; t++) {
    const row = mel + (<usize>(t * nMels) << 2);
    for (let m: i32 = 0; m < vector; m += 4) {
      const at = row + (<usize>m << 2);
      v128.store(at, decibels(v128.load(at), vAmin, vFloor));
    }
    for (let m = vector; m < nMels; m++) {
      const at = row + (<usize>m << 2);
      store<f32>(at, f32x4.extract_lane(decibels(f32x4.splat(load<f32>(at)), vAmin, vFloor), 0));
    }
    dct(row, out + (<usize>(t * nMfcc) << 3));
  }
}

/** 10 log10(max(x, amin)), at least floor. */
@inline
function decibels(x: v128, amin: v128, floor: v128): v128 {
  return f32x4.max(floor, f32x4.mul(f32x4.splat(4.342944819032518), ln(f32x4.max(x, amin))));
}

/**
 * Natural logarithm of positive normal floats: x = 2^e m with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172: five terms of its series
 * leave an error below float precision.
 */
@inline
function ln(x: v128): v128 {
  // The float's bits: exponent and mantissa.
  let e = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(127));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, f32x4.splat(1.4142135));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are -1
  const s = f32x4.div(f32x4.sub(m, f32x4.splat(1)), f32x4.add(m, f32x4.splat(1)));
  const z = f32x4.mul(s, s);
  let p = f32x4.add(f32x4.splat(2.0 / 7.0), f32x4.mul(z, f32x4.splat(2.0 / 9.0)));
  p = f32x4.add(f32x4.splat(2.0 / 5.0), f32x4.mul(z, p));
  p = f32x4.add(f32x4.splat(2.0 / 3.0), f32x4.mul(z, p));
  p = f32x4.add(f32x4.splat(2.0), f32x4.mul(z, p));
  const ef = f32x4.convert_i32x4_s(e);
  // ln 2 in two parts: e ln2_hi is exact for |e| < 2^8.
  return f32x4.add(f32x4.mul(ef, f32x4.splat(0.693145751953125)), f32x4.add(f32x4.mul(s, p), f32x4.mul(ef, f32x4.splat(1.4286068203094173e-6))));
}

/**
 * DCT-II (ortho) of one frame's nMels dB values into nMfcc f64 values. For even nMels
 * the basis is folded: row k over the first nMels/2 inputs only, basis[M-1-m] =
 * (-1)^k basis[m], so coefficient k is a dot product with x[m] + x[M-1-m] (k even) or
 * x[m] - x[M-1-m] (k odd), half the work.
 */
function dct(x: usize, out: usize): void {
  const width = dctWidth;
  const even = width * 2 == nMels;
  for (let m: i32 = 0; m < width; m++) {
    const a = <f64>load<f32>(x + (<usize>m << 2));
    if (even) {
      const b = <f64>load<f32>(x + (<usize>(nMels - 1 - m) << 2));
      store<f64>(folded + (<usize>m << 3), a + b);
      store<f64>(folded + (<usize>(width + m) << 3), a - b);
    } else {
      store<f64>(folded + (<usize>m << 3), a);
    }
  }
  for (let k: i32 = 0; k < nMfcc; k++) {
    const basis = dctBasis + (<usize>(k * width) << 3);
    const input = even && k & 1 ? folded + (<usize>width << 3) : folded;
    // Two running sums of two lanes each: one would be a chain of dependent additions.
    let acc0 = f64x2.splat(0);
    let acc1 = f64x2.splat(0);
    let m: i32 = 0;
    for (; m + 3 < width; m += 4) {
      const o = <usize>m << 3;
      acc0 = f64x2.add(acc0, f64x2.mul(v128.load(basis + o), v128.load(input + o)));
      acc1 = f64x2.add(acc1, f64x2.mul(v128.load(basis + o, 16), v128.load(input + o, 16)));
    }
    let sum = f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc1, 0) + (f64x2.extract_lane(acc0, 1) + f64x2.extract_lane(acc1, 1));
    for (; m < width; m++) sum += load<f64>(basis + (<usize>m << 3)) * load<f64>(input + (<usize>m << 3));
    store<f64>(out + (<usize>k << 3), sum);
  }
}
