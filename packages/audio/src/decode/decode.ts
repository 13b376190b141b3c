/**
 * Decoding any supported upload into a mono window, as librosa.load would read it
 * (before resampling): WAV natively, FLAC/MP3/Ogg/Opus/M4A/AAC/WebM through the
 * audio-decode WebAssembly codecs, ffmpeg as a fallback for M4A/AAC/WebM.
 */
import decodeCompressed from 'audio-decode';
import { AudioError } from '../errors.js';
import { ffmpegToWav } from './ffmpeg.js';
import { decodeFlac, type FlacStream, FlacUnsupportedError, streamEnd } from './flac.js';
import { afterId3, readFlacInfo, sniffFormat } from './sniff.js';
import { streamLength } from './stream-length.js';
import type { AudioFormat, PcmWindow, WindowRequest } from './types.js';
import { decodeWav, decodeWavChannels, parseWavHeader } from './wav.js';
import { mixToMono, windowFrames } from './window.js';

export interface DecodeOptions extends WindowRequest {
  /** Longest recording accepted, in seconds (checked from the header where it says). */
  maxSeconds?: number;
}

export interface DecodedAudio extends PcmWindow {
  format: AudioFormat;
}

export const SUPPORTED_FORMATS = 'WAV, FLAC, MP3, Ogg Vorbis, Opus, M4A/AAC, WebM';

const FFMPEG_FALLBACK = new Set<AudioFormat>(['m4a', 'aac', 'webm']);

export async function decodeAudio(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const format = sniff(bytes);
  if (format === 'wav') {
    // Read only the window: no need to convert the rest of the file.
    const header = parseWavHeader(bytes);
    checkLength(header.frames, header.sampleRate, options.maxSeconds);
    return { ...decodeWav(bytes, options, header), format: 'wav' };
  }
  const flac = format === 'flac' ? flacIntegers(bytes, options.maxSeconds, options) : null;
  if (flac) {
    // Integers to floats for the window alone.
    const { start, count } = windowFrames(flac.totalFrames, flac.sampleRate, options);
    const from = start - flac.firstFrame; // the blocks before the window were skipped
    const channels = flac.channelData.map((c) => integersToFloats(c.subarray(from, from + count), flac.bitsPerSample));
    return {
      sampleRate: flac.sampleRate,
      channels: channels.length,
      totalFrames: flac.totalFrames,
      startFrame: start,
      samples: mixToMono(channels),
      codec: 'flac',
      format: 'flac',
    };
  }
  // Decoded only as far as the window reaches, when the stream's headers tell its length.
  const all = await decodeChannelsWithin(bytes, options, options);
  const { start, count } = windowFrames(all.totalFrames, all.sampleRate, options);
  const channels = all.channelData.map((c) => c.subarray(start, start + count));
  return {
    sampleRate: all.sampleRate,
    channels: channels.length,
    totalFrames: all.totalFrames,
    startFrame: start,
    samples: channels.length === 1 ? channels[0].slice() : mixToMono(channels),
    codec: all.codec,
    format: all.format,
  };
}

export interface DecodedChannels {
  format: AudioFormat;
  codec: string;
  sampleRate: number;
  /** One array per channel, the whole recording. */
  channelData: Float32Array[];
}

function sniff(bytes: Uint8Array): AudioFormat {
  if (bytes.length === 0) throw new AudioError('EMPTY', 'the file is empty');
  const format = sniffFormat(bytes);
  if (!format) throw new AudioError('UNSUPPORTED_FORMAT', `not a recognised audio file (supported: ${SUPPORTED_FORMATS})`);
  return format;
}

/** Decodes a whole recording, every channel kept. */
export async function decodeChannels(bytes: Uint8Array, options: Pick<DecodeOptions, 'maxSeconds'> = {}): Promise<DecodedChannels> {
  const { totalFrames: _, ...decoded } = await decodeChannelsWithin(bytes, options);
  return decoded;
}

/**
 * decodeChannels, but with a `window` an MP3 or Ogg stream whose headers tell its
 * length is decoded only up to the window's end: `channelData` is then that much, and
 * `totalFrames` the length the headers give. (decodeAudio does the same for FLAC.)
 */
