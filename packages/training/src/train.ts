/**
 * One training run under a protocol: split the feature set, train with PyTorch,
 * check the exported ONNX file against PyTorch's outputs, evaluate through the
 * serving path, and write the bundle's manifest.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readDatasetMeta } from '@ser/dataset';
import { BundleError, ModelBundle, type ModelManifest } from '@ser/model';
import { type ProtocolName, type Split, splitRows } from '@ser/ravdess';
import { EXIT_PAUSED, runTrainer } from './python.js';

/** The seed project's four rows per clip; the `seed` protocol uses exactly these. */
const SEED_RECIPES = new Set(['none', 'noise', 'pitch', 'pitch+noise']);

export interface TrainOptions {
  data: string;
  protocol: ProtocolName;
  fold?: number;
  arch: string;
  out: string;
  name?: string;
  version?: string;
  /** Training rows limited to these augmentations (the originals always count). */
  augmentations?: string[];
  /** Extra arguments for train.py (epochs, resume, max-minutes, ...). */
  trainerArgs?: string[];
  quiet?: boolean;
  /** Evaluates the bundle through the serving path; its result goes into the manifest. */
  evaluate?: (bundle: ModelBundle) => Promise<Record<string, unknown>>;
}

export type TrainResult = { status: 'paused'; out: string } | { status: 'done'; out: string; manifest: ModelManifest };

/**
 * Row split of a feature set under a protocol. Training rows can be limited to some
 * augmentations; the seed protocol always takes exactly the seed project's four.
 */
export async function makeSplit(data: string, protocol: ProtocolName, fold?: number, augmentations?: string[]): Promise<Split> {
  const meta = await readDatasetMeta(data);
  const wanted = protocol === 'seed' ? SEED_RECIPES : augmentations ? new Set(['none', ...augmentations]) : null;
  const missing = wanted ? [...wanted].filter((r) => !meta.augmentations.includes(r)) : [];
  if (missing.length) throw new Error(`${data} has no ${missing.join(', ')} rows (it has ${meta.augmentations.join(', ')})`);
  const keep = meta.rows.flatMap((r, i) => (!wanted || wanted.has(r.augmentation) ? [i] : []));
  const split = splitRows(
    protocol,
    keep.map((i) => meta.rows[i]),
    fold,
  );
  const back = (ids: number[]) => ids.map((i) => keep[i]);
  return { ...split, train: back(split.train), validation: back(split.validation), test: back(split.test) };
}

interface ReferenceDoc {
  inputs: number[][];
  probabilities: number[][];
  tolerance: number;
}

/** ONNX Runtime and PyTorch must agree on the trainer's reference rows. */
async function onnxAgreement(bundle: ModelBundle, dir: string): Promise<number> {
  const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8')) as ReferenceDoc;
  const batch = Float32Array.from(ref.inputs.flat());
  const got = await bundle.predictScaled(batch);
  let maxDiff = 0;
  got.forEach((row, r) => {
    row.forEach((p, c) => {
      maxDiff = Math.max(maxDiff, Math.abs(p - ref.probabilities[r][c]));
    });
  });
  if (maxDiff > ref.tolerance)
    throw new BundleError(`ONNX Runtime and PyTorch disagree by ${maxDiff} (> ${ref.tolerance}) on the reference rows`);
  return maxDiff;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { data, protocol, fold, arch, out } = options;
  const split = await makeSplit(data, protocol, fold, options.augmentations);
  const splitPath = join(out, 'split.json');
  await mkdir(out, { recursive: true });
  await writeFile(splitPath, `${JSON.stringify(split)}\n`);
  const code = await runTrainer(['--data', data, '--split', splitPath, '--arch', arch, '--out', out, ...(options.trainerArgs ?? [])], {
    quiet: options.quiet,
  });
  if (code === EXIT_PAUSED) return { status: 'paused', out };

  // biome-ignore lint/suspicious/noExplicitAny: the trainer's report is JSON written by Python
  const report = JSON.parse(await readFile(join(out, 'train-report.json'), 'utf8')) as any;
  const meta = await readDatasetMeta(data);
  const leaky = protocol === 'seed';
  const manifest: ModelManifest = {
    name: options.name ?? basename(out),
    version: options.version ?? '1.0.0',
    labels: report.labels,
    featureSpec: { ...meta.featureSpec, vectorLength: meta.vectorLength },
    scaler: report.scaler,
    architecture: arch,
    parameterCount: report.parameterCount,
    onnx: {
      file: report.onnx.file,
      sha256: report.onnx.sha256,
      input: report.onnx.input,
      output: report.onnx.output,
      opset: report.onnx.opset,
    },
    training: {
      protocol,
      fold: split.fold,
      data: {
        path: data,
        rows: meta.rows.length,
        augmentations: protocol === 'seed' ? [...SEED_RECIPES] : (options.augmentations ?? meta.augmentations),
        corpus: meta.corpus,
        seed: meta.seed,
      },
      rows: { train: split.train.length, validation: split.validation.length, test: split.test.length },
      hyperParameters: report.hyperParameters,
      epochsRun: report.epochsRun,
      bestEpoch: report.bestEpoch,
      stoppedReason: report.stoppedReason,
      wallSeconds: report.wallSeconds,
      sittings: report.sittings,
      trainSamplesPerSecond: report.speed?.trainSamplesPerSecond,
      trainableParameterCount: report.trainableParameterCount,
      versions: report.versions,
    },
    metrics: { trainerTestRows: report.test, trainerTestRowsByChannel: report.testByChannel },
    notes: leaky
      ? [
          "LEAKY: trained and tested under the 'seed' protocol, a random split of augmented rows where copies of the same recording sit on both sides and the test rows also steer early stopping. The figure measures memorisation, not generalisation; compare it only with the seed project's leaky 93.93 %.",
        ]
      : [],
  };
  // Written once so the bundle can be loaded and checked, again with what the checks measured.
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  const bundle = await ModelBundle.load(out);
  try {
    manifest.metrics.onnxVsPytorchMaxAbsDiff = await onnxAgreement(bundle, out);
    if (options.evaluate) manifest.metrics.servingPath = await options.evaluate(bundle);
  } finally {
    await bundle.close();
  }
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return { status: 'done', out, manifest };
}
