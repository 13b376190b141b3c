/** Builds a feature set from a RAVDESS corpus, spreading clips over worker threads. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ClipSpec, DEFAULT_CLIP_SPEC, vectorLength } from '@ser/audio';
import type { RecipeName } from '@ser/augment';
import { type RavdessClip, readCorpus } from '@ser/ravdess';
import { EMOTIONS } from '@ser/shared';
import { DATASET_FORMAT, type Dataset, type DatasetRow } from './format.js';
import type { RowResult, RowTask } from './worker.js';

export interface BuildOptions {
  corpus: string;
  /** Recipes per clip; 'none' (the original) is always the first. */
  augmentations: RecipeName[];
  seed?: number;
  spec?: ClipSpec;
  workers?: number;
  /** Keep only these clips (after reading the corpus). */
  filter?: (clip: RavdessClip) => boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function buildDataset(options: BuildOptions): Promise<Dataset> {
  const spec = options.spec ?? DEFAULT_CLIP_SPEC;
  const seed = options.seed ?? 42;
  const length = vectorLength(spec);
  if (length === null) throw new Error('a feature set needs a fixed clip duration');
  const recipes: RecipeName[] = ['none', ...options.augmentations.filter((r) => r !== 'none')];
  const clips = (await readCorpus(options.corpus)).filter(options.filter ?? (() => true));
  const perClip: Float32Array[][] = new Array(clips.length);
  const workerCount = Math.max(1, Math.min(options.workers ?? availableParallelism(), clips.length));
  const workers = Array.from({ length: workerCount }, () => new Worker(new URL('./worker-entry.mjs', import.meta.url)));
  let next = 0;
  let done = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= clips.length) return resolve();
              const index = next++;
              const clip = clips[index];
              worker.postMessage({ index, path: clip.path, clipId: clip.id, recipes, spec, seed } satisfies RowTask);
            };
            worker.on('message', (result: RowResult) => {
              if ('error' in result) return reject(new Error(result.error));
              perClip[result.index] = result.rows;
              options.onProgress?.(++done, clips.length);
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const rows: DatasetRow[] = [];
  const features = new Float32Array(clips.length * recipes.length * length);
  let at = 0;
  clips.forEach((clip, i) => {
    recipes.forEach((recipe, r) => {
      const vector = perClip[i][r];
      if (vector.length !== length) throw new Error(`${clip.path}: ${vector.length} features, expected ${length}`);
      features.set(vector, at);
      at += length;
      rows.push({ clipId: clip.id, label: clip.label, actor: clip.actor, channel: clip.channel, augmentation: recipe });
    });
  });
  return {
    meta: {
      format: DATASET_FORMAT,
      vectorLength: length,
      frames: length / 22,
      labels: EMOTIONS,
      featureSpec: { ...spec, features: 'zcr+rms+mfcc20 (librosa 0.10 defaults, frame 2048, hop 512)' },
      corpus: options.corpus,
      seed,
      augmentations: recipes,
      createdAt: new Date().toISOString(),
      rows,
    },
    features,
  };
}
