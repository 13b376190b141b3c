/**
 * Items per second of one batch job through the real pipeline (as the tests build it):
 *
 *   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ser_test TEST_REDIS_URL=redis://127.0.0.1:6379 \
 *     ITEMS=100 CONCURRENCY=8 node --import tsx services/batch-worker/test/bench-throughput.ts
 *
 * Every service runs in this one process's machine, so the figure is the whole
 * pipeline's on this machine's cores, not the worker's alone.
 */
import { CLIPS_22K, clipPaths, readClips, startHarness } from './harness.js';

const items = Number(process.env.ITEMS ?? 100);
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const h = await startHarness('bench');
try {
  const clips = await readClips(await clipPaths(CLIPS_22K, 60));
  const files = Array.from({ length: items }, (_, i) => clips[i % clips.length]);
  h.startWorker({ concurrency });
  const warm = await h.createBatch(files.slice(0, concurrency)); // model and thread pools warmed up
  await h.enqueue(warm.payloads);
  await h.waitForJob(warm.jobId);

  const { jobId, payloads } = await h.createBatch(files);
  const started = performance.now();
  await h.enqueue(payloads);
  const job = await h.waitForJob(jobId, 600_000);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({ items, concurrency, status: job.status, succeeded: job.succeeded, seconds, itemsPerSecond: items / seconds }),
  );
} finally {
  await h.close();
}
