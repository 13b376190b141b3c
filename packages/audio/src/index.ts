export {
  type Clip,
  type ClipFeatures,
  type ClipSpec,
  clipFeatures,
  clipFromWindow,
  clipLength,
  DEFAULT_CLIP_SPEC,
  loadClip,
  type PadMode,
  vectorLength,
} from './clip.js';
export {
  type DecodedAudio,
  type DecodedChannels,
  type DecodeOptions,
  decodeAudio,
  decodeChannels,
  SUPPORTED_FORMATS,
} from './decode/decode.js';
export { sniffFormat } from './decode/sniff.js';
export type { AudioFormat, PcmWindow, WindowRequest } from './decode/types.js';
export { decodeWav, encodeWav, parseWavHeader } from './decode/wav.js';
export { ComplexFft, RealFft } from './dsp/fft.js';
export { resample } from './dsp/resample.js';
export { AudioError, type AudioErrorCode, isAudioError } from './errors.js';
export { FeatureExtractor, type FeatureParams, type Features, featureVector, LIBROSA_DEFAULTS } from './features/extractor.js';
