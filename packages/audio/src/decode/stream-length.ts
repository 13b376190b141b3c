/**
 * How long a compressed stream is, read from its headers without decoding: the last
 * Ogg page's granule position, or the MPEG audio frame headers walked one by one.
 * decodeAudio uses it to decode a long recording only as far as the window it needs.
 * null wherever the headers do not say for certain (free-format MP3, a stream that does
 * not walk cleanly to its end, a chained Ogg file, ADTS AAC, whose decoder drops and
 * doubles samples by rules of its own): the caller then decodes the whole stream.
 */
import type { AudioFormat } from './types.js';

export interface StreamLength {
  /** Sample frames the stream holds (per channel), before any decoder trimming. */
  frames: number;
  sampleRate: number;
}

export function streamLength(bytes: Uint8Array, format: AudioFormat, start = 0): StreamLength | null {
  switch (format) {
    case 'ogg-opus':
    case 'ogg-vorbis':
      return oggLength(bytes, format);
    case 'mp3':
      return mpegLength(bytes, start);
    default:
      return null;
  }
}

const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/**
 * Ogg: the granule position of the last page is the stream's length in samples (for
 * Opus at 48 kHz, including the pre-skip the decoder drops). The last page is found by
 * scanning back for its capture pattern and checking its header.
 */
function oggLength(bytes: Uint8Array, format: 'ogg-opus' | 'ogg-vorbis'): StreamLength | null {
  let sampleRate: number;
  let preSkip = 0;
  if (format === 'ogg-opus') {
    // OpusHead: magic(8) version(1) channels(1) pre-skip(2) input rate(4); the decoder always gives 48 kHz.
    preSkip = bytes[28 + 10] | (bytes[28 + 11] << 8);
    sampleRate = 48_000;
  } else {
    // Vorbis identification header: type(1) "vorbis"(6) version(4) channels(1) rate(4).
    sampleRate = u32(bytes, 28 + 12);
  }
  if (!(sampleRate > 0)) return null;
  for (let at = bytes.length - 27; at >= 0; at--) {
    if (bytes[at] !== 0x4f || bytes[at + 1] !== 0x67 || bytes[at + 2] !== 0x67 || bytes[at + 3] !== 0x53 || bytes[at + 4] !== 0) continue;
    const low = u32(bytes, at + 6);
    const high = u32(bytes, at + 10);
    // -1: a page on which no packet ends; a page cut short: its packets do not decode. Look further back.
    if (low === 0xffffffff && high === 0xffffffff) continue;
    const segments = bytes[at + 26];
    let size = 27 + segments;
    for (let i = 0; i < segments && at + 27 + i < bytes.length; i++) size += bytes[at + 27 + i];
    if (at + size > bytes.length) continue;
    const granule = high * 2 ** 32 + low;
    // A page of another logical stream (a chained file: its granules count that stream only).
    if (u32(bytes, at + 14) !== u32(bytes, 14) || high > 0x1fffff || granule < preSkip) return null;
    return { frames: granule - preSkip, sampleRate };
  }
  return null;
}

const MPEG1_RATES = [44_100, 48_000, 32_000];
const BITRATES = {
  v1l1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  v1l2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  v1l3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  v2l23: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

interface MpegFrame {
  bytes: number;
  samples: number;
  sampleRate: number;
}

function mpegFrame(b: Uint8Array, at: number): MpegFrame | null {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return null;
  const version = (b[at + 1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = 4 - ((b[at + 1] >> 1) & 3); // 1, 2 or 3
  const bitrateIndex = b[at + 2] >> 4;
  const rateIndex = (b[at + 2] >> 2) & 3;
  if (version === 1 || layer === 4 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const mpeg1 = version === 3;
  const sampleRate = MPEG1_RATES[rateIndex] / (mpeg1 ? 1 : version === 2 ? 2 : 4);
  const table = mpeg1 ? [BITRATES.v1l1, BITRATES.v1l2, BITRATES.v1l3][layer - 1] : layer === 1 ? BITRATES.v2l1 : BITRATES.v2l23;
  const bitrate = table[bitrateIndex] * 1000;
  const padding = (b[at + 2] >> 1) & 1;
  if (layer === 1) return { bytes: (Math.floor((12 * bitrate) / sampleRate) + padding) * 4, samples: 384, sampleRate };
  const samples = layer === 3 && !mpeg1 ? 576 : 1152;
  return { bytes: Math.floor(((samples / 8) * bitrate) / sampleRate) + padding, samples, sampleRate };
}

/**
 * MPEG audio: frame after frame to the end of the data (an ID3v1 or APE tag may
 * follow). A Xing/Info frame (the first frame of a VBR or LAME file) holds no audio;
 * its LAME tag gives the encoder's delay and padding, which the decoder (mpg123,
 * gapless) trims from the two ends.
 */
function mpegLength(b: Uint8Array, start: number): StreamLength | null {
  const first = mpegFrame(b, start);
  if (!first) return null;
  let frames = 0;
  let at = start;
  const xing = xingFrame(b, start);
  if (xing) {
    at += first.bytes;
    frames -= xing.trimmed;
  }
  for (;;) {
    const frame = mpegFrame(b, at);
    if (!frame || frame.sampleRate !== first.sampleRate) break;
    // Files joined end to end: the decoder's gapless trimming no longer follows from the first tag.
    if (xingFrame(b, at)) return null;
    if (at + frame.bytes > b.length) break; // a last frame cut short: the decoder drops it
    frames += frame.samples;
    at += frame.bytes;
  }
  return trailerOnly(b, at) && frames > 0 ? { frames, sampleRate: first.sampleRate } : null;
}

/** The Xing/Info header of a first frame, with the samples its LAME tag says are trimmed. */
function xingFrame(b: Uint8Array, at: number): { trimmed: number } | null {
  const mpeg1 = ((b[at + 1] >> 3) & 3) === 3;
  const mono = b[at + 3] >> 6 === 3;
  const xing = at + 4 + (mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17);
  const tag = String.fromCharCode(...b.subarray(xing, xing + 4));
  if (tag !== 'Xing' && tag !== 'Info') return null;
  // Flags say which of frames(4), bytes(4), TOC(100) and quality(4) follow; the LAME tag comes next,
  // whatever encoder string it starts with ("LAME3.100", "Lavc59.37"): mpg123 reads it regardless.
  const flags = b[xing + 7];
  const lame = xing + 8 + (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0);
  if (lame + 24 > b.length) return { trimmed: 0 };
  const delay = (b[lame + 21] << 4) | (b[lame + 22] >> 4);
  const padding = ((b[lame + 22] & 0x0f) << 8) | b[lame + 23];
  return { trimmed: delay + padding };
}

/** What may follow the last frame: nothing, or the tags players write there. */
function trailerOnly(b: Uint8Array, at: number): boolean {
  const rest = b.length - at;
  if (rest <= 0) return true;
  const tag = String.fromCharCode(...b.subarray(at, at + 8));
  // (An ID3v2 tag here is more likely the start of another file joined on.)
  return tag.startsWith('TAG') || tag === 'APETAGEX' || tag.startsWith('LYRICS');
}
