/**
 * Correlation ids: the request id (fastify's genReqId, see app.ts) is the caller's
 * x-correlation-id when it is sane, or a new one. It is echoed in the response; the
 * request's log lines carry it (app.ts), and the routes pass it on explicitly to gRPC
 * calls, queue payloads and stored rows.
 */
import { CORRELATION_HEADER } from '@ser/observability';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function correlation(fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(CORRELATION_HEADER, request.id);
    done();
  });
}

export default fp(correlation, { name: 'ser-correlation' });