async function decodeChannelsWithin(
  bytes: Uint8Array,
  options: Pick<DecodeOptions, 'maxSeconds'>,
  window?: WindowRequest,
): Promise<DecodedChannels & { totalFrames: number }> {
  const format = sniff(bytes);
  if (format === 'wav') return withLength(fromWav(bytes, format, format, options.maxSeconds));
  let flacFrames = 0;
  if (format === 'flac') {
    const flac = flacIntegers(bytes, options.maxSeconds);
    if (flac) {
      const channelData = flac.channelData.map((c) => integersToFloats(c, flac.bitsPerSample));
      return withLength({ format, codec: format, sampleRate: flac.sampleRate, channelData });
    }
    // Over 24 bits: the codec decodes it (flacIntegers has checked the header).
    flacFrames = readFlacInfo(bytes)?.totalFrames ?? 0;
  }
  let decoded: Decoded;
  try {
    decoded = await decodeWithin(bytes, format, options.maxSeconds, window);
  } catch (err) {
    if (err instanceof AudioError) throw err;
    if (!FFMPEG_FALLBACK.has(format)) {
      throw new AudioError('DECODE_FAILED', `could not decode this ${format} file: ${(err as Error).message}`, { cause: err });
    }
    return withLength(fromWav(await ffmpegToWav(bytes, format), format, `${format} (ffmpeg)`, options.maxSeconds));
  }
  const { channelData, sampleRate, totalFrames: frames } = decoded;
  // The WebAssembly codecs return nothing (no rate, no samples) for a stream cut or damaged before its first frame.
  if (!(sampleRate > 0) || frames === 0 || !channelData[0]?.length)
    throw new AudioError('DECODE_FAILED', `no audio could be decoded from this ${format} file (damaged or cut short?)`);
  checkLength(frames, sampleRate, options.maxSeconds);
  if (flacFrames > 0 && frames < flacFrames * 0.99) {
    throw new AudioError(
      'TRUNCATED',
      `FLAC stream ends after ${(frames / sampleRate).toFixed(3)} s of the ${(flacFrames / sampleRate).toFixed(3)} s its header announces`,
    );
  }
  return { format, codec: format, sampleRate, channelData, totalFrames: frames };
}

const withLength = <T extends { channelData: Float32Array[] }>(d: T) => ({ ...d, totalFrames: d.channelData[0]?.length ?? 0 });

/** Formats whose codecs decode piece by piece (M4A's and WebM's only at the end), by audio-decode's names. */
const STREAMED: Partial<Record<AudioFormat, string>> = { mp3: 'mp3', 'ogg-opus': 'opus', 'ogg-vorbis': 'oga', aac: 'aac' };
const STREAM_CHUNK_BYTES = 64 * 1024;

type StreamDecoder = ((chunk?: Uint8Array) => Promise<{ channelData: Float32Array[]; sampleRate: number }>) & { free(): void };

interface Decoded {
  channelData: Float32Array[];
  sampleRate: number;
  /** The recording's length: channelData's, unless decoding stopped at the window's end. */
  totalFrames: number;
}

/**
 * The codecs decode a whole file at once, however long it turns out to be: a 4 MB
 * Opus file of two hours took 100 s and 4.4 GB. Streamable formats are fed in pieces
 * instead, and decoding stops as soon as the recording is over `maxSeconds`, or, when
 * its headers tell its length, once the window is decoded.
 */
async function decodeWithin(
  bytes: Uint8Array,
  format: AudioFormat,
  maxSeconds: number | undefined,
  window: WindowRequest | undefined,
): Promise<Decoded> {
  const codec = STREAMED[format];
  if (!codec || (maxSeconds === undefined && window === undefined)) return withLength(await decodeCompressed(bytes));
  const known = window ? streamLength(bytes, format, afterId3(bytes)) : null;
  if (known) checkLength(known.frames, known.sampleRate, maxSeconds);
  const windowEnd = known && window ? sum(windowFrames(known.frames, known.sampleRate, window)) : Number.POSITIVE_INFINITY;
  const open = (decodeCompressed as unknown as Record<string, () => Promise<StreamDecoder>>)[codec];
  const dec = await open();
  const pieces: Float32Array[][] = [];
  let frames = 0;
  let sampleRate = 0;
  const add = (out: { channelData: Float32Array[]; sampleRate: number }) => {
    if (!out.channelData.length || !out.channelData[0].length) return;
    pieces.push(out.channelData);
    frames += out.channelData[0].length;
    sampleRate = out.sampleRate;
  };
  let stopped = false;
  for (let at = 0; at < bytes.length; at += STREAM_CHUNK_BYTES) {
    add(await dec(bytes.subarray(at, at + STREAM_CHUNK_BYTES)));
    if (maxSeconds !== undefined && sampleRate > 0 && frames > maxSeconds * sampleRate) {
      dec.free();
      throw new AudioError('TOO_LONG', `the recording is longer than ${(frames / sampleRate).toFixed(1)} s; the limit is ${maxSeconds} s`);
    }
    // The rate the decoder gives must be the one the headers were read at, or their length means nothing.
    if (frames >= windowEnd && sampleRate === known?.sampleRate) {
      stopped = true;
      break;
    }
  }
  if (stopped) dec.free();
  else add(await dec());
  // An mp3 decoder reports identical channels as one until they differ: give such pieces their channels back.
  const channels = Math.max(0, ...pieces.map((p) => p.length));
  const channelData = Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(frames);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece[Math.min(c, piece.length - 1)], at);
      at += piece[0].length;
    }
    return out;
  });
  return { channelData, sampleRate, totalFrames: stopped && known ? known.frames : frames };
}

