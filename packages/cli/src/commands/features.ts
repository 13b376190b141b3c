import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type ClipSpec, clipFeatures, DEFAULT_CLIP_SPEC, loadClip, type PadMode } from '@ser/audio';
import { CliError } from '../errors.js';

const PAD_MODES: PadMode[] = ['zeros', 'none', 'vector'];

export function parseClipSpec(values: { offset?: string; duration?: string; pad?: string }): ClipSpec {
  const spec: ClipSpec = { ...DEFAULT_CLIP_SPEC };
  if (values.offset !== undefined) {
    const offset = Number(values.offset);
    if (!(offset >= 0)) throw new CliError(`--offset must be a number of seconds >= 0, got '${values.offset}'`);
    spec.offsetSeconds = offset;
  }
  if (values.duration !== undefined) {
    if (values.duration === 'all') spec.durationSeconds = null;
    else {
      const duration = Number(values.duration);
      if (!(duration > 0)) throw new CliError(`--duration must be a number of seconds > 0 or 'all', got '${values.duration}'`);
      spec.durationSeconds = duration;
    }
  }
  if (values.pad !== undefined) {
    if (!PAD_MODES.includes(values.pad as PadMode)) throw new CliError(`--pad must be one of ${PAD_MODES.join(', ')}, got '${values.pad}'`);
    spec.pad = values.pad as PadMode;
  }
  return spec;
}

export async function features(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      offset: { type: 'string' },
      duration: { type: 'string' },
      pad: { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new CliError('usage: ser features FILE [--json] [--offset S] [--duration S|all] [--pad zeros|none|vector]');
  const spec = parseClipSpec(values);
  const file = positionals[0];
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const clip = await loadClip(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec);
  const { features: f, vector } = clipFeatures(clip.y, spec);
  if (values.json) {
    const out = {
      sampleRate: spec.sampleRate,
      frames: f.frames,
      zcr: Array.from(f.zcr),
      rms: Array.from(f.rms),
      mfcc: f.mfcc.map((row) => Array.from(row)),
      vector: Array.from(vector),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const src = clip.source;
  const lines = [
    `file:        ${file}`,
    `source:      ${src.codec}, ${src.sampleRate} Hz, ${src.channels} channel(s), ${(src.totalFrames / src.sampleRate).toFixed(3)} s`,
    `clip:        offset ${spec.offsetSeconds} s, duration ${spec.durationSeconds ?? 'all'}, pad ${spec.pad}`,
    `signal:      ${clip.signalSamples} samples at ${spec.sampleRate} Hz (${clip.y.length - clip.signalSamples} padded)`,
    `frames:      ${f.frames}`,
    `vector:      ${vector.length} values`,
    `mean zcr:    ${mean(f.zcr).toFixed(5)}`,
    `mean rms:    ${mean(f.rms).toFixed(5)}`,
    `mean mfcc:   ${f.mfcc.map((r) => mean(r).toFixed(1)).join(' ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return a.length ? s / a.length : 0;
}
