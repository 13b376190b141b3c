/** GET /v1/models: what inference serves, from its ModelMetadata. */
import { callUnary } from '@ser/grpc';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';
import { errorResponses, modelIdentitySchema } from '../schemas.js';

const METADATA_DEADLINE_MS = 5_000;

const modelSchema = {
  type: 'object',
  required: ['name', 'version', 'labels', 'inputShape', 'featureSpec', 'architecture', 'parameterCount', 'metrics'],
  properties: {
    ...modelIdentitySchema.properties,
    labels: { type: 'array', items: { type: 'string' } },
    inputShape: { type: 'array', items: { type: 'integer' }, description: '-1 is the batch axis.' },
    featureSpec: {
      type: 'object',
      properties: {
        sampleRate: { type: 'integer' },
        offsetSeconds: { type: 'number' },
        durationSeconds: { type: 'number', description: '0: the whole recording from the offset on.' },
        pad: { type: 'string' },
        features: { type: 'string' },
        vectorLength: { type: 'integer' },
      },
    },
    architecture: { type: 'string' },
    parameterCount: { type: 'integer' },
    metrics: {
      type: 'object',
      additionalProperties: true,
      description: 'Accuracy figures of the model, each named by its evaluation protocol.',
    },
    notes: { type: 'array', items: { type: 'string' } },
  },
} as const;

export default async function models(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  fastify.get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'The model being served',
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: modelSchema } } },
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      const m = await callUnary(deps.inference, 'modelMetadata', {}, { deadlineMs: METADATA_DEADLINE_MS, correlationId: request.id });
      let parsed: { metrics?: Record<string, unknown>; notes?: string[] } = {};
      try {
        parsed = JSON.parse(m.metricsJson || '{}');
      } catch {
        request.log.warn('inference sent metrics that are not JSON');
      }
      return {
        items: [
          {
            name: m.model?.name ?? '',
            version: m.model?.version ?? '',
            labels: m.labels,
            inputShape: m.inputShape,
            featureSpec: m.featureSpec,
            architecture: m.architecture,
            parameterCount: m.parameterCount,
            metrics: parsed.metrics ?? {},
            notes: parsed.notes ?? [],
          },
        ],
      };
    },
  );
}
