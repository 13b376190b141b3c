/**
 * A FLAC decoder in TypeScript, each subframe's residual and prediction in WebAssembly
 * (flac-subframe.ts):
 * integer samples, bit-exact with libFLAC.
 *
 * Why not the audio-decode WebAssembly codec: it instantiates a module for every
 * file and hands back whole-file float arrays, which made decoding a 3.5 s clip cost
 * about 10 ms, five times the features themselves. This one costs about 1 ms, checks
 * every frame's CRC, and leaves the caller to convert only the window it needs.
 *
 * Format: https://www.rfc-editor.org/rfc/rfc9639 (frame header, subframes CONSTANT,
 * VERBATIM, FIXED and LPC, Rice-coded residuals, stereo decorrelation).
 */
import { AudioError } from '../errors.js';
import { SubframeKernel } from './flac-subframe.js';

export interface FlacStream {
  sampleRate: number;
  bitsPerSample: number;
  /** Frames (samples per channel) announced by STREAMINFO; 0 when the encoder did not know. */
  announcedFrames: number;
  /** Frames read: fewer than announced when the file is cut short. */
  frames: number;
  /** The first frame decoded: those before it were skipped (see decodeFlac's `from`). */
  firstFrame: number;
  /** One array per channel, integer samples from `firstFrame` to `frames`. */
  channelData: Int32Array[];
  /** Byte offset of the first frame, and STREAMINFO's largest block size (for streamEnd). */
  audioStart: number;
  maxBlockSize: number;
}

/** Thrown for streams this decoder does not handle (the caller can fall back to another). */
export class FlacUnsupportedError extends Error {}

const CRC8 = new Uint8Array(256);
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c8 = i;
  let c16 = i << 8;
  for (let k = 0; k < 8; k++) {
    c8 = (c8 & 0x80 ? (c8 << 1) ^ 0x07 : c8 << 1) & 0xff;
    c16 = (c16 & 0x8000 ? (c16 << 1) ^ 0x8005 : c16 << 1) & 0xffff;
  }
  CRC8[i] = c8;
  CRC16[i] = c16;
}

const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -8, -16, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const SAMPLE_SIZES = [0, 8, 12, -1, 16, 20, 24, 32];

/** Raised inside the decoder when the bytes run out mid-frame: the file is cut short. */
class EndOfData extends Error {}

class BitReader {
  pos = 0; // in bits
  readonly end: number; // in bits

  constructor(
    readonly b: Uint8Array,
    byteOffset: number,
  ) {
    this.pos = byteOffset * 8;
    this.end = b.length * 8;
  }

  bits(n: number): number {
    if (n === 0) return 0;
    const p = this.pos;
    if (p + n > this.end) throw new EndOfData();
    this.pos = p + n;
    const b = this.b;
    const i = p >>> 3;
    const shift = p & 7;
    const word = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    if (shift + n <= 32) return n === 32 ? word : ((word << shift) >>> 0) >>> (32 - n);
    // The value spans five bytes: assemble it exactly in a double (< 2^40).
    const wide = word * 256 + (b[i + 4] ?? 0);
    return Math.floor(wide / 2 ** (40 - shift - n)) % 2 ** n;
  }

  signed(n: number): number {
    if (n === 0) return 0;
    const v = this.bits(n);
    return n === 32 ? v | 0 : (v << (32 - n)) >> (32 - n);
  }

  /** Zeros before the next one bit (the one is consumed). */
  unary(): number {
    const b = this.b;
    let p = this.pos;
    let count = 0;
    for (;;) {
      if (p >= this.end) throw new EndOfData();
      const shift = p & 7;
      const v = (b[p >>> 3] << shift) & 0xff;
      if (v !== 0) {
        const zeros = Math.clz32(v) - 24;
        this.pos = p + zeros + 1;
        return count + zeros;
      }
      count += 8 - shift;
      p += 8 - shift;
    }
  }

  alignToByte(): void {
    this.pos = (this.pos + 7) & ~7;
  }
}

