import type { WindowRequest } from './types.js';

/** Frame range of a window, as soundfile reads it for librosa: int(offset*sr) frames in, int(duration*sr) long. */
export function windowFrames(totalFrames: number, sampleRate: number, request: WindowRequest): { start: number; count: number } {
  const offset = request.offsetSeconds ?? 0;
  const duration = request.durationSeconds ?? null;
  if (!(offset >= 0)) throw new RangeError(`offset must be >= 0 seconds, got ${offset}`);
  if (duration !== null && !(duration > 0)) throw new RangeError(`duration must be > 0 seconds, got ${duration}`);
  const start = Math.min(totalFrames, Math.trunc(offset * sampleRate));
  const rest = totalFrames - start;
  const count = duration === null ? rest : Math.min(rest, Math.trunc(duration * sampleRate));
  return { start, count };
}

/** Channel mean, accumulated and divided in float32 like numpy's mean over a float32 array. */
export function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  const fround = Math.fround;
  const count = channels.length;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let c = 0; c < count; c++) acc = fround(acc + channels[c][i]);
    out[i] = acc / count;
  }
  return out;
}
