/** Readers for the librosa golden set in ../shared/golden/librosa (see its README). */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const GOLDEN_DIR = resolve(import.meta.dirname, '../../../../shared/golden/librosa');

export interface GoldenItem {
  name: string;
  len_y: number;
  n_frames: number;
  vector_len: number;
  resampler: string;
  zcr: number[];
  rms: number[];
  mfcc: number[][];
  vector: number[];
  logmel?: number[][];
}

export function goldenNames(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.y.f32'))
    .map((f) => f.slice(0, -'.y.f32'.length))
    .sort();
}

export function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

export function loadGolden(name: string): { item: GoldenItem; y: Float32Array } {
  const item = JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as GoldenItem;
  return { item: { ...item, name }, y: readF32(join(GOLDEN_DIR, `${name}.y.f32`)) };
}
