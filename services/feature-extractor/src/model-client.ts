/**
 * The extractor's view of inference: the served model's metadata (cached), scaling
 * with that model's scaler, and Predict. When Predict says the vectors were scaled
 * for another model (FAILED_PRECONDITION: inference now serves a new bundle), the
 * metadata is fetched again and the clip is scaled (or, if the feature spec changed,
 * computed) again, once.
 */
import type { ClipSpec, PadMode } from '@ser/audio';
import {
  type CallSettings,
  callStream,
  callUnary,
  closeClient,
  createClient,
  float32ToBytes,
  GrpcError,
  InferenceServiceClient,
  type ModelIdentity,
  type ModelMetadataResponse,
  type PredictResponse,
  type RequestOf,
  type ResponseOf,
  status,
} from '@ser/grpc';

export interface ServedModel {
  identity: ModelIdentity;
  labels: string[];
  spec: ClipSpec;
  vectorLength: number;
  scalerDigest: string;
  mean: Float32Array;
  /** 1 / scale, as ModelBundle keeps it, so the scaled values are the same. */
  invScale: Float32Array;
}

const PAD_MODES: readonly PadMode[] = ['zeros', 'none', 'vector'];

export function servedModel(meta: ModelMetadataResponse): ServedModel {
  const spec = meta.featureSpec;
  const n = spec?.vectorLength ?? 0;
  if (!meta.model || !spec || !meta.scaler || !meta.scalerDigest || !PAD_MODES.includes(spec.pad as PadMode)) {
    throw new GrpcError(status.INTERNAL, 'inference sent incomplete model metadata', { reason: 'BAD_MODEL_METADATA' });
  }
  if (meta.scaler.mean.length !== n || meta.scaler.scale.length !== n) {
    throw new GrpcError(status.INTERNAL, `inference's scaler does not have ${n} values`, { reason: 'BAD_MODEL_METADATA' });
  }
  return {
    identity: meta.model,
    labels: meta.labels,
    spec: {
      sampleRate: spec.sampleRate,
      offsetSeconds: spec.offsetSeconds,
      durationSeconds: spec.durationSeconds > 0 ? spec.durationSeconds : null,
      pad: spec.pad as PadMode,
    },
    vectorLength: n,
    scalerDigest: meta.scalerDigest,
    mean: Float32Array.from(meta.scaler.mean),
    invScale: Float32Array.from(meta.scaler.scale, (s) => 1 / s),
  };
}

/** Standard scaling, the same arithmetic as ModelBundle.scale. */
export function scaleVector(model: ServedModel, vector: ArrayLike<number>): Float32Array {
  const out = new Float32Array(model.vectorLength);
  for (let i = 0; i < out.length; i++) out[i] = (vector[i] - model.mean[i]) * model.invScale[i];
  return out;
}

function sameSpec(a: ServedModel, b: ServedModel): boolean {
  return JSON.stringify([a.spec, a.vectorLength]) === JSON.stringify([b.spec, b.vectorLength]);
}

export interface Classified {
  model: ServedModel;
  response: PredictResponse;
}

export class ModelClient {
  private readonly client: InferenceServiceClient;
  private cached: Promise<ServedModel> | undefined;
  private reachable: boolean | undefined;

  constructor(
    address: string,
    private readonly deadlineMs: number,
    /** Told when inference becomes reachable or unreachable. */
    private readonly onReachability: (reachable: boolean) => void = () => {},
  ) {
    this.client = createClient(InferenceServiceClient, address, { deadlineMs });
  }

  /** The served model (cached; fetched on first use and after a model change). */
  model(settings: CallSettings = {}): Promise<ServedModel> {
    if (!this.cached) {
      const fetching = this.call('modelMetadata', {}, settings).then(servedModel);
      this.cached = fetching;
      fetching.catch(() => {
        if (this.cached === fetching) this.cached = undefined; // the next call tries again
      });
    }
    return this.cached;
  }

  /**
   * Computes the clip's vector for the served model, scales it and predicts. If the
   * served model changed meanwhile, does so once more for the new one.
   */
  async classify(vectorFor: (model: ServedModel) => Promise<Float64Array>, settings: CallSettings = {}): Promise<Classified> {
    let model = await this.model(settings);
    let vector = await vectorFor(model);
    try {
      return { model, response: await this.predict(model, vector, settings) };
    } catch (err) {
      if (!(err instanceof GrpcError) || err.code !== status.FAILED_PRECONDITION) throw err;
      const previous = model;
      this.cached = undefined;
      model = await this.model(settings);
      if (!sameSpec(model, previous)) vector = await vectorFor(model);
      return { model, response: await this.predict(model, vector, settings) };
    }
  }

  private predict(model: ServedModel, vector: Float64Array, settings: CallSettings): Promise<PredictResponse> {
    const request = {
      model: model.identity,
      scalerDigest: model.scalerDigest,
      rows: 1,
      rawInput: float32ToBytes(scaleVector(model, vector)),
    };
    return this.restated(() => callStream(this.client, 'predictStream', request, { deadlineMs: this.deadlineMs, ...settings }));
  }

  /** Is inference up and ready? (the health probe; also notices a new model) */
  async ready(): Promise<boolean> {
    try {
      const { ready, model } = await this.call('serverReady', {}, { deadlineMs: Math.min(this.deadlineMs, 2000) });
      if (!ready) this.setReachable(false); // up, but starting or shutting down
      // A new model behind the same address: forget the old metadata before a Predict has to find out.
      const cached = await this.cached?.catch(() => undefined);
      if (model && cached && (model.name !== cached.identity.name || model.version !== cached.identity.version)) this.cached = undefined;
      return ready;
    } catch {
      return false;
    }
  }

  close(): void {
    closeClient(this.client);
  }

  /**
   * A unary call to inference, its failures restated (see `restated`).
   */
  private call<K extends 'modelMetadata' | 'serverReady'>(
    method: K,
    request: RequestOf<InferenceServiceClient[K]>,
    settings: CallSettings,
  ): Promise<ResponseOf<InferenceServiceClient[K]>> {
    return this.restated(() => callUnary(this.client, method, request, { deadlineMs: this.deadlineMs, ...settings }));
  }

  /**
   * A call's failures restated for the extractor's caller: inference down is
   * UNAVAILABLE; a refusal that is not about the caller's audio is INTERNAL.
   */
  private async restated<T>(call: () => Promise<T>): Promise<T> {
    try {
      const response = await call();
      this.setReachable(true);
      return response;
    } catch (err) {
      if (!(err instanceof GrpcError)) throw err;
      if (err.code === status.UNAVAILABLE) {
        this.setReachable(false);
        throw new GrpcError(status.UNAVAILABLE, `inference is unavailable: ${err.message}`, {
          reason: 'INFERENCE_UNAVAILABLE',
          cause: err,
        });
      }
      if (err.code === status.DEADLINE_EXCEEDED || err.code === status.CANCELLED || err.code === status.FAILED_PRECONDITION) throw err;
      throw new GrpcError(status.INTERNAL, `inference refused the request: ${err.codeName}: ${err.message}`, {
        reason: 'INFERENCE_ERROR',
        cause: err,
      });
    }
  }

  private setReachable(reachable: boolean): void {
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    this.onReachability(reachable);
  }
}
