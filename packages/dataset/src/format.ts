/**
 * The feature-set format (a directory), read by the Python trainer too:
 * - features.f32: little-endian float32, row-major, rows x vectorLength;
 * - meta.json: DatasetMeta below, `rows` in the same order as features.f32.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClipSpec } from '@ser/audio';
import { EMOTIONS } from '@ser/shared';

export const DATASET_FORMAT = 'ser-dataset/1';

export interface DatasetRow {
  clipId: string;
  label: number;
  actor: number;
  channel: 'speech' | 'song';
  augmentation: string;
}

export interface DatasetMeta {
  format: typeof DATASET_FORMAT;
  vectorLength: number;
  frames: number;
  labels: readonly string[];
  featureSpec: ClipSpec & { features: string };
  corpus: string;
  seed: number;
  augmentations: string[];
  createdAt: string;
  rows: DatasetRow[];
}

export interface Dataset {
  meta: DatasetMeta;
  /** rows x vectorLength, row-major. */
  features: Float32Array;
}

export async function writeDataset(dir: string, dataset: Dataset): Promise<void> {
  const { meta, features } = dataset;
  if (features.length !== meta.rows.length * meta.vectorLength) {
    throw new Error(`dataset has ${features.length} values for ${meta.rows.length} rows of ${meta.vectorLength}`);
  }
  await mkdir(dir, { recursive: true });
  // Write beside, then rename: a reader never sees half a file.
  const bytes = new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
  await writeFile(join(dir, 'features.f32.tmp'), bytes);
  await writeFile(join(dir, 'meta.json.tmp'), `${JSON.stringify(meta)}\n`);
  await rename(join(dir, 'features.f32.tmp'), join(dir, 'features.f32'));
  await rename(join(dir, 'meta.json.tmp'), join(dir, 'meta.json'));
}

export async function readDatasetMeta(dir: string): Promise<DatasetMeta> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as DatasetMeta;
  if (meta.format !== DATASET_FORMAT) throw new Error(`${dir} is not a ${DATASET_FORMAT} feature set (format: ${meta.format})`);
  if (meta.labels.join() !== EMOTIONS.join())
    throw new Error(`${dir} has labels ${meta.labels.join(', ')}; expected ${EMOTIONS.join(', ')}`);
  return meta;
}

export async function readDataset(dir: string): Promise<Dataset> {
  const meta = await readDatasetMeta(dir);
  const raw = await readFile(join(dir, 'features.f32'));
  if (raw.byteLength !== meta.rows.length * meta.vectorLength * 4) {
    throw new Error(
      `${dir}/features.f32 holds ${raw.byteLength} bytes; meta.json describes ${meta.rows.length} rows of ${meta.vectorLength}`,
    );
  }
  const features = new Float32Array(raw.byteLength / 4);
  new Uint8Array(features.buffer).set(raw);
  return { meta, features };
}
