import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clipFeatures, DEFAULT_CLIP_SPEC, loadClip } from '@ser/audio';
import { describe, expect, it } from 'vitest';
import { buildDataset, readDataset, writeDataset } from '../src/index.js';

const CORPUS = resolve(import.meta.dirname, '../../../../shared/ravdess');
// Actor 1's four neutral speech clips.
const filter = (c: { actor: number; emotion: string; channel: string }) =>
  c.actor === 1 && c.emotion === 'neutral' && c.channel === 'speech';

describe('feature sets', () => {
  it('rows are the serving extractor on each clip and its augmented copies, written and read back', async () => {
    const data = await buildDataset({ corpus: CORPUS, augmentations: ['noise', 'pitch'], filter, workers: 2 });
    expect(data.meta.rows.length).toBe(12);
    expect(data.meta.rows.slice(0, 3).map((r) => r.augmentation)).toEqual(['none', 'noise', 'pitch']);
    expect(data.meta.rows[0]).toMatchObject({ clipId: '03-01-01-01-01-01-01', label: 0, actor: 1, channel: 'speech' });
    expect(data.features.length).toBe(12 * 2376);

    // Training and serving can never disagree: an original row is exactly what serving computes.
    const bytes = readFileSync(join(CORPUS, 'Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.flac'));
    const clip = await loadClip(new Uint8Array(bytes), DEFAULT_CLIP_SPEC);
    const served = Float32Array.from(clipFeatures(clip.y).vector);
    expect(data.features.subarray(0, 2376)).toEqual(served);
    // Augmented rows differ from the original.
    expect(data.features.subarray(2376, 2 * 2376)).not.toEqual(served);

    const dir = await mkdtemp(join(tmpdir(), 'ser-ds-'));
    await writeDataset(dir, data);
    const back = await readDataset(dir);
    expect(back.meta.rows).toEqual(data.meta.rows);
    expect(back.features).toEqual(data.features);
  });

  it('is reproducible whatever the number of workers', async () => {
    const a = await buildDataset({ corpus: CORPUS, augmentations: ['noise', 'stretch'], filter, workers: 1, seed: 5 });
    const b = await buildDataset({ corpus: CORPUS, augmentations: ['noise', 'stretch'], filter, workers: 2, seed: 5 });
    expect(b.features).toEqual(a.features);
    const c = await buildDataset({ corpus: CORPUS, augmentations: ['noise'], filter, workers: 2, seed: 6 });
    expect(c.features.subarray(2376, 2 * 2376)).not.toEqual(a.features.subarray(2376, 2 * 2376));
  });
});
