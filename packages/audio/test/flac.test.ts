/**
 * The TypeScript FLAC decoder against the audio-decode WebAssembly codec (libFLAC
 * compiled to WebAssembly): the same integer samples on real RAVDESS files and on
 * encodings ffmpeg makes (stereo decorrelation, 24 bits, wasted bits, 8 kHz); clear
 * errors on damaged and cut files.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import decodeCompressed from 'audio-decode';
import { describe, expect, it } from 'vitest';
import { decodeFlac } from '../src/decode/flac.js';
import { readFlacInfo } from '../src/decode/sniff.js';
import { AudioError, decodeAudio, decodeChannels } from '../src/index.js';

const RAVDESS = resolve(import.meta.dirname, '../../../../shared/ravdess');

/** The reference: libFLAC's floats, put back on libsndfile's integer grid (as decode.ts did before). */
async function reference(bytes: Uint8Array): Promise<Float32Array[]> {
  const bits = readFlacInfo(bytes)?.bitsPerSample ?? 16;
  const full = 2 ** (bits - 1);
  const { channelData } = await decodeCompressed(bytes);
  return channelData.map((c) => Float32Array.from(c, (v) => Math.round(v * (full - 1)) / full));
}

async function expectSameAsReference(bytes: Uint8Array): Promise<void> {
  const ours = await decodeChannels(bytes);
  const ref = await reference(bytes);
  expect(ours.channelData.length).toBe(ref.length);
  for (let c = 0; c < ref.length; c++) {
    expect(ours.channelData[c].length).toBe(ref[c].length);
    let firstDiff = -1;
    for (let i = 0; i < ref[c].length && firstDiff < 0; i++) if (ours.channelData[c][i] !== ref[c][i]) firstDiff = i;
    expect(firstDiff, `channel ${c}: first differing sample`).toBe(-1);
  }
}

class BitWriter {
  private bits: number[] = [];
  put(value: number, count: number): this {
    for (let i = count - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }
  bytes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) out.push(this.bits.slice(i, i + 8).reduce((b, bit, j) => b | (bit << (7 - j)), 0));
    return out;
  }
}

function crc(bytes: number[], width: 8 | 16, poly: number): number {
  let c = 0;
  for (const b of bytes) {
    c ^= b << (width - 8);
    for (let i = 0; i < 8; i++) c = c & (1 << (width - 1)) ? ((c << 1) ^ poly) & ((1 << width) - 1) : (c << 1) & ((1 << width) - 1);
  }
  return c;
}

/**
 * A mono 16-bit 22050 Hz FLAC file of `frames` frames of 256 samples, each FIXED order 0
 * with residual method 0 and partition order 2, its partitions written by `partitions`.
 */
function handMadeFlac(partitions: (w: BitWriter) => void, frames: number): Uint8Array {
  const info = new BitWriter() // STREAMINFO
    .put(256, 16) // smallest and largest block size
    .put(256, 16)
    .put(0, 24) // smallest and largest frame size: unknown
    .put(0, 24)
    .put(22050, 20) // sample rate
    .put(0, 3) // channels - 1
    .put(15, 5) // bits per sample - 1
    .put(0, 4) // samples in all (36 bits)
    .put(256 * frames, 32);
  const out = [0x66, 0x4c, 0x61, 0x43, 0x80, 0, 0, 34, ...info.bytes(), ...new Array(16).fill(0)];
  for (let number = 0; number < frames; number++) {
    const head = new BitWriter() // frame header
      .put(0b11111111111110, 14) // sync
      .put(0, 2) // reserved, fixed block size
      .put(0b1000, 4) // 256 samples
      .put(0, 4) // sample rate from STREAMINFO
      .put(0, 4) // mono
      .put(0b100, 3) // 16 bits
      .put(0, 1) // reserved
      .put(number, 8) // frame number
      .bytes();
    // Subframe: padding bit, FIXED order 0, no wasted bits; residual method 0, partition order 2.
    const frame = new BitWriter().put(0, 1).put(8, 6).put(0, 1).put(0, 2).put(2, 4);
    partitions(frame);
    const all = [...head, crc(head, 8, 0x07), ...frame.bytes()]; // zero-padded to a byte, as the format wants
    const c16 = crc(all, 16, 0x8005);
    out.push(...all, c16 >> 8, c16 & 0xff);
  }
  return new Uint8Array(out);
}

function ffmpegFlac(args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('ffmpeg', ['-v', 'error', ...args, '-c:a', 'flac', '-f', 'flac', '-'], { maxBuffer: 1 << 26 }));
}

