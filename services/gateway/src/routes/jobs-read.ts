/** GET /v1/jobs and GET /v1/jobs/{id}. */
import { getJob, type JobStatus, listJobs } from '@ser/db';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';
import { notFound } from '../errors.js';
import { errorResponses, idParams, JOB_STATUSES, jobSchema, pageQuery, pageSchema } from '../schemas.js';
import { jobView } from '../views.js';

interface ListQuery {
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

export default async function jobsRead(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  const { db } = deps;

  fastify.get<{ Querystring: ListQuery }>(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'List jobs, newest first',
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: [...JOB_STATUSES] }, ...pageQuery },
        },
        response: { 200: pageSchema(jobSchema), ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await listJobs(db, { status, limit, cursor });
      return { items: page.items.map(jobView), nextCursor: page.nextCursor };
    },
  );

  fastify.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'A job: status and counters',
        params: idParams,
        response: { 200: jobSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      const job = await getJob(db, request.params.id);
      if (!job) throw notFound(`no job ${request.params.id}`);
      return jobView(job);
    },
  );
}
