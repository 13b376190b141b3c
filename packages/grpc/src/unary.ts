/**
 * Unary handlers as async functions: the wrapper runs the handler inside the call's
 * correlation id, turns what it throws into a gRPC status (see errors.ts), and
 * records latency and outcome per method and status code.
 */
import { type handleUnaryCall, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { Counter, errorsCounter, Histogram, LATENCY_BUCKETS, type Logger, type Registry } from '@ser/observability';
import { withCallCorrelation } from './correlation.js';
import { statusName, toGrpcError } from './errors.js';

export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

export interface GrpcServerMetrics {
  handling: Histogram<'method' | 'code'>;
  handled: Counter<'method' | 'code'>;
  /** `ser_errors_total{kind}`: failed calls by reason (or status name when none). */
  errors: Counter<'kind'>;
}

/** The standard server metrics, registered once per registry (several servers may share one). */
export function grpcServerMetrics(registry: Registry): GrpcServerMetrics {
  const handling =
    (registry.getSingleMetric('ser_grpc_server_handling_seconds') as Histogram<'method' | 'code'> | undefined) ??
    new Histogram({
      name: 'ser_grpc_server_handling_seconds',
      help: 'Time to answer a gRPC call, by method and status code.',
      labelNames: ['method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  const handled =
    (registry.getSingleMetric('ser_grpc_server_handled_total') as Counter<'method' | 'code'> | undefined) ??
    new Counter({
      name: 'ser_grpc_server_handled_total',
      help: 'gRPC calls answered, by method and status code.',
      labelNames: ['method', 'code'],
      registers: [registry],
    });
  return { handling, handled, errors: errorsCounter(registry) };
}

/** Statuses that describe the caller's request, not a fault of this server. */
const CALLER_STATUSES = new Set<status>([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.DEADLINE_EXCEEDED,
  status.CANCELLED,
  status.OUT_OF_RANGE,
  status.ALREADY_EXISTS,
  status.RESOURCE_EXHAUSTED,
]);

export interface UnaryOptions {
  registry: Registry;
  logger: Logger;
}

/**
 * Returns `unary(method, handler)`, which makes a grpc-js handler from an async function.
 * `method` is the metrics label (e.g. 'Predict').
 */
export function unaryWrapper(options: UnaryOptions) {
  const metrics = grpcServerMetrics(options.registry);
  const { logger } = options;
  return function unary<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      withCallCorrelation(call, () => {
        const started = process.hrtime.bigint();
        const finish = (code: status) => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const labels = { method, code: statusName(code) };
          metrics.handling.observe(labels, seconds);
          metrics.handled.inc(labels);
          return seconds * 1000;
        };
        Promise.resolve()
          .then(() => handler(call.request, call))
          .then(
            (response) => {
              const ms = finish(status.OK);
              logger.debug({ method, code: 'OK', ms: round(ms) }, 'grpc call');
              callback(null, response);
            },
            (err: unknown) => {
              const grpcError = toGrpcError(err);
              const ms = finish(grpcError.code);
              metrics.errors.inc({ kind: grpcError.reason ?? grpcError.codeName });
              const fields = { method, code: grpcError.codeName, reason: grpcError.reason, ms: round(ms) };
              if (grpcError.code === status.INTERNAL || grpcError.code === status.UNKNOWN)
                logger.error({ ...fields, err: grpcError.cause ?? grpcError }, 'grpc call failed');
              else if (CALLER_STATUSES.has(grpcError.code)) logger.info({ ...fields, message: grpcError.message }, 'grpc call refused');
              else logger.warn({ ...fields, message: grpcError.message }, 'grpc call failed');
              callback(grpcError.toServiceError(), null);
            },
          );
      });
    };
  };
}

/** What unaryWrapper returns: `unary(method, handler)`. */
export type Unary = ReturnType<typeof unaryWrapper>;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
