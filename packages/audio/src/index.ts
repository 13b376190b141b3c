export { AudioError, type AudioErrorCode, isAudioError } from './errors.js';
export { decodeAudio, decodeChannels, type DecodeOptions, type DecodedAudio, type DecodedChannels, SUPPORTED_FORMATS } from './decode/decode.js';
export type { AudioFormat, PcmWindow, WindowRequest } from './decode/types.js';
export { encodeWav, decodeWav, parseWavHeader } from './decode/wav.js';
export { sniffFormat } from './decode/sniff.js';
export { resample } from './dsp/resample.js';
export { RealFft, ComplexFft } from './dsp/fft.js';
export { FeatureExtractor, type Features, type FeatureParams, featureVector, LIBROSA_DEFAULTS } from './features/extractor.js';
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
