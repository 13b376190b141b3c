/**
 * A model bundle is a directory with model.onnx and manifest.json. Loading checks
 * that the two agree (SHA-256, tensor names and shapes, scaler size, label order)
 * and refuses the bundle otherwise.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EMOTIONS } from '@ser/shared';
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from './manifest.js';

export class BundleError extends Error {
  override name = 'BundleError';
}

export interface LoadOptions {
  /** ONNX Runtime intra-op threads (default 1: the services scale by process, not by thread). */
  threads?: number;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const text = await readFile(join(dir, 'manifest.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new BundleError(`${dir} is not a model bundle: ${err.code === 'ENOENT' ? 'no manifest.json' : err.message}`);
  });
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (err) {
    throw new BundleError(`${dir}/manifest.json is not valid JSON: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  for (const key of ['name', 'version', 'architecture'] as const) if (typeof manifest[key] !== 'string') problems.push(`${key} is missing`);
  if (!Number.isInteger(manifest.parameterCount)) problems.push('parameterCount is missing');
  if (manifest.labels?.join() !== EMOTIONS.join()) problems.push(`labels must be ${EMOTIONS.join(', ')}`);
  const n = manifest.featureSpec?.vectorLength;
  if (!Number.isInteger(n)) problems.push('featureSpec.vectorLength is missing');
  if (manifest.scaler?.mean?.length !== n || manifest.scaler?.scale?.length !== n)
    problems.push(`scaler mean and scale must have ${n} values`);
  else if (manifest.scaler.scale.some((s) => !(s > 0))) problems.push('scaler scales must be positive');
  if (!manifest.onnx?.sha256 || !manifest.onnx.input?.name || !manifest.onnx.output?.name)
    problems.push('onnx file, sha256, input and output are required');
  if (problems.length) throw new BundleError(`${dir}/manifest.json is invalid: ${problems.join('; ')}`);
  return manifest;
}

export class ModelBundle {
  private constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    private readonly mean: Float32Array,
    private readonly invScale: Float32Array,
    /** SHA-256 of the scaler: a vector scaled for another model is refused by comparing this. */
    readonly scalerDigest: string,
  ) {}

  static async load(dir: string, options: LoadOptions = {}): Promise<ModelBundle> {
    const manifest = await readManifest(dir);
    const file = join(dir, manifest.onnx.file ?? 'model.onnx');
    const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new BundleError(`${dir}: cannot read ${manifest.onnx.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const digest = sha256(bytes);
    if (digest !== manifest.onnx.sha256) {
      throw new BundleError(`${dir}: model.onnx has SHA-256 ${digest}, but the manifest says ${manifest.onnx.sha256}`);
    }
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    if (!session.inputNames.includes(manifest.onnx.input.name) || !session.outputNames.includes(manifest.onnx.output.name)) {
      throw new BundleError(
        `${dir}: model.onnx has inputs [${session.inputNames}] and outputs [${session.outputNames}]; the manifest names ${manifest.onnx.input.name} and ${manifest.onnx.output.name}`,
      );
    }
    const mean = Float32Array.from(manifest.scaler.mean);
    const invScale = Float32Array.from(manifest.scaler.scale, (s) => 1 / s);
    const scalerDigest = sha256(JSON.stringify(manifest.scaler));
    return new ModelBundle(dir, manifest, session, mean, invScale, scalerDigest);
  }

  get vectorLength(): number {
    return this.manifest.featureSpec.vectorLength;
  }

  /** Standard-scales raw feature vectors into one contiguous batch. */
  scale(vectors: ArrayLike<number>[]): Float32Array {
    const n = this.vectorLength;
    const out = new Float32Array(vectors.length * n);
    vectors.forEach((v, row) => {
      if (v.length !== n) throw new BundleError(`feature vector has ${v.length} values; ${this.manifest.name} takes ${n}`);
      const at = row * n;
      for (let i = 0; i < n; i++) out[at + i] = (v[i] - this.mean[i]) * this.invScale[i];
    });
    return out;
  }

  /** Class probabilities for already-scaled rows (batch x vectorLength). */
  async predictScaled(batch: Float32Array): Promise<Float32Array[]> {
    const n = this.vectorLength;
    const rows = batch.length / n;
    if (!Number.isInteger(rows) || rows === 0)
      throw new BundleError(`batch of ${batch.length} values is not a whole number of ${n}-value rows`);
    const input = new ort.Tensor('float32', batch, [rows, n]);
    const result = await this.session.run({ [this.manifest.onnx.input.name]: input });
    const probs = result[this.manifest.onnx.output.name].data as Float32Array;
    const k = this.manifest.labels.length;
    return Array.from({ length: rows }, (_, r) => probs.slice(r * k, (r + 1) * k));
  }

  /** Class probabilities for raw feature vectors. */
  async predict(vectors: ArrayLike<number>[]): Promise<Float32Array[]> {
    return this.predictScaled(this.scale(vectors));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
