/**
 * The evaluation protocols of ../shared/EVALUATION.md, as row splits of a feature set.
 * A row is one clip's features, original or augmented; validation and test rows are
 * always original recordings, except in the leaky `seed` protocol, which
 * reproduces the seed project's random row split on purpose.
 */
import { Random } from './random.js';

export const PROTOCOLS = ['seed', 'utterance', 'actor-6fold', 'holdout-21-24'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export interface SplitRow {
  clipId: string;
  label: number;
  actor: number;
  augmentation: string;
}

export interface Split {
  protocol: ProtocolName;
  fold: number | null;
  train: number[];
  validation: number[];
  test: number[];
}

export const SEED = 42;

export function isProtocol(name: string): name is ProtocolName {
  return (PROTOCOLS as readonly string[]).includes(name);
}

/** actor-6fold fold k (1..6): test actors 4k-3..4k, validation actors 4k+1 and 4k+2 (mod 24). */
export function foldActors(fold: number): { test: number[]; validation: number[] } {
  if (!Number.isInteger(fold) || fold < 1 || fold > 6) throw new RangeError(`actor-6fold has folds 1..6, got ${fold}`);
  const test = [4 * fold - 3, 4 * fold - 2, 4 * fold - 1, 4 * fold];
  const validation = [((4 * fold) % 24) + 1, ((4 * fold + 1) % 24) + 1];
  return { test, validation };
}

/** Clip ids split 80/20 stratified by emotion, then 10% of training clips (stratified) for validation. */
export function utteranceClips(clips: { clipId: string; label: number }[]): {
  train: Set<string>;
  validation: Set<string>;
  test: Set<string>;
} {
  const rng = new Random(SEED);
  const byLabel = new Map<number, string[]>();
  for (const c of [...clips].sort((a, b) => (a.clipId < b.clipId ? -1 : 1))) {
    const list = byLabel.get(c.label) ?? [];
    list.push(c.clipId);
    byLabel.set(c.label, list);
  }
  const train = new Set<string>();
  const validation = new Set<string>();
  const test = new Set<string>();
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const ids = rng.shuffle(byLabel.get(label) ?? []);
    const nTest = Math.round(ids.length * 0.2);
    const rest = ids.slice(nTest);
    const nVal = Math.round(rest.length * 0.1);
    for (const id of ids.slice(0, nTest)) test.add(id);
    for (const id of rest.slice(0, nVal)) validation.add(id);
    for (const id of rest.slice(nVal)) train.add(id);
  }
  return { train, validation, test };
}

export function splitRows(protocol: ProtocolName, rows: SplitRow[], fold?: number): Split {
  const all = rows.map((_, i) => i);
  const original = (i: number) => rows[i].augmentation === 'none';
  switch (protocol) {
    case 'seed': {
      // Every row, augmented or not, shuffled and cut 80/20; the 20% is also the validation set.
      const order = new Random(SEED).shuffle([...all]);
      const nTest = Math.ceil(order.length * 0.2);
      const test = order.slice(0, nTest).sort((a, b) => a - b);
      return { protocol, fold: null, train: order.slice(nTest).sort((a, b) => a - b), validation: test, test };
    }
    case 'utterance': {
      const unique = new Map<string, number>();
      for (const r of rows) unique.set(r.clipId, r.label);
      const clips = utteranceClips([...unique].map(([clipId, label]) => ({ clipId, label })));
      return {
        protocol,
        fold: null,
        train: all.filter((i) => clips.train.has(rows[i].clipId)),
        validation: all.filter((i) => clips.validation.has(rows[i].clipId) && original(i)),
        test: all.filter((i) => clips.test.has(rows[i].clipId) && original(i)),
      };
    }
    case 'actor-6fold':
    case 'holdout-21-24': {
      const k = protocol === 'holdout-21-24' ? 6 : (fold ?? 1);
      const { test, validation } = foldActors(k);
      return {
        protocol,
        fold: k,
        train: all.filter((i) => !test.includes(rows[i].actor) && !validation.includes(rows[i].actor)),
        validation: all.filter((i) => validation.includes(rows[i].actor) && original(i)),
        test: all.filter((i) => test.includes(rows[i].actor) && original(i)),
      };
    }
  }
}
