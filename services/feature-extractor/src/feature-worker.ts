/** Worker-thread side of the feature pool: computes one clip per message. */
import { parentPort } from 'node:worker_threads';
import { computeClipFeatures, type FeatureJob } from './clip-features.js';

export interface WorkerRequest {
  id: number;
  job: FeatureJob;
}

export type WorkerReply =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof computeClipFeatures>> }
  | { id: number; ok: false; error: { name: string; message: string; code?: string | number; reason?: string } };

const port = parentPort;
if (!port) throw new Error('feature-worker.ts runs in a worker thread');

port.on('message', ({ id, job }: WorkerRequest) => {
  computeClipFeatures(job).then(
    (result) => port.postMessage({ id, ok: true, result } satisfies WorkerReply),
    (err: Error & { code?: string | number; reason?: string }) =>
      port.postMessage({
        id,
        ok: false,
        error: { name: err.name, message: err.message, code: err.code, reason: err.reason },
      } satisfies WorkerReply),
  );
});
port.postMessage('ready');
