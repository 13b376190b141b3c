/** Container detection from the first bytes, never from the file name. */
import type { AudioFormat } from './types.js';

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, Math.min(bytes.length, at + length)));

/** Skips an ID3v2 tag (some encoders put one before FLAC or MP3 data). */
export function afterId3(bytes: Uint8Array): number {
  if (bytes.length < 10 || ascii(bytes, 0, 3) !== 'ID3') return 0;
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  return 10 + size + (bytes[5] & 0x10 ? 10 : 0);
}

export function sniffFormat(bytes: Uint8Array): AudioFormat | null {
  if (bytes.length < 12) return null;
  const head = ascii(bytes, 0, 4);
  if ((head === 'RIFF' || head === 'RF64') && ascii(bytes, 8, 4) === 'WAVE') return 'wav';
  if (head === 'OggS') {
    // The first page carries the codec's identification header.
    const first = ascii(bytes, 28, 8);
    if (first.startsWith('OpusHead')) return 'ogg-opus';
    if (first.slice(1, 7) === 'vorbis') return 'ogg-vorbis';
    return null;
  }
  if (ascii(bytes, 4, 4) === 'ftyp') return 'm4a';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  const start = afterId3(bytes);
  if (start + 4 > bytes.length) return null;
  if (ascii(bytes, start, 4) === 'fLaC') return 'flac';
  const b0 = bytes[start];
  const b1 = bytes[start + 1];
  if (b0 === 0xff && (b1 & 0xf6) === 0xf0) return 'aac'; // ADTS: sync, layer 00
  if (b0 === 0xff && (b1 & 0xe0) === 0xe0 && (b1 & 0x06) !== 0) return 'mp3'; // MPEG audio frame sync
  return start > 0 ? 'mp3' : null;
}

export interface FlacInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** 0 when the encoder did not know it. */
  totalFrames: number;
}

/** The STREAMINFO block, which the FLAC format requires first. */
export function readFlacInfo(bytes: Uint8Array): FlacInfo | null {
  const at = afterId3(bytes) + 8; // "fLaC", then a 4-byte block header
  if (at + 18 > bytes.length || (bytes[at - 4] & 0x7f) !== 0) return null;
  const b = (i: number) => bytes[at + i];
  const sampleRate = (b(10) << 12) | (b(11) << 4) | (b(12) >> 4);
  const channels = ((b(12) >> 1) & 0x07) + 1;
  const bitsPerSample = (((b(12) & 0x01) << 4) | (b(13) >> 4)) + 1;
  const totalFrames = (b(13) & 0x0f) * 2 ** 32 + ((b(14) << 24) >>> 0) + (b(15) << 16) + (b(16) << 8) + b(17);
  return { sampleRate, channels, bitsPerSample, totalFrames };
}
