/**
 * WAV (RIFF and RF64) reading and writing.
 *
 * Reads PCM 8/16/24/32-bit integer, 32/64-bit float and WAVE_FORMAT_EXTENSIBLE
 * with any channel count. Samples are scaled like libsndfile (what librosa reads
 * through soundfile): int16 / 32768, int24 / 2^23, int32 / 2^31, uint8 (x-128)/128.
 */
import { AudioError } from '../errors.js';
import type { PcmWindow, WindowRequest } from './types.js';
import { mixToMono, windowFrames } from './window.js';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Size fields streaming writers (ffmpeg on a pipe) leave when they can't seek back. */
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);
const MAX_SAMPLE_RATE = 1_536_000;
const MAX_CHANNELS = 256;

export interface WavHeader {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  encoding: 'int' | 'float';
  /** Frames in the data chunk. */
  frames: number;
  dataOffset: number;
  blockAlign: number;
}

function fourcc(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

export function isWav(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riff = fourcc(view, 0);
  return (riff === 'RIFF' || riff === 'RF64') && fourcc(view, 8) === 'WAVE';
}

export function parseWavHeader(bytes: Uint8Array): WavHeader {
  if (bytes.length === 0) throw new AudioError('EMPTY', 'the file is empty');
  if (!isWav(bytes)) throw new AudioError('UNSUPPORTED_FORMAT', 'not a RIFF/WAVE file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rf64 = fourcc(view, 0) === 'RF64';
  let ds64DataSize: number | undefined;
  let fmt: Omit<WavHeader, 'frames' | 'dataOffset'> | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(view, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'ds64' && rf64) {
      if (size < 16 || body + 16 > bytes.length) throw new AudioError('INVALID_HEADER', 'RF64 ds64 chunk is too short');
      ds64DataSize = Number(view.getBigUint64(body + 8, true));
    } else if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new AudioError('INVALID_HEADER', 'WAV fmt chunk is too short');
      fmt = parseFmt(view, body, size);
    } else if (id === 'data') {
      if (!fmt) throw new AudioError('INVALID_HEADER', 'WAV data chunk comes before its fmt chunk');
      const available = bytes.length - body;
      let dataSize = rf64 && size === 0xffffffff && ds64DataSize !== undefined ? ds64DataSize : size;
      if (UNKNOWN_SIZES.has(dataSize) && available > 0) dataSize = available;
      if (dataSize > available) {
        const claimed = dataSize / fmt.blockAlign / fmt.sampleRate;
        const held = available / fmt.blockAlign / fmt.sampleRate;
        throw new AudioError('TRUNCATED', `WAV header claims ${formatSeconds(claimed)} of audio but the file holds ${formatSeconds(held)}`);
      }
      const frames = Math.floor(dataSize / fmt.blockAlign);
      if (frames === 0) throw new AudioError('EMPTY', 'the WAV file has no samples');
      return { ...fmt, frames, dataOffset: body };
    }
    // Chunks are padded to an even size.
    at = body + size + (size & 1);
  }
  throw new AudioError(fmt ? 'TRUNCATED' : 'INVALID_HEADER', fmt ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
}

function parseFmt(view: DataView, at: number, size: number): Omit<WavHeader, 'frames' | 'dataOffset'> {
  let format = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (format === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new AudioError('INVALID_HEADER', 'WAVE_FORMAT_EXTENSIBLE fmt chunk is too short');
    // The sub-format GUID starts with the plain format tag.
    format = view.getUint16(at + 24, true);
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new AudioError('INVALID_HEADER', `WAV header has ${channels} channels`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE)
    throw new AudioError('INVALID_HEADER', `WAV header has an impossible sample rate of ${sampleRate} Hz`);
  let encoding: 'int' | 'float';
  if (format === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bitsPerSample)) encoding = 'int';
  else if (format === WAVE_FORMAT_IEEE_FLOAT && (bitsPerSample === 32 || bitsPerSample === 64)) encoding = 'float';
  else
    throw new AudioError(
      'UNSUPPORTED_FORMAT',
      `WAV encoding not supported: format tag ${format} with ${bitsPerSample} bits per sample (PCM 8/16/24/32-bit and float 32/64-bit are)`,
    );
  if (blockAlign !== channels * (bitsPerSample / 8))
    throw new AudioError('INVALID_HEADER', `WAV block align ${blockAlign} does not fit ${channels} channels of ${bitsPerSample} bits`);
  return { sampleRate, channels, bitsPerSample, encoding, blockAlign };
}

function formatSeconds(s: number): string {
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 60) return `${(s / 60).toFixed(1)} min`;
  return `${s.toFixed(3)} s`;
}

/** Decodes the requested window of a WAV file, mixed to mono by the channel mean. */
export function decodeWav(bytes: Uint8Array, request: WindowRequest = {}, header: WavHeader = parseWavHeader(bytes)): PcmWindow {
  const { start, count } = windowFrames(header.frames, header.sampleRate, request);
  return {
    sampleRate: header.sampleRate,
    channels: header.channels,
    totalFrames: header.frames,
    startFrame: start,
    samples: mixToMono(decodeWavChannels(bytes, header, start, count)),
    codec: `wav/${header.encoding === 'int' ? 'pcm' : 'float'}${header.bitsPerSample}`,
  };
}

/** Planar float32 channels of frames [start, start + count). */
export function decodeWavChannels(bytes: Uint8Array, header: WavHeader, start = 0, count = header.frames - start): Float32Array[] {
  const { channels, bitsPerSample, encoding, blockAlign } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bytesPer = bitsPerSample / 8;
  const read = sampleReader(view, encoding, bitsPerSample);
  const planar: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const data = new Float32Array(count);
    let at = header.dataOffset + start * blockAlign + c * bytesPer;
    for (let i = 0; i < count; i++, at += blockAlign) data[i] = read(at);
    planar.push(data);
  }
  return planar;
}

function sampleReader(view: DataView, encoding: 'int' | 'float', bits: number): (at: number) => number {
  if (encoding === 'float') return bits === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  switch (bits) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128;
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      return (at) => ((view.getUint8(at + 2) << 24) | (view.getUint8(at + 1) << 16) | (view.getUint8(at) << 8)) / 2147483648;
    default:
      return (at) => view.getInt32(at, true) / 2147483648;
  }
}

/** Writes mono or multi-channel float32 or int16 WAV. */
export function encodeWav(channelData: Float32Array[], sampleRate: number, format: 'float32' | 'int16' = 'float32'): Uint8Array {
  const channels = channelData.length;
  const frames = channels ? channelData[0].length : 0;
  const bytesPer = format === 'float32' ? 4 : 2;
  const dataSize = frames * channels * bytesPer;
  const out = new Uint8Array(44 + dataSize);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataSize, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, format === 'float32' ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPer, true);
  view.setUint16(32, channels * bytesPer, true);
  view.setUint16(34, bytesPer * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataSize, true);
  let at = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const x = channelData[c][i];
      if (format === 'float32') view.setFloat32(at, x, true);
      else view.setInt16(at, Math.max(-32768, Math.min(32767, Math.round(x * 32768))), true);
      at += bytesPer;
    }
  }
  return out;
}
