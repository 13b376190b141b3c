/**
 * Load test of a running feature extractor: Classify with inline audio from a
 * RAVDESS-style corpus, N callers at once.
 *   node --import tsx services/feature-extractor/src/bench-classify.ts \
 *     --address 127.0.0.1:50052 --data ../shared/ravdess-48k --concurrency 8 --clips 400
 *     [--wav]
 * Ends with one JSON line: {concurrency, clips, seconds, clipsPerSecond, latencyMs: {p50, p90, p99}}.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeChannels, encodeWav } from '@ser/audio';
import { callUnary, createClient, FeatureExtractorServiceClient } from '@ser/grpc';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1:50052' },
    data: { type: 'string', default: '../shared/ravdess-48k' },
    concurrency: { type: 'string', default: '8' },
    clips: { type: 'string', default: '400' },
    warmup: { type: 'string', default: '16' },
    /** Send the clips as 16-bit WAV (bit-identical samples) instead of the corpus's FLAC. */
    wav: { type: 'boolean', default: false },
  },
});

async function audioFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.(flac|wav)$/.test(entry.name)) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

const files = await audioFiles(values.data);
const audio = await Promise.all(
  files.slice(0, 200).map(async (f) => {
    const bytes = new Uint8Array(await readFile(f));
    if (!values.wav) return Buffer.from(bytes);
    const decoded = await decodeChannels(bytes);
    return Buffer.from(encodeWav(decoded.channelData, decoded.sampleRate, 'int16'));
  }),
);
const client = createClient(FeatureExtractorServiceClient, values.address, { deadlineMs: 30_000 });
const classify = (i: number) =>
  callUnary(client, 'classify', { audio: { source: { $case: 'content', value: audio[i % audio.length] }, filename: '' } });

for (let i = 0; i < Number(values.warmup); i++) await classify(i);

const total = Number(values.clips);
const concurrency = Number(values.concurrency);
const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      const t = performance.now();
      await classify(i);
      latencies.push(performance.now() - t);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
client.close();
process.stdout.write(
  `${JSON.stringify({ concurrency, format: values.wav ? 'wav' : 'flac', clips: total, seconds: Math.round(seconds * 100) / 100, clipsPerSecond: Math.round((total / seconds) * 10) / 10, latencyMs: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) } })}\n`,
);
