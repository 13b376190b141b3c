/**
 * One batch item: classify the uploaded file through the feature extractor and
 * record its outcome. The outcome is recorded exactly once (the database refuses a
 * second), so a redelivered or duplicated queue job does no harm; whoever's outcome
 * finishes the batch job queues its webhook.
 */

import {
  type Db,
  getJob,
  isDatabaseUnavailable,
  itemState,
  markJobRunning,
  type Outcome,
  type RecordedOutcome,
  type RecordingAudio,
  recordJobItemOutcome,
} from '@ser/db';
import { type ClassifyResponse, callStream, type FeatureExtractorServiceClient, GrpcError, status, statusName } from '@ser/grpc';
import type { Logger } from '@ser/observability';
import { type ClassifyItemPayload, JOBS, type WebhookPayload, webhookJobId } from '@ser/queue';
import { EMOTIONS, type Emotion, isEmotion } from '@ser/shared';
import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { BatchMetrics } from './metrics.js';

export interface ItemDeps {
  db: Db;
  extractor: FeatureExtractorServiceClient;
  webhooks: Queue<WebhookPayload>;
  classifyDeadlineMs: number;
  metrics: BatchMetrics;
  logger: Logger;
}

/** Errors no retry can cure: the file is not audio we can read, or it is gone. */
const PERMANENT = new Set<status>([status.INVALID_ARGUMENT, status.NOT_FOUND]);

/** How long an item waits for an unreachable database before it tries again. */
export const DATABASE_WAIT_MS = 1000;

/**
 * A worker that stopped this often while it held an item (killed, out of memory, its
 * event loop stuck past the lock) does not get the item again: a file that brings the
 * worker down would otherwise do so for ever. The item is recorded as failed instead.
 */
export const MAX_STALLS = 2;

/**
 * `token`: the worker's lock on the queue job, needed to put it back as delayed.
 */
export async function processItem(job: Job<ClassifyItemPayload>, deps: ItemDeps, token?: string): Promise<void> {
  const item = job.data;
  const { db, logger, metrics } = deps;
  const started = performance.now();
  try {
    // A job deleted meanwhile (its recordings with it) has nothing left to record.
    const state = await itemState(db, item.jobId, item.recordingId);
    if (!state) throw new UnrecoverableError(`job ${item.jobId} no longer exists`);
    // A redelivery of an item that already has its outcome (a stalled worker's item) only checks the webhook.
    if (state.hasOutcome) {
      logger.info({ jobId: item.jobId, recordingId: item.recordingId }, 'item already has an outcome');
      await ensureWebhook(item, deps);
      return;
    }
    if (state.jobStatus === 'queued') await markJobRunning(db, item.jobId);
    if (job.stalledCounter > MAX_STALLS) {
      const error = `a batch worker stopped ${job.stalledCounter} times while it classified this file`;
      await record(item, { ok: false, errorCode: 'WORKER_LOST', error }, deps);
      throw new UnrecoverableError(`WORKER_LOST: ${error}`);
    }
    let outcome: Outcome;
    let audio: RecordingAudio | null = null;
    try {
      const res = await callStream(
        deps.extractor,
        'classifyStream',
        { audio: { source: { $case: 'objectKey', value: item.objectKey }, filename: item.filename } },
        { deadlineMs: deps.classifyDeadlineMs, correlationId: item.correlationId },
      );
      outcome = toOutcome(res);
      audio = res.audio ?? null;
    } catch (err) {
      if (!(err instanceof GrpcError && PERMANENT.has(err.code))) throw err;
      outcome = { ok: false, errorCode: err.reason ?? statusName(err.code), error: err.message };
    }
    await record(item, outcome, deps, audio);
    if (!outcome.ok) throw new UnrecoverableError(`${outcome.errorCode}: ${outcome.error}`);
  } catch (err) {
    if (err instanceof UnrecoverableError) throw err;
    if (isDatabaseUnavailable(err)) return waitForDatabase(job, err, deps, token);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const message = (err as Error).message;
    logger.warn(
      { jobId: item.jobId, recordingId: item.recordingId, attempt: job.attemptsMade + 1, lastAttempt, err: message },
      'item failed',
    );
    if (!lastAttempt) {
      metrics.items.inc({ outcome: 'retried' });
      throw err;
    }
    // Out of retries: the item still gets an outcome, so its batch job can finish.
    try {
      await record(item, { ok: false, errorCode: 'RETRIES_EXHAUSTED', error: message }, deps);
    } catch (recordErr) {
      if (isDatabaseUnavailable(recordErr)) return waitForDatabase(job, recordErr, deps, token);
      throw recordErr;
    }
    throw new UnrecoverableError(`RETRIES_EXHAUSTED: ${message}`);
  } finally {
    metrics.itemSeconds.observe((performance.now() - started) / 1000);
  }
}

