/**
 * One error shape for every failure, {"error": {"code", "message"}}, and never a
 * stack trace or an internal detail in it: unexpected errors are logged in full
 * and answered 500 "internal error".
 */
import { CursorError, isDatabaseUnavailable } from '@ser/db';
import { GrpcError, status } from '@ser/grpc';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';

/** @fastify/multipart's and fastify's own error codes, as the API names them. */
const FASTIFY_ERRORS: Record<string, [number, string]> = {
  FST_REQ_FILE_TOO_LARGE: [413, 'file_too_large'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_PARTS_LIMIT: [413, 'too_many_parts'],
  FST_FIELDS_LIMIT: [413, 'too_many_parts'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'multipart_required'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'multipart_required'],
  FST_MP_PREMATURE_CLOSE: [400, 'malformed_multipart'],
  FST_PROTO_VIOLATION: [400, 'malformed_multipart'],
  FST_INVALID_JSON_FIELD_ERROR: [400, 'malformed_multipart'],
};

const MULTIPART_REQUIRED = 'send the file(s) as multipart/form-data';

/** A failed gRPC call to the feature extractor (and through it, inference). */
export function fromGrpcError(err: GrpcError): ApiError {
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      // The audio itself is bad: the extractor's message says how, and is meant for users.
      return new ApiError(422, 'unprocessable_audio', `${err.reason ?? 'INVALID_AUDIO'}: ${err.message}`, err.reason);
    case status.DEADLINE_EXCEEDED:
      return new ApiError(504, 'timeout', 'the classification took longer than its deadline', err.reason);
    case status.UNAVAILABLE:
    case status.RESOURCE_EXHAUSTED:
    case status.FAILED_PRECONDITION:
    case status.CANCELLED:
      return new ApiError(503, 'classifier_unavailable', 'the feature extractor or inference service is unavailable', err.reason);
    default:
      return new ApiError(500, 'internal_error', 'internal error');
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof CursorError) return new ApiError(400, 'bad_cursor', err.message);
  if (err instanceof GrpcError) return fromGrpcError(err);
  if (!(err instanceof Error)) return new ApiError(500, 'internal_error', 'internal error');
  const fastifyError = err as FastifyError;
  if (fastifyError.validation) return new ApiError(400, 'invalid_request', err.message);
  if (err.name === 'StorageError') {
    const code = (err as { code?: string }).code;
    if (code === 'NOT_FOUND') return new ApiError(404, 'not_found', 'the stored audio was not found');
    return new ApiError(503, 'storage_unavailable', 'object storage is unavailable');
  }
  // Prisma's errors and pg's own (a lost connection, a connect or query timeout) alike.
  if (isDatabaseUnavailable(err)) return new ApiError(503, 'database_unavailable', 'the database is unavailable');
  const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known) {
    const message = known[1] === 'multipart_required' ? MULTIPART_REQUIRED : err.message;
    return new ApiError(known[0], known[1], message);
  }
  const statusCode = fastifyError.statusCode;
  // fastify's own 4xx errors (bad JSON, bad content length, ...) describe the request and are safe to show.
  if (statusCode && statusCode >= 400 && statusCode < 500) return new ApiError(statusCode, 'bad_request', err.message);
  return new ApiError(500, 'internal_error', 'internal error');
}

async function errors(fastify: FastifyInstance, options: { metrics: GatewayMetrics }): Promise<void> {
  const count = (kind: string) => {
    options.metrics.errors.inc({ kind });
    options.metrics.serviceErrors.inc({ kind });
  };
  fastify.setErrorHandler((err, request, reply) => {
    const apiError = toApiError(err);
    count(apiError.code);
    if (apiError.statusCode >= 500 && apiError.statusCode !== 503 && apiError.statusCode !== 504)
      request.log.error({ err }, `${apiError.code}: ${(err as Error).message}`);
    else if (apiError.statusCode >= 500) request.log.warn({ err, reason: apiError.reason }, `${apiError.code}: ${(err as Error).message}`);
    else request.log.info({ code: apiError.code, reason: apiError.reason }, apiError.message);
    const body = { code: apiError.code, message: apiError.message, ...(apiError.reason ? { reason: apiError.reason } : {}) };
    return reply.status(apiError.statusCode).type('application/json; charset=utf-8').send({ error: body });
  });

  fastify.setNotFoundHandler((request, reply) => {
    count('not_found');
    return reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

export default fp(errors, { name: 'ser-errors' });
