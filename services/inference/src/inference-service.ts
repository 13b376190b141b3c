/**
 * The ser.v1.InferenceService handlers: liveness, readiness, the served model's
 * metadata, and Predict (checked, then batched).
 */
import {
  bytesToFloat32,
  type CallContext,
  GrpcError,
  type InferenceServiceServer,
  type ModelIdentity,
  type ModelMetadataResponse,
  type PredictRequest,
  type PredictResponse,
  status,
  type Unary,
} from '@ser/grpc';
import type { ModelBundle } from '@ser/model';
import type { DynamicBatcher } from './batcher.js';

export interface InferenceServiceDeps {
  bundle: ModelBundle;
  batcher: DynamicBatcher;
  unary: Unary;
  /** False while starting or shutting down. */
  isReady(): boolean;
}

export function modelIdentity(bundle: ModelBundle): ModelIdentity {
  return { name: bundle.manifest.name, version: bundle.manifest.version };
}

export function modelMetadata(bundle: ModelBundle): ModelMetadataResponse {
  const m = bundle.manifest;
  return {
    model: modelIdentity(bundle),
    labels: m.labels,
    inputShape: [-1, bundle.vectorLength],
    featureSpec: {
      sampleRate: m.featureSpec.sampleRate,
      offsetSeconds: m.featureSpec.offsetSeconds,
      // 0 stands for "the whole recording from the offset on" (null in the manifest).
      durationSeconds: m.featureSpec.durationSeconds ?? 0,
      pad: m.featureSpec.pad,
      features: m.featureSpec.features,
      vectorLength: bundle.vectorLength,
    },
    scaler: { mean: m.scaler.mean, scale: m.scaler.scale },
    scalerDigest: bundle.scalerDigest,
    architecture: m.architecture,
    parameterCount: m.parameterCount,
    metricsJson: JSON.stringify({ metrics: m.metrics, notes: m.notes ?? [] }),
  };
}

/** Checks a Predict request against the served model; returns its rows as float32 values. */
export function checkPredictRequest(bundle: ModelBundle, request: PredictRequest): Float32Array {
  const identity = modelIdentity(bundle);
  if (!request.scalerDigest) {
    throw new GrpcError(status.INVALID_ARGUMENT, 'scaler_digest is required (take it from ModelMetadata)', {
      reason: 'SCALER_DIGEST_MISSING',
    });
  }
  if (request.scalerDigest !== bundle.scalerDigest) {
    throw new GrpcError(
      status.FAILED_PRECONDITION,
      `the vectors were scaled with scaler ${request.scalerDigest.slice(0, 12)}…, but ${identity.name} ${identity.version} uses ${bundle.scalerDigest.slice(0, 12)}…; fetch ModelMetadata and scale again`,
      { reason: 'SCALER_MISMATCH' },
    );
  }
  const asked = request.model;
  if (asked && (asked.name || asked.version) && (asked.name !== identity.name || asked.version !== identity.version)) {
    throw new GrpcError(
      status.FAILED_PRECONDITION,
      `model ${asked.name} ${asked.version} was asked for; this server serves ${identity.name} ${identity.version}`,
      { reason: 'MODEL_MISMATCH' },
    );
  }
  if (!request.rows) throw new GrpcError(status.INVALID_ARGUMENT, 'rows must be at least 1', { reason: 'NO_ROWS' });
  const expected = request.rows * bundle.vectorLength * 4;
  if (request.rawInput.length !== expected) {
    throw new GrpcError(
      status.INVALID_ARGUMENT,
      `raw_input has ${request.rawInput.length} bytes; ${request.rows} rows of ${bundle.vectorLength} float32 take ${expected}`,
      { reason: 'SHAPE_MISMATCH' },
    );
  }
  const input = bytesToFloat32(request.rawInput);
  for (let i = 0; i < input.length; i++) {
    if (!Number.isFinite(input[i])) {
      throw new GrpcError(status.INVALID_ARGUMENT, `raw_input value ${i} is ${input[i]}`, { reason: 'NON_FINITE_INPUT' });
    }
  }
  return input;
}

export function inferenceService({ bundle, batcher, unary, isReady }: InferenceServiceDeps): InferenceServiceServer {
  const identity = modelIdentity(bundle);
  const metadata = modelMetadata(bundle);
  return {
    serverLive: unary('ServerLive', () => ({ live: true })),
    serverReady: unary('ServerReady', () => ({ ready: isReady(), model: identity })),
    modelMetadata: unary('ModelMetadata', () => metadata),
    predict: unary('Predict', predict),
    predictStream: unary.stream('Predict', predict),
  };

  async function predict(request: PredictRequest, call: CallContext): Promise<PredictResponse> {
    const input = checkPredictRequest(bundle, request);
    const deadline = call.getDeadline();
    const outcome = await batcher.submit({
      input,
      rows: request.rows,
      deadline: deadline instanceof Date ? deadline.getTime() : deadline,
      isCancelled: () => call.cancelled,
    });
    return {
      model: identity,
      labels: bundle.manifest.labels,
      rows: request.rows,
      probabilities: Array.from(outcome.probabilities),
      batchSize: outcome.batchSize,
      queueMs: outcome.queueMs,
      computeMs: outcome.computeMs,
    };
  }
}
