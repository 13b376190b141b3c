/**
 * Benchmark of the feature recipe, single-threaded:
 * - whole recipe per clip: decode a WAV window, mix to mono, resample to 22050 Hz, features;
 * - features alone on already-decoded 22050 Hz audio.
 * Inputs are converted to WAV (channels kept) in a cache directory before any timing.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { clipFeatures, clipFromWindow, DEFAULT_CLIP_SPEC, decodeChannels, decodeWav, encodeWav } from '@ser/audio';
import { listAudioFiles } from '@ser/ravdess';
import { CliError } from '../errors.js';

/** WAV bytes for each input, converted once and cached by path, size and mtime. */
async function asWav(files: string[], dataDir: string): Promise<Uint8Array[]> {
  const cacheDir = join(tmpdir(), 'ser-bench-wav');
  await mkdir(cacheDir, { recursive: true });
  const out: Uint8Array[] = [];
  for (const [i, file] of files.entries()) {
    if (/\.wav$/i.test(file)) {
      out.push(new Uint8Array(await readFile(file)));
      continue;
    }
    const info = await stat(file);
    const key = createHash('sha256')
      .update(`${resolve(file)}:${info.size}:${info.mtimeMs}`)
      .digest('hex')
      .slice(0, 24);
    const cached = join(cacheDir, `${key}.wav`);
    const hit = await readFile(cached).catch(() => null);
    if (hit) {
      out.push(new Uint8Array(hit));
      continue;
    }
    const decoded = await decodeChannels(new Uint8Array(await readFile(file)));
    const wav = encodeWav(decoded.channelData, decoded.sampleRate, 'int16');
    await writeFile(cached, wav);
    out.push(wav);
    if ((i + 1) % 50 === 0) process.stderr.write(`converted ${i + 1}/${files.length} (${relative(dataDir, file)})\n`);
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchFeatures(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string' },
      passes: { type: 'string', default: '3' },
    },
  });
  if (!values.data) throw new CliError('usage: ser bench features --data DIR [--json] [--limit N] [--passes N]');
  const passes = Number(values.passes);
  if (!(passes >= 1)) throw new CliError(`--passes must be >= 1, got '${values.passes}'`);
  let files = await listAudioFiles(values.data);
  if (values.limit) files = files.slice(0, Number(values.limit));
  if (files.length === 0) throw new Error(`no .wav or .flac files under ${values.data}`);
  const wavs = await asWav(files, values.data);
  const spec = DEFAULT_CLIP_SPEC;

  const recipe = (wav: Uint8Array) => {
    const window = decodeWav(wav, spec);
    const clip = clipFromWindow({ ...window, format: 'wav' }, spec);
    return { clip, vector: clipFeatures(clip.y, spec).vector };
  };
  // Warm-up: JIT, FFT plans, filter designs.
  const decoded = wavs.map((w) => recipe(w).clip.y);

  const wholeMs: number[] = [];
  const featuresMs: number[] = [];
  let wholeWall = 0;
  let checksum = 0;
  for (let pass = 0; pass < passes; pass++) {
    const passStart = performance.now();
    for (const wav of wavs) {
      const t0 = performance.now();
      const { vector } = recipe(wav);
      wholeMs.push(performance.now() - t0);
      checksum += vector[vector.length - 1];
    }
    wholeWall += performance.now() - passStart;
    for (const y of decoded) {
      const t0 = performance.now();
      const { vector } = clipFeatures(y, spec);
      featuresMs.push(performance.now() - t0);
      checksum += vector[0];
    }
  }
  const result = {
    clips: wavs.length,
    wholeRecipeMedianMs: round(median(wholeMs)),
    featuresOnlyMedianMs: round(median(featuresMs)),
    clipsPerSecond: round((wavs.length * passes * 1000) / wholeWall),
  };
  if (!values.json) {
    process.stdout.write(
      [
        `clips:                 ${result.clips} (${passes} passes, single thread, checksum ${checksum.toFixed(3)})`,
        `whole recipe, median:  ${result.wholeRecipeMedianMs} ms/clip (decode WAV window, mix, resample, features)`,
        `features only, median: ${result.featuresOnlyMedianMs} ms/clip`,
        `throughput:            ${result.clipsPerSecond} clips/s`,
        '',
      ].join('\n'),
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const round = (x: number) => Math.round(x * 1000) / 1000;
