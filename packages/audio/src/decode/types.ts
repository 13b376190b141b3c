/** Which part of a recording to read, in seconds (librosa.load's offset and duration). */
export interface WindowRequest {
  offsetSeconds?: number;
  /** Omitted or null: to the end. */
  durationSeconds?: number | null;
}

/** A decoded window of a recording, mixed to mono. */
export interface PcmWindow {
  sampleRate: number;
  /** Channels in the source before mixing. */
  channels: number;
  /** Frames in the whole recording. */
  totalFrames: number;
  /** First frame of the window within the recording. */
  startFrame: number;
  /** The window's samples, mono (channel mean, computed in float32 as numpy does). */
  samples: Float32Array;
  /** Container and encoding, e.g. "wav/pcm16", "flac", "mp3". */
  codec: string;
}

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg-vorbis' | 'ogg-opus' | 'm4a' | 'aac' | 'webm';
