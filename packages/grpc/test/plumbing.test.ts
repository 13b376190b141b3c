/**
 * The shared gRPC plumbing over a real loopback server: correlation ids, error
 * statuses and reasons, deadlines, metrics, health, float32 tensors, /metrics,
 * and call streams (many calls of a unary method over one stream).
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server } from '@grpc/grpc-js';
import { createLogger, Registry, withCorrelationId } from '@ser/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioError } from '../../audio/src/errors.js';
import { StorageError } from '../../storage/src/object-store.js';
import {
  bindServer,
  bytesToFloat32,
  type CallContext,
  callStream,
  callUnary,
  closeClient,
  createClient,
  float32ToBytes,
  GrpcError,
  HealthClient,
  HealthImplementation,
  InferenceServiceClient as InferenceClientCtor,
  type InferenceServiceClient,
  InferenceServiceService,
  type PredictRequest,
  ServingStatus,
  shutdownServer,
  startMetricsServer,
  status,
  unaryWrapper,
} from '../src/index.js';

const registry = new Registry();
const health = new HealthImplementation({ '': ServingStatus.SERVING, 'ser.v1.InferenceService': ServingStatus.SERVING });
const seenCorrelationIds: string[] = [];
let server: Server;
let client: InferenceServiceClient;
let healthClient: HealthClient;

/** Predict's scaler_digest picks what the test handler does. */
async function behave(command: string, raw: Buffer, call: CallContext): Promise<number[]> {
  switch (command) {
    case 'audio':
      throw new AudioError('TRUNCATED', 'FLAC stream ends early');
    case 'missing':
      throw new StorageError('object storage: get a.wav: not found', 'NOT_FOUND');
    case 'storage-down':
      throw new StorageError('object storage: connect ECONNREFUSED', 'UNAVAILABLE');
    case 'mismatch':
      throw new GrpcError(status.FAILED_PRECONDITION, 'scaled for another model', { reason: 'SCALER_MISMATCH' });
    case 'boom':
      throw new Error('secret /etc/path leaked');
    case 'slow':
      await sleep(400);
      return [];
    case 'correlation':
      seenCorrelationIds.push(call.correlationId);
      return [];
    default:
      return Array.from(bytesToFloat32(raw), (x) => x * 2);
  }
}

/** A server of the test handlers; `unary` is its wrapper (for endStreams). */
function testServer() {
  const unary = unaryWrapper({ registry, logger: createLogger('grpc-test', { level: 'silent' }) });
  const predictHandler = async (request: PredictRequest, call: CallContext) => ({
    labels: [],
    rows: request.rows,
    probabilities: await behave(request.scalerDigest, request.rawInput, call),
    batchSize: 1,
    queueMs: 0,
    computeMs: 0,
  });
  const server = new Server();
  server.addService(InferenceServiceService, {
    serverLive: unary('ServerLive', (_request, call) => {
      seenCorrelationIds.push(call.correlationId);
      return { live: true };
    }),
    serverReady: unary('ServerReady', () => ({ ready: true })),
    modelMetadata: unary('ModelMetadata', () => {
      throw new Error('not here');
    }),
    predict: unary('Predict', predictHandler),
    predictStream: unary.stream('Predict', predictHandler),
  });
  return { server, unary };
}

beforeAll(async () => {
  server = testServer().server;
  health.addTo(server);
  const port = await bindServer(server, '127.0.0.1', 0);
  client = createClient(InferenceClientCtor, `127.0.0.1:${port}`, { deadlineMs: 2000 });
  healthClient = createClient(HealthClient, `127.0.0.1:${port}`);
});

afterAll(async () => {
  if (client) closeClient(client);
  healthClient?.close();
  health.endWatches();
  if (server) await shutdownServer(server, 1000);
});

const predict = (command: string, values: number[] = []) =>
  callUnary(client, 'predict', { scalerDigest: command, rows: 1, rawInput: float32ToBytes(Float32Array.from(values)) });

async function rejection(promise: Promise<unknown>): Promise<GrpcError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcError);
  return err as GrpcError;
}

