#!/usr/bin/env node
/**
 * `ser`: the platform's command-line tool.
 * Every command writes its result to stdout and any error to stderr with a non-zero exit code.
 */
import { CliError } from './errors.js';

const HELP = `ser: speech emotion recognition tools

Usage:
  ser features FILE [--json] [--offset SECONDS] [--duration SECONDS|all] [--pad zeros|none|vector]
      Feature vector of one recording (zcr, rms, 20 MFCC per frame), computed as librosa does.
      Defaults: --offset 0.6 --duration 2.5 --pad zeros (2376 values).
  ser dataset --corpus DIR --out DIR [--augment noise,pitch,pitch+noise,...] [--actors 1-20] [--channel speech|song]
      Feature set for training: every clip (and its augmented copies) through the serving
      feature extractor, written as features.f32 + meta.json. Progress on stderr.
  ser train --data DATASET --protocol NAME [--fold K|all] --arch seed-cnn|ser-cnn|ser-cnn-ensemble --out DIR [-- train.py options]
      Splits the feature set by the protocol, trains with PyTorch (/usr/bin/python3 training/train.py),
      checks ONNX against PyTorch, evaluates through the serving path, writes manifest.json.
  ser eval --model DIR --data CORPUS --protocol holdout-21-24|actor-6fold|utterance [--fold K] [--json]
      A model bundle through the serving path (decode, resample, features, scaler, ONNX Runtime)
      over the protocol's test clips: UA, WA, F1s, per-class figures and confusion matrices,
      overall and for speech and song separately.
  ser bench features --data DIR [--json] [--limit N]
      Times the whole recipe (decode WAV, mix, resample, features) and features alone on the
      recordings under DIR (converted to WAV first). Ends with one JSON line.
  ser bench model --model DIR [--json]
      ONNX Runtime inference time per clip of a model bundle, one thread, batch 1 and 32.
  ser keys create --name NAME [--rate-limit N] [--json] | ser keys list [--json] | ser keys revoke ID|PREFIX
      The gateway's API keys (API_KEYS_REQUIRED=true), in the database named by DATABASE_URL.
      A new key is printed once, alone on stdout; only its SHA-256 is stored. N: requests per minute (600).
  ser --help
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    // Commands load on demand: onnxruntime-node, once imported, slows typed-array
    // code for the rest of the process, which the feature benchmark must not pay.
    case 'features':
      return (await import('./commands/features.js')).features(rest);
    case 'dataset':
      return (await import('./commands/dataset.js')).dataset(rest);
    case 'train':
      return (await import('./commands/train.js')).trainCommand(rest);
    case 'eval':
      return (await import('./commands/evaluate.js')).evaluate(rest);
    case 'bench':
      if (rest[0] === 'features') return (await import('./commands/bench-features.js')).benchFeatures(rest.slice(1));
      if (rest[0] === 'model') return (await import('./commands/bench-model.js')).benchModel(rest.slice(1));
      throw new CliError(`unknown benchmark '${rest[0] ?? ''}' (available: features, model)`);
    case 'keys':
      return (await import('./commands/keys.js')).keys(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return;
    default:
      throw new CliError(`unknown command '${command}'\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ser: ${message}\n`);
  process.exitCode = err instanceof CliError ? 2 : 1;
});