/**
 * Without the database nothing can be recorded, not even a failure: an item that used
 * up its attempts then would leave its batch job running for ever. So an unreachable
 * database spends no attempt; the item goes back to the queue, delayed, as often as it
 * takes (BullMQ's moveToDelayed skips the attempt count), and the job finishes once
 * the database is back.
 */
async function waitForDatabase(job: Job<ClassifyItemPayload>, err: unknown, deps: ItemDeps, token: string | undefined): Promise<never> {
  const item = job.data;
  deps.metrics.items.inc({ outcome: 'deferred' });
  deps.logger.warn(
    { jobId: item.jobId, recordingId: item.recordingId, attempt: job.attemptsMade + 1, err: (err as Error).message },
    'database unreachable; item waits for it',
  );
  await job.moveToDelayed(Date.now() + DATABASE_WAIT_MS, token);
  throw new DelayedError();
}

/** Probabilities by label name; a response that does not name the eight emotions is a server fault. */
export function toOutcome(res: ClassifyResponse): Outcome {
  if (!isEmotion(res.emotion) || !res.model) throw new Error(`extractor answered an unexpected emotion ${JSON.stringify(res.emotion)}`);
  const probabilities = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as Record<Emotion, number>;
  res.labels.forEach((label, i) => {
    if (!isEmotion(label)) throw new Error(`extractor answered an unexpected label ${JSON.stringify(label)}`);
    probabilities[label] = res.probabilities[i];
  });
  const t = res.timings;
  return {
    ok: true,
    model: { name: res.model.name, version: res.model.version },
    emotion: res.emotion,
    confidence: res.confidence,
    probabilities,
    timings: t && { fetchMs: t.fetchMs, decodeMs: t.decodeMs, featuresMs: t.featuresMs, inferenceMs: t.inferenceMs, totalMs: t.totalMs },
  };
}

async function record(
  item: ClassifyItemPayload,
  outcome: Outcome,
  deps: ItemDeps,
  audio?: RecordingAudio | null,
): Promise<RecordedOutcome> {
  const result = await recordJobItemOutcome(deps.db, item, outcome, audio);
  if (!result.recorded) return result; // another delivery got there first
  deps.metrics.items.inc({ outcome: outcome.ok ? 'succeeded' : 'failed' });
  if (outcome.ok) deps.metrics.predictions.inc({ emotion: outcome.emotion, model_version: outcome.model.version });
  else deps.metrics.errors.inc({ kind: outcome.errorCode });
  deps.logger.info(
    outcome.ok
      ? { jobId: item.jobId, recordingId: item.recordingId, emotion: outcome.emotion, confidence: outcome.confidence }
      : { jobId: item.jobId, recordingId: item.recordingId, errorCode: outcome.errorCode, error: outcome.error },
    'item recorded',
  );
  if (result.finishedNow) {
    const row = await getJob(deps.db, item.jobId);
    if (row?.finishedAt) deps.metrics.jobSeconds.observe((row.finishedAt.getTime() - row.createdAt.getTime()) / 1000);
    deps.logger.info(
      { jobId: item.jobId, status: result.job.status, succeeded: result.job.succeeded, failed: result.job.failed },
      'job finished',
    );
    if (result.job.callbackUrl) await enqueueWebhook(item, result.job.callbackUrl, deps);
  }
  return result;
}

/**
 * Queues the webhook of a finished job that has not been sent yet. Covers the case of
 * a delivery that recorded the finishing outcome but failed before queueing it.
 */
async function ensureWebhook(item: ClassifyItemPayload, deps: ItemDeps): Promise<void> {
  const row = await getJob(deps.db, item.jobId);
  if (row?.finishedAt && row.callbackUrl && row.callbackStatus === 'pending' && row.callbackAttempts === 0)
    await enqueueWebhook(item, row.callbackUrl, deps);
}

/** The predictable id makes a second add a no-op: one webhook per job. */
async function enqueueWebhook(item: ClassifyItemPayload, callbackUrl: string, deps: ItemDeps): Promise<void> {
  await deps.webhooks.add(
    JOBS.deliver,
    { jobId: item.jobId, callbackUrl, correlationId: item.correlationId },
    { jobId: webhookJobId(item.jobId) },
  );
}
