/** Why a piece of audio could not be used. Every rejection of input is one of these. */
export type AudioErrorCode =
  | 'EMPTY' // no bytes, or no samples
  | 'UNSUPPORTED_FORMAT' // not a container/codec we recognise
  | 'INVALID_HEADER' // recognised, but the header is impossible (zero rate, bad block align, ...)
  | 'TRUNCATED' // the header promises more data than the file holds
  | 'TOO_LONG' // more audio than the configured limit
  | 'DECODE_FAILED' // the codec gave up on the stream
  | 'DECODER_MISSING'; // a decoder this format needs (ffmpeg) is not installed

export class AudioError extends Error {
  readonly code: AudioErrorCode;

  constructor(code: AudioErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AudioError';
    this.code = code;
  }
}

export function isAudioError(err: unknown): err is AudioError {
  return err instanceof AudioError;
}
