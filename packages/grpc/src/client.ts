/**
 * Calling a unary method as a promise, with a deadline, the correlation id and the
 * server's error reason:
 *
 *   const client = createClient(FeatureExtractorServiceClient, 'extractor:50052');
 *   const res = await callUnary(client, 'classify', request, { deadlineMs: 10_000 });
 *
 * Failures reject with a GrpcError: `code` (grpc status), `reason` (from the
 * `ser-error-reason` trailer), `message` (the server's details).
 */
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientOptions,
  type ClientUnaryCall,
  credentials,
  type Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { CORRELATION_HEADER } from '@ser/observability';
import { correlationInterceptor, correlationMetadata } from './correlation.js';
import { GrpcError } from './errors.js';

/** Used when neither the call nor createClient names a deadline. */
export const DEFAULT_DEADLINE_MS = 10_000;

type UnaryFn<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** The request type of a generated client method (its last overload is the 4-argument one). */
export type RequestOf<F> = F extends UnaryFn<infer Req, unknown> ? Req : never;
export type ResponseOf<F> = F extends UnaryFn<never, infer Res> ? Res : never;
/** Names of a client's unary methods. */
export type UnaryMethodName<C> = { [K in keyof C & string]: C[K] extends UnaryFn<never, unknown> ? K : never }[keyof C & string];

export interface CallSettings {
  /** Milliseconds from now; default: the client's (createClient) or DEFAULT_DEADLINE_MS. */
  deadlineMs?: number;
  /** An absolute deadline (e.g. the one of the call being served); the earlier of the two wins. */
  deadline?: Date | number;
  /** The call's correlation id; default: the current one (AsyncLocalStorage), if any. */
  correlationId?: string;
  /** Extra metadata (unary calls only: a call stream carries the correlation id in its header). */
  metadata?: Metadata;
  /** Cancels the call (it then rejects with CANCELLED). */
  signal?: AbortSignal;
}

export interface CreateClientOptions {
  /** Default deadline of calls made through callUnary with this client. */
  deadlineMs?: number;
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

const defaultDeadlines = new WeakMap<Client, number>();

/**
 * Makes a client with the correlation interceptor installed, and reconnection
 * backoff capped at 2 s: after a server restart the next calls succeed within
 * seconds instead of after grpc-js's default backoff of up to two minutes.
 */
export function createClient<C extends Client>(
  Ctor: new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>) => C,
  address: string,
  options: CreateClientOptions = {},
): C {
  const client = new Ctor(address, options.credentials ?? credentials.createInsecure(), {
    interceptors: [correlationInterceptor],
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2000,
    'grpc.keepalive_time_ms': 30_000,
    ...options.channelOptions,
  });
  if (options.deadlineMs !== undefined) defaultDeadlines.set(client, options.deadlineMs);
  return client;
}

/** The client's default deadline (createClient's `deadlineMs`), if it has one. */
export function defaultDeadlineOf(client: Client): number | undefined {
  return defaultDeadlines.get(client);
}

/** A call's deadline in epoch milliseconds: the earlier of its relative and absolute ones. */
export function deadlineFor(settings: CallSettings, defaultMs = DEFAULT_DEADLINE_MS): number {
  const relative = Date.now() + (settings.deadlineMs ?? defaultMs);
  const absolute = settings.deadline === undefined ? Number.POSITIVE_INFINITY : Number(settings.deadline);
  return Math.min(relative, absolute);
}

/** Calls a unary method of a generated client; resolves with its response or rejects with a GrpcError. */
export function callUnary<C extends Client, K extends UnaryMethodName<C>>(
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  settings: CallSettings = {},
): Promise<ResponseOf<C[K]>> {
  const fn = client[method] as unknown as UnaryFn<RequestOf<C[K]>, ResponseOf<C[K]>>;
  const metadata = settings.metadata?.clone() ?? correlationMetadata();
  if (settings.correlationId) metadata.set(CORRELATION_HEADER, settings.correlationId);
  const deadline = new Date(deadlineFor(settings, defaultDeadlineOf(client)));
  return new Promise((resolve, reject) => {
    if (settings.signal?.aborted) {
      reject(new GrpcError(status.CANCELLED, 'cancelled before the call started'));
      return;
    }
    const call = fn.call(client, request, metadata, { deadline }, (err, response) => {
      settings.signal?.removeEventListener('abort', abort);
      if (err) reject(GrpcError.fromServiceError(err));
      else resolve(response);
    });
    const abort = () => call.cancel();
    settings.signal?.addEventListener('abort', abort, { once: true });
  });
}

/** True for errors a retry (later, or on another replica) may cure. */
export function isRetryable(err: unknown): boolean {
  return err instanceof GrpcError && (err.code === status.UNAVAILABLE || err.code === status.RESOURCE_EXHAUSTED);
}
