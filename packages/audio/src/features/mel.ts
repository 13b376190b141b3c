/**
 * Slaney-style mel filterbank, as librosa.filters.mel(sr, n_fft, n_mels=128,
 * fmin=0, fmax=sr/2, htk=False, norm='slaney') builds it, stored sparsely:
 * each band keeps only its non-zero FFT bins.
 */

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

export interface MelBand {
  /** First FFT bin with a non-zero weight. */
  start: number;
  weights: Float64Array;
}

export function melFilterbank(sampleRate: number, nFft: number, nMels: number, fMin = 0, fMax = sampleRate / 2): MelBand[] {
  const nBins = 1 + Math.floor(nFft / 2);
  const fftFreqs = new Float64Array(nBins);
  for (let k = 0; k < nBins; k++) fftFreqs[k] = (k * sampleRate) / nFft;
  // nMels + 2 points evenly spaced in mel, back to Hz.
  const melMin = hzToMel(fMin);
  const melMax = hzToMel(fMax);
  const melF = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) melF[i] = melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1));

  const bands: MelBand[] = [];
  for (let i = 0; i < nMels; i++) {
    const lowerWidth = melF[i + 1] - melF[i];
    const upperWidth = melF[i + 2] - melF[i + 1];
    const enorm = 2 / (melF[i + 2] - melF[i]);
    const full = new Float64Array(nBins);
    let start = -1;
    let end = -1;
    for (let k = 0; k < nBins; k++) {
      const lower = (fftFreqs[k] - melF[i]) / lowerWidth;
      const upper = (melF[i + 2] - fftFreqs[k]) / upperWidth;
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        if (start < 0) start = k;
        end = k;
        full[k] = w * enorm;
      }
    }
    bands.push(start < 0 ? { start: 0, weights: new Float64Array(0) } : { start, weights: full.slice(start, end + 1) });
  }
  return bands;
}
