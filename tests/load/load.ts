/**
 * Load test: a steady, open-loop rate of single-clip predictions (each request is
 * sent at its scheduled time whether or not earlier ones have been answered, and
 * its latency counts from that time) for a few minutes while a batch job of real
 * RAVDESS clips runs; then throughput, latency percentiles, errors, and each
 * service's memory (RSS and V8 heap, from its /metrics) before, at its peak during,
 * and after the run. "Before" and "after" are read once the platform is idle and a
 * full garbage collection has been forced in every service (through the inspector,
 * which this script enables when it starts the platform), so the after-minus-before
 * difference is memory kept, not garbage not yet collected.
 *
 *   pnpm --silent load [--rate 10] [--duration 180] [--batch 500] [--url URL] [--api-key KEY] [--out FILE]
 *
 * Without --url the platform is started here (packages/launcher, free ports, a local
 * S3 server, LOAD_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/ser_load);
 * with --url the platform at that address is used, its services' metrics read from
 * --metrics (name=url,...; default: the gateway's /metrics and ports 9101-9103 of
 * its host), and garbage collection cannot be forced (the settle is a pause only).
 * Prints a table on stderr, the JSON on stdout, and writes the JSON to --out.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Platform, REPO_ROOT, startPlatform } from '@ser/launcher';
import { RAVDESS } from '../e2e/corpus.js';
import { collectGarbage, inspectorUrl } from './inspector.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '180' },
    batch: { type: 'string', default: '500' },
    url: { type: 'string' },
    metrics: { type: 'string' },
    'api-key': { type: 'string', default: process.env.SER_API_KEY },
    warmup: { type: 'string', default: '20' },
    settle: { type: 'string', default: '5' },
    'max-in-flight': { type: 'string', default: '256' },
    'request-timeout': { type: 'string', default: '30' },
    'batch-timeout': { type: 'string', default: '900' },
    out: { type: 'string' },
    'database-url': { type: 'string', default: process.env.LOAD_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ser_load' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'pnpm --silent load [--rate REQ_PER_S] [--duration S] [--batch N] [--url URL] [--metrics name=url,...] [--api-key KEY]\n' +
      '                   [--warmup N] [--settle S] [--max-in-flight N] [--request-timeout S] [--batch-timeout S] [--out FILE]\n',
  );
  process.exit(0);
}

const number = (name: keyof typeof values, min: number) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min} (got ${values[name]})`);
  return n;
};
const RATE = number('rate', 0.1);
const DURATION_S = number('duration', 1);
const BATCH = Math.round(number('batch', 0));
const WARMUP = Math.round(number('warmup', 0));
const SETTLE_S = number('settle', 0);
const MAX_IN_FLIGHT = Math.round(number('max-in-flight', 1));
const REQUEST_TIMEOUT_MS = number('request-timeout', 1) * 1000;
const BATCH_TIMEOUT_MS = number('batch-timeout', 1) * 1000;
const API_KEY = values['api-key'];
const OUT = values.out ?? join(REPO_ROOT, '.bench', `load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);

const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const headers = (): Record<string, string> => (API_KEY ? { 'x-api-key': API_KEY } : {});

// ---------------------------------------------------------------- the clips

interface Clip {
  name: string;
  blob: Blob;
}

async function corpus(): Promise<string[]> {
  const paths: string[] = [];
  for (const kind of ['Audio_Speech_Actors_01-24', 'Audio_Song_Actors_01-24']) {
    for (const actor of (await readdir(join(RAVDESS, kind))).sort())
      for (const name of (await readdir(join(RAVDESS, kind, actor))).sort()) paths.push(join(RAVDESS, kind, actor, name));
  }
  return paths;
}

async function load(paths: string[]): Promise<Clip[]> {
  return Promise.all(
    paths.map(async (p) => ({ name: p.split('/').pop()!, blob: new Blob([new Uint8Array(await readFile(p))], { type: 'audio/flac' }) })),
  );
}

// ---------------------------------------------------------------- memory

interface Memory {
  rss: number;
  heapUsed: number;
}
type Snapshot = Record<string, Memory | null>;

function metricValue(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

async function readMemory(targets: Record<string, string>): Promise<Snapshot> {
  const entries = await Promise.all(
    Object.entries(targets).map(async ([name, url]): Promise<[string, Memory | null]> => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        const text = await res.text();
        const rss = metricValue(text, 'process_resident_memory_bytes');
        const heapUsed = metricValue(text, 'nodejs_heap_size_used_bytes');
        return [name, rss === null || heapUsed === null ? null : { rss, heapUsed }];
      } catch {
        return [name, null];
      }
    }),
  );
  return Object.fromEntries(entries);
}

// ---------------------------------------------------------------- the platform

const inspectors = new Map<string, string>();
let platform: Platform | undefined;
let dataDir: string | undefined;
let url: string;
let metricTargets: Record<string, string>;

if (values.url) {
  url = values.url.replace(/\/$/, '');
  const host = new URL(url).hostname;
  metricTargets = values.metrics
    ? Object.fromEntries(values.metrics.split(',').map((pair) => pair.split('=', 2) as [string, string]))
    : {
        gateway: `${url}/metrics`,
        inference: `http://${host}:9101/metrics`,
        'feature-extractor': `http://${host}:9102/metrics`,
        'batch-worker': `http://${host}:9103/metrics`,
      };
} else {
  dataDir = await mkdtemp(join(tmpdir(), 'ser-load-'));
  say(`machine: ${availableParallelism()} cores (${cpus()[0]?.model}); starting the platform (${values['database-url']})`);
  platform = await startPlatform({
    databaseUrl: values['database-url'],
    redisUrl: values['redis-url'],
    dataDir,
    ports: 'free',
    queuePrefix: `load-${randomUUID()}`,
    // The inspector on a free loopback port in every service, so garbage collection can be forced.
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim() },
    serviceEnv: { gateway: { MAX_FILES: String(Math.max(500, BATCH)) } },
    onLine: (service, line) => {
      const ws = inspectorUrl(line);
      if (ws) inspectors.set(service, ws);
      else if (/"level":(50|60)/.test(line)) say(`${service}: ${line}`);
    },
  });
  url = platform.gatewayUrl;
  metricTargets = {
    gateway: `${url}/metrics`,
    inference: `http://127.0.0.1:${platform.ports.metricsInference}/metrics`,
    'feature-extractor': `http://127.0.0.1:${platform.ports.metricsExtractor}/metrics`,
    'batch-worker': `http://127.0.0.1:${platform.ports.metricsWorker}/metrics`,
  };
}

/** Waits, forces a full GC in every service it can reach, waits a moment more, reads memory. */
async function settledMemory(): Promise<{ snapshot: Snapshot; forcedGc: string[] }> {
  await sleep(SETTLE_S * 1000);
  const forcedGc: string[] = [];
  await Promise.all(
    [...inspectors].map(async ([service, ws]) => {
      try {
        await collectGarbage(ws);
        forcedGc.push(service);
      } catch (err) {
        say(`could not force garbage collection in ${service}: ${(err as Error).message}`);
      }
    }),
  );
  await sleep(500);
  return { snapshot: await readMemory(metricTargets), forcedGc: forcedGc.sort() };
}

