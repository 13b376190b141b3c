import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { getJob, listJobResults } from '@ser/db';
import { itemJobId } from '@ser/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STALLS } from '../src/process-item.js';
import { CLIPS_22K, CLIPS_48K, clipPaths, type Harness, readClips, startHarness, type Upload, waitFor } from './harness.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Short backoff, so retries over a service restart take seconds in the test. */
const FAST_RETRY = { backoff: { type: 'exponential', delay: 200 } };
/**
 * A killed worker's items are taken back after about this long. Every worker of the
 * queue uses the same value, as in production: BullMQ runs one stalled-job check per
 * interval for the whole queue, paced by whichever worker ran it last.
 */
const LOCK_MS = 2000;

let h: Harness;
let clips: Upload[];

beforeAll(async () => {
  h = await startHarness('resilience');
  clips = await readClips([...(await clipPaths(CLIPS_22K, 6)), ...(await clipPaths(CLIPS_48K, 4))]);
});
afterAll(async () => {
  await h?.close();
});

const outcomes = async (jobId: string) => {
  const job = await getJob(h.db, jobId);
  return (job?.succeeded ?? 0) + (job?.failed ?? 0);
};

/** One outcome per recording, all of them successful. */
async function expectDoneOnce(jobId: string, total: number) {
  const job = await h.waitForJob(jobId);
  expect(job).toMatchObject({ status: 'completed', total, succeeded: total, failed: 0 });
  const results = (await listJobResults(h.db, jobId, { limit: 1000 })).items;
  expect(results).toHaveLength(total);
  expect(new Set(results.map((r) => r.recordingId)).size).toBe(total);
  expect(results.every((r) => r.emotion !== null)).toBe(true);
}

