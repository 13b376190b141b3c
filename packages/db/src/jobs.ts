import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';
import { decodeTimeCursor, encodeCursor } from './cursor.js';
import { predictionParameters } from './predictions.js';
import type { RecordingAudio } from './recordings.js';
import type { JobRow, JobStatus, Outcome, Page, RecordingInput } from './types.js';

/** Creates a job and its recordings in one transaction: a job is never visible without its files. */
export async function createJob(
  db: Db,
  job: { id: string; callbackUrl?: string | null; correlationId?: string | null; recordings: RecordingInput[] },
): Promise<JobRow> {
  const [row] = await db.$transaction([
    db.job.create({
      data: {
        id: job.id,
        total: job.recordings.length,
        callbackUrl: job.callbackUrl ?? null,
        callbackStatus: job.callbackUrl ? 'pending' : null,
        correlationId: job.correlationId ?? null,
      },
    }),
    db.recording.createMany({
      data: job.recordings.map((r, position) => ({ ...r, bytes: BigInt(r.bytes), jobId: job.id, position })),
    }),
  ]);
  return row as JobRow;
}

export async function getJob(db: Db, id: string): Promise<JobRow | null> {
  return (await db.job.findUnique({ where: { id } })) as JobRow | null;
}

/** Newest first, keyset-paginated. */
export async function listJobs(db: Db, options: { status?: JobStatus; limit: number; cursor?: string }): Promise<Page<JobRow>> {
  const after = options.cursor ? decodeTimeCursor(options.cursor) : undefined;
  const rows = (await db.job.findMany({
    where: {
      ...(options.status ? { status: options.status } : {}),
      ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: options.limit + 1,
  })) as JobRow[];
  const items = rows.slice(0, options.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > options.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
}

/** queued → running, stamping startedAt once. */
/** Where an item stands before it is processed, in one round trip: its job's status and whether it has an outcome. */
export async function itemState(db: Db, jobId: string, recordingId: string): Promise<{ jobStatus: JobStatus; hasOutcome: boolean } | null> {
  const { rows } = await db.pool.query<{ status: JobStatus; has_outcome: boolean }>({
    name: 'item-state',
    text: `SELECT j.status, EXISTS (SELECT 1 FROM predictions p WHERE p.job_id = j.id AND p.recording_id = $2::uuid) AS has_outcome
      FROM jobs j WHERE j.id = $1::uuid`,
    values: [jobId, recordingId],
  });
  const row = rows[0];
  return row ? { jobStatus: row.status, hasOutcome: row.has_outcome } : null;
}

export async function markJobRunning(db: Db, id: string): Promise<void> {
  await db.job.updateMany({ where: { id, status: 'queued' }, data: { status: 'running', startedAt: new Date() } });
}

/**
 * A job that could not be run at all (its items could not be queued): every item
 * without an outcome gets this failure as its outcome, in one statement, and the job
 * ends failed with counters that add up. Should the queue take the items after all
 * (a Redis that was only slow runs the command late), their deliveries find the
 * outcomes there and do nothing.
 */
export async function failUnfinishedItems(
  db: Db,
  jobId: string,
  failure: { errorCode: string; error: string },
  correlationId: string | null,
): Promise<void> {
  await db.pool.query({
    text: `WITH ins AS (
        INSERT INTO predictions (id, recording_id, job_id, position, filename, error_code, error, correlation_id)
        SELECT gen_random_uuid(), r.id, r.job_id, r.position, r.filename, $2::text, $3::text, $4::text
        FROM recordings r WHERE r.job_id = $1::uuid
        ON CONFLICT (job_id, recording_id) DO NOTHING
        RETURNING 1
      )
      UPDATE jobs SET failed = jobs.failed + (SELECT count(*)::int FROM ins),
        status = CASE WHEN jobs.succeeded > 0 THEN 'completed'::job_status ELSE 'failed'::job_status END,
        finished_at = coalesce(jobs.finished_at, now())
      WHERE jobs.id = $1::uuid`,
    values: [jobId, failure.errorCode, failure.error, correlationId],
  });
}

/**
 * Jobs still `queued` that were created more than `olderThanMs` ago, each with its first
 * item that has no outcome yet, oldest first: for the batch worker's orphan check.
 */
export async function staleQueuedJobs(
  db: Db,
  olderThanMs: number,
  limit = 100,
): Promise<{ jobId: string; recordingId: string; correlationId: string | null }[]> {
  const { rows } = await db.pool.query<{ job_id: string; recording_id: string; correlation_id: string | null }>({
    text: `SELECT j.id AS job_id, r.id AS recording_id, j.correlation_id
      FROM jobs j CROSS JOIN LATERAL (
        SELECT r.id FROM recordings r
        WHERE r.job_id = j.id AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.job_id = j.id AND p.recording_id = r.id)
        ORDER BY r.position LIMIT 1
      ) r
      WHERE j.status = 'queued' AND j.created_at < now() - make_interval(secs => $1::float8 / 1000)
      ORDER BY j.created_at LIMIT $2::int`,
    values: [olderThanMs, limit],
  });
  return rows.map((r) => ({ jobId: r.job_id, recordingId: r.recording_id, correlationId: r.correlation_id }));
}

export interface RecordedOutcome {
  /** False when this item already had an outcome (a retried or redelivered queue job). */
  recorded: boolean;
  job: Pick<JobRow, 'id' | 'status' | 'total' | 'succeeded' | 'failed' | 'finishedAt' | 'callbackUrl'>;
  /** True only for the one call whose outcome finished the job. */
  finishedNow: boolean;
}

/**
 * An item's outcome, its recording's audio facts and the job's counters in one
 * statement: the prediction row is inserted at most once per (job, recording), and
 * the counters move only when it was.
 */
const RECORD_OUTCOME_SQL = `
  WITH rec AS (
    UPDATE recordings SET duration_seconds = $3::float8, sample_rate = $4::int, channels = $5::int, format = $6::text
    WHERE id = $1::uuid AND $2::boolean
  ), ins AS (
    INSERT INTO predictions (id, recording_id, job_id, position, filename, model_name, model_version, emotion, confidence,
      neutral, calm, happy, sad, angry, fearful, disgust, surprised, timings, error_code, error, correlation_id)
    VALUES ($7::uuid, $1::uuid, $8::uuid, $9::int, $10::text, $11::text, $12::text, $13::emotion, $14::real,
      $15::real, $16::real, $17::real, $18::real, $19::real, $20::real, $21::real, $22::real, $23::jsonb, $24::text, $25::text, $26::text)
    ON CONFLICT (job_id, recording_id) DO NOTHING
    RETURNING error IS NULL AS ok
  ), counts AS (
    SELECT count(*) FILTER (WHERE ok)::int AS ok, count(*) FILTER (WHERE NOT ok)::int AS bad FROM ins
  )
  UPDATE jobs SET
    succeeded = jobs.succeeded + counts.ok,
    failed = jobs.failed + counts.bad,
    started_at = coalesce(jobs.started_at, now()),
    status = CASE
      WHEN jobs.succeeded + jobs.failed + counts.ok + counts.bad < jobs.total THEN 'running'::job_status
      WHEN jobs.succeeded + counts.ok > 0 THEN 'completed'::job_status
      ELSE 'failed'::job_status END,
    finished_at = CASE
      WHEN counts.ok + counts.bad > 0 AND jobs.succeeded + jobs.failed + counts.ok + counts.bad >= jobs.total THEN now()
      ELSE jobs.finished_at END
  FROM counts
  WHERE jobs.id = $8::uuid
  RETURNING counts.ok + counts.bad AS inserted, jobs.id, jobs.status, jobs.total, jobs.succeeded, jobs.failed,
    jobs.finished_at, jobs.callback_url`;

/**
 * Records one item's outcome and moves the job's counters, atomically: the insert is
 * skipped when the item already has an outcome, and the counters move only with it,
 * so an item is counted exactly once however often the queue delivers it.
 * The job completes when every item has an outcome, or fails when none succeeded.
 */
export async function recordJobItemOutcome(
  db: Db,
  item: { jobId: string; recordingId: string; position: number; filename: string; correlationId?: string | null },
  outcome: Outcome,
  /** What decoding learnt of the recording, stored with it in the same statement. */
  audio?: RecordingAudio | null,
): Promise<RecordedOutcome> {
  const { rows } = await db.pool.query<{
    inserted: number;
    id: string;
    status: JobStatus;
    total: number;
    succeeded: number;
    failed: number;
    finished_at: Date | null;
    callback_url: string | null;
  }>({
    // Named: prepared once per connection.
    name: 'record-job-item-outcome',
    text: RECORD_OUTCOME_SQL,
    values: [
      item.recordingId,
      audio != null,
      audio?.durationSeconds ?? null,
      audio?.sampleRate ?? null,
      audio?.channels ?? null,
      audio?.format ?? null,
      randomUUID(),
      item.jobId,
      item.position,
      item.filename,
      ...predictionParameters(outcome),
      item.correlationId ?? null,
    ],
  });
  const row = rows[0];
  if (!row) throw new Error(`job ${item.jobId} does not exist`);
  const recorded = row.inserted > 0;
  return {
    recorded,
    finishedNow: recorded && row.succeeded + row.failed >= row.total,
    job: {
      id: row.id,
      status: row.status,
      total: row.total,
      succeeded: row.succeeded,
      failed: row.failed,
      finishedAt: row.finished_at,
      callbackUrl: row.callback_url,
    },
  };
}

/** Notes a webhook delivery attempt. */
export async function recordCallbackAttempt(
  db: Db,
  jobId: string,
  result: { delivered: boolean; error?: string; final: boolean },
): Promise<void> {
  await db.job.update({
    where: { id: jobId },
    data: {
      callbackAttempts: { increment: 1 },
      callbackStatus: result.delivered ? 'delivered' : result.final ? 'failed' : 'pending',
      callbackError: result.delivered ? null : (result.error ?? null),
    },
  });
}
