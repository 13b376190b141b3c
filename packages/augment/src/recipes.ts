/**
 * Named augmentations, as dataset rows are labelled. The first four are the seed
 * project's (the `seed` protocol uses exactly these); the rest draw their
 * parameter at random per clip from the seeded generator.
 */
import type { Random } from '@ser/ravdess';
import { addNoise, pitchShift, speed, stretch, timeShift } from './augment.js';

type Apply = (y: Float32Array, sampleRate: number, rng: Random) => Float32Array;

const uniform = (rng: Random, lo: number, hi: number) => lo + (hi - lo) * rng.next();

export const RECIPES = {
  none: (y) => y,
  noise: (y, _sr, rng) => addNoise(y, rng),
  pitch: (y, sr) => pitchShift(y, sr, 0.7),
  'pitch+noise': (y, sr, rng) => addNoise(pitchShift(y, sr, 0.7), rng),
  'pitch-random': (y, sr, rng) => pitchShift(y, sr, uniform(rng, -2, 2)),
  stretch: (y, _sr, rng) => stretch(y, uniform(rng, 0.85, 1.15)),
  shift: (y, sr, rng) => timeShift(y, sr, uniform(rng, -0.25, 0.25)),
  speed: (y, sr, rng) => speed(y, sr, uniform(rng, 0.9, 1.1)),
} satisfies Record<string, Apply>;

export type RecipeName = keyof typeof RECIPES;

export function isRecipe(name: string): name is RecipeName {
  return Object.hasOwn(RECIPES, name);
}

export function applyRecipe(name: RecipeName, y: Float32Array, sampleRate: number, rng: Random): Float32Array {
  return RECIPES[name](y, sampleRate, rng);
}
