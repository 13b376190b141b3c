import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioError, decodeAudio, decodeChannels } from '../src/index.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const RAVDESS = resolve(import.meta.dirname, '../../../../shared/ravdess');
const read = (path: string) => new Uint8Array(readFileSync(path));

function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Dominant frequency by counting upward zero crossings. */
function toneFrequency(x: Float32Array, rate: number): number {
  let crossings = 0;
  const from = Math.floor(x.length * 0.2);
  const to = Math.floor(x.length * 0.8);
  for (let i = from + 1; i < to; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings++;
  return (crossings * rate) / (to - from);
}

describe('compressed formats (1 s, 440 Hz, 48 kHz stereo fixtures)', () => {
  for (const [file, format] of [
    ['tone440.flac', 'flac'],
    ['tone440.mp3', 'mp3'],
    ['tone440.ogg', 'ogg-vorbis'],
    ['tone440.opus', 'ogg-opus'],
    ['tone440.m4a', 'm4a'],
    ['tone440.webm', 'webm'],
  ] as const) {
    it(`${file} is detected as ${format} from its bytes and decodes`, async () => {
      const audio = await decodeAudio(read(join(FIXTURES, file)));
      expect(audio.format).toBe(format);
      expect(audio.sampleRate).toBe(48000);
      expect(audio.channels).toBe(2);
      expect(audio.totalFrames / 48000).toBeGreaterThan(0.95);
      expect(audio.totalFrames / 48000).toBeLessThan(1.1);
      expect(Math.abs(toneFrequency(audio.samples, 48000) - 440)).toBeLessThan(5);
      // Channel mean of 0.5 and 0.25 amplitude tones: 0.375 amplitude, RMS 0.265.
      const mid = audio.samples.subarray(9600, 38400);
      const rms = Math.sqrt(mid.reduce((s, x) => s + x * x, 0) / mid.length);
      expect(rms).toBeGreaterThan(0.25);
      expect(rms).toBeLessThan(0.28);
    });
  }

  it('FLAC decodes onto the exact 16-bit grid soundfile gives (int / 32768)', async () => {
    const file = join(RAVDESS, 'Audio_Speech_Actors_01-24/Actor_01/03-01-05-02-01-01-01.flac');
    const { channelData, sampleRate } = await decodeChannels(read(file));
    expect(sampleRate).toBe(22050);
    let offGrid = 0;
    let peak = 0;
    for (const x of channelData[0]) {
      if (!Number.isInteger(x * 32768)) offGrid++;
      peak = Math.max(peak, Math.abs(x));
    }
    expect(offGrid).toBe(0);
    expect(peak).toBeGreaterThan(0.1);
  });

  it('a FLAC file cut short is rejected as truncated', async () => {
    const bytes = read(join(FIXTURES, 'tone440.flac'));
    const err = await decodeAudio(bytes.subarray(0, bytes.length >> 1)).catch((e) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect(err.code).toBe('TRUNCATED');
  });

  it('a windowed read gives the same samples as slicing the whole decode', async () => {
    const bytes = read(join(FIXTURES, 'tone440.flac'));
    const whole = await decodeAudio(bytes);
    const part = await decodeAudio(bytes, { offsetSeconds: 0.25, durationSeconds: 0.5 });
    expect(part.startFrame).toBe(12000);
    expect(part.samples).toEqual(whole.samples.slice(12000, 36000));
  });
});

describe('ffmpeg fallback for M4A/AAC/WebM', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });
  // An MP4 container whose contents no decoder can read.
  const brokenM4a = new Uint8Array([0, 0, 0, 24, ...new TextEncoder().encode('ftypM4A '), 0, 0, 2, 0, ...new Uint8Array(300).fill(7)]);

  it('names ffmpeg when the built-in decoder fails and ffmpeg is not installed', async () => {
    process.env.PATH = '/nonexistent';
    const err = await decodeAudio(brokenM4a).catch((e) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect(err.code).toBe('DECODER_MISSING');
    expect(err.message).toMatch(/ffmpeg/);
  });

  it('reports what ffmpeg says when it cannot decode either', async () => {
    const err = await decodeAudio(brokenM4a).catch((e) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect(err.code).toBe(hasFfmpeg() ? 'DECODE_FAILED' : 'DECODER_MISSING');
  });
});

describe('rejection of non-audio', () => {
  it('random bytes', async () => {
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    await expect(decodeAudio(junk)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
  });
  it('a PNG named .wav', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    await expect(decodeAudio(png)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
  });
  it('an Ogg stream that is neither Vorbis nor Opus', async () => {
    const ogg = new Uint8Array(64);
    ogg.set(new TextEncoder().encode('OggS'));
    ogg.set(new TextEncoder().encode('\x7fFLAC'), 28);
    await expect(decodeAudio(ogg)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
  });
});

describe('damaged compressed files', () => {
  // Every fixture cut short at several points, and with bytes flipped throughout:
  // each must decode what it can or fail with a typed error, quickly, never crash or hang.
  for (const file of ['tone440.flac', 'tone440.mp3', 'tone440.ogg', 'tone440.opus', 'tone440.m4a', 'tone440.webm']) {
    it(file, async () => {
      const bytes = read(join(FIXTURES, file));
      const damaged = [0.02, 0.1, 0.5, 0.9].map((f) => bytes.slice(0, Math.floor(bytes.length * f)));
      const flipped = bytes.slice();
      for (let i = 200; i < flipped.length; i += 37) flipped[i] ^= 0x5a;
      damaged.push(flipped);
      for (const input of damaged) {
        const started = performance.now();
        const outcome = await decodeAudio(input).then(
          (audio) => audio.samples.length >= 0,
          (err: unknown) => err instanceof AudioError,
        );
        expect(outcome).toBe(true);
        expect(performance.now() - started).toBeLessThan(5000);
      }
    });
  }
});