describe('correlation ids', () => {
  it('travels from the caller’s context into the handler’s', async () => {
    await withCorrelationId('job-42.item-7', () => callUnary(client, 'serverLive', {}));
    expect(seenCorrelationIds.at(-1)).toBe('job-42.item-7');
  });

  it('can be given explicitly, and is made up by the server when absent', async () => {
    await callUnary(client, 'serverLive', {}, { correlationId: 'explicit-1' });
    expect(seenCorrelationIds.at(-1)).toBe('explicit-1');
    await callUnary(client, 'serverLive', {});
    expect(seenCorrelationIds.at(-1)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('errors', () => {
  it('maps AudioError to INVALID_ARGUMENT with its code as the reason', async () => {
    const err = await rejection(predict('audio'));
    expect([err.code, err.reason, err.message]).toEqual([status.INVALID_ARGUMENT, 'TRUNCATED', 'FLAC stream ends early']);
  });

  it('maps StorageError to NOT_FOUND and UNAVAILABLE', async () => {
    expect(await rejection(predict('missing'))).toMatchObject({ code: status.NOT_FOUND, reason: 'OBJECT_NOT_FOUND' });
    expect(await rejection(predict('storage-down'))).toMatchObject({ code: status.UNAVAILABLE, reason: 'STORAGE_UNAVAILABLE' });
  });

  it('passes a GrpcError through, and hides unknown errors behind INTERNAL', async () => {
    expect(await rejection(predict('mismatch'))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'SCALER_MISMATCH' });
    const err = await rejection(predict('boom'));
    expect([err.code, err.message, err.codeName]).toEqual([status.INTERNAL, 'internal error', 'INTERNAL']);
  });

  it('enforces the deadline and cancels on abort', async () => {
    const late = await rejection(
      callUnary(client, 'predict', { scalerDigest: 'slow', rows: 0, rawInput: Buffer.alloc(0) }, { deadlineMs: 50 }),
    );
    expect(late.code).toBe(status.DEADLINE_EXCEEDED);
    const controller = new AbortController();
    const call = predict('slow');
    const aborted = callUnary(
      client,
      'predict',
      { scalerDigest: 'slow', rows: 0, rawInput: Buffer.alloc(0) },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    expect((await rejection(aborted)).code).toBe(status.CANCELLED);
    await call;
  });

  it('counts calls by method and status code', async () => {
    const text = await registry.getSingleMetricAsString('ser_grpc_server_handled_total');
    expect(text).toMatch(/ser_grpc_server_handled_total\{method="Predict",code="INVALID_ARGUMENT"\} 1/);
    expect(text).toMatch(/ser_grpc_server_handled_total\{method="ServerLive",code="OK"\} 3/);
    expect(await registry.getSingleMetricAsString('ser_grpc_server_handling_seconds')).toMatch(
      /ser_grpc_server_handling_seconds_count\{method="Predict",code="INTERNAL"\} 1/,
    );
  });
});

describe('float32 tensors', () => {
  it('round-trip through a call', async () => {
    const res = await predict('echo', [1.5, -2, 3.25]);
    expect(res.probabilities).toEqual([3, -4, 6.5]);
  });

  it('are views when aligned, copies when not', () => {
    const values = Float32Array.from([1, 2, 3, 4]);
    const bytes = float32ToBytes(values);
    expect(bytes.buffer).toBe(values.buffer);
    expect(bytesToFloat32(bytes).buffer).toBe(values.buffer);
    const odd = Buffer.alloc(17);
    bytes.copy(odd, 1);
    const copied = bytesToFloat32(odd.subarray(1));
    expect(Array.from(copied)).toEqual([1, 2, 3, 4]);
    expect(copied.buffer).not.toBe(odd.buffer);
    expect(() => bytesToFloat32(Buffer.alloc(6))).toThrow(RangeError);
  });
});

describe('health', () => {
  it('answers Check and List, and NOT_FOUND for an unknown service', async () => {
    expect(await callUnary(healthClient, 'check', { service: '' })).toEqual({ status: ServingStatus.SERVING });
    expect((await rejection(callUnary(healthClient, 'check', { service: 'nope' }))).code).toBe(status.NOT_FOUND);
    const list = await callUnary(healthClient, 'list', {});
    expect(Object.keys(list.statuses).sort()).toEqual(['', 'ser.v1.InferenceService']);
  });

  it('streams changes to watchers', async () => {
    const stream = healthClient.watch({ service: 'ser.v1.InferenceService' });
    const seen: ServingStatus[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (message: { status: ServingStatus }) => {
        seen.push(message.status);
        if (seen.length === 1) health.setStatus('ser.v1.InferenceService', ServingStatus.NOT_SERVING);
        else resolve();
      });
      stream.on('error', reject);
    });
    stream.cancel();
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    health.setStatus('ser.v1.InferenceService', ServingStatus.SERVING);
  });
});

describe('/metrics server', () => {
  it('is disabled by port 0 and serves the registry otherwise', async () => {
    expect(await startMetricsServer(registry, 0)).toBeUndefined();
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const metrics = await startMetricsServer(registry, port, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('ser_grpc_server_handled_total');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    } finally {
      await metrics?.close();
    }
  });
});

describe('call streams', () => {
  const streamed = (command: string, values: number[] = [], settings = {}) =>
    callStream(client, 'predictStream', { scalerDigest: command, rows: 1, rawInput: float32ToBytes(Float32Array.from(values)) }, settings);

  it('carry concurrent calls over one stream, each answered when done', async () => {
    const finished: string[] = [];
    const slow = streamed('slow').then(() => finished.push('slow'));
    const fast = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const { probabilities } = await streamed('echo', [i, -i]);
        finished.push('echo');
        return probabilities;
      }),
    );
    expect(fast).toEqual(Array.from({ length: 50 }, (_, i) => [2 * i, -2 * i]));
    await slow;
    expect(finished.at(-1)).toBe('slow');
  });

  it('carry the correlation id: given, or the caller’s, or made up', async () => {
    await streamed('correlation', [], { correlationId: 'explicit-2' });
    expect(seenCorrelationIds.at(-1)).toBe('explicit-2');
    await withCorrelationId('job-43.item-1', () => streamed('correlation'));
    expect(seenCorrelationIds.at(-1)).toBe('job-43.item-1');
    await streamed('correlation');
    expect(seenCorrelationIds.at(-1)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fail a call as its unary twin would, and the stream goes on', async () => {
    const audio = await rejection(streamed('audio'));
    expect([audio.code, audio.reason, audio.message]).toEqual([status.INVALID_ARGUMENT, 'TRUNCATED', 'FLAC stream ends early']);
    expect(await rejection(streamed('missing'))).toMatchObject({ code: status.NOT_FOUND, reason: 'OBJECT_NOT_FOUND' });
    expect(await rejection(streamed('boom'))).toMatchObject({ code: status.INTERNAL, message: 'internal error' });
    expect(await rejection(streamed('slow', [], { deadlineMs: 50 }))).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    const controller = new AbortController();
    const aborted = streamed('slow', [], { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await rejection(aborted)).code).toBe(status.CANCELLED);
    expect((await streamed('echo', [1])).probabilities).toEqual([2]);
    const text = await registry.getSingleMetricAsString('ser_grpc_server_handled_total');
    expect(text).toMatch(/ser_grpc_server_handled_total\{method="Predict",code="INVALID_ARGUMENT"\} 2/);
  });

  it('end when their server shuts down, after answering what they hold; the next call finds the new server', async () => {
    const first = testServer();
    const port = await bindServer(first.server, '127.0.0.1', 0);
    const own = createClient(InferenceClientCtor, `127.0.0.1:${port}`, { deadlineMs: 2000 });
    const call = (command: string) =>
      callStream(own, 'predictStream', { scalerDigest: command, rows: 1, rawInput: float32ToBytes(Float32Array.of(1)) });
    try {
      expect((await call('echo')).probabilities).toEqual([2]);
      const inFlight = call('slow');
      await sleep(50);
      const started = Date.now();
      first.unary.endStreams();
      expect(await shutdownServer(first.server, 5000)).toBe(true); // not held up by the open stream
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await inFlight).probabilities).toEqual([]);
      expect((await rejection(call('echo'))).code).toBe(status.UNAVAILABLE);

      const second = testServer();
      await bindServer(second.server, '127.0.0.1', port);
      try {
        let answer: number[] | undefined;
        for (let i = 0; i < 20 && !answer; i++)
          answer = await call('echo').then(
            (r) => r.probabilities,
            () => sleep(100).then(() => undefined),
          );
        expect(answer).toEqual([2]);
      } finally {
        second.unary.endStreams();
        await shutdownServer(second.server, 1000);
      }
    } finally {
      closeClient(own);
    }
  });
});
