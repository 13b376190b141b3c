/**
 * Correlation ids: one id follows a request from HTTP through the queue and gRPC
 * metadata into every log line. The gateway and the gRPC servers pass it explicitly
 * (their hot paths would pay for the promise hook an AsyncLocalStorage installs, see
 * @ser/grpc's unary.ts); the batch worker runs each job inside withCorrelationId, so
 * its log lines and calls pick the id up without passing it along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** HTTP header and gRPC metadata key. */
export const CORRELATION_HEADER = 'x-correlation-id';

const storage = new AsyncLocalStorage<string>();

export function newCorrelationId(): string {
  return randomUUID();
}

/** Accepts a caller's id when it is a sane token; otherwise makes a new one. */
export function acceptCorrelationId(candidate: unknown): string {
  return typeof candidate === 'string' && /^[\w.:-]{1,128}$/.test(candidate) ? candidate : newCorrelationId();
}

export function withCorrelationId<T>(id: string, fn: () => T): T {
  return storage.run(id, fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}
