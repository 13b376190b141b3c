/**
 * Lengths read from stream headers (Ogg granule positions, MPEG frame headers with the
 * LAME tag's delay and padding) against what the decoders give, and windowed reads
 * that stop decoding at the window's end against slices of the whole decode.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { afterId3 } from '../src/decode/sniff.js';
import { streamLength } from '../src/decode/stream-length.js';
import { decodeAudio, decodeChannels, sniffFormat } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-stream-length-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 20 s of a gliding tone with noise, so every window differs from the next. */
const SOURCE = 'aevalsrc=0.4*sin(2*PI*(200+20*t)*t)+0.05*(random(0)-0.5)|0.2*sin(2*PI*330*t):s=48000:d=20';

const ENCODINGS: [name: string, args: string[]][] = [
  ['cbr-44k-stereo.mp3', ['-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '128k']],
  ['vbr-22k-mono.mp3', ['-ar', '22050', '-ac', '1', '-c:a', 'libmp3lame', '-q:a', '4']],
  ['no-xing-48k.mp3', ['-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-write_xing', '0']],
  ['mpeg2-16k.mp3', ['-ar', '16000', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '32k']],
  ['layer2.mp2', ['-ar', '44100', '-c:a', 'mp2', '-f', 'mp2']],
  ['vorbis-44k.ogg', ['-ar', '44100', '-c:a', 'libvorbis', '-q:a', '3']],
  ['opus-stereo.opus', ['-c:a', 'libopus', '-b:a', '48k']],
  ['opus-mono-16k.opus', ['-ar', '16000', '-ac', '1', '-c:a', 'libopus', '-b:a', '24k']],
];

function encode(name: string, args: string[]): Uint8Array {
  const path = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', SOURCE, ...args, path]);
  return new Uint8Array(readFileSync(path));
}

describe('stream lengths from headers, and windowed reads that stop early', () => {
  for (const [name, args] of ENCODINGS) {
    it(name, async () => {
      const bytes = encode(name, args);
      const whole = await decodeChannels(bytes);
      const frames = whole.channelData[0].length;
      const format = sniffFormat(bytes);
      expect(format).not.toBeNull();
      expect(streamLength(bytes, format!, afterId3(bytes))).toEqual({ frames, sampleRate: whole.sampleRate });

      const all = await decodeAudio(bytes, { maxSeconds: 600 });
      for (const window of [
        { offsetSeconds: 0.6, durationSeconds: 2.5 },
        { offsetSeconds: 12, durationSeconds: 1 },
        { offsetSeconds: 19.5, durationSeconds: 2 }, // runs past the end
      ]) {
        const part = await decodeAudio(bytes, { ...window, maxSeconds: 600 });
        expect(part.totalFrames).toBe(frames);
        expect(part.startFrame).toBe(Math.trunc(window.offsetSeconds * whole.sampleRate));
        expect(part.samples.length).toBe(Math.min(frames - part.startFrame, Math.trunc(window.durationSeconds * whole.sampleRate)));
        expect(part.samples).toEqual(all.samples.subarray(part.startFrame, part.startFrame + part.samples.length));
      }
    });
  }

  it('decoding stops at the window: damage after it is never reached', async () => {
    const bytes = encode('damaged.opus', ['-c:a', 'libopus', '-b:a', '48k']);
    for (let i = Math.floor(bytes.length * 0.6); i < Math.floor(bytes.length * 0.7); i++) bytes[i] = 0;
    const announced = streamLength(bytes, 'ogg-opus');
    const part = await decodeAudio(bytes, { offsetSeconds: 0.6, durationSeconds: 2.5, maxSeconds: 600 });
    expect(part.totalFrames).toBe(announced?.frames);
    // Read to the end, the stream loses the pages that were zeroed.
    const whole = await decodeAudio(bytes, { maxSeconds: 600 });
    expect(whole.totalFrames).toBeLessThan(announced!.frames * 0.95);
    expect(part.samples).toEqual(whole.samples.subarray(part.startFrame, part.startFrame + part.samples.length));
  });

  it('a length from the headers over the limit is refused before decoding', async () => {
    const bytes = encode('limit.ogg', ['-c:a', 'libvorbis', '-q:a', '1']);
    await expect(decodeAudio(bytes, { offsetSeconds: 0.6, durationSeconds: 2.5, maxSeconds: 10 })).rejects.toMatchObject({
      code: 'TOO_LONG',
      message: expect.stringMatching(/20\.0 s long; the limit is 10 s/),
    });
  });

  it('no length where the headers do not tell: a cut or joined MP3, a cut Ogg page, a chained Ogg file, ADTS AAC', async () => {
    const mp3 = encode('cut.mp3', ['-c:a', 'libmp3lame', '-b:a', '96k']);
    expect(streamLength(mp3.subarray(0, mp3.length - 100), 'mp3', afterId3(mp3))).toBeNull();
    // Two files end to end (each with its ID3v2 tag and LAME frame): the decoder plays both.
    expect(streamLength(new Uint8Array([...mp3, ...mp3]), 'mp3', afterId3(mp3))).toBeNull();
    const withoutId3 = mp3.subarray(afterId3(mp3));
    expect(streamLength(new Uint8Array([...withoutId3, ...withoutId3]), 'mp3')).toBeNull();
    const ogg = encode('cut.ogg', ['-c:a', 'libvorbis']);
    const whole = streamLength(ogg, 'ogg-vorbis');
    const cut = streamLength(ogg.subarray(0, ogg.length - 100), 'ogg-vorbis');
    // The last page, cut short, does not count: the length is the one of the page before it.
    expect(cut?.frames).toBeLessThan(whole!.frames);
    // Two Opus streams one after the other: the last page's granule counts the second alone.
    const first = encode('first.opus', ['-c:a', 'libopus']);
    const chained = new Uint8Array([...first, ...encode('second.opus', ['-c:a', 'libopus', '-t', '5'])]);
    expect(streamLength(chained, 'ogg-opus')).toBeNull();
    const part = await decodeAudio(chained, { offsetSeconds: 0.6, durationSeconds: 2.5, maxSeconds: 600 });
    expect(part.totalFrames).toBe((await decodeChannels(chained)).channelData[0].length);
    const aac = encode('a.aac', ['-c:a', 'aac', '-f', 'adts']);
    expect(streamLength(aac, 'aac')).toBeNull();
  });
});
