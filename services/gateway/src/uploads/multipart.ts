/** Reading multipart bodies part by part, with parser failures turned into 400s. */
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

export interface MultipartLimits {
  fileSize: number;
  files: number;
}

/**
 * Errors of the client's body (busboy's "Unexpected end of form", a part cut off)
 * become 400 malformed_multipart. Errors that already know their status (our
 * ApiErrors, @fastify/multipart's limit errors) and storage failures pass through.
 */
export function asMultipartError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if (!(err instanceof Error)) return new ApiError(400, 'malformed_multipart', 'malformed multipart body');
  if ('statusCode' in err || err.name === 'StorageError') return err;
  return new ApiError(400, 'malformed_multipart', `malformed multipart body: ${err.message}`);
}

/** The parts of a multipart request as they arrive; a file part must be consumed before the next one comes. */
export async function* multipartParts(request: FastifyRequest, limits: MultipartLimits): AsyncGenerator<Multipart> {
  let parts: AsyncIterableIterator<Multipart>;
  try {
    // Fields are small (callbackUrl); a generous count leaves room for them beside the files.
    parts = request.parts({ limits: { ...limits, parts: limits.files + 32, fields: 32, fieldSize: 64 * 1024 } });
  } catch (err) {
    throw asMultipartError(err);
  }
  for (;;) {
    let next: IteratorResult<Multipart>;
    try {
      next = await parts.next();
    } catch (err) {
      throw asMultipartError(err);
    }
    if (next.done) return;
    yield next.value;
  }
}
