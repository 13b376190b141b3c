/** A job's item outcomes in upload order: GET /v1/jobs/{id}/results (JSON pages) and results.csv (streamed). */
import { Readable } from 'node:stream';
import { getJob, listJobResults, streamJobResults } from '@ser/db';
import type { FastifyInstance } from 'fastify';
import { csvLines } from '../csv.js';
import type { RouteContext } from '../deps.js';
import { notFound } from '../errors.js';
import { csvResponse, errorResponses, idParams, pageQuery, pageSchema, predictionSchema } from '../schemas.js';
import { predictionView } from '../views.js';

export default async function jobResults(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  const { db } = deps;

  async function requireJob(id: string): Promise<void> {
    if (!(await getJob(db, id))) throw notFound(`no job ${id}`);
  }

  fastify.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
    '/v1/jobs/:id/results',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's results in upload order (items not finished yet are absent)",
        params: idParams,
        querystring: { type: 'object', properties: { ...pageQuery } },
        response: { 200: pageSchema(predictionSchema), ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      await requireJob(request.params.id);
      const page = await listJobResults(db, request.params.id, request.query);
      return { items: page.items.map(predictionView), nextCursor: page.nextCursor };
    },
  );

  fastify.get<{ Params: { id: string } }>(
    '/v1/jobs/:id/results.csv',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's results as CSV, streamed",
        params: idParams,
        response: { 200: csvResponse, ...errorResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireJob(id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="job-${id}-results.csv"`)
        .send(Readable.from(csvLines(streamJobResults(db, id))));
    },
  );
}
