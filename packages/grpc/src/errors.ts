/**
 * Errors as gRPC statuses. A handler throws; `toGrpcError` decides which status the
 * caller sees. A machine-readable reason (an AudioError code, MODEL_MISMATCH, ...)
 * travels in the trailing metadata key `ser-error-reason`, so clients need not parse
 * messages.
 */
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';

export { status };

/** Trailing-metadata key carrying the machine-readable reason of a failure. */
export const ERROR_REASON_KEY = 'ser-error-reason';

export class GrpcError extends Error {
  override name = 'GrpcError';
  readonly code: status;
  readonly reason: string | undefined;
  /** Trailers the server sent (set on errors received by a client). */
  readonly metadata: Metadata | undefined;

  constructor(code: status, message: string, options: { reason?: string; cause?: unknown; metadata?: Metadata } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.metadata = options.metadata;
  }

  /** e.g. INVALID_ARGUMENT. */
  get codeName(): string {
    return statusName(this.code);
  }

  /** What grpc-js sends: code, details and the reason in the trailers. */
  toServiceError(): Partial<ServiceError> {
    const metadata = new Metadata();
    if (this.reason) metadata.set(ERROR_REASON_KEY, this.reason);
    return { code: this.code, details: this.message, metadata };
  }

  /** A client-side error from grpc-js, with the server's reason read back from the trailers. */
  static fromServiceError(err: ServiceError): GrpcError {
    const reason = err.metadata?.get(ERROR_REASON_KEY)[0];
    return new GrpcError(err.code ?? status.UNKNOWN, err.details || err.message, {
      reason: typeof reason === 'string' ? reason : undefined,
      cause: err,
      metadata: err.metadata,
    });
  }
}

export function statusName(code: status): string {
  return status[code] ?? `STATUS_${code}`;
}

/** Shape of @ser/audio's AudioError, matched by name so this package needs no audio dependency. */
function isAudioError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && err.name === 'AudioError' && typeof (err as { code?: unknown }).code === 'string';
}

/** Shape of @ser/storage's StorageError (matched by name, as above). */
function isStorageError(err: unknown): err is Error & { code: 'NOT_FOUND' | 'UNAVAILABLE' | 'NOT_CONFIGURED' } {
  return err instanceof Error && err.name === 'StorageError' && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Maps anything a handler throws to the status the caller gets. Unknown errors
 * become INTERNAL with a generic message: their text may hold paths or internals,
 * and it is logged server-side anyway.
 */
export function toGrpcError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  if (isAudioError(err)) return new GrpcError(status.INVALID_ARGUMENT, err.message, { reason: err.code, cause: err });
  if (isStorageError(err)) {
    switch (err.code) {
      case 'NOT_FOUND':
        return new GrpcError(status.NOT_FOUND, err.message, { reason: 'OBJECT_NOT_FOUND', cause: err });
      case 'UNAVAILABLE':
        return new GrpcError(status.UNAVAILABLE, err.message, { reason: 'STORAGE_UNAVAILABLE', cause: err });
      default:
        return new GrpcError(status.FAILED_PRECONDITION, err.message, { reason: 'STORAGE_NOT_CONFIGURED', cause: err });
    }
  }
  return new GrpcError(status.INTERNAL, 'internal error', { reason: 'INTERNAL', cause: err });
}
