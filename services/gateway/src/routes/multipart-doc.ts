/**
 * Multipart request bodies in the OpenAPI document only. The body is read as a
 * stream by the handler, so it must not be a validation schema (fastify would
 * validate the still-unparsed body); the routes' swaggerTransform adds it to the docs.
 */
import type { FastifySchema } from 'fastify';

export function multipartBody(properties: Record<string, object>, required: string[]) {
  return ({ schema, url }: { schema: FastifySchema; url: string }) => ({
    url,
    schema: { ...schema, consumes: ['multipart/form-data'], body: { type: 'object', required, properties } },
  });
}

export const audioFile = { type: 'string', format: 'binary', description: 'An audio file (WAV, FLAC, MP3, Ogg, Opus, M4A/AAC, WebM).' };
