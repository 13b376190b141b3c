import { randomUUID } from 'node:crypto';
import { EMOTIONS, type Emotion } from '@ser/shared';
import type { Db } from './client.js';
import { decodePositionCursor, decodeTimeCursor, encodeCursor } from './cursor.js';
import type { Prisma } from './generated/client.ts';
import type { Outcome, Page, PredictionRow, RecordingInput } from './types.js';

/** Column values of an outcome (nulls for what a failed item lacks). */
export function predictionValues(outcome: Outcome) {
  const p = outcome.ok ? outcome.probabilities : null;
  return {
    modelName: outcome.ok ? outcome.model.name : null,
    modelVersion: outcome.ok ? outcome.model.version : null,
    emotion: outcome.ok ? outcome.emotion : null,
    confidence: outcome.ok ? outcome.confidence : null,
    neutral: p?.neutral ?? null,
    calm: p?.calm ?? null,
    happy: p?.happy ?? null,
    sad: p?.sad ?? null,
    angry: p?.angry ?? null,
    fearful: p?.fearful ?? null,
    disgust: p?.disgust ?? null,
    surprised: p?.surprised ?? null,
    timings: outcome.ok && outcome.timings ? JSON.stringify(outcome.timings) : null,
    errorCode: outcome.ok ? null : outcome.errorCode,
    error: outcome.ok ? null : outcome.error,
  };
}

type Row = Awaited<ReturnType<Db['prediction']['findFirstOrThrow']>>;

function toRow(row: Row): PredictionRow {
  const probabilities =
    row.emotion === null ? null : (Object.fromEntries(EMOTIONS.map((e) => [e, row[e] ?? 0])) as Record<Emotion, number>);
  return {
    id: row.id,
    recordingId: row.recordingId,
    jobId: row.jobId,
    position: row.position,
    filename: row.filename,
    modelName: row.modelName,
    modelVersion: row.modelVersion,
    emotion: row.emotion,
    confidence: row.confidence,
    probabilities,
    timings: row.timings as Record<string, number> | null,
    errorCode: row.errorCode,
    error: row.error,
    correlationId: row.correlationId,
    createdAt: row.createdAt,
  };
}

/** Stores a single-file prediction (not part of a batch job). */
/**
 * The fifteen prediction columns as SQL parameters, in the order the raw statements
 * list them: model_name, model_version, emotion, confidence, the eight probabilities,
 * timings, error_code, error.
 */
export function predictionParameters(outcome: Outcome): unknown[] {
  const v = predictionValues(outcome);
  return [
    v.modelName,
    v.modelVersion,
    v.emotion,
    v.confidence,
    v.neutral,
    v.calm,
    v.happy,
    v.sad,
    v.angry,
    v.fearful,
    v.disgust,
    v.surprised,
    v.timings,
    v.errorCode,
    v.error,
  ];
}

export async function createPrediction(
  db: Db,
  item: { recordingId: string; filename: string; correlationId?: string | null },
  outcome: Outcome,
): Promise<PredictionRow> {
  const v = predictionValues(outcome);
  const row = await db.prediction.create({
    data: {
      id: randomUUID(),
      recordingId: item.recordingId,
      filename: item.filename,
      correlationId: item.correlationId ?? null,
      ...v,
      timings: outcome.ok && outcome.timings ? outcome.timings : undefined,
    },
  });
  return toRow(row);
}

export interface PredictionFilter {
  emotion?: Emotion;
  minConfidence?: number;
  jobId?: string;
  since?: Date;
  until?: Date;
}

function where(filter: PredictionFilter): Prisma.PredictionWhereInput {
  return {
    ...(filter.emotion ? { emotion: filter.emotion } : {}),
    ...(filter.minConfidence !== undefined ? { confidence: { gte: filter.minConfidence } } : {}),
    ...(filter.jobId ? { jobId: filter.jobId } : {}),
    ...(filter.since || filter.until
      ? { createdAt: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } }
      : {}),
  };
}

/** Newest first, keyset-paginated. */
export async function listPredictions(
  db: Db,
  filter: PredictionFilter,
  options: { limit: number; cursor?: string },
): Promise<Page<PredictionRow>> {
  const after = options.cursor ? decodeTimeCursor(options.cursor) : undefined;
  const rows = await db.prediction.findMany({
    where: {
      AND: [
        where(filter),
        after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {},
      ],
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: options.limit + 1,
  });
  const items = rows.slice(0, options.limit).map(toRow);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > options.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
}

/** All matching predictions, newest first, read from the database a page at a time. */
export async function* streamPredictions(db: Db, filter: PredictionFilter, pageSize = 500): AsyncGenerator<PredictionRow> {
  let cursor: string | undefined;
  do {
    const page = await listPredictions(db, filter, { limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** A job's item outcomes in upload order, paginated by position. */
export async function listJobResults(db: Db, jobId: string, options: { limit: number; cursor?: string }): Promise<Page<PredictionRow>> {
  const after = options.cursor ? decodePositionCursor(options.cursor) : -1;
  const rows = await db.prediction.findMany({
    where: { jobId, position: { gt: after } },
    orderBy: { position: 'asc' },
    take: options.limit + 1,
  });
  const items = rows.slice(0, options.limit).map(toRow);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > options.limit && last ? encodeCursor([last.position ?? 0]) : null };
}

export async function* streamJobResults(db: Db, jobId: string, pageSize = 500): AsyncGenerator<PredictionRow> {
  let cursor: string | undefined;
  do {
    const page = await listJobResults(db, jobId, { limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/**
 * A single upload's recording and its prediction (or failure) in one statement, once
 * the outcome is known: nothing is written for a request that fails on the way.
 */
export async function recordSinglePrediction(
  db: Db,
  recording: RecordingInput,
  outcome: Outcome,
  correlationId: string | null,
): Promise<{ id: string }> {
  const id = randomUUID();
  await db.pool.query({
    name: 'record-single-prediction',
    text: `WITH rec AS (
        INSERT INTO recordings (id, object_key, filename, content_type, bytes, sha256, duration_seconds, sample_rate, channels, format)
        VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::bigint, $6::text, $7::float8, $8::int, $9::int, $10::text)
        RETURNING id
      )
      INSERT INTO predictions (id, recording_id, filename, model_name, model_version, emotion, confidence,
        neutral, calm, happy, sad, angry, fearful, disgust, surprised, timings, error_code, error, correlation_id)
      SELECT $11::uuid, rec.id, $3::text, $12::text, $13::text, $14::emotion, $15::real, $16::real, $17::real, $18::real,
        $19::real, $20::real, $21::real, $22::real, $23::real, $24::jsonb, $25::text, $26::text, $27::text
      FROM rec`,
    values: [
      recording.id,
      recording.objectKey,
      recording.filename,
      recording.contentType,
      recording.bytes,
      recording.sha256,
      recording.durationSeconds ?? null,
      recording.sampleRate ?? null,
      recording.channels ?? null,
      recording.format ?? null,
      id,
      ...predictionParameters(outcome),
      correlationId,
    ],
  });
  return { id };
}
