/**
 * What GET /v1/models and GET /readyz answer, read tolerantly, and the model's
 * accuracy told honestly: the headline figure with the protocol it was measured under.
 */

export interface ModelInfo {
  name: string;
  version: string;
  labels: string[];
  architecture?: string;
  parameterCount?: number;
  metrics?: Record<string, unknown>;
}

export interface Figure {
  /** e.g. "Speech UA" */
  label: string;
  value: number;
  /** Standard deviation over folds, when the figure is a mean. */
  std?: number;
  protocol: string;
  /** What the protocol means, or where the figure comes from. */
  note: string;
  /** Test clips behind it. */
  count?: number;
}

const PROTOCOLS: Record<string, string> = {
  'holdout-21-24': 'actors 21–24 never seen in training',
  'actor-6fold': 'six folds of four held-out actors, each unseen by its model',
  utterance: 'clip-level split; speakers shared with training',
  seed: 'leaky split, for comparison only',
};

export function describeProtocol(protocol: string): string {
  return PROTOCOLS[protocol] ?? protocol;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The one model in GET /v1/models, whatever envelope it comes in (object, array, {items}, {models}). */
export function readModel(body: unknown): ModelInfo | null {
  let m: unknown = body;
  if (Array.isArray(m)) m = m[0];
  else if (isObj(m) && Array.isArray(m.items)) m = m.items[0];
  else if (isObj(m) && Array.isArray(m.models)) m = m.models[0];
  else if (isObj(m) && isObj(m.model)) m = m.model;
  if (!isObj(m) || typeof m.name !== 'string') return null;
  return {
    name: m.name,
    version: str(m.version) ?? '',
    labels: Array.isArray(m.labels) ? m.labels.filter((l): l is string => typeof l === 'string') : [],
    architecture: str(m.architecture),
    parameterCount: num(m.parameterCount),
    metrics: isObj(m.metrics) ? m.metrics : undefined,
  };
}

function corpusName(path: string): string {
  const base = path.split(/[\\/]/).filter(Boolean).pop() ?? path;
  return /48k/i.test(base) ? 'original 48 kHz recordings' : base.toLowerCase() === 'ravdess' ? 'RAVDESS' : base;
}

/**
 * The headline (speech UA on the held-out actors through the serving path) and the
 * other figures worth a line, from the manifest's `metrics`.
 */
export function modelFigures(metrics: Obj | undefined): { headline: Figure | null; others: Figure[] } {
  const figures: Figure[] = [];
  if (!metrics) return { headline: null, others: [] };

  const serving = isObj(metrics.servingPath) ? metrics.servingPath : undefined;
  if (serving) {
    // The corpus the model was evaluated on as shipped first, the 48 kHz originals after.
    const corpora = Object.keys(serving).sort((a, b) => Number(/48k/i.test(a)) - Number(/48k/i.test(b)));
    for (const [i, corpus] of corpora.entries()) {
      const run = serving[corpus];
      if (!isObj(run)) continue;
      const protocol = str(run.protocol) ?? 'unknown protocol';
      const where = i === 0 ? '' : ` (${corpusName(corpus)})`;
      for (const channel of ['speech', 'song'] as const) {
        const part = run[channel];
        const ua = isObj(part) ? num(part.ua) : undefined;
        if (ua === undefined || !isObj(part)) continue;
        if (i > 0 && channel === 'song') continue;
        figures.push({
          label: `${channel === 'speech' ? 'Speech' : 'Song'} UA${where}`,
          value: ua,
          protocol,
          note: describeProtocol(protocol),
          count: num(part.count),
        });
      }
      if (!isObj(run.speech) && num(run.ua) !== undefined)
        figures.push({ label: `UA${where}`, value: num(run.ua)!, protocol, note: describeProtocol(protocol), count: num(run.count) });
    }
  }

  const cv = isObj(metrics.actor6fold) ? metrics.actor6fold : undefined;
  if (cv && isObj(cv.speech) && isObj(cv.speech.ua) && num(cv.speech.ua.mean) !== undefined) {
    const protocol = str(cv.protocol) ?? 'actor-6fold';
    figures.push({
      label: 'Speech UA, cross-validated',
      value: num(cv.speech.ua.mean)!,
      std: num(cv.speech.ua.std),
      protocol,
      note: describeProtocol(protocol),
    });
  }

  if (figures.length === 0) {
    // No serving-path evaluation: the trainer's own test rows, said as such.
    const byChannel = isObj(metrics.trainerTestRowsByChannel) ? metrics.trainerTestRowsByChannel : undefined;
    const speech = byChannel && isObj(byChannel.speech) ? num(byChannel.speech.ua) : undefined;
    const all = isObj(metrics.trainerTestRows) ? num(metrics.trainerTestRows.ua) : num(metrics.ua);
    const value = speech ?? all;
    if (value !== undefined)
      figures.push({
        label: speech !== undefined ? 'Speech UA' : 'UA',
        value,
        protocol: 'trainer test rows',
        note: "the trainer's own test split",
      });
  }

  const [headline = null, ...others] = figures;
  return { headline, others };
}

export type ReadyState = 'ready' | 'not-ready' | 'unreachable' | 'checking';

export interface CheckLine {
  name: string;
  ok: boolean;
  detail?: string;
}

/** GET /readyz's checks as lines, whatever their shape (map of strings/booleans/objects, or a list). */
export function readChecks(body: unknown): CheckLine[] {
  if (!isObj(body)) return [];
  const checks = body.checks;
  const lines: CheckLine[] = [];
  const okWord = (s: string) => /^(ok|ready|up|healthy|serving|pass(ed)?|true)$/i.test(s);
  const line = (name: string, v: unknown): CheckLine => {
    if (typeof v === 'boolean') return { name, ok: v };
    if (typeof v === 'string') return { name, ok: okWord(v), detail: okWord(v) ? undefined : v };
    if (isObj(v)) {
      const status = str(v.status) ?? (typeof v.ok === 'boolean' ? String(v.ok) : undefined);
      const ok = typeof v.ok === 'boolean' ? v.ok : status ? okWord(status) : !v.error;
      const detail = str(v.error) ?? str(v.message) ?? str(v.reason) ?? (ok ? undefined : status);
      const ms = num(v.latencyMs) ?? num(v.ms);
      return { name, ok, detail: detail ?? (ms !== undefined ? `${Math.round(ms)} ms` : undefined) };
    }
    return { name, ok: false, detail: String(v) };
  };
  if (Array.isArray(checks)) {
    for (const c of checks) if (isObj(c)) lines.push(line(str(c.name) ?? str(c.check) ?? '?', c));
  } else if (isObj(checks)) {
    for (const [name, v] of Object.entries(checks)) lines.push(line(name, v));
  }
  return lines;
}
