/**
 * The clip recipe: which part of a recording the model sees, and how a clip that
 * ends early is completed.
 *
 * librosa.load(path, sr=22050, offset=0.6, duration=2.5) gives 55125 samples
 * (108 frames, 2376 values) for a long enough recording, fewer for a short one.
 * - pad 'zeros' (default): the resampled signal is zero-padded to the full
 *   duration, so every vector has 2376 values and every value sits in the frame
 *   it describes.
 * - pad 'none': librosa's behaviour; a short clip gives fewer frames.
 * - pad 'vector': the seed system's behaviour, kept for compatibility: features
 *   of the short signal, then zeros appended to the joined vector. That shifts
 *   the RMS and MFCC blocks left, so values land in the wrong frames.
 */
import { type DecodedAudio, type DecodeOptions, decodeAudio } from './decode/decode.js';
import { resample } from './dsp/resample.js';
import { AudioError } from './errors.js';
import { FeatureExtractor, type Features, featureVector } from './features/extractor.js';

export type PadMode = 'zeros' | 'none' | 'vector';

export interface ClipSpec {
  sampleRate: number;
  offsetSeconds: number;
  /** null: the whole recording from the offset on. */
  durationSeconds: number | null;
  pad: PadMode;
}

export const DEFAULT_CLIP_SPEC: Readonly<ClipSpec> = Object.freeze({
  sampleRate: 22050,
  offsetSeconds: 0.6,
  durationSeconds: 2.5,
  pad: 'zeros',
});

/**
 * Recording sample rates the recipe accepts. Resampling from far outside them costs
 * seconds of CPU for a few bytes of input (an 88-byte WAV claiming 7 Hz: 18 s).
 */
export const SAMPLE_RATE_RANGE = Object.freeze({ min: 1000, max: 384_000 });

export interface Clip {
  /** Mono float32 at spec.sampleRate, padded per spec.pad (source.samples itself when it needs neither resampling nor padding). */
  y: Float32Array;
  /** Samples that came from the recording (the rest is padding). */
  signalSamples: number;
  source: DecodedAudio;
}

export interface ClipFeatures {
  features: Features;
  /** zcr[T], rms[T], then MFCC frame by frame. */
  vector: Float64Array;
}

/** Samples a full-duration clip has at the target rate. */
export function clipLength(spec: ClipSpec): number | null {
  return spec.durationSeconds === null ? null : Math.ceil(spec.durationSeconds * spec.sampleRate);
}

/** Decodes, windows, mixes, resamples and pads a recording. */
export async function loadClip(
  bytes: Uint8Array,
  spec: ClipSpec = DEFAULT_CLIP_SPEC,
  options: Pick<DecodeOptions, 'maxSeconds'> = {},
): Promise<Clip> {
  const source = await decodeAudio(bytes, {
    offsetSeconds: spec.offsetSeconds,
    durationSeconds: spec.durationSeconds,
    maxSeconds: options.maxSeconds,
  });
  return clipFromWindow(source, spec);
}

export function clipFromWindow(source: DecodedAudio, spec: ClipSpec = DEFAULT_CLIP_SPEC): Clip {
  const { min, max } = SAMPLE_RATE_RANGE;
  if (!(source.sampleRate >= min && source.sampleRate <= max))
    throw new AudioError('UNSUPPORTED_FORMAT', `a sample rate of ${source.sampleRate} Hz is not supported (${min} to ${max} Hz are)`);
  // A recording that ends before the window starts is, with pad 'zeros', padded like any
  // other that ends early (its window is all padding); without a fixed length it has nothing.
  if (source.samples.length === 0 && (spec.pad !== 'zeros' || clipLength(spec) === null)) {
    const total = source.totalFrames / source.sampleRate;
    throw new AudioError('EMPTY', `the recording is ${total.toFixed(2)} s long, and the clip starts at ${spec.offsetSeconds} s`);
  }
  // At the spec's rate already, the decoded window is used as it is: no copy.
  const resampled = source.sampleRate === spec.sampleRate ? source.samples : resample(source.samples, source.sampleRate, spec.sampleRate);
  const full = clipLength(spec);
  let y = resampled;
  if (spec.pad === 'zeros' && full !== null && resampled.length !== full) {
    y = new Float32Array(full);
    y.set(resampled.subarray(0, full));
  }
  return { y, signalSamples: Math.min(resampled.length, y.length), source };
}

/** One extractor per parameter set is enough: it holds only plans and scratch space. */
const extractors = new Map<number, FeatureExtractor>();

function extractorFor(sampleRate: number): FeatureExtractor {
  let fx = extractors.get(sampleRate);
  if (!fx) {
    fx = new FeatureExtractor({ sampleRate });
    extractors.set(sampleRate, fx);
  }
  return fx;
}

export function clipFeatures(y: Float32Array, spec: ClipSpec = DEFAULT_CLIP_SPEC): ClipFeatures {
  const fx = extractorFor(spec.sampleRate);
  const features = fx.compute(y);
  let vector = featureVector(features);
  const full = clipLength(spec);
  if (spec.pad === 'vector' && full !== null) {
    const length = (2 + features.mfcc.length) * fx.frameCount(full);
    if (vector.length < length) {
      const padded = new Float64Array(length);
      padded.set(vector);
      vector = padded;
    }
  }
  return { features, vector };
}

/** Expected vector length for a spec with a fixed duration (2376 by default). */
export function vectorLength(spec: ClipSpec = DEFAULT_CLIP_SPEC): number | null {
  const full = clipLength(spec);
  return full === null ? null : 22 * (1 + Math.floor(full / 512));
}