const sum = ({ start, count }: { start: number; count: number }) => start + count;

/**
 * FLAC through the TypeScript decoder, with the same checks as the codec path below;
 * null for the rare stream it does not handle (over 24 bits), which goes to the codec.
 * With a `window` and a length in STREAMINFO, decoding stops at the window's end, and
 * the last frame's header (streamEnd) says whether the file holds the whole stream;
 * when it cannot say, or says it does not, the stream is decoded to its end, as
 * without a window, for the exact verdict.
 */
function flacIntegers(
  bytes: Uint8Array,
  maxSeconds: number | undefined,
  window?: WindowRequest,
): (FlacStream & { totalFrames: number }) | null {
  const info = readFlacInfo(bytes);
  if (!info) throw new AudioError('INVALID_HEADER', 'FLAC file has no valid STREAMINFO block');
  if (info.sampleRate === 0) throw new AudioError('INVALID_HEADER', 'FLAC header has a sample rate of 0 Hz');
  if (info.totalFrames > 0) checkLength(info.totalFrames, info.sampleRate, maxSeconds);
  // A stream of unknown length is decoded one frame past the limit, so checkLength sees it.
  const maxFrames = maxSeconds === undefined ? Number.POSITIVE_INFINITY : Math.ceil(maxSeconds * info.sampleRate) + 1;
  // With the stream's length known, only the window's blocks are decoded: those before it are skipped, CRCs checked.
  const range = window && info.totalFrames > 0 ? windowFrames(info.totalFrames, info.sampleRate, window) : null;
  const windowEnd = range ? sum(range) : maxFrames;
  const from = range?.start ?? 0;
  const start = afterId3(bytes);
  let flac: FlacStream;
  try {
    // Into arrays this thread reuses: the callers turn the samples into floats at once.
    flac = decodeFlac(bytes, start, Math.min(maxFrames, windowEnd), from, true);
    if (flac.frames >= windowEnd && windowEnd < info.totalFrames) {
      const end = streamEnd(bytes, flac);
      if (end !== null && end >= info.totalFrames * 0.99 && end <= info.totalFrames) return { ...flac, totalFrames: end };
      flac = decodeFlac(bytes, start, maxFrames, from, true);
    }
  } catch (err) {
    if (err instanceof FlacUnsupportedError) return null;
    throw err;
  }
  if (flac.frames === 0) throw new AudioError('DECODE_FAILED', 'no audio could be decoded from this flac file (damaged or cut short?)');
  checkLength(flac.frames, flac.sampleRate, maxSeconds);
  if (flac.announcedFrames > 0 && flac.frames < flac.announcedFrames * 0.99) {
    throw new AudioError(
      'TRUNCATED',
      `FLAC stream ends after ${(flac.frames / flac.sampleRate).toFixed(3)} s of the ${(flac.announcedFrames / flac.sampleRate).toFixed(3)} s its header announces`,
    );
  }
  return { ...flac, totalFrames: flac.frames };
}

/** Integer samples as libsndfile (and so librosa) scales them: by 1/2^(bits-1). */
function integersToFloats(samples: Int32Array, bits: number): Float32Array {
  const out = new Float32Array(samples.length);
  const scale = 1 / 2 ** (bits - 1); // a power of two: the product is exact
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] * scale;
  return out;
}

function fromWav(wav: Uint8Array, format: AudioFormat, codec: string, maxSeconds: number | undefined): DecodedChannels {
  const header = parseWavHeader(wav);
  checkLength(header.frames, header.sampleRate, maxSeconds);
  const channelData = decodeWavChannels(wav, header);
  return {
    format,
    codec: format === 'wav' ? `wav/${header.encoding === 'int' ? 'pcm' : 'float'}${header.bitsPerSample}` : codec,
    sampleRate: header.sampleRate,
    channelData,
  };
}

function checkLength(frames: number, sampleRate: number, maxSeconds: number | undefined): void {
  const seconds = frames / sampleRate;
  if (maxSeconds !== undefined && seconds > maxSeconds) {
    throw new AudioError('TOO_LONG', `the recording is ${seconds.toFixed(1)} s long; the limit is ${maxSeconds} s`);
  }
}
