// AssemblyScript: the decoder's hot loops for a FLAC subframe, its Rice-coded residual
// (read 64 bits at a time) and the prediction that turns it back into samples (in 64-bit
// integers). Built into ../src/decode/flac-subframe.wasm by
// `pnpm --filter @ser/audio build:wasm`; ../src/decode/flac-subframe.ts owns the memory:
// the samples, the coefficients, and the whole file's bytes at `data`, followed by at
// least 8 zero bytes.
//
// Bit positions count from the first byte of the file, most significant bit first, as
// in the decoder's BitReader. They travel as f64 (exact up to 2^53).

/** Byte order reversal of the low 8 bytes: a little-endian load becomes the stream's big-endian order. */
const REVERSE = i8x16(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);

/** The stream's next 57 to 64 bits from bit p, first bit at the top, zeros below. */
@inline
function peek(data: usize, p: u64): u64 {
  const bytes = i8x16.swizzle(v128.load64_zero(data + <usize>(p >> 3)), REVERSE);
  return <u64>i64x2.extract_lane(bytes, 0) << (p & 7);
}

/** 0, -1, 1, -2, ... from 0, 1, 2, 3, ... (on the low 32 bits, as the reference decoder does). */
@inline
function zigzag(u: u32): i32 {
  return <i32>((u >>> 1) ^ (0 - (u & 1)));
}

/** What the residual came to instead of a position. */
const END_OF_DATA: f64 = -1;
const BAD_PARTITIONS: f64 = -2;
const RESERVED_METHOD: f64 = -3;

/**
 * Decodes the residual of a block of n samples with a predictor of the given order into
 * out[order..n) (i32). Returns the bit position after it, or a negative code.
 */
export function residual(data: usize, start: f64, end: f64, out: usize, n: i32, order: i32): f64 {
  let p = <u64>start;
  const endBits = <u64>end;
  if (p + 6 > endBits) return END_OF_DATA;
  const head = peek(data, p);
  p += 6;
  const method = <i32>(head >> 62);
  if (method > 1) return RESERVED_METHOD;
  const partitionOrder = <i32>(head >> 58) & 15;
  const paramBits: u64 = method == 0 ? 4 : 5;
  const escape: i32 = method == 0 ? 15 : 31;
  const partitions = 1 << partitionOrder;
  const perPartition = n >>> partitionOrder;
  if (perPartition * partitions != n || perPartition < order) return BAD_PARTITIONS;
  let i = order;
  for (let part = 1; part <= partitions; part++) {
    const stop = part * perPartition;
    if (p + paramBits > endBits) return END_OF_DATA;
    const param = <i32>(peek(data, p) >> (64 - paramBits));
    p += paramBits;
    if (param == escape) {
      if (p + 5 > endBits) return END_OF_DATA;
      const raw = <u64>(peek(data, p) >> 59);
      p += 5;
      if (p + raw * <u64>(stop - i) > endBits) return END_OF_DATA;
      for (; i < stop; i++) {
        // Signed raw values: an arithmetic shift extends the sign.
        store<i32>(out + (<usize>i << 2), raw == 0 ? 0 : <i32>(<i64>peek(data, p) >> (64 - raw)));
        p += raw;
      }
      continue;
    }
    const k = <u64>param;
    // buf holds the stream from bit p at its top; its `valid` top bits are real.
    let buf = peek(data, p);
    let valid = 64 - (p & 7);
    for (; i < stop; i++) {
      if (valid < 40) {
        // Past the end (bits read from the zeros after it): the sample is cut.
        if (p > endBits) return END_OF_DATA;
        buf = peek(data, p);
        valid = 64 - (p & 7);
      }
      // Unary quotient (zeros before a one), then k low bits.
      let zeros = clz(buf);
      if (zeros + 1 + k > valid) {
        // A long quotient (or one near the buffer's end): read it bit run by bit run.
        if (p >= endBits) return END_OF_DATA;
        let q: u64 = 0;
        let w = peek(data, p);
        while (w == 0) {
          const skipped = 64 - (p & 7);
          q += skipped;
          p += skipped;
          if (p >= endBits) return END_OF_DATA;
          w = peek(data, p);
        }
        zeros = clz(w);
        q += zeros;
        p += zeros + 1;
        if (p + k > endBits) return END_OF_DATA;
        const v = (q << k) | ((peek(data, p) >> (63 - k)) >> 1);
        p += k;
        store<i32>(out + (<usize>i << 2), zigzag(<u32>v));
        valid = 0;
        continue;
      }
      buf = (buf << zeros) << 1;
      // (x >> (63 - k)) >> 1: the top k bits, also for k = 0 (a shift by 64 would shift by 0).
      const v = (zeros << k) | ((buf >> (63 - k)) >> 1);
      buf <<= k;
      const used = zeros + 1 + k;
      p += used;
      valid -= used;
      store<i32>(out + (<usize>i << 2), zigzag(<u32>v));
    }
    if (p > endBits) return END_OF_DATA;
  }
  return <f64>p;
}

