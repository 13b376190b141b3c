/**
 * The batch queues, defined once: names, payloads, job ids and retry policy.
 * One queue job per uploaded file; its id is derived from the batch job and the
 * recording, so the same file is never queued twice for one batch job.
 */

export const QUEUES = {
  /** One job per file of a batch job. */
  items: 'ser-batch-items',
  /** One job per finished batch job that has a callback URL. */
  webhooks: 'ser-webhooks',
} as const;

export const JOBS = {
  classify: 'classify',
  deliver: 'deliver-webhook',
} as const;

export interface ClassifyItemPayload {
  jobId: string;
  recordingId: string;
  objectKey: string;
  filename: string;
  /** Place of the file in the upload (results are listed in this order). */
  position: number;
  correlationId: string;
}

export interface WebhookPayload {
  jobId: string;
  callbackUrl: string;
  correlationId: string;
}

// BullMQ ids must not contain ':' (its key separator), hence '.'.
export const itemJobId = (jobId: string, recordingId: string) => `item.${jobId}.${recordingId}`;
export const webhookJobId = (jobId: string) => `webhook.${jobId}`;

/** Transient failures (a service down, a timeout) are retried with exponential backoff. */
export const ITEM_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

export const WEBHOOK_JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;
