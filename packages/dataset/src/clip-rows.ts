/** One clip's rows: the clip through each augmentation recipe, then the serving feature extractor. */
import { readFile } from 'node:fs/promises';
import { type ClipSpec, clipFeatures, loadClip } from '@ser/audio';
import { applyRecipe, type RecipeName } from '@ser/augment';
import { Random } from '@ser/ravdess';

/** A seed per (clip, recipe), so a row never depends on which worker built it or in what order. */
function rowSeed(seed: number, clipId: string, recipe: string): number {
  let h = 2166136261 ^ seed;
  for (const ch of `${clipId}/${recipe}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

export async function clipRows(path: string, clipId: string, recipes: RecipeName[], spec: ClipSpec, seed: number): Promise<Float32Array[]> {
  const bytes = await readFile(path);
  const clip = await loadClip(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec);
  // 'pitch' and 'pitch+noise' share the same pitch-shifted signal, as in the seed project.
  const cache = new Map<string, Float32Array>();
  return recipes.map((recipe) => {
    let y: Float32Array;
    if (recipe === 'pitch+noise') {
      const pitched = cache.get('pitch') ?? applyRecipe('pitch', clip.y, spec.sampleRate, new Random(0));
      cache.set('pitch', pitched);
      y = applyRecipe('noise', pitched, spec.sampleRate, new Random(rowSeed(seed, clipId, recipe)));
    } else {
      y = cache.get(recipe) ?? applyRecipe(recipe, clip.y, spec.sampleRate, new Random(rowSeed(seed, clipId, recipe)));
      cache.set(recipe, y);
    }
    return Float32Array.from(clipFeatures(y, spec).vector);
  });
}
