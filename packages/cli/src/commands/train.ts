/**
 * `ser train`: trains a model bundle under a protocol (PyTorch, see training/),
 * checks its ONNX export, and evaluates it through the serving path.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelBundle } from '@ser/model';
import { isProtocol, type ProtocolName } from '@ser/ravdess';
import { train } from '@ser/training';
import { CliError } from '../errors.js';
import { evaluateModel } from './evaluate.js';

const USAGE = `usage: ser train --data DATASET --protocol seed|utterance|actor-6fold|holdout-21-24 [--fold K|all] --arch seed-cnn|ser-cnn|ser-cnn-ensemble --out DIR
                 [--name NAME] [--version V] [--augmentations a,b] [--corpus DIR] [--corpus-48k DIR] [-- train.py options]`;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

export async function trainCommand(argv: string[]): Promise<void> {
  const dashes = argv.indexOf('--');
  const args = dashes >= 0 ? argv.slice(0, dashes) : argv;
  const trainerArgs = dashes >= 0 ? argv.slice(dashes + 1) : [];
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      protocol: { type: 'string' },
      fold: { type: 'string' },
      arch: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      corpus: { type: 'string', default: '../shared/ravdess' },
      'corpus-48k': { type: 'string' },
      augmentations: { type: 'string' },
    },
  });
  if (!values.data || !values.protocol || !values.arch || !values.out) throw new CliError(USAGE);
  if (!isProtocol(values.protocol)) throw new CliError(`unknown protocol '${values.protocol}'`);
  const protocol: ProtocolName = values.protocol;
  const folds = protocol === 'actor-6fold' ? (values.fold === 'all' ? [1, 2, 3, 4, 5, 6] : [Number(values.fold)]) : [undefined];
  if (protocol === 'actor-6fold' && folds.some((f) => !(f && f >= 1 && f <= 6)))
    throw new CliError('actor-6fold needs --fold 1..6 or --fold all');

  const evaluate =
    protocol === 'seed'
      ? undefined
      : async (bundle: ModelBundle, fold?: number) => {
          const corpora = [
            values.corpus as string,
            ...(protocol === 'holdout-21-24' && values['corpus-48k'] ? [values['corpus-48k']] : []),
          ];
          const out: Record<string, unknown> = {};
          for (const corpus of corpora) out[corpus] = await evaluateModel(bundle, corpus, protocol, fold);
          return out;
        };

  type Figures = { ua: number; wa: number } | undefined;
  const summaries: { fold: number | null; out: string; minutes: number; speech: Figures; song: Figures }[] = [];
  for (const fold of folds) {
    const out = folds.length > 1 ? join(values.out, `fold-${fold}`) : values.out;
    const started = Date.now();
    const result = await train({
      data: values.data,
      protocol,
      fold,
      arch: values.arch,
      out,
      name: values.name,
      version: values.version,
      augmentations: values.augmentations
        ?.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
      trainerArgs,
      evaluate: evaluate && ((bundle) => evaluate(bundle, fold)),
    });
    if (result.status === 'paused') {
      process.stderr.write(`train: paused by --max-minutes; run the same command with '-- --resume' to continue (${out}/checkpoint.pt)\n`);
      process.exitCode = 3;
      return;
    }
    const serving = result.manifest.metrics.servingPath as
      | Record<string, { speech: { ua: number; wa: number }; song: { ua: number; wa: number } }>
      | undefined;
    const main = serving?.[values.corpus as string];
    summaries.push({ fold: fold ?? null, out, minutes: (Date.now() - started) / 60000, speech: main?.speech, song: main?.song });
    process.stdout.write(
      `${JSON.stringify({ out, fold: fold ?? null, speech: main ? { ua: main.speech.ua, wa: main.speech.wa } : null, song: main ? { ua: main.song.ua, wa: main.song.wa } : null })}\n`,
    );
  }
  if (folds.length > 1) {
    const pick = (channel: 'speech' | 'song', metric: 'ua' | 'wa') => summaries.map((s) => s[channel]?.[metric] ?? Number.NaN);
    const stat = (xs: number[]) => ({ mean: mean(xs), std: std(xs), folds: xs });
    const summary = {
      protocol,
      arch: values.arch,
      folds: summaries,
      speech: { ua: stat(pick('speech', 'ua')), wa: stat(pick('speech', 'wa')) },
      song: { ua: stat(pick('song', 'ua')), wa: stat(pick('song', 'wa')) },
    };
    await writeFile(join(values.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
    process.stdout.write(
      `${JSON.stringify({ summary: join(values.out, 'summary.json'), speechUa: summary.speech.ua, speechWa: summary.speech.wa })}\n`,
    );
  }
}
