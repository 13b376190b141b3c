import { describe, expect, it } from 'vitest';
import { AudioError, decodeAudio, decodeWav, encodeWav } from '../src/index.js';

interface WavSpec {
  format?: number;
  channels?: number;
  sampleRate?: number;
  bits?: number;
  blockAlign?: number;
  extensible?: boolean;
  dataSize?: number;
  rf64?: boolean;
}

/** Builds WAV bytes by hand (independent of the encoder under test). */
function wav(spec: WavSpec, payload: Uint8Array): Uint8Array {
  const { format = 1, channels = 1, sampleRate = 22050, bits = 16, extensible = false } = spec;
  const blockAlign = spec.blockAlign ?? (channels * bits) / 8;
  const fmtSize = extensible ? 40 : 16;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + payload.length);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  put(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, extensible ? 0xfffe : format, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, bits, true);
  if (extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, bits, true);
    v.setUint32(40, 0x3f, true);
    v.setUint16(44, format, true); // sub-format GUID, first two bytes
  }
  const d = 20 + fmtSize;
  put(d, 'data');
  v.setUint32(d + 4, spec.dataSize ?? payload.length, true);
  out.set(payload, d + 8);
  return out;
}

function bytesOf(values: number[], write: (v: DataView, at: number, x: number) => void, size: number): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) write(v, i * size, x);
  return out;
}

const int16 = (vals: number[]) => bytesOf(vals, (v, at, x) => v.setInt16(at, x, true), 2);

async function rejects(bytes: Uint8Array, code: string, message?: RegExp) {
  const err = await decodeAudio(bytes).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AudioError);
  expect((err as AudioError).code).toBe(code);
  if (message) expect((err as AudioError).message).toMatch(message);
}

describe('WAV decoding', () => {
  it('reads 16-bit PCM as int / 32768, like libsndfile', () => {
    const pcm = decodeWav(wav({}, int16([0, 1, -1, 32767, -32768, 16384])));
    expect(Array.from(pcm.samples)).toEqual([0, 1 / 32768, -1 / 32768, 32767 / 32768, -1, 0.5]);
    expect(pcm).toMatchObject({ sampleRate: 22050, channels: 1, totalFrames: 6, codec: 'wav/pcm16' });
  });

  it('reads 8-bit unsigned, 24-bit and 32-bit PCM', () => {
    const u8 = decodeWav(wav({ bits: 8 }, new Uint8Array([128, 255, 0, 192])));
    expect(Array.from(u8.samples)).toEqual([0, 127 / 128, -1, 0.5]);
    const s24 = new Uint8Array([0x00, 0x00, 0x40, 0xff, 0xff, 0xff, 0x00, 0x00, 0x80]); // 2^22, -1, -2^23
    expect(Array.from(decodeWav(wav({ bits: 24 }, s24)).samples)).toEqual([0.5, Math.fround(-1 / 8388608), -1]);
    const s32 = bytesOf([2 ** 30, -(2 ** 31)], (v, at, x) => v.setInt32(at, x, true), 4);
    expect(Array.from(decodeWav(wav({ bits: 32 }, s32)).samples)).toEqual([0.5, -1]);
  });

  it('reads 32- and 64-bit float', () => {
    const f32 = bytesOf([0.25, -0.75], (v, at, x) => v.setFloat32(at, x, true), 4);
    expect(Array.from(decodeWav(wav({ format: 3, bits: 32 }, f32)).samples)).toEqual([0.25, -0.75]);
    const f64 = bytesOf([0.1, -0.5], (v, at, x) => v.setFloat64(at, x, true), 8);
    expect(Array.from(decodeWav(wav({ format: 3, bits: 64 }, f64)).samples)).toEqual([Math.fround(0.1), -0.5]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with six channels, mixed by the channel mean', () => {
    // One frame: channels hold 0, 6, 12, 18, 24, 30 (int16); mean 15.
    const pcm = decodeWav(wav({ extensible: true, channels: 6 }, int16([0, 6, 12, 18, 24, 30, 6, 6, 6, 6, 6, 6])));
    expect(pcm.channels).toBe(6);
    expect(Array.from(pcm.samples)).toEqual([15 / 32768, 6 / 32768]);
  });

  it('reads a window the way soundfile seeks: int(offset*sr) frames in, int(duration*sr) long', () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const pcm = decodeWav(wav({ sampleRate: 10 }, int16(values)), { offsetSeconds: 0.55, durationSeconds: 0.31 });
    expect(pcm.startFrame).toBe(5);
    expect(Array.from(pcm.samples).map((x) => x * 32768)).toEqual([5, 6, 7]);
    const tail = decodeWav(wav({ sampleRate: 10 }, int16(values)), { offsetSeconds: 9.5, durationSeconds: 2 });
    expect(tail.samples.length).toBe(5);
  });

  it('round-trips through the encoder', () => {
    const left = Float32Array.from([0, 0.5, -0.5, 0.25]);
    const right = Float32Array.from([1, -1, 0, 0.75]);
    const back = decodeWav(encodeWav([left, right], 44100));
    expect(back.sampleRate).toBe(44100);
    expect(Array.from(back.samples)).toEqual([0.5, -0.25, -0.25, 0.5]);
  });
});

describe('WAV rejection', () => {
  it('an empty file', () => rejects(new Uint8Array(0), 'EMPTY'));
  it('text behind a .wav name', () => rejects(new TextEncoder().encode('this is not audio at all'), 'UNSUPPORTED_FORMAT'));
  it('a header claiming 10 hours in a 1 kB file', () =>
    rejects(wav({ dataSize: 10 * 3600 * 22050 * 2 }, new Uint8Array(1000)), 'TRUNCATED', /10\.0 h/));
  it('a zero sample rate', () => rejects(wav({ sampleRate: 0 }, int16([1, 2])), 'INVALID_HEADER', /sample rate/));
  it('a block align that does not fit the format', () => rejects(wav({ blockAlign: 3 }, int16([1, 2])), 'INVALID_HEADER'));
  it('12-bit samples', () => rejects(wav({ bits: 12, blockAlign: 2 }, int16([1, 2])), 'UNSUPPORTED_FORMAT', /12 bits/));
  it('no samples', () => rejects(wav({}, new Uint8Array(0)), 'EMPTY'));
  it('no data chunk', () => rejects(wav({}, int16([1])).subarray(0, 36), 'TRUNCATED'));
  it('a recording over the length limit', async () => {
    const err = await decodeAudio(wav({ sampleRate: 8000 }, new Uint8Array(8000 * 2 * 3)), { maxSeconds: 2 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'TOO_LONG' });
  });
});
