/** A job's results as the page shows them: sorting, the reason of a failure, counts and bins (no DOM). */
import type { ResultItem } from './api.js';
import { EMOTIONS, type Emotion } from './emotions.js';

export type SortKey = 'position' | 'filename' | 'emotion' | 'confidence' | Emotion;
export type SortDir = 'ascending' | 'descending';

/** Why an item failed, in words, or null when it did not. */
export function failureOf(item: ResultItem): string | null {
  const e = item.error;
  if (e === null || e === undefined || e === '') return item.emotion ? null : 'no result';
  if (typeof e === 'string') return item.errorCode ? `${e} (${item.errorCode})` : e;
  const code = e.code || item.errorCode;
  if (!e.message) return code || 'failed';
  return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

function value(item: ResultItem, index: number, key: SortKey): string | number | null {
  switch (key) {
    case 'position':
      return item.position ?? index;
    case 'filename':
      return item.filename;
    case 'emotion':
      return item.emotion;
    case 'confidence':
      return item.confidence;
    default:
      return item.probabilities ? item.probabilities[key] : null;
  }
}

/** A sorted copy; items without the value (failed files) go last either way. Stable. */
export function sortResults(items: readonly ResultItem[], key: SortKey, dir: SortDir): ResultItem[] {
  const sign = dir === 'ascending' ? 1 : -1;
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  return items
    .map((item, i) => ({ item, i, v: value(item, i, key) }))
    .sort((a, b) => {
      if (a.v === null && b.v === null) return a.i - b.i;
      if (a.v === null) return 1;
      if (b.v === null) return -1;
      const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : collator.compare(String(a.v), String(b.v));
      return c !== 0 ? sign * c : a.i - b.i;
    })
    .map((x) => x.item);
}

/** How many files were given each emotion (the eight, in order). */
export function emotionCounts(items: readonly ResultItem[]): Record<Emotion, number> {
  const counts = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as Record<Emotion, number>;
  for (const item of items) if (item.emotion && item.emotion in counts) counts[item.emotion]++;
  return counts;
}

/** Confidences in `bins` equal bins over [0, 1] (1 falls in the last). */
export function histogram(values: readonly number[], bins = 10): number[] {
  const out = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    out[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  }
  return out;
}

export function histogramLabels(bins = 10): string[] {
  return Array.from({ length: bins }, (_, i) => `${Math.round((i * 100) / bins)}–${Math.round(((i + 1) * 100) / bins)} %`);
}
