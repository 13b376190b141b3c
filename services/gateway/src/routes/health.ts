/** GET /healthz (the process is up) and GET /readyz (every backend answers). */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';
import { readinessChecks, runChecks } from '../readiness.js';

const checkSchema = {
  type: 'object',
  required: ['ok', 'ms'],
  properties: { ok: { type: 'boolean' }, ms: { type: 'integer' }, error: { type: 'string' } },
} as const;

const readySchema = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: { type: 'object', additionalProperties: checkSchema },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export default async function health(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  const checks = readinessChecks(deps);

  fastify.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  fastify.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: database, Redis, storage, inference and feature extractor all answer',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (request, reply) => {
      const results = await runChecks(checks, deps.config.readyTimeoutMs, request.log);
      const failing = Object.entries(results)
        .filter(([, r]) => !r.ok)
        .map(([name]) => name);
      if (failing.length === 0) return { status: 'ready', checks: results };
      return reply.status(503).send({
        status: 'not_ready',
        checks: results,
        error: { code: 'not_ready', message: `not ready: ${failing.join(', ')}` },
      });
    },
  );
}