describe('TypeScript FLAC decoder', () => {
  it('decodes RAVDESS speech and song exactly as libFLAC does (every 50th file)', async () => {
    const files: string[] = [];
    for (const kind of ['Audio_Speech_Actors_01-24', 'Audio_Song_Actors_01-24'])
      for (const actor of readdirSync(join(RAVDESS, kind)).sort())
        for (const name of readdirSync(join(RAVDESS, kind, actor)).sort()) files.push(join(RAVDESS, kind, actor, name));
    const picked = files.filter((_, i) => i % 50 === 0);
    expect(picked.length).toBeGreaterThan(45);
    for (const file of picked) await expectSameAsReference(new Uint8Array(readFileSync(file)));
  });

  for (const [name, args] of [
    ['stereo 16-bit 44.1 kHz (mid/side)', ['-f', 'lavfi', '-i', 'sine=f=440:d=1.3,aeval=val(0)|val(0)*0.5:c=stereo', '-ar', '44100']],
    [
      'stereo 24-bit 48 kHz',
      ['-f', 'lavfi', '-i', 'anoisesrc=d=1:c=pink:a=0.3', '-ac', '2', '-ar', '48000', '-sample_fmt', 's32', '-bits_per_raw_sample', '24'],
    ],
    ['mono 8 kHz, highest compression', ['-f', 'lavfi', '-i', 'sine=f=300:d=2', '-ar', '8000', '-compression_level', '12']],
    [
      'RAVDESS song, highest compression (LPC orders up to 32)',
      ['-i', join(RAVDESS, 'Audio_Song_Actors_01-24/Actor_01/03-02-01-01-01-01-01.flac'), '-compression_level', '12'],
    ],
    [
      'fixed predictors only (orders 1 to 4: low and high sines, white and brown noise)',
      [
        '-f',
        'lavfi',
        '-i',
        'sine=f=60:d=0.4:sample_rate=22050[a];sine=f=2000:d=0.4:sample_rate=22050[b];anoisesrc=d=0.4:a=0.3:r=22050[c];' +
          'anoisesrc=d=0.4:c=brown:a=0.5:r=22050[d];[a][b][c][d]concat=n=4:v=0:a=1[out0]',
        '-lpc_type',
        'fixed',
      ],
    ],
    ['silence (constant subframes)', ['-f', 'lavfi', '-i', 'anullsrc=r=22050:cl=mono', '-t', '1']],
    ['6 channels', ['-f', 'lavfi', '-i', 'anoisesrc=d=0.5:a=0.2', '-ac', '6', '-ar', '16000']],
  ] as const) {
    it(`decodes ffmpeg's ${name} exactly as libFLAC does`, async () => {
      await expectSameAsReference(ffmpegFlac([...args]));
    });
  }

  it('a windowed read equals the same slice of the whole decode', async () => {
    const bytes = new Uint8Array(readFileSync(join(RAVDESS, 'Audio_Speech_Actors_01-24/Actor_03/03-01-05-02-01-01-03.flac')));
    const whole = await decodeChannels(bytes);
    const window = await decodeAudio(bytes, { offsetSeconds: 0.6, durationSeconds: 2.5 });
    const start = Math.trunc(0.6 * 22050);
    expect(window.startFrame).toBe(start);
    expect(window.totalFrames).toBe(whole.channelData[0].length);
    expect(Array.from(window.samples)).toEqual(Array.from(whole.channelData[0].subarray(start, start + Math.trunc(2.5 * 22050))));
  });

  it('decodes escape-coded residual partitions (raw signed values, also of 0 bits) as written, as ffmpeg does', async () => {
    // No encoder at hand writes them: one frame made by hand, FIXED order 0, four partitions of 64.
    const raw7 = Array.from({ length: 64 }, (_, i) => ((i * 37) % 128) - 64);
    // Rice codes of parameter 3, two with quotients of hundreds of bits.
    const rice = Array.from({ length: 64 }, (_, i) => (i === 5 ? 1000 : i === 6 ? -700 : ((i * 11) % 41) - 20));
    const raw16 = Array.from({ length: 64 }, (_, i) => (i % 2 ? 32767 - (i % 5) : -32768 + (i % 5)));
    const bytes = handMadeFlac((w) => {
      w.put(0b1111, 4).put(7, 5);
      for (const v of raw7) w.put(v & 0x7f, 7);
      w.put(0b1111, 4).put(0, 5); // 64 zeros, no bits each
      w.put(3, 4);
      for (const v of rice) {
        const u = v >= 0 ? 2 * v : -2 * v - 1;
        w.put(0, u >> 3)
          .put(1, 1)
          .put(u & 7, 3);
      }
      w.put(0b1111, 4).put(16, 5);
      for (const v of raw16) w.put(v & 0xffff, 16);
    }, 3);
    const expected = [...raw7, ...new Array(64).fill(0), ...rice, ...raw16];
    expect(Array.from(decodeFlac(bytes, 0).channelData[0])).toEqual([...expected, ...expected, ...expected]);
    // ffmpeg's decoder reads the file the same (audio-decode's codec parser does not take it).
    const pcm = execFileSync('ffmpeg', ['-v', 'error', '-f', 'flac', '-i', '-', '-f', 's16le', '-'], { input: bytes });
    expect(Array.from(new Int16Array(Uint8Array.from(pcm).buffer))).toEqual([...expected, ...expected, ...expected]);
    // Cut inside the last frame (its escape-coded partition, its Rice-coded one): a cut file keeps the frames before.
    for (const cut of [40, 150]) expect(decodeFlac(bytes.subarray(0, bytes.length - cut), 0).frames).toBe(512);
  });

  it('refuses a file cut in half as TRUNCATED, and a flipped byte as damaged', async () => {
    const bytes = new Uint8Array(readFileSync(join(RAVDESS, 'Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.flac')));
    const cut = bytes.subarray(0, bytes.length >> 1);
    await expect(decodeAudio(cut)).rejects.toMatchObject({ name: 'AudioError', code: 'TRUNCATED' });
    const flipped = bytes.slice();
    flipped[flipped.length >> 1] ^= 0x10;
    const err = await decodeAudio(flipped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect((err as AudioError).code).toBe('DECODE_FAILED');
    expect((err as AudioError).message).toMatch(/damaged/);
  });
});

describe('windowed reads stop at the window', () => {
  const WINDOW = { offsetSeconds: 0.6, durationSeconds: 2.5, maxSeconds: 600 };
  const speech = () => new Uint8Array(readFileSync(join(RAVDESS, 'Audio_Speech_Actors_01-24/Actor_05/03-01-06-02-02-01-05.flac')));

  it('give the whole decode’s window and length, also with an ID3v1 tag after the last frame', async () => {
    const bytes = speech();
    const tagged = new Uint8Array(bytes.length + 128);
    tagged.set(bytes);
    tagged.set(new TextEncoder().encode('TAGtitle'), bytes.length);
    const whole = await decodeAudio(bytes, { maxSeconds: 600 });
    for (const input of [bytes, tagged]) {
      const part = await decodeAudio(input, WINDOW);
      expect(part.totalFrames).toBe(whole.totalFrames);
      expect(part.samples).toEqual(whole.samples.subarray(part.startFrame, part.startFrame + part.samples.length));
    }
  });

  it('each keep their own samples, though the thread decodes into the same arrays every time', async () => {
    const song = new Uint8Array(readFileSync(join(RAVDESS, 'Audio_Song_Actors_01-24/Actor_02/03-02-03-01-01-01-02.flac')));
    const first = await decodeAudio(speech(), WINDOW);
    const kept = Float32Array.from(first.samples);
    const second = await decodeAudio(song, WINDOW);
    expect(second.samples).not.toEqual(kept);
    expect(first.samples).toEqual(kept);
  });

  it('skip the blocks before the window, and still refuse damage there (the skipped frames’ CRCs are checked)', async () => {
    const bytes = speech();
    const whole = decodeFlac(bytes, 0);
    const from = Math.trunc(0.6 * 22050);
    const part = decodeFlac(bytes, 0, Math.trunc(3.1 * 22050), from);
    // Blocks of 4096: the three that end before sample 13230 are passed over.
    expect(part.firstFrame).toBe(3 * 4096);
    expect(part.channelData[0]).toEqual(whole.channelData[0].subarray(part.firstFrame, part.frames));
    const damaged = bytes.slice();
    damaged[whole.audioStart + 200] ^= 0x10; // inside the first frame
    await expect(decodeAudio(damaged, WINDOW)).rejects.toMatchObject({ code: 'DECODE_FAILED', message: /damaged/ });
  });

  it('still refuse a file cut after the window as TRUNCATED, with the whole decode’s message', async () => {
    const bytes = speech();
    for (const keep of [0.8, 0.95]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * keep));
      const whole = await decodeAudio(cut).catch((e: AudioError) => e);
      expect(whole).toMatchObject({ code: 'TRUNCATED' });
      await expect(decodeAudio(cut, WINDOW)).rejects.toMatchObject({ code: 'TRUNCATED', message: (whole as AudioError).message });
    }
  });

  it('never read the frames after it: damage there goes unseen, as in a WAV', async () => {
    // 20 s: the window (to 3.1 s) ends long before the flipped byte, and the last frame after it.
    const src = 'aevalsrc=0.4*sin(2*PI*(200+20*t)*t)+0.05*(random(0)-0.5):s=22050:d=20';
    // Written to a file, not a pipe, so that ffmpeg can put the stream's length in STREAMINFO.
    const path = join(tmpdir(), `ser-flac-window-${process.pid}.flac`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', src, '-c:a', 'flac', path]);
    const bytes = new Uint8Array(readFileSync(path));
    rmSync(path);
    const damaged = bytes.slice();
    damaged[bytes.length >> 1] ^= 0x10;
    await expect(decodeAudio(damaged)).rejects.toMatchObject({ code: 'DECODE_FAILED' });
    const part = await decodeAudio(damaged, WINDOW);
    const clean = await decodeAudio(bytes, WINDOW);
    expect(part.totalFrames).toBe(clean.totalFrames);
    expect(part.samples).toEqual(clean.samples);
  });
});
