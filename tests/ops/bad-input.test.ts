/**
 * Bad input (operations issue, part "bad input"): the real platform (the four
 * services as processes over PostgreSQL, Redis and a local S3 server) is sent every
 * kind of hostile or unusual upload through real HTTP, one at a time and all
 * together in one batch job. Each must end in a clear answer (an exact status,
 * error code and reason, or a 200 with eight probabilities and the right audio
 * metadata), and nothing else may be disturbed: a normal clip still classifies,
 * /readyz stays 200, no service process exits, and nothing rejected leaves a row
 * or an object behind.
 *
 * The audio is made here: real RAVDESS speech re-encoded into each WAV variant
 * (headers written by hand), silence, a 0.1 s clip, a 10-minute file, and (with
 * ffmpeg) an MP3 of 7 hours in 25 MB. `TEST_DATABASE_URL` should name a database of
 * this file's own: the orphan checks look at every row written since it started.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeChannels, resample } from '@ser/audio';
import { createDb, type Db } from '@ser/db';
import { type Platform, type ServiceName, startPlatform } from '@ser/launcher';
import { EMOTIONS } from '@ser/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ser/storage is not a dependency of the tests package; its source is read directly.
import { listLocalS3Keys, listLocalS3Uploads } from '../../packages/storage/src/index.js';
import { type ClipFile, expectedProbabilities, RAVDESS } from '../e2e/corpus.js';
import { parseCsv } from '../e2e/csv.js';

// ---------------------------------------------------------------------------
// WAV files written by hand
// ---------------------------------------------------------------------------

interface WavSpec {
  sampleRate: number;
  channels: number;
  bits: 8 | 16 | 24 | 32;
  float?: boolean;
  /** WAVE_FORMAT_EXTENSIBLE with this channel mask. */
  extensible?: number;
  /** Extra chunks written between fmt and data (each padded to an even size). */
  extraChunks?: { id: string; body: Buffer }[];
}

const KSDATAFORMAT_TAIL = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);

function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A RIFF/WAVE file of `frames` frames; `sample(i, c)` in [-1, 1). */
function wavFile(spec: WavSpec, frames: number, sample: (i: number, c: number) => number): Buffer {
  const bytesPer = spec.bits / 8;
  const blockAlign = spec.channels * bytesPer;
  const tag = spec.float ? 3 : 1;
  let fmt: Buffer;
  if (spec.extensible !== undefined) {
    fmt = Buffer.alloc(40);
    fmt.writeUInt16LE(0xfffe, 0);
    fmt.writeUInt16LE(22, 16); // cbSize
    fmt.writeUInt16LE(spec.bits, 18); // valid bits
    fmt.writeUInt32LE(spec.extensible, 20); // channel mask
    fmt.writeUInt16LE(tag, 24); // sub-format GUID: the plain tag, then the KSDATAFORMAT tail
    KSDATAFORMAT_TAIL.copy(fmt, 26);
  } else {
    fmt = Buffer.alloc(spec.float ? 18 : 16); // non-PCM formats carry cbSize = 0
    fmt.writeUInt16LE(tag, 0);
  }
  fmt.writeUInt16LE(spec.channels, 2);
  fmt.writeUInt32LE(spec.sampleRate, 4);
  fmt.writeUInt32LE(spec.sampleRate * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(spec.bits, 14);

  const data = Buffer.alloc(frames * blockAlign);
  const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
  let at = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < spec.channels; c++, at += bytesPer) {
      const x = sample(i, c);
      if (spec.float) data.writeFloatLE(x, at);
      else if (spec.bits === 8) data.writeUInt8(clamp(Math.round(x * 128) + 128, 0, 255), at);
      else if (spec.bits === 16) data.writeInt16LE(clamp(Math.round(x * 32768), -32768, 32767), at);
      else if (spec.bits === 24) data.writeIntLE(clamp(Math.round(x * 2 ** 23), -(2 ** 23), 2 ** 23 - 1), at, 3);
      else data.writeInt32LE(clamp(Math.round(x * 2 ** 31), -(2 ** 31), 2 ** 31 - 1), at);
    }
  }
  const fact = spec.float ? [chunk('fact', Buffer.from(Uint32Array.of(frames).buffer))] : [];
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    chunk('fmt ', fmt),
    ...fact,
    ...(spec.extraChunks ?? []).map((c) => chunk(c.id, c.body)),
    chunk('data', data),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** Deterministic noise in [-1, 1). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** Offset of the data chunk's size field in a file wavFile wrote (no extra chunks). */
function dataSizeOffset(wav: Buffer): number {
  let at = 12;
  while (wav.toString('ascii', at, at + 4) !== 'data') at += 8 + wav.readUInt32LE(at + 4);
  return at + 4;
}

// ---------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------

const TEN_MINUTES = 600; // MAX_AUDIO_SECONDS' default: the longest recording accepted
const TEN_MINUTE_BYTES = 44 + TEN_MINUTES * 22050 * 2;
/** The 10-minute file is exactly at the limit; one byte more is over it. */
const MAX_FILE_BYTES = TEN_MINUTE_BYTES;
/** The job of every case below is exactly this long: at the limit, not over it. */
const MAX_FILES = 31;

/** Real speech: RAVDESS Actor 01, "Kids are talking by the door", angry, 22050 Hz FLAC (3.87 s). */
const SPEECH_NAME = '03-01-05-01-01-01-01.flac';

interface Audio {
  /** The FLAC as it is on disk. */
  flac: Buffer;
  /** Its samples, mono 22050 Hz on the 16-bit grid. */
  speech: Float32Array;
  /** One minute of 8 kbps MP3 frames (ffmpeg), to be repeated. */
  mp3Minute: Buffer;
}

