import { parseArgs } from 'node:util';
import { isRecipe, RECIPES, type RecipeName } from '@ser/augment';
import { buildDataset, writeDataset } from '@ser/dataset';
import { CliError } from '../errors.js';
import { parseClipSpec } from './features.js';

const USAGE =
  'usage: ser dataset --corpus DIR --out DIR [--augment noise,pitch,...] [--actors 1-20] [--channel speech|song] [--seed 42] [--workers N] [--offset S] [--duration S] [--pad zeros|vector]';

/** "1-4,9,21-24" -> [1, 2, 3, 4, 9, 21, 22, 23, 24] */
export function parseActors(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new CliError(`--actors: '${part}' is not a number or a range like 1-4`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out;
}

export async function dataset(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      corpus: { type: 'string' },
      out: { type: 'string' },
      augment: { type: 'string', default: '' },
      actors: { type: 'string' },
      channel: { type: 'string' },
      seed: { type: 'string', default: '42' },
      workers: { type: 'string' },
      offset: { type: 'string' },
      duration: { type: 'string' },
      pad: { type: 'string' },
    },
  });
  if (!values.corpus || !values.out) throw new CliError(USAGE);
  const augmentations = values.augment ? values.augment.split(',').map((s) => s.trim()) : [];
  for (const a of augmentations) {
    if (!isRecipe(a)) throw new CliError(`unknown augmentation '${a}' (available: ${Object.keys(RECIPES).join(', ')})`);
  }
  const spec = parseClipSpec(values);
  if (spec.durationSeconds === null) throw new CliError('a feature set needs a fixed --duration');
  if (spec.pad === 'none') throw new CliError("a feature set needs vectors of one length: --pad zeros or vector, not 'none'");
  const actors = values.actors ? new Set(parseActors(values.actors)) : null;
  const channel = values.channel;
  if (channel && channel !== 'speech' && channel !== 'song') throw new CliError(`--channel must be speech or song, got '${channel}'`);
  const started = Date.now();
  let lastReport = 0;
  const data = await buildDataset({
    corpus: values.corpus,
    augmentations: augmentations as RecipeName[],
    seed: Number(values.seed),
    spec,
    workers: values.workers ? Number(values.workers) : undefined,
    filter: (c) => (!actors || actors.has(c.actor)) && (!channel || c.channel === channel),
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - lastReport < 2000 && done !== total) return;
      lastReport = now;
      const elapsed = (now - started) / 1000;
      const eta = (elapsed / done) * (total - done);
      process.stderr.write(`dataset: ${done}/${total} clips, ${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left\n`);
    },
  });
  await writeDataset(values.out, data);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ out: values.out, rows: data.meta.rows.length, vectorLength: data.meta.vectorLength, augmentations: data.meta.augmentations, seconds })}\n`,
  );
}
