/**
 * One webhook job: tell the job's callback URL that it finished. Each attempt is
 * recorded on the job; failures are retried with backoff (WEBHOOK_JOB_OPTIONS), a
 * refused target is not. Delivery is at least once: a receiver that answered 2xx
 * may hear again if recording its answer fails, so receivers dedupe on job.id.
 */
import { type Db, getJob, type JobRow, recordCallbackAttempt } from '@ser/db';
import type { Logger } from '@ser/observability';
import type { WebhookPayload } from '@ser/queue';
import { type Job, UnrecoverableError } from 'bullmq';
import type { BatchMetrics } from './metrics.js';
import { deliverWebhook, WebhookRefused } from './webhook.js';

export interface WebhookDeps {
  db: Db;
  secret?: string;
  timeoutMs: number;
  allowPrivate: boolean;
  metrics: BatchMetrics;
  logger: Logger;
}

/** The JSON body receivers get. */
export function webhookBody(job: JobRow): string {
  return JSON.stringify({
    event: job.status === 'completed' ? 'job.completed' : 'job.failed',
    job: {
      id: job.id,
      status: job.status,
      total: job.total,
      succeeded: job.succeeded,
      failed: job.failed,
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
    },
    resultsUrl: `/v1/jobs/${job.id}/results`,
  });
}

export async function processWebhook(job: Job<WebhookPayload>, deps: WebhookDeps): Promise<void> {
  const { jobId, callbackUrl, correlationId } = job.data;
  const { db, logger, metrics } = deps;
  const row = await getJob(db, jobId);
  if (!row) throw new UnrecoverableError(`job ${jobId} does not exist`);
  if (row.callbackStatus === 'delivered') return; // a redelivered queue job
  const attempt = job.attemptsMade + 1;
  let status: number;
  try {
    status = await deliverWebhook(callbackUrl, {
      body: webhookBody(row),
      secret: deps.secret,
      timeoutMs: deps.timeoutMs,
      allowPrivate: deps.allowPrivate,
      correlationId,
    });
  } catch (err) {
    const refused = err instanceof WebhookRefused;
    const final = refused || attempt >= (job.opts.attempts ?? 1);
    const message = (err as Error).message;
    metrics.webhooks.inc({ outcome: refused ? 'refused' : final ? 'failed' : 'retried' });
    if (final) metrics.errors.inc({ kind: refused ? 'WEBHOOK_REFUSED' : 'WEBHOOK_FAILED' });
    logger.warn({ jobId, attempt, final, err: message }, 'webhook not delivered');
    await recordCallbackAttempt(db, jobId, { delivered: false, error: message, final });
    throw refused ? new UnrecoverableError(message) : err;
  }
  metrics.webhooks.inc({ outcome: 'delivered' });
  logger.info({ jobId, status, attempt }, 'webhook delivered');
  await recordCallbackAttempt(db, jobId, { delivered: true, final: true });
}
