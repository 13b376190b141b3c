/** The `ser features` contract, run as a user runs it: `pnpm --silent ser features FILE --json`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeWav } from '@ser/audio';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const GOLDEN = resolve(ROOT, '../shared/golden/librosa');
const RAVDESS = resolve(ROOT, '../shared/ravdess');
const tmp = mkdtempSync(join(tmpdir(), 'ser-cli-'));

function ser(...args: string[]) {
  const r = spawnSync('pnpm', ['--silent', 'ser', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface FeaturesJson {
  sampleRate: number;
  frames: number;
  zcr: number[];
  rms: number[];
  mfcc: number[][];
  vector: number[];
}

function maxAbs(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

describe('ser features --json', () => {
  for (const name of ['03-01-05-02-01-01-05', '03-01-02-01-02-02-13', 'synth_chirp_100_8000_1p2s']) {
    it(`reproduces librosa's values for ${name} from a float32 WAV of its signal`, () => {
      const raw = readFileSync(join(GOLDEN, `${name}.y.f32`));
      const y = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const file = join(tmp, `${name}.wav`);
      writeFileSync(file, encodeWav([y], 22050, 'float32'));
      const golden = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8'));

      const { code, stdout, stderr } = ser('features', file, '--json', '--offset', '0', '--duration', 'all', '--pad', 'none');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      // One JSON object and nothing else.
      const out = JSON.parse(stdout) as FeaturesJson;
      expect(Object.keys(out)).toEqual(['sampleRate', 'frames', 'zcr', 'rms', 'mfcc', 'vector']);
      expect(out.sampleRate).toBe(22050);
      expect(out.frames).toBe(golden.n_frames);
      expect(out.mfcc.length).toBe(20);
      expect(out.vector.length).toBe(22 * golden.n_frames);
      for (let k = 0; k < 20; k++) expect(maxAbs(out.mfcc[k], golden.mfcc[k])).toBeLessThanOrEqual(1e-3);
      expect(maxAbs(out.zcr, golden.zcr)).toBeLessThanOrEqual(1 / 2048);
      for (const [t, r] of out.rms.entries()) expect(Math.abs(r - golden.rms[t])).toBeLessThanOrEqual(1e-5 * golden.rms[t] + 1e-12);
      expect(maxAbs(out.vector, golden.vector)).toBeLessThanOrEqual(1e-3);
    });
  }

  const shortClip = join(RAVDESS, 'Audio_Speech_Actors_01-24/Actor_13/03-01-02-01-02-02-13.flac');

  it('pads a clip that ends early with zeros by default: 108 frames, 2376 values', () => {
    const out = JSON.parse(ser('features', shortClip, '--json').stdout) as FeaturesJson;
    expect(out.frames).toBe(108);
    expect(out.vector.length).toBe(2376);
    // The recording ends 2.34 s into the window: the last frames are silence.
    expect(out.rms[107]).toBe(0);
    expect(out.rms[90]).toBeGreaterThan(0);
  });

  it("--pad none gives librosa's shorter vector; --pad vector the seed system's zero-filled one", () => {
    const none = JSON.parse(ser('features', shortClip, '--json', '--pad', 'none').stdout) as FeaturesJson;
    expect(none.frames).toBe(101);
    expect(none.vector.length).toBe(2222);
    const seed = JSON.parse(ser('features', shortClip, '--json', '--pad', 'vector').stdout) as FeaturesJson;
    expect(seed.frames).toBe(101);
    expect(seed.vector.length).toBe(2376);
    expect(seed.vector.slice(0, 2222)).toEqual(none.vector);
    expect(seed.vector.slice(2222).every((x) => x === 0)).toBe(true);
  });

  it('prints a readable summary without --json', () => {
    const { code, stdout } = ser('features', shortClip);
    expect(code).toBe(0);
    expect(stdout).toMatch(/vector:\s+2376 values/);
  });

  it('reports a missing file on stderr with a non-zero exit code', () => {
    const { code, stdout, stderr } = ser('features', join(tmp, 'nope.wav'), '--json');
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/no such file/);
  });

  it('rejects a file that is not audio', () => {
    const file = join(tmp, 'fake.wav');
    writeFileSync(file, 'definitely not a wav file');
    const { code, stdout, stderr } = ser('features', file, '--json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/not a recognised audio file/);
  });

  it('rejects bad options with exit code 2', () => {
    const { code, stderr } = ser('features', shortClip, '--pad', 'sideways');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--pad must be one of zeros, none, vector/);
  });
});
