/** GET /v1/predictions (JSON pages) and GET /v1/predictions.csv (streamed), newest first, filtered. */
import { Readable } from 'node:stream';
import { listPredictions, type PredictionFilter, streamPredictions } from '@ser/db';
import { EMOTIONS, type Emotion } from '@ser/shared';
import type { FastifyInstance } from 'fastify';
import { csvLines, textCell } from '../csv.js';
import type { RouteContext } from '../deps.js';
import { badRequest } from '../errors.js';
import { csvResponse, errorResponses, pageQuery, pageSchema, predictionSchema, uuid } from '../schemas.js';
import { predictionView } from '../views.js';

interface FilterQuery {
  emotion?: Emotion;
  minConfidence?: number;
  jobId?: string;
  since?: string;
  until?: string;
}

const isoDate = {
  type: 'string',
  anyOf: [{ format: 'date-time' }, { format: 'date' }],
  description: 'ISO 8601 date (2025-01-31) or date-time with zone (2025-01-31T12:00:00Z)',
} as const;

const filterProperties = {
  emotion: { type: 'string', enum: [...EMOTIONS] },
  minConfidence: { type: 'number', minimum: 0, maximum: 1 },
  jobId: uuid,
  since: { ...isoDate, description: `Created at or after. ${isoDate.description}` },
  until: { ...isoDate, description: `Created before. ${isoDate.description}` },
} as const;

function toFilter(query: FilterQuery): PredictionFilter {
  const since = query.since === undefined ? undefined : new Date(query.since);
  const until = query.until === undefined ? undefined : new Date(query.until);
  if (since && until && since > until) throw badRequest('since must not be after until', 'invalid_request');
  return { emotion: query.emotion, minConfidence: query.minConfidence, jobId: query.jobId, since, until };
}

export default async function predictionsList(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  const { db } = deps;

  fastify.get<{ Querystring: FilterQuery & { limit: number; cursor?: string } }>(
    '/v1/predictions',
    {
      schema: {
        tags: ['predictions'],
        summary: 'List stored predictions, newest first',
        querystring: { type: 'object', properties: { ...filterProperties, ...pageQuery } },
        response: { 200: pageSchema(predictionSchema), ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await listPredictions(db, toFilter(filter), { limit, cursor });
      return { items: page.items.map(predictionView), nextCursor: page.nextCursor };
    },
  );

  fastify.get<{ Querystring: FilterQuery }>(
    '/v1/predictions.csv',
    {
      schema: {
        tags: ['predictions'],
        summary: 'Stored predictions as CSV, streamed (the result columns, then id, jobId, createdAt)',
        querystring: { type: 'object', properties: filterProperties },
        response: { 200: csvResponse, ...errorResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const filter = toFilter(request.query);
      const extra = {
        columns: ['id', 'jobId', 'createdAt'],
        cells: (row: { id: string; jobId: string | null; createdAt: Date }) => [
          row.id,
          row.jobId ?? '',
          textCell(row.createdAt.toISOString()),
        ],
      };
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="predictions.csv"')
        .send(Readable.from(csvLines(streamPredictions(db, filter), extra)));
    },
  );
}
