/** GET /metrics: Prometheus text format. */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';

export default async function metricsRoute(fastify: FastifyInstance, { metrics }: RouteContext): Promise<void> {
  fastify.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
