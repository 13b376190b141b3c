/**
 * Errors the API answers with on purpose. Every error response has the shape
 * {"error": {"code", "message"}}; `code` is a stable snake_case token clients may
 * branch on, `message` is for people.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Machine-readable cause from a backend (e.g. the audio error code DECODE_FAILED). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'bad_request') => new ApiError(400, code, message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const unavailable = (message: string, code = 'service_unavailable') => new ApiError(503, code, message);