interface GoodCase {
  name: string;
  filename: string;
  make(a: Audio): Buffer;
  /** What the stored recording must say of itself. */
  audio: { sampleRate: number; channels: number; durationSeconds: number; format: string };
  /** Decodes to exactly the speech samples, so it must classify as the 16-bit mono original does. */
  sameAsSpeech?: boolean;
}

const speechFrames = 85_345; // 3.870 s at 22050 Hz (checked in beforeAll)
const SR = 22050;
const mono16 = { sampleRate: SR, channels: 1, bits: 16 } as const;

const GOOD: GoodCase[] = [
  {
    name: 'speech, 16-bit mono 22050 Hz (the reference)',
    filename: 'speech-16bit.wav',
    make: (a) => wavFile(mono16, a.speech.length, (i) => a.speech[i]),
    audio: { sampleRate: SR, channels: 1, durationSeconds: speechFrames / SR, format: 'wav' },
  },
  {
    name: 'silence (3 s of digital zeros)',
    filename: 'silence.wav',
    make: () => wavFile(mono16, 3 * SR, () => 0),
    audio: { sampleRate: SR, channels: 1, durationSeconds: 3, format: 'wav' },
  },
  {
    name: 'a 0.1 s clip (ends before the 0.6 s offset: the window is all padding)',
    filename: 'short-0.1s.wav',
    make: (a) => wavFile(mono16, SR / 10, (i) => a.speech[SR + i]),
    audio: { sampleRate: SR, channels: 1, durationSeconds: 0.1, format: 'wav' },
  },
  {
    name: 'a 10-minute file (22050 Hz 16-bit mono, exactly MAX_FILE_BYTES)',
    filename: 'ten-minutes.wav',
    make: (a) => {
      const hiss = noise(7);
      return wavFile(mono16, TEN_MINUTES * SR, (i) => a.speech[i % a.speech.length] * 0.9 + hiss() * 0.01);
    },
    audio: { sampleRate: SR, channels: 1, durationSeconds: TEN_MINUTES, format: 'wav' },
  },
  {
    name: '8-bit unsigned PCM',
    filename: 'pcm8.wav',
    make: (a) => wavFile({ sampleRate: SR, channels: 1, bits: 8 }, a.speech.length, (i) => a.speech[i]),
    audio: { sampleRate: SR, channels: 1, durationSeconds: speechFrames / SR, format: 'wav' },
  },
  {
    name: '24-bit PCM (with an odd-sized LIST chunk before the data)',
    filename: 'pcm24.wav',
    make: (a) =>
      wavFile(
        { sampleRate: SR, channels: 1, bits: 24, extraChunks: [{ id: 'LIST', body: Buffer.from('INFOISFT\x05\x00\x00\x00ser!\x00') }] },
        a.speech.length,
        (i) => a.speech[i],
      ),
    audio: { sampleRate: SR, channels: 1, durationSeconds: speechFrames / SR, format: 'wav' },
    sameAsSpeech: true,
  },
  {
    name: '32-bit float (WAVE_FORMAT_IEEE_FLOAT, fact chunk)',
    filename: 'float32.wav',
    make: (a) => wavFile({ sampleRate: SR, channels: 1, bits: 32, float: true }, a.speech.length, (i) => a.speech[i]),
    audio: { sampleRate: SR, channels: 1, durationSeconds: speechFrames / SR, format: 'wav' },
    sameAsSpeech: true,
  },
  {
    name: 'stereo 16-bit',
    filename: 'stereo.wav',
    make: (a) => wavFile({ sampleRate: SR, channels: 2, bits: 16 }, a.speech.length, (i) => a.speech[i]),
    audio: { sampleRate: SR, channels: 2, durationSeconds: speechFrames / SR, format: 'wav' },
    sameAsSpeech: true,
  },
  {
    name: '6-channel 5.1 (WAVE_FORMAT_EXTENSIBLE, 24-bit PCM)',
    filename: 'surround-5.1.wav',
    make: (a) => wavFile({ sampleRate: SR, channels: 6, bits: 24, extensible: 0x3f }, a.speech.length, (i) => a.speech[i]),
    audio: { sampleRate: SR, channels: 6, durationSeconds: speechFrames / SR, format: 'wav' },
  },
  {
    name: '8 kHz',
    filename: 'rate-8k.wav',
    make: (a) => {
      const y = resample(a.speech, SR, 8000);
      return wavFile({ sampleRate: 8000, channels: 1, bits: 16 }, y.length, (i) => y[i]);
    },
    audio: { sampleRate: 8000, channels: 1, durationSeconds: Math.ceil((speechFrames * 8000) / SR) / 8000, format: 'wav' },
  },
  {
    name: '96 kHz',
    filename: 'rate-96k.wav',
    make: (a) => {
      const y = resample(a.speech, SR, 96000);
      return wavFile({ sampleRate: 96000, channels: 1, bits: 16 }, y.length, (i) => y[i]);
    },
    audio: { sampleRate: 96000, channels: 1, durationSeconds: Math.ceil((speechFrames * 96000) / SR) / 96000, format: 'wav' },
  },
  {
    name: 'FLAC behind a .wav name (the content decides, not the name)',
    filename: 'really-a-flac.wav',
    make: (a) => a.flac,
    audio: { sampleRate: SR, channels: 1, durationSeconds: speechFrames / SR, format: 'flac' },
  },
];

