import type { Emotion } from '@ser/shared';

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface RecordingInput {
  id: string;
  objectKey: string;
  filename: string;
  contentType: string;
  bytes: number;
  sha256: string;
  durationSeconds?: number | null;
  sampleRate?: number | null;
  channels?: number | null;
  format?: string | null;
  jobId?: string | null;
  position?: number | null;
}

export interface RecordingRow extends Required<Omit<RecordingInput, 'bytes'>> {
  bytes: number;
  createdAt: Date;
}

/** What classifying one recording produced: probabilities, or the error that stopped it. */
export type Outcome =
  | {
      ok: true;
      model: { name: string; version: string };
      emotion: Emotion;
      confidence: number;
      probabilities: Record<Emotion, number>;
      timings?: Record<string, number>;
    }
  | { ok: false; errorCode: string; error: string };

export interface PredictionRow {
  id: string;
  recordingId: string;
  jobId: string | null;
  position: number | null;
  filename: string;
  modelName: string | null;
  modelVersion: string | null;
  emotion: Emotion | null;
  confidence: number | null;
  probabilities: Record<Emotion, number> | null;
  timings: Record<string, number> | null;
  errorCode: string | null;
  error: string | null;
  correlationId: string | null;
  createdAt: Date;
}

export interface JobRow {
  id: string;
  status: JobStatus;
  total: number;
  succeeded: number;
  failed: number;
  callbackUrl: string | null;
  callbackStatus: string | null;
  callbackAttempts: number;
  callbackError: string | null;
  correlationId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}
