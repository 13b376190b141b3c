/**
 * `ser eval`: a model through the real serving path (decode, resample, features,
 * scaler, ONNX Runtime) over a protocol's test clips.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { clipFeatures, loadClip } from '@ser/audio';
import { argmax, computeMetrics, type Metrics, ModelBundle } from '@ser/model';
import { foldActors, isProtocol, type ProtocolName, type RavdessClip, readCorpus, utteranceClips } from '@ser/ravdess';
import { CliError } from '../errors.js';

/** Figures over all test clips at the top level, and again for speech and for song. */
export interface EvalReport extends Metrics {
  protocol: ProtocolName;
  folds: number[] | null;
  model: { name: string; version: string };
  corpus: string;
  counts: { total: number; speech: number; song: number };
  speech: Metrics;
  song: Metrics;
  seconds: number;
}

/** The clips a protocol tests on (originals only). */
export function testClips(protocol: ProtocolName, clips: RavdessClip[], fold?: number): RavdessClip[] {
  switch (protocol) {
    case 'holdout-21-24':
    case 'actor-6fold': {
      const actors = foldActors(protocol === 'holdout-21-24' ? 6 : (fold ?? 0)).test;
      return clips.filter((c) => actors.includes(c.actor));
    }
    case 'utterance': {
      const { test } = utteranceClips(clips.map((c) => ({ clipId: c.id, label: c.label })));
      return clips.filter((c) => test.has(c.id));
    }
    case 'seed':
      throw new CliError("the 'seed' protocol tests on augmented rows of a random row split (leaky); its figures come from `ser train`");
  }
}

export async function evaluateModel(
  bundle: ModelBundle,
  corpus: string,
  protocol: ProtocolName,
  fold?: number,
  onProgress?: (done: number, total: number) => void,
): Promise<EvalReport> {
  const started = Date.now();
  const clips = testClips(protocol, await readCorpus(corpus), fold);
  if (!clips.length) throw new Error(`no test clips for ${protocol} under ${corpus}`);
  const spec = bundle.manifest.featureSpec;
  const truth: number[] = [];
  const predicted: number[] = [];
  const batchSize = 32;
  for (let i = 0; i < clips.length; i += batchSize) {
    const batch = clips.slice(i, i + batchSize);
    const vectors = [];
    for (const clip of batch) {
      const bytes = await readFile(clip.path);
      const loaded = await loadClip(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec);
      vectors.push(clipFeatures(loaded.y, spec).vector);
    }
    const probabilities = await bundle.predict(vectors);
    batch.forEach((clip, j) => {
      truth.push(clip.label);
      predicted.push(argmax(probabilities[j]));
    });
    onProgress?.(Math.min(i + batchSize, clips.length), clips.length);
  }
  const labels = bundle.manifest.labels;
  const pick = (channel: string) => {
    const idx = clips.map((c, i) => (c.channel === channel ? i : -1)).filter((i) => i >= 0);
    return computeMetrics(
      labels,
      idx.map((i) => truth[i]),
      idx.map((i) => predicted[i]),
    );
  };
  const speech = pick('speech');
  const song = pick('song');
  return {
    protocol,
    folds: protocol === 'utterance' ? null : [protocol === 'holdout-21-24' ? 6 : (fold as number)],
    model: { name: bundle.manifest.name, version: bundle.manifest.version },
    corpus,
    counts: { total: clips.length, speech: speech.count, song: song.count },
    ...computeMetrics(labels, truth, predicted),
    speech,
    song,
    seconds: (Date.now() - started) / 1000,
  };
}

export async function evaluate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      protocol: { type: 'string' },
      fold: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.data || !values.protocol) {
    throw new CliError('usage: ser eval --model DIR --data CORPUS --protocol holdout-21-24|actor-6fold|utterance [--fold K] [--json]');
  }
  if (!isProtocol(values.protocol)) throw new CliError(`unknown protocol '${values.protocol}'`);
  const fold = values.fold ? Number(values.fold) : undefined;
  if (values.protocol === 'actor-6fold' && !(fold && fold >= 1 && fold <= 6))
    throw new CliError('actor-6fold needs --fold 1..6 (one model per fold)');
  const bundle = await ModelBundle.load(values.model);
  try {
    const report = await evaluateModel(bundle, values.data, values.protocol, fold, (done, total) => {
      if (!values.json) process.stderr.write(`eval: ${done}/${total} clips\r`);
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
    process.stdout.write(
      [
        `model:     ${report.model.name} ${report.model.version}`,
        `protocol:  ${report.protocol}${report.folds ? ` (fold ${report.folds.join(', ')})` : ''}, ${report.corpus}`,
        `clips:     ${report.counts.total} (speech ${report.counts.speech}, song ${report.counts.song})`,
        `all:       UA ${pct(report.ua)}, WA ${pct(report.wa)}, macro-F1 ${pct(report.macroF1)}`,
        `speech:    UA ${pct(report.speech.ua)}, WA ${pct(report.speech.wa)}, macro-F1 ${pct(report.speech.macroF1)}`,
        `song:      UA ${pct(report.song.ua)}, WA ${pct(report.song.wa)}, macro-F1 ${pct(report.song.macroF1)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await bundle.close();
  }
}