interface BadCase {
  name: string;
  filename: string;
  make(a: Audio): Buffer;
  status: number;
  code: string;
  reason: string;
  message: RegExp;
  /** Refused at upload: nothing stored, no row (single) or an item failed at once (batch). */
  atUpload: boolean;
}

const speechWav = (a: Audio) => wavFile(mono16, a.speech.length, (i) => a.speech[i]);
/** Seconds of 16-bit mono 22050 Hz audio in `bytes`, as the decoder's messages write them (a regex). */
const seconds = (bytes: number) => (bytes / 2 / SR).toFixed(3).replace('.', '\\.');

const BAD: BadCase[] = [
  {
    name: 'an empty file',
    filename: 'empty.wav',
    make: () => Buffer.alloc(0),
    status: 400,
    code: 'empty_file',
    reason: 'EMPTY',
    message: /^empty\.wav: the file is empty$/,
    atUpload: true,
  },
  {
    name: 'a truncated WAV (a real one cut at 40 %)',
    filename: 'truncated.wav',
    make: (a) => {
      const whole = speechWav(a);
      return whole.subarray(0, Math.floor(whole.length * 0.4));
    },
    status: 422,
    code: 'unprocessable_audio',
    reason: 'TRUNCATED',
    message: new RegExp(
      `^TRUNCATED: WAV header claims ${seconds(speechFrames * 2)} s of audio but the file holds ${seconds(Math.floor((44 + speechFrames * 2) * 0.4) - 44)} s$`,
    ),
    atUpload: false,
  },
  {
    name: 'a WAV header claiming hours of audio (data chunk size 0xF0000000)',
    filename: 'hours.wav',
    make: (a) => {
      const wav = speechWav(a);
      wav.writeUInt32LE(0xf0000000, dataSizeOffset(wav));
      return wav;
    },
    status: 422,
    code: 'unprocessable_audio',
    reason: 'TRUNCATED',
    message: new RegExp(`^TRUNCATED: WAV header claims 25\\.4 h of audio but the file holds ${seconds(speechFrames * 2)} s$`),
    atUpload: false,
  },
  {
    name: 'a WAV cut inside its header',
    filename: 'header-only.wav',
    make: (a) => speechWav(a).subarray(0, 30),
    status: 422,
    code: 'unprocessable_audio',
    reason: 'INVALID_HEADER',
    message: /^INVALID_HEADER: WAV fmt chunk is too short$/,
    atUpload: false,
  },
  {
    name: 'a PNG behind a .wav name',
    filename: 'photo.wav',
    make: () => {
      const random = noise(3);
      const png = Buffer.alloc(20_000);
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
      for (let i = 8; i < png.length; i++) png[i] = Math.floor((random() + 1) * 128);
      return png;
    },
    status: 415,
    code: 'unsupported_media_type',
    reason: 'UNSUPPORTED_FORMAT',
    message: /^photo\.wav: not a recognised audio file \(supported: WAV, FLAC/,
    atUpload: true,
  },
  {
    name: 'text behind a .wav name',
    filename: 'notes.wav',
    make: () => Buffer.from('RIFF? no: just some text that is not audio at all\n'.repeat(10)),
    status: 415,
    code: 'unsupported_media_type',
    reason: 'UNSUPPORTED_FORMAT',
    message: /^notes\.wav: not a recognised audio file/,
    atUpload: true,
  },
  {
    name: 'a FLAC cut in half',
    filename: 'cut.flac',
    make: (a) => a.flac.subarray(0, Math.floor(a.flac.length / 2)),
    status: 422,
    code: 'unprocessable_audio',
    reason: 'TRUNCATED',
    message: new RegExp(`^TRUNCATED: FLAC stream ends after \\d\\.\\d{3} s of the ${seconds(speechFrames * 2)} s its header announces$`),
    atUpload: false,
  },
  {
    // Resampling 7 Hz to 22050 Hz took 18 s of CPU for this 88-byte file.
    name: 'a WAV claiming a sample rate of 7 Hz (88 bytes)',
    filename: 'rate-7hz.wav',
    make: () => wavFile({ sampleRate: 7, channels: 1, bits: 16 }, 22, (i) => Math.sin(i) * 0.5),
    status: 422,
    code: 'unprocessable_audio',
    reason: 'UNSUPPORTED_FORMAT',
    message: /^UNSUPPORTED_FORMAT: a sample rate of 7 Hz is not supported \(1000 to 384000 Hz are\)$/,
    atUpload: false,
  },
  {
    // A prime rate takes the resampler's slow direct path: ~10 s of CPU for this file.
    name: 'a WAV at 1,535,977 Hz (a prime rate far above any real one)',
    filename: 'rate-1.5mhz.wav',
    make: (a) => wavFile({ sampleRate: 1_535_977, channels: 1, bits: 16 }, 1_535_977, (i) => a.speech[i % a.speech.length]),
    status: 422,
    code: 'unprocessable_audio',
    reason: 'UNSUPPORTED_FORMAT',
    message: /^UNSUPPORTED_FORMAT: a sample rate of 1535977 Hz is not supported \(1000 to 384000 Hz are\)$/,
    atUpload: false,
  },
  {
    // A decompression bomb: the codec once decoded all 7 hours (68 s of CPU, 9.6 GB) before the length was
    // checked; its frame headers tell the length now, and nothing is decoded.
    name: 'an MP3 of 7 hours in 25 MB (8 kbps frames repeated)',
    filename: 'hours.mp3',
    make: (a) => Buffer.concat(Array.from({ length: 420 }, () => a.mp3Minute)),
    status: 422,
    code: 'unprocessable_audio',
    reason: 'TOO_LONG',
    message: /^TOO_LONG: the recording is 252\d\d\.\d s long; the limit is 600 s$/,
    atUpload: false,
  },
  {
    name: 'a recording longer than MAX_AUDIO_SECONDS (601 s, 8 kHz 8-bit)',
    filename: 'too-long.wav',
    make: () => wavFile({ sampleRate: 8000, channels: 1, bits: 8 }, 601 * 8000, () => 0),
    status: 422,
    code: 'unprocessable_audio',
    reason: 'TOO_LONG',
    message: /^TOO_LONG: the recording is 601\.0 s long; the limit is 600 s$/,
    atUpload: false,
  },
];

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

interface Part {
  field: string;
  /** A string is written as it is (UTF-8); a Buffer as raw bytes (e.g. not UTF-8). */
  filename?: string | Buffer;
  contentType?: string;
  data: Buffer | string;
}

/** A multipart/form-data body written by hand: FormData cannot send raw non-UTF-8 names. */
function multipart(parts: Part[], boundary = `ser-bad-input-${randomUUID()}`): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"`));
    if (part.filename !== undefined) chunks.push(Buffer.from('; filename="'), Buffer.from(part.filename), Buffer.from('"'));
    chunks.push(Buffer.from('\r\n'));
    if (part.filename !== undefined) chunks.push(Buffer.from(`Content-Type: ${part.contentType ?? 'audio/wav'}\r\n`));
    chunks.push(Buffer.from('\r\n'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, checked by the assertions
type Json = any;

interface Answer {
  status: number;
  headers: Headers;
  json: Json;
}

let platform: Platform;
let dataDir: string;
let db: Db;
let audio: Audio;
let pids: Record<ServiceName, number | undefined>;
const startedAt = new Date();
/** Error lines the services logged. */
const errorLines: string[] = [];

async function post(path: string, body: Buffer, contentType?: string): Promise<Answer> {
  const res = await fetch(`${platform.gatewayUrl}${path}`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: contentType ? { 'content-type': contentType } : {},
  });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

const predict = (parts: Part[]) => {
  const { body, contentType } = multipart(parts);
  return post('/v1/predictions', body, contentType);
};

const get = async (path: string): Promise<Json> => (await fetch(`${platform.gatewayUrl}${path}`)).json();

/** Object keys in the bucket now. */
const objectKeys = () => listLocalS3Keys(join(dataDir, 's3'), platform.s3.bucket);
/** Multipart uploads begun and not yet completed or aborted. */
const pendingUploads = () => listLocalS3Uploads(join(dataDir, 's3'), platform.s3.bucket);

/** Everything under the S3 data directory (to see that no name became a path). */
async function allStoredPaths(): Promise<string[]> {
  return (await readdir(join(dataDir, 's3'), { recursive: true })).map(String);
}

const recordingCount = () => db.recording.count({ where: { createdAt: { gte: startedAt } } });
const jobCount = () => db.job.count({ where: { createdAt: { gte: startedAt } } });

/** What is stored now: recordings, jobs, objects and unfinished multipart uploads. */
async function snapshot() {
  // Uploads before objects: a completed upload is an object before its upload is gone, so
  // the two reads never both miss a file that is being completed.
  const uploads = (await pendingUploads()).length;
  return { recordings: await recordingCount(), jobs: await jobCount(), objects: (await objectKeys()).length, uploads };
}

function expectProbabilities(probabilities: Record<string, number>) {
  expect(Object.keys(probabilities).sort()).toEqual([...EMOTIONS].sort());
  for (const p of Object.values(probabilities)) {
    expect(Number.isFinite(p)).toBe(true);
    expect(p).toBeGreaterThanOrEqual(0);
  }
  expect(Object.values(probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
}

function expectClose(actual: Record<string, number>, expected: ArrayLike<number>, tolerance: number, what: string) {
  for (const [i, e] of EMOTIONS.entries()) {
    expect(Math.abs(actual[e] - expected[i]), `${what} ${e}: ${actual[e]} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance);
  }
}

async function waitForJob(id: string, timeoutMs: number): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await get(`/v1/jobs/${id}`);
    if (job.status === 'completed' || job.status === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(job)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------
// The platform
// ---------------------------------------------------------------------------

const files = new Map<string, Buffer>();
/** Probabilities the serving path must give, computed directly (decode, features, scaler, ONNX) in this process. */
let expected: Map<string, Float32Array>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ser-bad-input-'));
  const flac = await readFile(join(RAVDESS, 'Audio_Speech_Actors_01-24', 'Actor_01', SPEECH_NAME));
  const decoded = await decodeChannels(new Uint8Array(flac));
  // One minute of noise as 8 kbps MP3 frames, without an ID3 tag or a Xing header, so copies can follow each other.
  const lame = ['-c:a', 'libmp3lame', '-b:a', '8k', '-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3', '-'];
  const mp3Minute = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'anoisesrc=r=24000:a=0.05:d=60', '-ac', '1', ...lame]);
  audio = { flac, speech: decoded.channelData[0], mp3Minute };
  expect(decoded.sampleRate).toBe(SR);
  expect(audio.speech.length).toBe(speechFrames);
  for (const c of [...GOOD, ...BAD]) files.set(c.filename, c.make(audio));
  expect(files.get('ten-minutes.wav')!.length).toBe(MAX_FILE_BYTES);

  const good: ClipFile[] = GOOD.map((c) => ({ path: '', name: c.filename, bytes: files.get(c.filename)! }));
  expected = await expectedProbabilities(good);

  platform = await startPlatform({
    databaseUrl: process.env.TEST_DATABASE_URL!,
    redisUrl: process.env.TEST_REDIS_URL!,
    dataDir,
    ports: 'free',
    queuePrefix: `bad-input-${randomUUID()}`,
    serviceEnv: {
      // Generous deadlines: the machine is shared, and the job sends 60 MB through two extractor threads.
      gateway: { MAX_FILE_BYTES: String(MAX_FILE_BYTES), MAX_FILES: String(MAX_FILES), CLASSIFY_DEADLINE_MS: '30000' },
      'batch-worker': { CLASSIFY_DEADLINE_MS: '30000' },
    },
    onLine: (service, line) => {
      // pino levels 50 (error) and 60 (fatal), and anything a crash prints.
      if (/"level":(50|60)|uncaught|unhandled/i.test(line)) errorLines.push(`${service}: ${line}`);
    },
  });
  pids = Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s.pid])) as typeof pids;
  db = createDb(process.env.TEST_DATABASE_URL!);
}, 240_000);

afterAll(async () => {
  await db?.$disconnect();
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// One file at a time
// ---------------------------------------------------------------------------

describe('POST /v1/predictions: valid but unusual audio is classified', () => {
  it.each(GOOD.map((c) => [c.name, c] as const))(
    '%s → 200',
    async (_, c) => {
      const res = await predict([{ field: 'file', filename: c.filename, data: files.get(c.filename)! }]);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const body = res.json;
      expect(body.filename).toBe(c.filename);
      expectProbabilities(body.probabilities);
      expect(body.emotion).toBe(EMOTIONS.reduce((best, e) => (body.probabilities[e] > body.probabilities[best] ? e : best)));
      expect(body.confidence).toBeCloseTo(body.probabilities[body.emotion], 6);
      expect(body.durationSeconds).toBeCloseTo(c.audio.durationSeconds, 6);
      // The same numbers as decoding, computing the features and running the model directly.
      expectClose(body.probabilities, expected.get(c.filename)!, 2e-5, c.filename);
      if (c.sameAsSpeech) expectClose(body.probabilities, expected.get('speech-16bit.wav')!, 2e-5, `${c.filename} vs 16-bit`);

      const recording = await db.recording.findUniqueOrThrow({ where: { id: body.recordingId } });
      expect(recording).toMatchObject({
        objectKey: `recordings/${body.recordingId}`,
        sampleRate: c.audio.sampleRate,
        channels: c.audio.channels,
        format: c.audio.format,
      });
      expect(recording.durationSeconds).toBeCloseTo(c.audio.durationSeconds, 6);
      expect(Number(recording.bytes)).toBe(files.get(c.filename)!.length);
    },
    120_000,
  );

  it('classifies silence and a 0.1 s clip the same way: the model sees only padding in both', () => {
    // Both windows (0.6 s to 3.1 s) hold nothing but zeros.
    expectClose(
      Object.fromEntries(EMOTIONS.map((e, i) => [e, expected.get('short-0.1s.wav')![i]])),
      expected.get('silence.wav')!,
      1e-6,
      '0.1 s vs silence',
    );
  });
});

describe('POST /v1/predictions: bad files get a clear error', () => {
  it.each(BAD.map((c) => [c.name, c] as const))(
    '%s',
    async (_, c) => {
      const before = await snapshot();
      const started = performance.now();
      const res = await predict([{ field: 'file', filename: c.filename, data: files.get(c.filename)! }]);
      expect(res.status, JSON.stringify(res.json)).toBe(c.status);
      // Refusing is cheap: no hostile header makes the services work for long (5 s, uploading and fetching a big file included).
      expect(performance.now() - started).toBeLessThan(5000);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.json.error).toEqual({ code: c.code, message: expect.stringMatching(c.message), reason: c.reason });
      const after = await snapshot();
      if (c.atUpload) {
        // Refused before anything was stored.
        expect(after).toEqual(before);
      } else {
        // Audio that does not decode is kept with its failed prediction (as a failed batch item is).
        expect(after).toEqual({ ...before, recordings: before.recordings + 1, objects: before.objects + 1 });
        const recording = await db.recording.findFirstOrThrow({
          where: { filename: c.filename, createdAt: { gte: startedAt } },
          include: { predictions: true },
          orderBy: { createdAt: 'desc' },
        });
        expect(recording.predictions).toHaveLength(1);
        expect(recording.predictions[0]).toMatchObject({ errorCode: c.reason, emotion: null, jobId: null });
      }
    },
    60_000,
  );

  it('a file one byte over MAX_FILE_BYTES → 413 file_too_large, nothing kept', async () => {
    const before = await snapshot();
    const over = Buffer.concat([files.get('ten-minutes.wav')!, Buffer.alloc(1)]);
    const res = await predict([{ field: 'file', filename: 'over-limit.wav', data: over }]);
    expect(res.status).toBe(413);
    expect(res.json.error).toEqual({ code: 'file_too_large', message: `a file is larger than the limit of ${MAX_FILE_BYTES} bytes` });
    expect(await snapshot()).toEqual(before);
  }, 60_000);
});

describe('malformed requests', () => {
  const clip = () => files.get('speech-16bit.wav')!;

  it.each([
    [
      'a body cut off inside the file',
      () => multipart([{ field: 'file', filename: 'cut.wav', data: clip() }]),
      (b: Buffer) => b.subarray(0, 50_000),
    ],
    [
      'no closing boundary',
      () => multipart([{ field: 'file', filename: 'open.wav', data: clip() }]),
      (b: Buffer) => b.subarray(0, b.length - 30),
    ],
    [
      'a boundary in the header that the body never uses',
      () => ({ ...multipart([{ field: 'file', filename: 'x.wav', data: clip() }]), contentType: 'multipart/form-data; boundary=nope' }),
      (b: Buffer) => b,
    ],
    ['bytes that are not multipart at all', () => ({ body: clip(), contentType: 'multipart/form-data; boundary=abc' }), (b: Buffer) => b],
  ])('%s → 400 malformed_multipart, nothing kept', async (_, make, cut) => {
    const before = await snapshot();
    const { body, contentType } = make();
    for (const path of ['/v1/predictions', '/v1/jobs']) {
      const res = await post(path, cut(body), contentType);
      expect(res.status, `${path} ${JSON.stringify(res.json)}`).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'malformed_multipart', message: expect.stringMatching(/^malformed multipart body/) });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('multipart without a boundary → 400 malformed_multipart', async () => {
    for (const path of ['/v1/predictions', '/v1/jobs']) {
      const res = await post(path, clip(), 'multipart/form-data');
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.code).toBe('malformed_multipart');
    }
  });

  it('a body that is not multipart (JSON, raw audio, no content type) → 415 multipart_required', async () => {
    for (const path of ['/v1/predictions', '/v1/jobs']) {
      for (const [body, type] of [
        [Buffer.from('{"file":"x"}'), 'application/json'],
        [clip(), 'audio/wav'],
        [clip(), undefined],
      ] as const) {
        const res = await post(path, body, type);
        expect(res.status, `${path} ${type}`).toBe(415);
        expect(res.json.error).toEqual({ code: 'multipart_required', message: 'send the file(s) as multipart/form-data' });
      }
    }
  });

  it('an empty multipart body, or one without a file → 400 no_file', async () => {
    for (const path of ['/v1/predictions', '/v1/jobs']) {
      const empty = await post(path, Buffer.alloc(0), 'multipart/form-data; boundary=abc');
      expect(empty.status).toBe(400);
      expect(empty.json.error.code).toBe('no_file');
      const fieldsOnly = multipart([{ field: 'comment', data: 'no file here' }]);
      const res = await post(path, fieldsOnly.body, fieldsOnly.contentType);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('no_file');
    }
  });

  it('a file in the wrong field → 400, nothing kept', async () => {
    const before = await snapshot();
    for (const path of ['/v1/predictions', '/v1/jobs']) {
      const { body, contentType } = multipart([{ field: 'audio', filename: 'x.wav', data: clip() }]);
      const res = await post(path, body, contentType);
      expect(res.status).toBe(400);
      expect(res.json.error).toEqual({
        code: 'bad_request',
        message: expect.stringMatching(/^unexpected file field "audio": send .* "file"$/),
      });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('an upload whose client goes away halfway leaves nothing behind', async () => {
    const before = await snapshot();
    const waitFor = async (what: () => Promise<boolean>, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await what()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
    const cases = [
      // One file, cut in the middle.
      { path: '/v1/predictions', parts: [{ field: 'file', filename: 'gone.wav', data: files.get('ten-minutes.wav')! }], storedFirst: 0 },
      // A job whose first file was stored completely before the second was cut.
      {
        path: '/v1/jobs',
        parts: [
          { field: 'file', filename: 'first.wav', data: clip() },
          { field: 'file', filename: 'gone.wav', data: files.get('ten-minutes.wav')! },
        ],
        storedFirst: 1,
      },
    ];
    for (const { path, parts, storedFirst } of cases) {
      const { body, contentType } = multipart(parts);
      const url = new URL(path, platform.gatewayUrl);
      const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-type': contentType } });
      req.on('error', () => {});
      const closed = new Promise((resolve) => req.on('close', resolve));
      // Half of the body; once the gateway has stored what came complete, the connection drops.
      await new Promise((resolve) => req.write(body.subarray(0, body.length / 2), resolve));
      // The cut file is mid-upload (in parts) then; an object of it would be an earlier request's leftover.
      const midUpload = async () => ({ objects: (await objectKeys()).length, uploads: (await pendingUploads()).length });
      const expected = { objects: before.objects + storedFirst, uploads: 1 };
      await waitFor(async () => JSON.stringify(await midUpload()) === JSON.stringify(expected), 10_000);
      expect(await midUpload(), `${path}: stored before the drop`).toEqual(expected);
      req.destroy();
      await closed;
      // The gateway notices the closed socket and removes what it stored, the cut file's
      // upload included: only then is the snapshot as before (an upload counts until it ends).
      await waitFor(async () => JSON.stringify(await snapshot()) === JSON.stringify(before), 10_000);
      expect(await snapshot(), path).toEqual(before);
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------

/** Names a client may send (raw bytes where they are not UTF-8) and what the API must show. */
const NAMES: { name: string; raw: string | Buffer; shown: string }[] = [
  {
    name: 'bytes that are not UTF-8',
    raw: Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' '), Buffer.from([0xff, 0xfe]), Buffer.from('.wav')]),
    shown: 'caf\ufffd \ufffd\ufffd.wav',
  },
  { name: 'UTF-8 (kept as it is)', raw: 'émotion-日本語.wav', shown: 'émotion-日本語.wav' },
  { name: 'a path traversal', raw: '../../etc/passwd', shown: 'passwd' },
  { name: 'a Windows path traversal', raw: '..\\..\\windows\\win.ini', shown: 'win.ini' },
  { name: 'only dots', raw: '..', shown: 'upload' },
  {
    name: 'control and bidi-override characters',
    raw: Buffer.from('evil\u0007\u202egnp.wav', 'utf8'),
    shown: 'evilgnp.wav',
  },
  { name: 'a formula', raw: '=SUM(A1:A9)*10.wav', shown: '=SUM(A1:A9)*10.wav' },
  { name: 'a formula starting with +', raw: '+1-2.wav', shown: '+1-2.wav' },
  { name: 'a formula starting with @', raw: '@SUM(A1:A9).wav', shown: '@SUM(A1:A9).wav' },
  { name: 'a formula starting with -', raw: '-2+3,cmd.wav', shown: '-2+3,cmd.wav' },
];

describe('file names', () => {
  it.each(NAMES.map((n) => [n.name, n] as const))('%s: stored safely, shown sanitised', async (_, n) => {
    const res = await predict([{ field: 'file', filename: n.raw, data: files.get('silence.wav')! }]);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.filename).toBe(n.shown);
    expect(res.json.filename.isWellFormed()).toBe(true);
    expect(res.json.filename).not.toMatch(/[/\\\p{Cc}\u202e]/u);
    const recording = await db.recording.findUniqueOrThrow({ where: { id: res.json.recordingId } });
    expect(recording.filename).toBe(n.shown);
    // The object key is the recording id, never the name.
    expect(recording.objectKey).toBe(`recordings/${res.json.recordingId}`);
    const listed = await get(`/v1/predictions?limit=5`);
    expect(listed.items.find((p: Json) => p.id === res.json.id)?.filename).toBe(n.shown);
  });

  it('no name became a path in the store: every object sits under recordings/<uuid>', async () => {
    const keys = await objectKeys();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^recordings\/[0-9a-f-]{36}$/);
    for (const path of await allStoredPaths()) expect(path).not.toMatch(/passwd|win\.ini|\.\./);
  });

  it('the predictions CSV defuses formula names', async () => {
    const res = await fetch(`${platform.gatewayUrl}/v1/predictions.csv?since=${startedAt.toISOString()}`);
    expect(res.status).toBe(200);
    const rows = parseCsv(await res.text());
    const names = rows.slice(1).map((r) => r[0]);
    expect(names).toContain(`'=SUM(A1:A9)*10.wav`);
    expect(names).toContain(`'+1-2.wav`);
    expect(names).toContain(`'@SUM(A1:A9).wav`);
    expect(names).toContain(`'-2+3,cmd.wav`);
    for (const name of names) expect(name).not.toMatch(/^[=+\-@\t\r]/);
  });
});

// ---------------------------------------------------------------------------
// Everything in one batch job
// ---------------------------------------------------------------------------

describe('POST /v1/jobs with every case in one job', () => {
  it('fails the bad items with their reason, classifies the good ones, completes with the right counters and CSV', async () => {
    const items: { filename: string | Buffer; shown: string; data: Buffer; good?: GoodCase; bad?: BadCase }[] = [
      ...GOOD.map((c) => ({ filename: c.filename, shown: c.filename, data: files.get(c.filename)!, good: c })),
      ...BAD.map((c) => ({ filename: c.filename, shown: c.filename, data: files.get(c.filename)!, bad: c })),
      ...NAMES.filter((n) => /UTF-8|traversal|formula/.test(n.name)).map((n) => ({
        filename: n.raw,
        shown: n.shown,
        data: files.get('silence.wav')!,
        good: GOOD[1],
      })),
    ];
    // Good and bad interleaved, so a failure cannot disturb its neighbours unnoticed.
    items.sort((a, b) => (a.shown < b.shown ? -1 : 1));
    expect(items.length).toBe(MAX_FILES);
    const before = await snapshot();

    const { body, contentType } = multipart(items.map((i) => ({ field: 'file', filename: i.filename, data: i.data })));
    const res = await post('/v1/jobs', body, contentType);
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    // Some files failed at upload already: the job is running.
    expect(res.json).toMatchObject({ status: 'running', total: items.length });

    const job = await waitForJob(res.json.id, 180_000);
    const bad = items.filter((i) => i.bad).length;
    expect(job).toMatchObject({ status: 'completed', total: items.length, succeeded: items.length - bad, failed: bad });

    const results = await get(`/v1/jobs/${job.id}/results?limit=500`);
    expect(results.items.map((r: Json) => r.filename)).toEqual(items.map((i) => i.shown));
    for (const [position, item] of items.entries()) {
      const r = results.items[position];
      expect(r.position).toBe(position);
      if (item.bad) {
        expect(r.error, item.shown).toEqual({ code: item.bad.reason, message: expect.any(String) });
        // The same message as the single upload gave, less its prefix (the file name, or the reason).
        const prefix = item.bad.atUpload ? item.shown : item.bad.reason;
        expect(`${prefix}: ${r.error.message}`).toMatch(item.bad.message);
        expect(r.emotion).toBeNull();
      } else {
        expect(r.error, item.shown).toBeNull();
        expectProbabilities(r.probabilities);
        expectClose(r.probabilities, expected.get(item.good!.filename)!, 2e-5, item.shown);
        const recording = await db.recording.findUniqueOrThrow({ where: { id: r.recordingId } });
        expect(recording).toMatchObject({ sampleRate: item.good!.audio.sampleRate, channels: item.good!.audio.channels });
        expect(recording.durationSeconds).toBeCloseTo(item.good!.audio.durationSeconds, 6);
      }
    }

    const csv = await fetch(`${platform.gatewayUrl}/v1/jobs/${job.id}/results.csv`);
    expect(csv.status).toBe(200);
    const [header, ...rows] = parseCsv((await csv.text()).trimEnd());
    expect(header.join(',')).toBe('filename,emotion,confidence,neutral,calm,happy,sad,angry,fearful,disgust,surprised,error');
    expect(rows).toHaveLength(items.length);
    for (const [position, item] of items.entries()) {
      const row = rows[position];
      expect(row[0]).toBe(/^[=+\-@]/.test(item.shown) ? `'${item.shown}` : item.shown);
      const error = row[11];
      if (item.bad) {
        expect(row[1]).toBe('');
        expect(error).toMatch(new RegExp(`^${item.bad.reason}: `));
      } else {
        expect(error).toBe('');
        expect(EMOTIONS).toContain(row[1]);
        const probabilities = row.slice(3, 11).map(Number);
        expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }
    }

    // What failed at upload was never stored; everything else was, once.
    const atUpload = items.filter((i) => i.bad?.atUpload).length;
    expect(await snapshot()).toEqual({
      recordings: before.recordings + items.length,
      jobs: before.jobs + 1,
      objects: before.objects + items.length - atUpload,
      uploads: 0,
    });
  }, 300_000);

  it('a job whose every file is refused at upload is answered 202 failed, with each reason in its CSV', async () => {
    const { body, contentType } = multipart([
      { field: 'file', filename: 'empty.wav', data: files.get('empty.wav')! },
      { field: 'file', filename: 'photo.wav', data: files.get('photo.wav')! },
    ]);
    const res = await post('/v1/jobs', body, contentType);
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json).toMatchObject({ status: 'failed', total: 2 });
    expect(await get(`/v1/jobs/${res.json.id}`)).toMatchObject({ status: 'failed', total: 2, succeeded: 0, failed: 2 });
    const csv = parseCsv((await (await fetch(`${platform.gatewayUrl}/v1/jobs/${res.json.id}/results.csv`)).text()).trimEnd());
    expect(csv.slice(1).map((r) => [r[0], r[11]])).toEqual([
      ['empty.wav', 'EMPTY: the file is empty'],
      ['photo.wav', expect.stringMatching(/^UNSUPPORTED_FORMAT: not a recognised audio file/)],
    ]);
  });

  it('more files than MAX_FILES → 413 too_many_files, nothing kept', async () => {
    const before = await snapshot();
    const tiny = files.get('short-0.1s.wav')!;
    const { body, contentType } = multipart(
      Array.from({ length: MAX_FILES + 1 }, (_, i) => ({ field: 'file', filename: `tiny-${i}.wav`, data: tiny })),
    );
    const res = await post('/v1/jobs', body, contentType);
    expect(res.status).toBe(413);
    expect(res.json.error).toEqual({ code: 'too_many_files', message: expect.any(String) });
    expect(await snapshot()).toEqual(before);
  });

  it('a file over MAX_FILE_BYTES in a job → 413 file_too_large for the whole job, the files before it removed', async () => {
    const before = await snapshot();
    const { body, contentType } = multipart([
      { field: 'file', filename: 'fine.wav', data: files.get('speech-16bit.wav')! },
      { field: 'file', filename: 'over-limit.wav', data: Buffer.concat([files.get('ten-minutes.wav')!, Buffer.alloc(1)]) },
      { field: 'file', filename: 'after.wav', data: files.get('silence.wav')! },
    ]);
    const res = await post('/v1/jobs', body, contentType);
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('file_too_large');
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  it('a bad callbackUrl after the files → 400 invalid_callback_url, the files removed', async () => {
    const before = await snapshot();
    const { body, contentType } = multipart([
      { field: 'file', filename: 'a.wav', data: files.get('speech-16bit.wav')! },
      { field: 'callbackUrl', data: 'javascript:alert(1)' },
    ]);
    const res = await post('/v1/jobs', body, contentType);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_callback_url');
    expect(await snapshot()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------
// Nothing else disturbed
// ---------------------------------------------------------------------------

describe('after all of it', () => {
  it('a normal clip still classifies, exactly as before', async () => {
    const res = await predict([{ field: 'file', filename: SPEECH_NAME, contentType: 'audio/flac', data: audio.flac }]);
    expect(res.status).toBe(200);
    expectClose(res.json.probabilities, expected.get('really-a-flac.wav')!, 2e-5, SPEECH_NAME);
  });

  it('/readyz is 200 and no service process exited or restarted', async () => {
    const res = await fetch(`${platform.gatewayUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).status).toBe('ready');
    for (const [name, service] of Object.entries(platform.services)) {
      expect(service.running, `${name} is running`).toBe(true);
      expect(service.pid, `${name} is the process started at the beginning`).toBe(pids[name as ServiceName]);
    }
    // No crash, no unhandled error in any service's log.
    expect(errorLines).toEqual([]);
  });

  it('left no orphans: every recording has its outcome, every object its recording, every stored recording its object', async () => {
    const recordings = await db.recording.findMany({ where: { createdAt: { gte: startedAt } }, include: { predictions: true } });
    expect(recordings.filter((r) => r.predictions.length === 0).map((r) => r.filename)).toEqual([]);
    const keys = new Set(await objectKeys());
    const storedKeys = new Set(recordings.filter((r) => r.format !== null).map((r) => r.objectKey));
    expect([...keys].filter((k) => !storedKeys.has(k))).toEqual([]);
    expect([...storedKeys].filter((k) => !keys.has(k))).toEqual([]);
    // Rejected job items keep their reserved key empty: their audio answers 404.
    const rejected = recordings.find((r) => r.format === null);
    expect(rejected).toBeDefined();
    const audioRes = await fetch(`${platform.gatewayUrl}/v1/recordings/${rejected!.id}/audio`);
    expect(audioRes.status).toBe(404);
  });
});
