/**
 * One recording to the model's raw input vector, exactly as `ser eval` computes it
 * (decodeAudio + clipFromWindow = loadClip, then clipFeatures), with the time each
 * stage took. Runs on the main thread or in a worker (feature-worker.ts), where nothing
 * imports @ser/grpc: loading its CommonJS grows the module lexer's WebAssembly memory,
 * which slows every typed-array access in the thread (see @ser/audio's wasm.ts).
 */
import { type ClipSpec, clipFeatures, clipFromWindow, decodeAudio } from '@ser/audio';

export interface FeatureJob {
  bytes: Uint8Array;
  spec: ClipSpec;
  maxSeconds: number;
}

export interface AudioSummary {
  durationSeconds: number;
  /** The recording's own rate, before resampling. */
  sampleRate: number;
  channels: number;
  format: string;
}

export interface FeatureResult {
  vector: Float64Array;
  audio: AudioSummary;
  /** Reading the window out of the file (and decompressing it). */
  decodeMs: number;
  /** Mixing, resampling, padding and the features themselves. */
  featuresMs: number;
}

export async function computeClipFeatures(job: FeatureJob): Promise<FeatureResult> {
  const t0 = performance.now();
  // Only the window the model looks at is decoded (for WAV, only those bytes are read).
  const source = await decodeAudio(job.bytes, {
    offsetSeconds: job.spec.offsetSeconds,
    durationSeconds: job.spec.durationSeconds,
    maxSeconds: job.maxSeconds,
  });
  const t1 = performance.now();
  const { vector } = clipFeatures(clipFromWindow(source, job.spec).y, job.spec);
  const t2 = performance.now();
  return {
    vector,
    audio: {
      durationSeconds: source.totalFrames / source.sampleRate,
      sampleRate: source.sampleRate,
      channels: source.channels,
      format: source.format,
    },
    decodeMs: t1 - t0,
    featuresMs: t2 - t1,
  };
}
