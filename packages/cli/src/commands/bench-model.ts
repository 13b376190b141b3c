/** ONNX Runtime inference speed of a model bundle, one intra-op thread, batch 1 and batch 32. */
import { parseArgs } from 'node:util';
import { ModelBundle } from '@ser/model';
import { Random } from '@ser/ravdess';
import { CliError } from '../errors.js';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export async function benchModel(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, json: { type: 'boolean', default: false }, runs: { type: 'string', default: '300' } },
  });
  if (!values.model) throw new CliError('usage: ser bench model --model DIR [--runs N] [--json]');
  const runs = Number(values.runs);
  const bundle = await ModelBundle.load(values.model, { threads: 1 });
  try {
    // Scaled inputs are standard normal by construction; the timing does not depend on their values.
    const rng = new Random(1);
    const n = bundle.vectorLength;
    const batch = (size: number) => Float32Array.from({ length: size * n }, () => rng.normal());
    const time = async (size: number, reps: number) => {
      const input = batch(size);
      for (let i = 0; i < 20; i++) await bundle.predictScaled(input);
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        await bundle.predictScaled(input);
        ms.push((performance.now() - t0) / size);
      }
      return median(ms);
    };
    const result = {
      model: `${bundle.manifest.name} ${bundle.manifest.version}`,
      architecture: bundle.manifest.architecture,
      parameterCount: bundle.manifest.parameterCount,
      batch1MsPerClip: Math.round((await time(1, runs)) * 1000) / 1000,
      batch32MsPerClip: Math.round((await time(32, Math.max(20, runs >> 3))) * 1000) / 1000,
    };
    if (!values.json) {
      process.stdout.write(
        `model: ${result.model} (${result.architecture}, ${result.parameterCount} parameters), ONNX Runtime, 1 thread\n` +
          `batch 1:  ${result.batch1MsPerClip} ms/clip (median of ${runs})\nbatch 32: ${result.batch32MsPerClip} ms/clip\n`,
      );
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bundle.close();
  }
}
