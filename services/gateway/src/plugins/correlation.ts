/**
 * Correlation ids: the request id (fastify's genReqId, see app.ts) is the caller's
 * x-correlation-id when it is sane, or a new one. It is echoed in the response and
 * the rest of the request runs inside withCorrelationId, so log lines, gRPC
 * metadata and queue payloads all carry it.
 */
import { CORRELATION_HEADER, withCorrelationId } from '@ser/observability';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function correlation(fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(CORRELATION_HEADER, request.id);
    withCorrelationId(request.id, () => done());
  });
  // Body parsers run on the socket's events, outside the context entered above: enter it again.
  fastify.addHook('preValidation', (request, _reply, done) => {
    withCorrelationId(request.id, () => done());
  });
}

export default fp(correlation, { name: 'ser-correlation' });
