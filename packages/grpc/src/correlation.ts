/**
 * Correlation ids across gRPC: clients put the id of the work in progress (given, or
 * the AsyncLocalStorage's, where a caller such as the batch worker runs inside one)
 * into the `x-correlation-id` metadata; servers read it (or make one) and hand it to
 * the handler (unary.ts), which puts it on its log lines and passes it on.
 */
import { InterceptingCall, type Interceptor, Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { acceptCorrelationId, CORRELATION_HEADER, currentCorrelationId } from '@ser/observability';

/**
 * Client interceptor: adds the current correlation id (AsyncLocalStorage) to every
 * call's metadata, unless the caller set one explicitly.
 */
export const correlationInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const id = currentCorrelationId();
      if (id && metadata.get(CORRELATION_HEADER).length === 0) metadata.set(CORRELATION_HEADER, id);
      next(metadata, listener);
    },
  });

/** Metadata holding a correlation id (the current one when none is given). */
export function correlationMetadata(id: string | undefined = currentCorrelationId()): Metadata {
  const metadata = new Metadata();
  if (id) metadata.set(CORRELATION_HEADER, id);
  return metadata;
}

/** What every kind of server call has: its metadata, and a way to send response headers. */
type ServerCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'sendMetadata'>;

/** The caller's correlation id when it is sane, else a new one. */
export function callCorrelationId(call: Pick<ServerCall, 'metadata'>): string {
  return acceptCorrelationId(call.metadata.get(CORRELATION_HEADER)[0]);
}

/**
 * The call's correlation id, echoed in the response headers, so that a caller that sent
 * none learns the one the server's logs are under.
 */
export function echoCallCorrelation(call: ServerCall): string {
  const id = callCorrelationId(call);
  try {
    call.sendMetadata(correlationMetadata(id));
  } catch {
    // Headers already sent or call gone: the id is still used for the logs.
  }
  return id;
}
