/** Database rows as the API shows them. */
import type { JobRow, PredictionRow } from '@ser/db';

export function predictionView(row: PredictionRow) {
  return {
    id: row.id,
    recordingId: row.recordingId,
    jobId: row.jobId,
    position: row.position,
    filename: row.filename,
    emotion: row.emotion,
    confidence: row.confidence,
    probabilities: row.probabilities,
    model: row.modelName === null ? null : { name: row.modelName, version: row.modelVersion ?? '' },
    error: row.errorCode === null && row.error === null ? null : { code: row.errorCode ?? 'ERROR', message: row.error ?? '' },
    createdAt: row.createdAt,
  };
}

export function jobView(row: JobRow) {
  return {
    id: row.id,
    status: row.status,
    total: row.total,
    succeeded: row.succeeded,
    failed: row.failed,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    ...(row.callbackUrl
      ? {
          callback: {
            url: row.callbackUrl,
            status: row.callbackStatus ?? 'pending',
            attempts: row.callbackAttempts,
            error: row.callbackError,
          },
        }
      : {}),
  };
}
