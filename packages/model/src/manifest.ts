/** manifest.json of a model bundle: what the model is, how its input is made, and how well it does. */
import type { ClipSpec } from '@ser/audio';

export interface TensorSpec {
  name: string;
  /** -1 for the dynamic batch axis. */
  shape: number[];
}

export interface ModelManifest {
  name: string;
  version: string;
  labels: string[];
  featureSpec: ClipSpec & { features: string; vectorLength: number };
  scaler: { mean: number[]; scale: number[] };
  architecture: string;
  parameterCount: number;
  onnx: { file: string; sha256: string; input: TensorSpec; output: TensorSpec; opset?: number };
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** Anything the reader must know before trusting the figures (e.g. "leaky"). */
  notes?: string[];
}
