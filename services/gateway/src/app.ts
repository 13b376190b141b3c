/**
 * The gateway as a fastify plugin, built from injected dependencies (database,
 * object store, queue, gRPC clients, config, logger), so server.ts runs it with
 * the real ones and tests build it the same way and call it with `inject`.
 */
import multipart from '@fastify/multipart';
import { acceptCorrelationId, CORRELATION_HEADER, createRegistry } from '@ser/observability';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayDeps, RouteContext } from './deps.js';
import { createGatewayMetrics } from './metrics.js';
import apiKeys from './plugins/api-keys.js';
import correlation from './plugins/correlation.js';
import errors from './plugins/errors.js';
import requestMetrics from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import unreadBody from './plugins/unread-body.js';
import health from './routes/health.js';
import jobResults from './routes/job-results.js';
import jobsCreate from './routes/jobs-create.js';
import jobsRead from './routes/jobs-read.js';
import metricsRoute from './routes/metrics.js';
import models from './routes/models.js';
import page from './routes/page.js';
import predictionsCreate from './routes/predictions-create.js';
import predictionsList from './routes/predictions-list.js';
import recordingAudio from './routes/recording-audio.js';

const ROUTES = [health, metricsRoute, predictionsCreate, predictionsList, jobsCreate, jobsRead, jobResults, recordingAudio, models, page];

/**
 * Server options the app relies on: the request id is the correlation id (the
 * caller's when sane), and every line of a request's logger (request.log, fastify's
 * own lines too) carries it as `correlationId`.
 */
export function serverOptions(logger: GatewayDeps['logger']): FastifyServerOptions {
  return {
    loggerInstance: logger as FastifyBaseLogger,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    genReqId: (req) => acceptCorrelationId(req.headers[CORRELATION_HEADER]),
    // While closing, new requests get 503 and keep-alive sockets are dropped once idle.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  };
}

async function gateway(fastify: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const metrics = createGatewayMetrics(deps.registry ?? createRegistry('gateway'));
  await fastify.register(correlation);
  await fastify.register(errors, { metrics });
  await fastify.register(requestMetrics, { metrics });
  await fastify.register(unreadBody);
  // Before the routes (and the OpenAPI plugin): it marks the /v1 routes as needing a key.
  await fastify.register(apiKeys, { deps });
  // Limits are set again per route; these are the ceiling for anything else.
  await fastify.register(multipart, { limits: { fileSize: deps.config.maxFileBytes, files: deps.config.maxFiles } });
  // Before the routes: @fastify/swagger learns them as they are added.
  await fastify.register(openapi);
  const context: RouteContext = { deps, metrics };
  for (const routes of ROUTES) await fastify.register(routes, context);
}

export const gatewayApp = fp(gateway, { name: 'ser-gateway', fastify: '5.x' });

/** A ready-to-listen (or inject) fastify instance with the whole gateway. */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(deps.logger));
  await app.register(gatewayApp, deps);
  await app.ready();
  return app;
}
