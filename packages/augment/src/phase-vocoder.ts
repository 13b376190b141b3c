/**
 * librosa.effects.time_stretch: STFT (periodic Hann, n_fft 2048, hop 512, centred),
 * librosa.phase_vocoder (magnitudes interpolated between neighbouring frames,
 * phases advanced by each bin's measured instantaneous frequency), then an
 * inverse STFT with window-sum normalisation, trimmed to round(n / rate) samples.
 */
import { RealFft } from '@ser/audio';

const N_FFT = 2048;
const HOP = 512;
const BINS = N_FFT / 2 + 1;

const fft = new RealFft(N_FFT);
const window = new Float64Array(N_FFT);
for (let i = 0; i < N_FFT; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT);

/** Centred STFT with zero padding: one interleaved spectrum (BINS complex values) per frame. */
function stft(y: Float32Array): Float64Array[] {
  const frames = 1 + Math.floor(y.length / HOP);
  const half = N_FFT / 2;
  const frame = new Float64Array(N_FFT);
  const out: Float64Array[] = [];
  for (let t = 0; t < frames; t++) {
    const start = t * HOP - half;
    for (let i = 0; i < N_FFT; i++) {
      const j = start + i;
      frame[i] = j >= 0 && j < y.length ? y[j] * window[i] : 0;
    }
    const spec = new Float64Array(2 * BINS);
    fft.forward(frame, spec);
    out.push(spec);
  }
  return out;
}

/** Inverse of the centred STFT, `length` samples long. */
function istft(frames: Float64Array[], length: number): Float32Array {
  const total = N_FFT + HOP * (frames.length - 1);
  const acc = new Float64Array(total);
  const norm = new Float64Array(total);
  const frame = new Float64Array(N_FFT);
  for (let t = 0; t < frames.length; t++) {
    fft.inverse(frames[t], frame);
    const at = t * HOP;
    for (let i = 0; i < N_FFT; i++) {
      acc[at + i] += frame[i] * window[i];
      norm[at + i] += window[i] * window[i];
    }
  }
  const y = new Float32Array(length);
  const start = N_FFT / 2;
  for (let i = 0; i < length && start + i < total; i++) {
    const w = norm[start + i];
    y[i] = w > 1e-10 ? acc[start + i] / w : acc[start + i];
  }
  return y;
}

function phaseVocoder(frames: Float64Array[], rate: number): Float64Array[] {
  const n = frames.length;
  const steps = Math.ceil(n / rate);
  const advance = new Float64Array(BINS);
  for (let k = 0; k < BINS; k++) advance[k] = (Math.PI * HOP * k) / (BINS - 1);
  const phase = new Float64Array(BINS);
  for (let k = 0; k < BINS; k++) phase[k] = Math.atan2(frames[0][2 * k + 1], frames[0][2 * k]);
  const zero = new Float64Array(2 * BINS);
  const out: Float64Array[] = [];
  for (let t = 0; t < steps; t++) {
    const step = t * rate;
    const i = Math.floor(step);
    const alpha = step - i;
    const a = frames[i] ?? zero;
    const b = frames[i + 1] ?? zero;
    const spec = new Float64Array(2 * BINS);
    for (let k = 0; k < BINS; k++) {
      const magA = Math.hypot(a[2 * k], a[2 * k + 1]);
      const magB = Math.hypot(b[2 * k], b[2 * k + 1]);
      const mag = (1 - alpha) * magA + alpha * magB;
      spec[2 * k] = mag * Math.cos(phase[k]);
      spec[2 * k + 1] = mag * Math.sin(phase[k]);
      let d = Math.atan2(b[2 * k + 1], b[2 * k]) - Math.atan2(a[2 * k + 1], a[2 * k]) - advance[k];
      d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
      phase[k] += advance[k] + d;
    }
    out.push(spec);
  }
  return out;
}

/** Faster (rate > 1) or slower (rate < 1) without changing pitch; round(n / rate) samples. */
export function timeStretch(y: Float32Array, rate: number): Float32Array {
  if (!(rate > 0)) throw new RangeError(`stretch rate must be > 0, got ${rate}`);
  return istft(phaseVocoder(stft(y), rate), Math.round(y.length / rate));
}
