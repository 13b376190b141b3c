/** Real RAVDESS clips for end-to-end tests and benchmarks, and what the model says of each. */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { clipFeatures, loadClip } from '@ser/audio';
import { REPO_ROOT } from '@ser/launcher';
import { ModelBundle } from '@ser/model';

export const RAVDESS = resolve(REPO_ROOT, '..', 'shared', 'ravdess');
export const RAVDESS_48K = resolve(REPO_ROOT, '..', 'shared', 'ravdess-48k');

export interface ClipFile {
  path: string;
  name: string;
  bytes: Buffer;
}

/** The first `count` files of an actor's speech folder, by name. */
export async function clips(corpus: string, actor: number, count: number, kind: 'Speech' | 'Song' = 'Speech'): Promise<ClipFile[]> {
  const dir = join(corpus, `Audio_${kind}_Actors_01-24`, `Actor_${String(actor).padStart(2, '0')}`);
  const names = (await readdir(dir))
    .filter((n) => /\.(wav|flac)$/.test(n))
    .sort()
    .slice(0, count);
  return Promise.all(names.map(async (name) => ({ path: join(dir, name), name, bytes: await readFile(join(dir, name)) })));
}

/** Probabilities the serving path gives, computed here directly (decode, features, scale, ONNX). */
export async function expectedProbabilities(files: ClipFile[]): Promise<Map<string, Float32Array>> {
  const bundle = await ModelBundle.load(join(REPO_ROOT, 'models', 'ser-default'));
  const spec = bundle.manifest.featureSpec;
  const out = new Map<string, Float32Array>();
  for (const file of files) {
    const clip = await loadClip(new Uint8Array(file.bytes), spec);
    const [probs] = await bundle.predict([clipFeatures(clip.y, spec).vector]);
    out.set(file.name, probs);
  }
  await bundle.close();
  return out;
}

export async function ffmpegAvailable(): Promise<boolean> {
  return promisify(execFile)('ffmpeg', ['-version']).then(
    () => true,
    () => false,
  );
}