describe('batch worker resilience', () => {
  it('retries items while the extractor is down, and gives up on an item after its last attempt', async () => {
    const { worker, registry } = h.startWorker({ concurrency: 2, lockDurationMs: LOCK_MS });
    try {
      const { jobId, payloads } = await h.createBatch(clips);
      await h.enqueue(payloads, FAST_RETRY);
      await waitFor('a first outcome', async () => (await outcomes(jobId)) > 0);
      await h.stopExtractor();

      // An item with two attempts, both while the extractor is down: it still gets an outcome.
      const lone = await h.createBatch(clips.slice(0, 1));
      await h.enqueue(lone.payloads, { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
      const exhausted = await h.waitForJob(lone.jobId);
      expect(exhausted).toMatchObject({ status: 'failed', failed: 1 });
      const [result] = (await listJobResults(h.db, lone.jobId, { limit: 1 })).items;
      expect(result.errorCode).toBe('RETRIES_EXHAUSTED');
      expect(result.error).toBeTruthy();

      await waitFor('retries', async () => /ser_batch_items_total\{outcome="retried",[^}]*\} [1-9]/.test(await registry.metrics()));
      expect(await outcomes(jobId)).toBeLessThan(clips.length);
      await h.startExtractor();
      await expectDoneOnce(jobId, clips.length);
    } finally {
      await worker.close();
    }
  });

  it('finishes the items in flight when closed; a new worker does the rest, each item once', async () => {
    // Enough items that some are still queued when the first worker is closed, however fast the machine.
    const many = [0, 1, 2, 3].flatMap((copy) => clips.map((c) => ({ ...c, filename: `${copy}-${c.filename}` })));
    const first = h.startWorker({ concurrency: 4, lockDurationMs: LOCK_MS });
    const { jobId, payloads } = await h.createBatch(many);
    await h.enqueue(payloads);
    await waitFor('a first outcome', async () => (await outcomes(jobId)) > 0);
    await first.worker.close();
    expect(await h.items.getActiveCount()).toBe(0);
    const done = await outcomes(jobId);
    expect(done).toBeLessThan(many.length);

    const second = h.startWorker({ concurrency: 4, lockDurationMs: LOCK_MS });
    try {
      await expectDoneOnce(jobId, many.length);
    } finally {
      await second.worker.close();
    }
  });

  it('gets the items of a killed worker process done by another, each once', async () => {
    const { jobId, payloads } = await h.createBatch(clips);
    await h.enqueue(payloads);
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/batch-worker/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: process.env.TEST_DATABASE_URL,
        REDIS_URL: h.redisUrl,
        QUEUE_PREFIX: h.prefix,
        EXTRACTOR_ADDRESS: h.extractorAddress,
        WORKER_CONCURRENCY: '3',
        WORKER_LOCK_DURATION_MS: String(LOCK_MS),
        METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor('the process to record an outcome', async () => (await outcomes(jobId)) > 0, 30_000);
      await waitFor('items in flight', async () => (await h.items.getActiveCount()) > 0);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await outcomes(jobId)).toBeLessThan(clips.length);

    const { worker } = h.startWorker({ concurrency: 4, lockDurationMs: LOCK_MS });
    try {
      await expectDoneOnce(jobId, clips.length);
    } finally {
      await worker.close();
    }
  });

  it('records an item as WORKER_LOST once workers stopped on it more than MAX_STALLS times, so its job still finishes', async () => {
    const { jobId, payloads } = await h.createBatch(clips.slice(0, 2));
    await h.enqueue(payloads);
    // BullMQ's own count of the times the item was taken back from a stopped worker.
    const poison = itemJobId(jobId, payloads[0].recordingId);
    await (await h.items.client).hset(h.items.toKey(poison), { stc: String(MAX_STALLS + 1) });
    const { worker } = h.startWorker({ concurrency: 2, lockDurationMs: LOCK_MS });
    try {
      expect(await h.waitForJob(jobId)).toMatchObject({ status: 'completed', total: 2, succeeded: 1, failed: 1 });
      const results = (await listJobResults(h.db, jobId, { limit: 10 })).items;
      const lost = results.find((r) => r.recordingId === payloads[0].recordingId);
      expect(lost).toMatchObject({ errorCode: 'WORKER_LOST', emotion: null });
      expect(lost?.error).toMatch(/stopped 3 times/);
      expect(results.find((r) => r.recordingId === payloads[1].recordingId)?.emotion).toBeTruthy();
      expect(await (await h.items.getJob(poison))?.getState()).toBe('failed');
    } finally {
      await worker.close();
    }
  });

  it('fails a job that was recorded but never queued once it is old enough; leaves jobs in the queue and young ones alone', async () => {
    const orphan = await h.createBatch(clips.slice(0, 2)); // a gateway killed before it queued the items
    const waiting = await h.createBatch(clips.slice(2, 4));
    await h.enqueue(waiting.payloads, { delay: 3_600_000 }); // in the queue, not due for an hour
    const young = await h.createBatch(clips.slice(4, 5));
    // Two minutes old: past this worker's threshold, short of the default one of other tests' workers.
    await h.db.pool.query(`UPDATE jobs SET created_at = now() - interval '2 minutes' WHERE id = ANY($1::uuid[])`, [
      [orphan.jobId, waiting.jobId],
    ]);
    const { worker } = h.startWorker({ orphanAfterMs: 60_000 });
    try {
      expect(await h.waitForJob(orphan.jobId)).toMatchObject({ status: 'failed', total: 2, succeeded: 0, failed: 2 });
      const results = (await listJobResults(h.db, orphan.jobId, { limit: 10 })).items;
      expect(results.map((r) => [r.filename, r.errorCode, r.emotion])).toEqual(
        orphan.recordings.map((r) => [r.filename, 'NOT_QUEUED', null]),
      );
      expect((await getJob(h.db, waiting.jobId))?.status).toBe('queued');
      expect((await getJob(h.db, young.jobId))?.status).toBe('queued');
    } finally {
      await worker.close();
      await h.items.remove(itemJobId(waiting.jobId, waiting.payloads[0].recordingId));
      await h.items.remove(itemJobId(waiting.jobId, waiting.payloads[1].recordingId));
    }
  });
});
