import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getJob, getRecording, listJobResults } from '@ser/db';
import { callUnary } from '@ser/grpc';
import { itemJobId, JOBS } from '@ser/queue';
import type { EMOTIONS } from '@ser/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIPS_22K, CLIPS_48K, clipPaths, corruptWav, type Harness, readClips, startHarness, waitFor } from './harness.js';

const SECRET = 'test-webhook-secret';
const AUDIO_REASONS = ['DECODE_FAILED', 'EMPTY', 'UNSUPPORTED_FORMAT', 'TRUNCATED', 'TOO_LONG', 'INVALID_HEADER'];

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let h: Harness;
let receiver: Server;
let hookBase: string;
const received: Received[] = [];
let registry: Awaited<ReturnType<Harness['startWorker']>>['registry'];

beforeAll(async () => {
  h = await startHarness('pipeline');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      // /flaky answers 503 to its first call, to see a retried delivery.
      const failing = path === '/flaky' && received.filter((r) => r.path === path).length === 1;
      res.writeHead(failing ? 503 : 204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ({ registry } = h.startWorker({ concurrency: 8, webhookSecret: SECRET, webhookAllowPrivate: true }));
});

afterAll(async () => {
  await h?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

describe('batch worker pipeline', () => {
  it('classifies a mixed job once per file, records the bad file, and calls the webhook once, signed', async () => {
    const clips = await readClips([...(await clipPaths(CLIPS_22K, 3)), ...(await clipPaths(CLIPS_48K, 3))]);
    const files = [...clips.slice(0, 3), { filename: 'broken.wav', bytes: corruptWav() }, ...clips.slice(3)];
    const { jobId, recordings, payloads } = await h.createBatch(files, `${hookBase}/hooks/ser`);
    await h.enqueue(payloads);
    // The gateway retrying its enqueue: same ids, so BullMQ keeps one job per item.
    await h.enqueue(payloads.slice(0, 2));

    const job = await h.waitForJob(jobId);
    expect(job).toMatchObject({ status: 'completed', total: 7, succeeded: 6, failed: 1 });
    // After the job is done, the same item queued under another id still adds no outcome.
    await h.items.add(JOBS.classify, payloads[0], { jobId: `${payloads[0].jobId}.again` });
    await waitFor('the extra queue job', async () => (await h.items.getJobState(`${payloads[0].jobId}.again`)) === 'completed');

    const results = (await listJobResults(h.db, jobId, { limit: 100 })).items;
    expect(results.map((r) => r.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new Set(results.map((r) => r.recordingId)).size).toBe(7);
    const broken = results[3];
    expect(broken).toMatchObject({ filename: 'broken.wav', emotion: null, probabilities: null });
    expect(AUDIO_REASONS).toContain(broken.errorCode);
    expect(broken.error).toBeTruthy();

    for (const [i, row] of results.entries()) {
      if (i === 3) continue;
      const direct = await callUnary(h.extractorClient, 'classify', {
        audio: { source: { $case: 'objectKey', value: recordings[i].objectKey }, filename: recordings[i].filename },
      });
      expect(row.emotion).toBe(direct.emotion);
      expect(row.modelName).toBe(direct.model?.name);
      expect(row.modelVersion).toBe(direct.model?.version);
      expect(row.confidence).toBeCloseTo(direct.confidence, 6);
      for (const [k, label] of direct.labels.entries())
        expect(row.probabilities?.[label as (typeof EMOTIONS)[number]]).toBeCloseTo(direct.probabilities[k], 6);
      expect(row.timings?.totalMs).toBeGreaterThan(0);
      expect(row.correlationId).toBe(payloads[i].correlationId);
      const recording = await getRecording(h.db, recordings[i].id);
      expect(recording).toMatchObject({ sampleRate: i < 3 ? 22050 : 48000, channels: direct.audio?.channels });
      expect(recording?.durationSeconds).toBeCloseTo(direct.audio?.durationSeconds ?? 0, 6);
    }

    const hook = await waitFor('the webhook', async () => received.find((r) => r.path === '/hooks/ser'));
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.path === '/hooks/ser')).toHaveLength(1);
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['x-correlation-id']).toBe(payloads[0].correlationId);
    expect(Math.abs(Number(hook.headers['x-ser-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(hook.headers['x-ser-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`);
    const finished = await getJob(h.db, jobId);
    expect(JSON.parse(hook.body)).toEqual({
      event: 'job.completed',
      job: {
        id: jobId,
        status: 'completed',
        total: 7,
        succeeded: 6,
        failed: 1,
        createdAt: finished?.createdAt.toISOString(),
        startedAt: finished?.startedAt?.toISOString(),
        finishedAt: finished?.finishedAt?.toISOString(),
      },
      resultsUrl: `/v1/jobs/${jobId}/results`,
    });
    await waitFor('the delivery to be recorded', async () => (await getJob(h.db, jobId))?.callbackStatus === 'delivered');
    expect(await getJob(h.db, jobId)).toMatchObject({ callbackAttempts: 1, callbackError: null });

    const metrics = await registry.metrics();
    expect(metrics).toMatch(/ser_batch_items_total\{outcome="succeeded",service="batch-worker"\} 6\n/);
    expect(metrics).toMatch(/ser_batch_items_total\{outcome="failed",service="batch-worker"\} 1\n/);
    expect(metrics).toMatch(/ser_batch_job_duration_seconds_count\{service="batch-worker"\} 1\n/);
    expect(metrics).toMatch(/ser_webhook_deliveries_total\{outcome="delivered",service="batch-worker"\} 1\n/);
    // Six good items and the extra one completed; the broken file's queue job failed without retries.
    expect(metrics).toMatch(/ser_queue_jobs\{queue="ser-batch-items",state="completed",service="batch-worker"\} 7\n/);
    expect(metrics).toMatch(/ser_queue_jobs\{queue="ser-batch-items",state="failed",service="batch-worker"\} 1\n/);
    const brokenJob = await h.items.getJob(itemJobId(jobId, payloads[3].recordingId));
    expect(brokenJob?.attemptsMade).toBe(1);
  });

  it('retries a webhook that answers 5xx, recording each attempt', async () => {
    const [clip] = await readClips(await clipPaths(CLIPS_22K, 1));
    const { jobId, payloads } = await h.createBatch([clip], `${hookBase}/flaky`);
    await h.enqueue(payloads);
    await waitFor('the second delivery', async () => (await getJob(h.db, jobId))?.callbackStatus === 'delivered', 15_000);
    expect(received.filter((r) => r.path === '/flaky')).toHaveLength(2);
    expect(await getJob(h.db, jobId)).toMatchObject({ callbackAttempts: 2, callbackError: null });
  });

  it('refuses a webhook to loopback without WEBHOOK_ALLOW_PRIVATE and records it failed', async () => {
    const strict = await startHarness('strict');
    try {
      strict.startWorker({ webhookSecret: SECRET, webhookAllowPrivate: false });
      const [clip] = await readClips(await clipPaths(CLIPS_48K, 1));
      const { jobId, payloads } = await strict.createBatch([clip], `${hookBase}/private`);
      await strict.enqueue(payloads);
      await strict.waitForJob(jobId);
      const job = await waitFor('the refusal', async () => {
        const row = await getJob(strict.db, jobId);
        return row?.callbackStatus === 'failed' && row;
      });
      expect(job).toMatchObject({ status: 'completed', callbackAttempts: 1 });
      expect(job.callbackError).toMatch(/private address \(127\.0\.0\.1\)/);
      expect(received.filter((r) => r.path === '/private')).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});
