/** Request counts and latencies by route pattern (never the raw URL: ids would explode the label set). */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayMetrics } from '../metrics.js';

async function requestMetrics(fastify: FastifyInstance, options: { metrics: GatewayMetrics }): Promise<void> {
  const { metrics } = options;
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}

export default fp(requestMetrics, { name: 'ser-request-metrics' });
