/**
 * The OpenAPI document, generated from the routes' schemas (@fastify/swagger), at
 * /openapi.json, and interactive docs at /docs (@fastify/swagger-ui, whose assets
 * are served from the package itself: the page loads nothing from other hosts;
 * validatorUrl stays null so no badge is fetched from validator.swagger.io).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SECURITY_SCHEMES } from './api-keys.js';

async function openapi(fastify: FastifyInstance): Promise<void> {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Speech emotion recognition API',
        description:
          'Classifies speech or song into eight emotions (RAVDESS labels): one file at once, or many as a batch job. ' +
          'Errors are always {"error": {"code", "message"}}. Every response carries x-correlation-id.',
        version: '1.0.0',
      },
      tags: [
        { name: 'predictions', description: 'Classify one file now; list and export stored predictions' },
        { name: 'jobs', description: 'Batch jobs: many files, classified by the batch workers' },
        { name: 'recordings', description: 'Uploaded audio' },
        { name: 'models', description: 'The served model' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
      // Used by the /v1 routes when the gateway requires API keys (API_KEYS_REQUIRED=true).
      components: { securitySchemes: SECURITY_SCHEMES },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null } });

  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger());
}

export default fp(openapi, { name: 'ser-openapi' });