/**
 * s[order..n) (i32) from their residual, in place: s[i] += (sum of c[j] * s[i-1-j]) >> shift,
 * with the `order` i32 coefficients at c (zeros after them, to the 12th at least), summed
 * in 64 bits as libFLAC does. A FIXED subframe is the same with its binomial
 * coefficients and no shift.
 */
export function restore(s: usize, n: i32, c: usize, order: i32, shift: i32): void {
  const taps = order <= 4 ? 4 : 12;
  const fast = order <= taps ? min(n, taps) : n;
  for (let i = order; i < fast; i++) {
    let sum: i64 = 0;
    for (let j = 0; j < order; j++) sum += <i64>load<i32>(c + (<usize>j << 2)) * <i64>load<i32>(s + (<usize>(i - 1 - j) << 2));
    const at = s + (<usize>i << 2);
    store<i32>(at, load<i32>(at) + <i32>(sum >> shift));
  }
  if (fast < n) {
    if (taps == 4) restore4(s, n, c, <i64>shift);
    else restore12(s, n, c, <i64>shift);
  }
}

/** restore12 for orders up to 4 (the FIXED ones among them), a third of the multiplies. */
function restore4(s: usize, n: i32, c: usize, shift: i64): void {
  const c0 = <i64>load<i32>(c), c1 = <i64>load<i32>(c, 4), c2 = <i64>load<i32>(c, 8), c3 = <i64>load<i32>(c, 12);
  let x1 = <i64>load<i32>(s, 12), x2 = <i64>load<i32>(s, 8), x3 = <i64>load<i32>(s, 4), x4 = <i64>load<i32>(s);
  const end = s + (<usize>n << 2);
  for (let at = s + 16; at < end; at += 4) {
    const x = load<i32>(at) + <i32>((c3 * x4 + c2 * x3 + c1 * x2 + c0 * x1) >> shift);
    store<i32>(at, x);
    x4 = x3;
    x3 = x2;
    x2 = x1;
    x1 = <i64>x;
  }
}

/**
 * s[12..n) for orders up to 12: 12 coefficients (the zeros after the last add nothing)
 * and the last 12 samples kept in locals, no inner loop and no re-reads. The newest
 * sample's product joins the sum last, so each sample waits on one multiply-add, shift
 * and add only.
 */
function restore12(s: usize, n: i32, c: usize, shift: i64): void {
  const c0 = <i64>load<i32>(c), c1 = <i64>load<i32>(c, 4), c2 = <i64>load<i32>(c, 8), c3 = <i64>load<i32>(c, 12);
  const c4 = <i64>load<i32>(c, 16), c5 = <i64>load<i32>(c, 20), c6 = <i64>load<i32>(c, 24), c7 = <i64>load<i32>(c, 28);
  const c8 = <i64>load<i32>(c, 32), c9 = <i64>load<i32>(c, 36), c10 = <i64>load<i32>(c, 40), c11 = <i64>load<i32>(c, 44);
  let x1 = <i64>load<i32>(s, 44), x2 = <i64>load<i32>(s, 40), x3 = <i64>load<i32>(s, 36), x4 = <i64>load<i32>(s, 32);
  let x5 = <i64>load<i32>(s, 28), x6 = <i64>load<i32>(s, 24), x7 = <i64>load<i32>(s, 20), x8 = <i64>load<i32>(s, 16);
  let x9 = <i64>load<i32>(s, 12), x10 = <i64>load<i32>(s, 8), x11 = <i64>load<i32>(s, 4), x12 = <i64>load<i32>(s);
  const end = s + (<usize>n << 2);
  for (let at = s + 48; at < end; at += 4) {
    const older = c11 * x12 + c10 * x11 + c9 * x10 + c8 * x9 + c7 * x8 + c6 * x7 + c5 * x6 + c4 * x5 + c3 * x4 + c2 * x3 + c1 * x2;
    const x = load<i32>(at) + <i32>((older + c0 * x1) >> shift);
    store<i32>(at, x);
    x12 = x11;
    x11 = x10;
    x10 = x9;
    x9 = x8;
    x8 = x7;
    x7 = x6;
    x6 = x5;
    x5 = x4;
    x4 = x3;
    x3 = x2;
    x2 = x1;
    x1 = <i64>x;
  }
}
