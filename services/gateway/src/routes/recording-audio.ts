/** GET /v1/recordings/{id}/audio: the original upload, with single byte ranges for audio players' seeking. */
import { getRecording } from '@ser/db';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';
import { notFound } from '../errors.js';
import { errorResponses, errorSchema, idParams } from '../schemas.js';

export type ByteRange = { start: number; end: number };

/**
 * One `bytes=` range of RFC 9110 resolved against the size: [start, end] inclusive;
 * 'unsatisfiable' when it lies outside; null when the header is absent, malformed or
 * asks for several ranges (then the whole object is sent, as the RFC allows).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** RFC 6266: an ASCII fallback plus the exact UTF-8 name. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export default async function recordingAudio(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  const { db, store } = deps;

  fastify.get<{ Params: { id: string } }>(
    '/v1/recordings/:id/audio',
    {
      schema: {
        tags: ['recordings'],
        summary: 'The uploaded audio, as it was uploaded (Range requests answered 206)',
        params: idParams,
        headers: { type: 'object', properties: { range: { type: 'string', description: 'e.g. bytes=0-1023' } } },
        response: {
          200: { description: 'The whole file', content: { 'audio/*': { schema: { type: 'string', format: 'binary' } } } },
          206: { description: 'The requested range', content: { 'audio/*': { schema: { type: 'string', format: 'binary' } } } },
          416: { description: 'Range outside the file', ...errorSchema },
          ...errorResponses(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const recording = await getRecording(db, request.params.id);
      if (!recording) throw notFound(`no recording ${request.params.id}`);
      if (!recording.format) throw notFound(`recording ${recording.id} was not stored: it is not audio`);
      const size = recording.bytes;
      const range = parseRange(request.headers.range, size);
      if (range === 'unsatisfiable') {
        return reply
          .status(416)
          .header('content-range', `bytes */${size}`)
          .send({ error: { code: 'range_not_satisfiable', message: `the file has ${size} bytes` } });
      }
      reply
        .type(recording.contentType)
        .header('accept-ranges', 'bytes')
        .header('etag', `"${recording.sha256}"`)
        .header('content-disposition', contentDisposition(recording.filename))
        .header('cache-control', 'private, max-age=3600');
      if (!range) {
        const stream = await store.getStream(recording.objectKey);
        return reply.header('content-length', size).send(stream);
      }
      const stream = await store.getStream(recording.objectKey, range);
      return reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', range.end - range.start + 1)
        .send(stream);
    },
  );
}
