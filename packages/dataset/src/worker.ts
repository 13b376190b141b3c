/** Worker thread: turns clips into feature rows (see clip-rows.ts). */
import { parentPort } from 'node:worker_threads';
import type { ClipSpec } from '@ser/audio';
import type { RecipeName } from '@ser/augment';
import { clipRows } from './clip-rows.js';

export interface RowTask {
  index: number;
  path: string;
  clipId: string;
  recipes: RecipeName[];
  spec: ClipSpec;
  seed: number;
}

export type RowResult = { index: number; rows: Float32Array[] } | { index: number; error: string };

parentPort?.on('message', async (task: RowTask) => {
  try {
    const rows = await clipRows(task.path, task.clipId, task.recipes, task.spec, task.seed);
    parentPort?.postMessage(
      { index: task.index, rows } satisfies RowResult,
      rows.map((r) => r.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort?.postMessage({ index: task.index, error: `${task.path}: ${(err as Error).message}` } satisfies RowResult);
  }
});