/** The reader of the audio frames, with the file's bytes also in the subframe kernel. */
class FrameReader extends BitReader {
  readonly kernel: SubframeKernel;

  constructor(b: Uint8Array, byteOffset: number) {
    super(b, byteOffset);
    this.kernel = SubframeKernel.of(b);
  }
}

function damaged(message: string): AudioError {
  return new AudioError('DECODE_FAILED', `FLAC stream is damaged: ${message}`);
}

/**
 * Decodes a FLAC stream (after an optional ID3v2 tag). `maxFrames` stops a stream
 * whose header does not say its length from growing without bound (or, for a window,
 * at its end). Blocks that end at or before sample `from` are not decoded, only
 * checked (see skipBlocks): their samples are not in `channelData`.
 */
export function decodeFlac(
  bytes: Uint8Array,
  start: number,
  maxFrames = Number.POSITIVE_INFINITY,
  from = 0,
  /** Decode into arrays this thread keeps for the next call (the caller copies the samples out before it). */
  reuse = false,
): FlacStream {
  let at = start + 4; // "fLaC"
  let sampleRate = 0;
  let channels = 0;
  let bitsPerSample = 0;
  let announcedFrames = 0;
  let maxBlockSize = 0;
  for (let last = false; !last; ) {
    if (at + 4 > bytes.length) throw new AudioError('TRUNCATED', 'FLAC file ends inside its metadata');
    last = (bytes[at] & 0x80) !== 0;
    const type = bytes[at] & 0x7f;
    const length = (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
    if (type === 0) {
      const s = new BitReader(bytes, at + 4);
      s.bits(16); // smallest block size
      maxBlockSize = s.bits(16);
      s.bits(24 + 24); // frame size bounds
      sampleRate = s.bits(20);
      channels = s.bits(3) + 1;
      bitsPerSample = s.bits(5) + 1;
      announcedFrames = s.bits(4) * 2 ** 32 + s.bits(32);
    }
    at += 4 + length;
  }
  if (sampleRate === 0) throw new AudioError('INVALID_HEADER', 'FLAC header has a sample rate of 0 Hz');
  if (bitsPerSample > 24) throw new FlacUnsupportedError(`${bitsPerSample}-bit FLAC`);

  const skipped = from > 0 ? skipBlocks(bytes, at, from, maxBlockSize) : { at, frames: 0 };
  const firstFrame = skipped.frames;
  let capacity = Math.min(announcedFrames || 1 << 16, maxFrames + 65536, 1 << 22);
  let data = reuse ? reusedChannels(channels, capacity) : Array.from({ length: channels }, () => new Int32Array(capacity));
  let frames = 0; // decoded, from firstFrame on
  const r = new FrameReader(bytes, skipped.at);
  const block = scratchBlocks(channels);

  while (r.pos + 16 <= r.end && firstFrame + frames < maxFrames) {
    const frameStart = r.pos >>> 3;
    let size: number;
    try {
      size = decodeFrame(r, bytes, block, channels, bitsPerSample);
    } catch (err) {
      if (err instanceof EndOfData) break; // cut short: keep the frames before
      throw err;
    }
    if (frames + size > data[0].length) {
      capacity = Math.max(capacity * 2, frames + size);
      data = data.map((c) => {
        const grown = new Int32Array(capacity);
        grown.set(c.subarray(0, frames));
        return grown;
      });
    }
    for (let c = 0; c < channels; c++) data[c].set(block[c].subarray(0, size), frames);
    frames += size;
    if (r.pos >>> 3 <= frameStart) throw damaged('a frame of no length');
  }
  const channelData = data.map((c) => c.subarray(0, frames));
  return { sampleRate, bitsPerSample, announcedFrames, frames: firstFrame + frames, firstFrame, channelData, audioStart: at, maxBlockSize };
}

/**
 * Arrays kept for the next file: a fresh one of a few hundred kB costs more than its
 * zeroing, as each of its pages faults in when first written (a RAVDESS window's
 * samples, 320 kB, took 0.09 ms to allocate and fill for the first time).
 */
const scratch: Int32Array[] = [];
const reused: Int32Array[] = [];
/** Decoding into arrays longer than this allocates them instead: a thread does not keep more. */
const MAX_REUSED = 1 << 20;

/** One block per channel (at most 65536 samples). */
function scratchBlocks(channels: number): Int32Array[] {
  while (scratch.length < channels) scratch.push(new Int32Array(65536));
  return scratch.slice(0, channels);
}

/** A stream's samples per channel, `capacity` of them (only as long as that is within MAX_REUSED). */
function reusedChannels(channels: number, capacity: number): Int32Array[] {
  if (capacity > MAX_REUSED) return Array.from({ length: channels }, () => new Int32Array(capacity));
  for (let c = 0; c < channels; c++) if ((reused[c]?.length ?? 0) < capacity) reused[c] = new Int32Array(Math.max(capacity, 1 << 17));
  return reused.slice(0, channels);
}

/**
 * Walks from the frame at byte `at` over the frames whose blocks end at or before
 * sample `from`, without decoding them: a frame ends where the next frame's header
 * (CRC-8 and its frame or sample number right) begins and the CRC-16 of the bytes
 * before it comes out right, which is what decoding it would have checked. Stops at
 * the first frame it cannot pass that way (damaged, cut, or not a frame), which is
 * then decoded, damage and all. Returns where decoding starts and how many samples
 * came before.
 */
function skipBlocks(bytes: Uint8Array, at: number, from: number, maxBlockSize: number): { at: number; frames: number } {
  let frames = 0;
  let index = 0;
  for (;;) {
    const header = frameHeader(bytes, at);
    if (!header || frames + header.blockSize > from) break;
    if (header.number !== (header.variable ? frames : index)) break;
    // Fixed-size blocks: every frame but the last holds maxBlockSize samples.
    if (!header.variable && header.blockSize !== maxBlockSize) break;
    let next = -1;
    let c16 = 0;
    for (let i = at; i + 1 < bytes.length; i++) {
      c16 = ((c16 << 8) & 0xffff) ^ CRC16[(c16 >>> 8) ^ bytes[i]];
      if (c16 === 0 && bytes[i + 1] === 0xff && (bytes[i + 2] & 0xfe) === 0xf8) {
        const following = frameHeader(bytes, i + 1);
        if (following && following.number === (following.variable ? frames + header.blockSize : index + 1)) {
          next = i + 1;
          break;
        }
      }
    }
    if (next < 0) break;
    frames += header.blockSize;
    index++;
    at = next;
  }
  return { at, frames };
}

/** How far back from the end a last frame is looked for (a frame of 4096 stereo 24-bit samples is under 25 kB). */
const TAIL_SCAN_BYTES = 1 << 20;

/**
 * Where the stream ends, in samples, read from its last frame's header without
 * decoding anything: the frame that runs exactly to the end of the file (or to an
 * ID3v1 tag there), its CRC-16 checked, its frame or sample number giving its place.
 * null when the last frame header found does not run to the end (a file cut inside a
 * frame, other bytes after it) or none is found: the caller decodes the stream to its
 * end to know.
 */
export function streamEnd(bytes: Uint8Array, stream: Pick<FlacStream, 'audioStart' | 'maxBlockSize'>): number | null {
  const id3v1 = bytes.length - 128; // "TAG" and 125 bytes, if any
  const end = id3v1 > 0 && bytes[id3v1] === 0x54 && bytes[id3v1 + 1] === 0x41 && bytes[id3v1 + 2] === 0x47 ? id3v1 : bytes.length;
  for (let at = end - 8; at >= Math.max(stream.audioStart, end - TAIL_SCAN_BYTES); at--) {
    if (bytes[at] !== 0xff || (bytes[at + 1] & 0xfe) !== 0xf8) continue;
    const header = frameHeader(bytes, at);
    if (!header) continue;
    // A frame is followed by the CRC-16 of its bytes: over the frame and that CRC the remainder is 0.
    // Else the last frame is cut short, or something else follows it (or this was no frame after all).
    let c16 = 0;
    for (let i = at; i < end; i++) c16 = ((c16 << 8) & 0xffff) ^ CRC16[(c16 >>> 8) ^ bytes[i]];
    if (c16 !== 0) return null;
    const first = header.variable ? header.number : header.number * stream.maxBlockSize;
    return first + header.blockSize;
  }
  return null;
}

/** A frame header at a byte offset, read as decodeFrame does, or null when it is not one (CRC-8 and all). */
function frameHeader(b: Uint8Array, at: number): { variable: boolean; number: number; blockSize: number } | null {
  const variable = (b[at + 1] & 1) === 1;
  const sizeCode = b[at + 2] >> 4;
  const rateCode = b[at + 2] & 0x0f;
  if (rateCode === 15 || b[at + 3] >> 4 > 10 || ((b[at + 3] >> 1) & 7) === 3 || (b[at + 3] & 1) !== 0) return null;
  let p = at + 4;
  const lead = b[p++];
  const ones = lead < 0x80 ? 0 : Math.clz32(~(lead << 24));
  if (ones === 1 || ones > 7) return null;
  let number = lead & (0x7f >> ones);
  for (let i = 1; i < ones; i++) {
    if ((b[p] & 0xc0) !== 0x80) return null;
    number = number * 64 + (b[p++] & 0x3f);
  }
  let blockSize = BLOCK_SIZES[sizeCode];
  if (blockSize === 0) return null;
  if (blockSize === -8) blockSize = b[p++] + 1;
  else if (blockSize === -16) {
    blockSize = ((b[p] << 8) | b[p + 1]) + 1;
    p += 2;
  }
  if (rateCode === 12) p += 1;
  else if (rateCode === 13 || rateCode === 14) p += 2;
  if (p >= b.length) return null;
  let c8 = 0;
  for (let i = at; i < p; i++) c8 = CRC8[c8 ^ b[i]];
  return c8 === b[p] ? { variable, number, blockSize } : null;
}

/** One frame into `block`; returns its block size. */
function decodeFrame(r: FrameReader, bytes: Uint8Array, block: Int32Array[], channels: number, streamBits: number): number {
  const frameStart = r.pos >>> 3;
  const sync = r.bits(15);
  if (sync !== 0x7ffc) throw damaged(`no frame sync at byte ${frameStart}`);
  r.bits(1); // blocking strategy: the frame number is not needed
  const sizeCode = r.bits(4);
  const rateCode = r.bits(4);
  const assignment = r.bits(4);
  const bitsCode = r.bits(3);
  r.bits(1);
  // The coded frame or sample number: UTF-8-like, 1 to 7 bytes.
  const lead = r.bits(8);
  const ones = lead < 0x80 ? 0 : Math.clz32(~(lead << 24));
  if (ones === 1 || ones > 7) throw damaged(`bad frame number at byte ${frameStart}`);
  for (let i = 1; i < ones; i++) r.bits(8);
  let blockSize = BLOCK_SIZES[sizeCode];
  if (blockSize === -8) blockSize = r.bits(8) + 1;
  else if (blockSize === -16) blockSize = r.bits(16) + 1;
  if (blockSize === 0) throw damaged(`reserved block size at byte ${frameStart}`);
  if (rateCode === 12) r.bits(8);
  else if (rateCode === 13 || rateCode === 14) r.bits(16);
  else if (rateCode === 15) throw damaged(`invalid sample rate code at byte ${frameStart}`);
  const headerEnd = r.pos >>> 3;
  const crc8 = r.bits(8);
  let c8 = 0;
  for (let i = frameStart; i < headerEnd; i++) c8 = CRC8[c8 ^ bytes[i]];
  if (c8 !== crc8) throw damaged(`frame header CRC mismatch at byte ${frameStart}`);

  let bits = SAMPLE_SIZES[bitsCode];
  if (bits === 0) bits = streamBits;
  if (bits < 0 || bits > 24) throw new FlacUnsupportedError(`FLAC frame of sample size code ${bitsCode}`);
  const frameChannels = assignment < 8 ? assignment + 1 : 2;
  if (assignment > 10 || frameChannels !== channels) throw damaged(`frame at byte ${frameStart} has a different channel layout`);

  for (let c = 0; c < frameChannels; c++) {
    // The side channel carries one more bit.
    const side = (assignment === 8 && c === 1) || (assignment === 9 && c === 0) || (assignment === 10 && c === 1);
    decodeSubframe(r, block[c], blockSize, bits + (side ? 1 : 0));
  }
  if (assignment >= 8) {
    const a = block[0];
    const b = block[1];
    if (assignment === 8) for (let i = 0; i < blockSize; i++) b[i] = a[i] - b[i];
    else if (assignment === 9) for (let i = 0; i < blockSize; i++) a[i] += b[i];
    else
      for (let i = 0; i < blockSize; i++) {
        const side = b[i];
        const mid = (a[i] * 2) | (side & 1);
        a[i] = (mid + side) >> 1;
        b[i] = (mid - side) >> 1;
      }
  }
  r.alignToByte();
  const frameEnd = r.pos >>> 3;
  const crc16 = r.bits(16);
  let c16 = 0;
  for (let i = frameStart; i < frameEnd; i++) c16 = ((c16 << 8) & 0xffff) ^ CRC16[(c16 >>> 8) ^ bytes[i]];
  if (c16 !== crc16) throw damaged(`frame CRC mismatch at byte ${frameStart}`);
  return blockSize;
}

function decodeSubframe(r: FrameReader, out: Int32Array, n: number, bits: number): void {
  if (r.bits(1) !== 0) throw damaged('subframe padding bit set');
  const type = r.bits(6);
  let wasted = 0;
  if (r.bits(1) === 1) wasted = r.unary() + 1;
  const b = bits - wasted;
  if (type === 0) {
    out.fill(r.signed(b), 0, n);
  } else if (type === 1) {
    for (let i = 0; i < n; i++) out[i] = r.signed(b);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    const k = warmUp(r, order, b);
    residual(r, n, order);
    if (order > 0) k.restore(n, FIXED_COEFS[order], 0);
    out.set(k.samples.subarray(0, n));
  } else if (type >= 32) {
    const order = type - 31;
    const k = warmUp(r, order, b);
    const precision = r.bits(4) + 1;
    if (precision === 16) throw damaged('invalid LPC coefficient precision');
    const shift = r.signed(5);
    if (shift < 0) throw damaged('negative LPC shift');
    const coefs = new Int32Array(order);
    for (let i = 0; i < order; i++) coefs[i] = r.signed(precision);
    residual(r, n, order);
    k.restore(n, coefs, shift);
    out.set(k.samples.subarray(0, n));
  } else {
    throw damaged(`reserved subframe type ${type}`);
  }
  if (wasted > 0) for (let i = 0; i < n; i++) out[i] *= 2 ** wasted;
}

/** A predicted subframe's first `order` samples, verbatim, into the kernel. */
function warmUp(r: FrameReader, order: number, bits: number): SubframeKernel {
  const { samples } = r.kernel;
  for (let i = 0; i < order; i++) samples[i] = r.signed(bits);
  return r.kernel;
}

/** Rice-coded residuals into the kernel's samples[order..n). */
function residual(r: FrameReader, n: number, order: number): void {
  const outcome = r.kernel.residual(r.pos, n, order);
  if (outcome === 'end-of-data') throw new EndOfData();
  if (outcome === 'bad-partitions') throw damaged('residual partitions do not fit the block');
  if (outcome === 'reserved-method') throw damaged('reserved residual coding method');
  r.pos = outcome;
}

/** The FIXED predictors of orders 0 to 4 as LPC coefficients (with no shift). */
const FIXED_COEFS = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]];
