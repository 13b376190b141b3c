export { addNoise, fixLength, pitchShift, speed, stretch, timeShift } from './augment.js';
export { timeStretch } from './phase-vocoder.js';
export { applyRecipe, isRecipe, RECIPES, type RecipeName } from './recipes.js';
