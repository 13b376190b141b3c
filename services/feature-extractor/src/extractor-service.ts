/**
 * The ser.v1.FeatureExtractorService handlers. Extract: audio to the model's input
 * vector (raw, or scaled for the served model). Classify: the same, then inference.
 */
import {
  type AudioSource,
  type CallContext,
  type ClassifyRequest,
  type ClassifyResponse,
  type ExtractResponse,
  type FeatureExtractorServiceServer,
  float32ToBytes,
  GrpcError,
  status,
  type Timings,
  toGrpcError,
  type Unary,
} from '@ser/grpc';
import type { Logger } from '@ser/observability';
import { type ObjectStore, StorageError } from '@ser/storage';
import type { FeatureResult } from './clip-features.js';
import type { FeaturePool } from './feature-pool.js';
import type { ExtractorMetrics } from './metrics.js';
import { type ModelClient, type ServedModel, scaleVector } from './model-client.js';

export interface ExtractorDeps {
  models: ModelClient;
  pool: FeaturePool;
  /** Absent when no S3_ENDPOINT is set: only inline audio is accepted then. */
  store: ObjectStore | undefined;
  maxAudioSeconds: number;
  metrics: ExtractorMetrics;
  logger: Logger;
  unary: Unary;
}

export function extractorService(deps: ExtractorDeps): FeatureExtractorServiceServer {
  const { models, pool, store, metrics, logger, unary } = deps;

  /** Counts each request by outcome: ok, or the failure's reason. */
  async function counted<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      metrics.requests.inc({ method, outcome: 'ok' });
      return result;
    } catch (err) {
      const grpcError = toGrpcError(err);
      metrics.requests.inc({ method, outcome: (grpcError.reason ?? grpcError.codeName).toLowerCase() });
      throw grpcError;
    }
  }

  async function fetchAudio(audio: AudioSource | undefined): Promise<{ bytes: Uint8Array; fetchMs: number }> {
    const started = performance.now();
    const source = audio?.source;
    let bytes: Uint8Array;
    if (source?.$case === 'content') bytes = source.value;
    else if (source?.$case === 'objectKey' && source.value) {
      if (!store) throw new StorageError('object storage is not configured (S3_ENDPOINT); send the audio inline', 'NOT_CONFIGURED');
      bytes = await store.get(source.value);
    } else throw new GrpcError(status.INVALID_ARGUMENT, 'audio.object_key or audio.content is required', { reason: 'NO_AUDIO' });
    const fetchMs = performance.now() - started;
    metrics.stageSeconds.observe({ stage: 'fetch' }, fetchMs / 1000);
    return { bytes, fetchMs };
  }

  async function features(bytes: Uint8Array, model: ServedModel, call: CallContext): Promise<FeatureResult> {
    // A caller that gave up (or ran out of time) while the audio was fetched does not need the CPU spent.
    if (call.cancelled) throw new GrpcError(status.CANCELLED, 'the caller went away');
    const result = await pool.compute({ bytes, spec: model.spec, maxSeconds: deps.maxAudioSeconds });
    if (result.vector.length !== model.vectorLength) {
      // A clip shorter than the window, with a feature spec that does not pad it.
      throw new GrpcError(
        status.INVALID_ARGUMENT,
        `the clip gives ${result.vector.length} feature values; the model takes ${model.vectorLength} (the recording is too short)`,
        { reason: 'TOO_SHORT' },
      );
    }
    metrics.stageSeconds.observe({ stage: 'decode' }, result.decodeMs / 1000);
    metrics.stageSeconds.observe({ stage: 'features' }, result.featuresMs / 1000);
    return result;
  }

  const timings = (fetchMs: number, f: FeatureResult, inferenceMs: number, started: number): Timings => ({
    fetchMs,
    decodeMs: f.decodeMs,
    featuresMs: f.featuresMs,
    inferenceMs,
    totalMs: performance.now() - started,
  });

  const deadlineOf = (call: CallContext) => {
    const d = call.getDeadline();
    return d instanceof Date ? d.getTime() : d;
  };

  return {
    extract: unary('Extract', (request, call) =>
      counted('Extract', async (): Promise<ExtractResponse> => {
        const started = performance.now();
        const settings = { deadline: deadlineOf(call), correlationId: call.correlationId };
        const { bytes, fetchMs } = await fetchAudio(request.audio);
        const model = await models.model(settings);
        const f = await features(bytes, model, call);
        const vector = request.scaled ? scaleVector(model, f.vector) : Float32Array.from(f.vector);
        const response: ExtractResponse = {
          audio: f.audio,
          vectorLength: vector.length,
          vector: float32ToBytes(vector),
          model: request.scaled ? model.identity : undefined,
          scalerDigest: request.scaled ? model.scalerDigest : '',
          timings: timings(fetchMs, f, 0, started),
        };
        logger.info(
          { correlationId: call.correlationId, method: 'Extract', scaled: request.scaled, audio: f.audio, timings: response.timings },
          'extracted',
        );
        return response;
      }),
    ),

    classify: unary('Classify', classify),
    classifyStream: unary.stream('Classify', classify),
  };

  function classify(request: ClassifyRequest, call: CallContext): Promise<ClassifyResponse> {
    return counted('Classify', async (): Promise<ClassifyResponse> => {
      const started = performance.now();
      const settings = { deadline: deadlineOf(call), correlationId: call.correlationId };
      const { bytes, fetchMs } = await fetchAudio(request.audio);
      let f: FeatureResult | undefined;
      let featureMs = 0;
      const before = performance.now();
      const { model, response } = await models.classify(async (m) => {
        const t = performance.now();
        f = await features(bytes, m, call);
        featureMs += performance.now() - t;
        return f.vector;
      }, settings);
      const inferenceMs = performance.now() - before - featureMs;
      metrics.stageSeconds.observe({ stage: 'inference' }, inferenceMs / 1000);
      const probabilities = response.probabilities;
      let best = 0;
      for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
      const result: ClassifyResponse = {
        model: response.model ?? model.identity,
        labels: response.labels,
        probabilities,
        emotion: response.labels[best],
        confidence: probabilities[best],
        audio: f!.audio,
        timings: timings(fetchMs, f!, inferenceMs, started),
      };
      logger.info(
        {
          correlationId: call.correlationId,
          method: 'Classify',
          emotion: result.emotion,
          confidence: round(result.confidence),
          audio: result.audio,
          timings: result.timings,
        },
        'classified',
      );
      return result;
    });
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