// ---------------------------------------------------------------- single predictions

type Outcome = { ok: true; ms: number } | { ok: false; kind: string; ms: number };

async function predict(clip: Clip, scheduledAt: number): Promise<Outcome> {
  const body = new FormData();
  body.append('file', clip.blob, clip.name);
  try {
    const res = await fetch(`${url}/v1/predictions`, {
      method: 'POST',
      body,
      headers: headers(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    const ms = performance.now() - scheduledAt;
    if (res.status === 200) return { ok: true, ms };
    let code = '';
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
    } catch {
      // not JSON
    }
    return { ok: false, kind: `HTTP ${res.status}${code ? ` ${code}` : ''}`, ms };
  } catch (err) {
    const name = (err as Error).name;
    return {
      ok: false,
      kind: name === 'TimeoutError' ? 'timeout' : `network (${(err as Error).message})`,
      ms: performance.now() - scheduledAt,
    };
  }
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------- the run

let exitCode = 0;
try {
  const paths = await corpus();
  // Singles from the front of the corpus, the batch from the back: no clip is in both unless the corpus runs out.
  const singles = await load(paths.slice(0, Math.min(paths.length, 400)));
  const batchClips = await load(Array.from({ length: BATCH }, (_, i) => paths[paths.length - 1 - (i % paths.length)]));
  say(`target ${url}: ${RATE} single predictions/s for ${DURATION_S} s, with a batch job of ${BATCH} clips`);

  // Warm-up: JIT, connection pools, the model's first batches; not measured.
  for (let i = 0; i < WARMUP; i++) {
    const r = await predict(singles[i % singles.length], performance.now());
    if (!r.ok) throw new Error(`warm-up request failed: ${r.kind}`);
  }
  const before = await settledMemory();

  // The batch job, uploaded at the start, followed until it finishes.
  const batch = {
    clips: BATCH,
    id: null as string | null,
    status: 'not started',
    succeeded: 0,
    failed: 0,
    uploadSeconds: null as number | null,
    completedSeconds: null as number | null,
    error: null as string | null,
  };
  const t0 = performance.now();
  const batchDone = (async () => {
    if (BATCH === 0) return;
    const form = new FormData();
    for (const clip of batchClips) form.append('file', clip.blob, clip.name);
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form, headers: headers() });
    if (res.status !== 202) throw new Error(`POST /v1/jobs: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    batch.id = ((await res.json()) as { id: string }).id;
    batch.uploadSeconds = round((performance.now() - t0) / 1000, 2);
    for (;;) {
      const job = (await (await fetch(`${url}/v1/jobs/${batch.id}`, { headers: headers() })).json()) as {
        status: string;
        succeeded: number;
        failed: number;
      };
      Object.assign(batch, { status: job.status, succeeded: job.succeeded, failed: job.failed });
      if (job.status === 'completed' || job.status === 'failed') {
        batch.completedSeconds = round((performance.now() - t0) / 1000, 2);
        return;
      }
      if (performance.now() - t0 > BATCH_TIMEOUT_MS) throw new Error(`the batch job was not finished after ${BATCH_TIMEOUT_MS / 1000} s`);
      await sleep(500);
    }
  })().catch((err: Error) => {
    batch.error = err.message;
  });

  // Memory while it runs: the peak of each service.
  const peak: Record<string, Memory | null> = {};
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const snap = await readMemory(metricTargets);
      for (const [name, m] of Object.entries(snap)) {
        if (!m) continue;
        const p = peak[name] ?? { rss: 0, heapUsed: 0 };
        peak[name] = { rss: Math.max(p.rss, m.rss), heapUsed: Math.max(p.heapUsed, m.heapUsed) };
      }
      await sleep(2_000);
    }
  })();

  // Open loop: request i is due at t0 + i / RATE, sent then whatever is in flight.
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  let scheduled = 0;
  let dropped = 0;
  let maxInFlight = 0;
  let maxLagMs = 0;
  const total = Math.floor(DURATION_S * RATE);
  while (scheduled < total) {
    const due = t0 + (scheduled * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    maxLagMs = Math.max(maxLagMs, performance.now() - due);
    const clip = singles[scheduled % singles.length];
    scheduled++;
    if (inFlight.size >= MAX_IN_FLIGHT) {
      dropped++;
      continue;
    }
    const p: Promise<void> = predict(clip, due).then((o) => {
      outcomes.push(o);
      inFlight.delete(p);
    });
    inFlight.add(p);
    maxInFlight = Math.max(maxInFlight, inFlight.size);
  }
  const sentEnd = performance.now();
  await Promise.all(inFlight);
  const singlesEnd = performance.now();
  await batchDone;
  sampling = false;
  await sampler;
  const after = await settledMemory();

  // ------------------------------------------------------------ the report
  const ok = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
  const latencies = ok.map((o) => o.ms).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const o of outcomes) if (!o.ok) errors[o.kind] = (errors[o.kind] ?? 0) + 1;
  if (dropped) errors[`not sent: ${MAX_IN_FLIGHT} already in flight`] = dropped;
  const errorCount = scheduled - ok.length;
  const MB = 1024 * 1024;
  const services = Object.keys(metricTargets);
  const memory = Object.fromEntries(
    services.map((name) => {
      const b = before.snapshot[name];
      const a = after.snapshot[name];
      const growth = b && a ? { rss: a.rss - b.rss, heapUsed: a.heapUsed - b.heapUsed } : null;
      // Kept heap growing by more than 20 % and 16 MB over a run is a leak worth a look.
      const grew = growth && b ? growth.heapUsed > Math.max(16 * MB, 0.2 * b.heapUsed) : null;
      return [name, { before: b, peak: peak[name] ?? null, after: a, growth, heapGrew: grew }];
    }),
  );

  const result = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model },
    target: url,
    startedPlatform: !values.url,
    settings: {
      rate: RATE,
      durationSeconds: DURATION_S,
      batch: BATCH,
      warmup: WARMUP,
      settleSeconds: SETTLE_S,
      maxInFlight: MAX_IN_FLIGHT,
    },
    singles: {
      scheduled,
      ok: ok.length,
      errors: errorCount,
      errorKinds: errors,
      offeredPerSecond: round(scheduled / ((sentEnd - t0) / 1000), 2),
      throughputPerSecond: round(ok.length / ((singlesEnd - t0) / 1000), 2),
      latencyMs: {
        p50: round(percentile(latencies, 50) ?? Number.NaN),
        p90: round(percentile(latencies, 90) ?? Number.NaN),
        p95: round(percentile(latencies, 95) ?? Number.NaN),
        p99: round(percentile(latencies, 99) ?? Number.NaN),
        max: round(latencies[latencies.length - 1] ?? Number.NaN),
      },
      maxInFlight,
      maxSendLagMs: round(maxLagMs),
    },
    batch: { ...batch, clipsPerSecond: batch.completedSeconds ? round(BATCH / batch.completedSeconds, 2) : null },
    memory,
    forcedGc: { before: before.forcedGc, after: after.forcedGc },
  };

  const mb = (n: number | undefined | null) => (n === undefined || n === null ? '-' : (n / MB).toFixed(1));
  const signed = (n: number | undefined | null) => (n === undefined || n === null ? '-' : `${n >= 0 ? '+' : ''}${(n / MB).toFixed(1)}`);
  const lat = result.singles.latencyMs;
  const lines = [
    '',
    `single predictions: ${scheduled} scheduled at ${RATE}/s over ${DURATION_S} s (open loop), ${ok.length} ok, ${errorCount} errors` +
      (errorCount
        ? ` (${Object.entries(errors)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')})`
        : ''),
    `  throughput ${result.singles.throughputPerSecond}/s; latency p50 ${lat.p50} ms, p90 ${lat.p90}, p95 ${lat.p95}, p99 ${lat.p99}, max ${lat.max}` +
      `; at most ${maxInFlight} in flight; sends at most ${result.singles.maxSendLagMs} ms late`,
    `batch job: ${BATCH} clips, ${batch.status}` +
      (batch.error ? ` (${batch.error})` : '') +
      `, ${batch.succeeded} succeeded, ${batch.failed} failed; uploaded in ${batch.uploadSeconds ?? '-'} s, finished at ${batch.completedSeconds ?? '-'} s` +
      (result.batch.clipsPerSecond ? ` (${result.batch.clipsPerSecond} clips/s)` : ''),
    '',
    `memory, MB (before and after: idle${after.forcedGc.length ? ', after a forced full GC' : ''}; peak: sampled every 2 s during the run)`,
    `${'service'.padEnd(18)} ${'RSS before'.padStart(10)} ${'peak'.padStart(8)} ${'after'.padStart(8)} ${'Δ'.padStart(7)}   ${'heap before'.padStart(11)} ${'peak'.padStart(8)} ${'after'.padStart(8)} ${'Δ'.padStart(7)}  heap`,
    ...services.map((name) => {
      const m = memory[name];
      return (
        `${name.padEnd(18)} ${mb(m.before?.rss).padStart(10)} ${mb(m.peak?.rss).padStart(8)} ${mb(m.after?.rss).padStart(8)} ${signed(m.growth?.rss).padStart(7)}   ` +
        `${mb(m.before?.heapUsed).padStart(11)} ${mb(m.peak?.heapUsed).padStart(8)} ${mb(m.after?.heapUsed).padStart(8)} ${signed(m.growth?.heapUsed).padStart(7)}  ` +
        `${m.heapGrew === null ? 'n/a' : m.heapGrew ? 'GREW' : 'ok'}`
      );
    }),
  ];
  say(lines.join('\n'));
  await mkdir(dirname(OUT), { recursive: true });
  await writeFile(OUT, `${JSON.stringify(result, null, 2)}\n`);
  say(`\nJSON written to ${OUT}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (errorCount > 0 || batch.error || Object.values(memory).some((m) => m.heapGrew)) exitCode = 1;
} catch (err) {
  say(`load test failed: ${(err as Error).stack ?? err}`);
  exitCode = 2;
} finally {
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
