/**
 * JSON schemas shared by the routes: fastify validates requests and serializes
 * responses with them, and @fastify/swagger publishes them in /openapi.json.
 */
import { EMOTIONS } from '@ser/shared';

export const uuid = { type: 'string', format: 'uuid' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable snake_case token, e.g. not_found, file_too_large.' },
        message: { type: 'string' },
        reason: { type: 'string', description: 'Backend reason when there is one, e.g. the audio error DECODE_FAILED.' },
      },
    },
  },
} as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request (parameters, multipart body, an empty file or cursor)',
  404: 'Not found',
  413: 'A file over MAX_FILE_BYTES, or more files than MAX_FILES',
  415: 'Not multipart, or a file that is not a supported audio format',
  422: 'The audio could not be decoded',
  503: 'A backend (database, queue, storage, feature extractor, inference) is unavailable',
  504: 'The classification took longer than its deadline',
};

/** Response schemas for the given error statuses (plus 500), in the one error shape. */
export function errorResponses(...statuses: number[]) {
  const out: Record<string, unknown> = {};
  for (const status of [...statuses, 500]) out[status] = { description: ERROR_DESCRIPTIONS[status] ?? 'Internal error', ...errorSchema };
  return out;
}

export const probabilitiesSchema = {
  type: 'object',
  description: 'One probability per emotion; they sum to 1.',
  required: [...EMOTIONS],
  properties: Object.fromEntries(EMOTIONS.map((e) => [e, { type: 'number' }])),
} as const;

export const modelIdentitySchema = {
  type: 'object',
  required: ['name', 'version'],
  properties: { name: { type: 'string' }, version: { type: 'string' } },
} as const;

export const timingsSchema = {
  type: 'object',
  description: 'Milliseconds per stage.',
  additionalProperties: { type: 'number' },
} as const;

/** A classification answered at once by POST /v1/predictions. */
export const createdPredictionSchema = {
  type: 'object',
  required: ['id', 'recordingId', 'filename', 'emotion', 'confidence', 'probabilities', 'model', 'durationSeconds', 'timings'],
  properties: {
    id: uuid,
    recordingId: uuid,
    filename: { type: 'string' },
    emotion: { type: 'string', enum: [...EMOTIONS] },
    confidence: { type: 'number' },
    probabilities: probabilitiesSchema,
    model: modelIdentitySchema,
    durationSeconds: { type: 'number' },
    timings: timingsSchema,
  },
} as const;

/** A stored outcome: a classification, or the error that stopped it. */
export const predictionSchema = {
  type: 'object',
  required: ['id', 'recordingId', 'jobId', 'filename', 'emotion', 'confidence', 'probabilities', 'model', 'error', 'createdAt'],
  properties: {
    id: uuid,
    recordingId: uuid,
    jobId: { type: ['string', 'null'], format: 'uuid' },
    position: { type: ['integer', 'null'] },
    filename: { type: 'string' },
    emotion: { type: ['string', 'null'], enum: [...EMOTIONS, null] },
    confidence: { type: ['number', 'null'] },
    probabilities: { ...probabilitiesSchema, type: ['object', 'null'] },
    model: { ...modelIdentitySchema, type: ['object', 'null'] },
    error: {
      type: ['object', 'null'],
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    createdAt: dateTime,
  },
} as const;

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;

export const jobSchema = {
  type: 'object',
  required: ['id', 'status', 'total', 'succeeded', 'failed', 'createdAt', 'startedAt', 'finishedAt'],
  properties: {
    id: uuid,
    status: { type: 'string', enum: [...JOB_STATUSES] },
    total: { type: 'integer' },
    succeeded: { type: 'integer' },
    failed: { type: 'integer' },
    createdAt: dateTime,
    startedAt: nullableDateTime,
    finishedAt: nullableDateTime,
    callback: {
      type: 'object',
      description: 'Present when the job was created with a callbackUrl.',
      required: ['url', 'status', 'attempts'],
      properties: {
        url: { type: 'string' },
        status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
        attempts: { type: 'integer' },
        error: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** A page of a keyset-paginated list. */
export function pageSchema(item: object) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: item },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
    },
  } as const;
}

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'nextCursor of the previous page.' },
} as const;

export const idParams = { type: 'object', required: ['id'], properties: { id: uuid } } as const;

/** A CSV download in the docs (the body is streamed, not serialized). */
export const csvResponse = {
  description: 'CSV (RFC 4180), columns filename,emotion,confidence,neutral,calm,happy,sad,angry,fearful,disgust,surprised,error',
  content: { 'text/csv': { schema: { type: 'string' } } },
} as const;
