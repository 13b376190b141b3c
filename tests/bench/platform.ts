/**
 * Platform benchmark, everything on this machine:
 *  1. a batch job of N clips (default 1000) end to end: upload, wait for completion,
 *     download the CSV; clips per second over the whole span;
 *  2. C concurrent clients (default 8) posting single clips to /v1/predictions;
 *     latency p50/p95/p99 and requests per second.
 * Each is measured after a warm-up of the same kind (a job, by default as large; requests
 * from the same C clients): V8 takes tens of seconds under load to optimise the
 * services' hot code, and a service that has run for a while is what the figures
 * should describe. The warm-up job's own rate is reported too (a platform just started).
 *
 *   pnpm --silent bench:platform [--clips 1000] [--batch-warmup 1000] [--clients 8]
 *     [--warmup 2000] [--requests 2000] [--client http|fetch]
 */

import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPlatform } from '@ser/launcher';
import { RAVDESS } from '../e2e/corpus.js';

const { values } = parseArgs({
  options: {
    clips: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '8' },
    'batch-warmup': { type: 'string', default: '1000' },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '2000' },
    // 'http': node:http with each multipart body built before the clock starts, as a
    // load generator (wrk, autocannon) sends; 'fetch': FormData through fetch, which
    // costs the shared CPU about 3 ms more per request.
    client: { type: 'string', default: 'http' },
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ser_bench' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const N = Number(values.clips);
const CLIENTS = Number(values.clients);
const REQUESTS = Number(values.requests);
if (values.client !== 'http' && values.client !== 'fetch') throw new Error(`--client: http or fetch, not ${values.client}`);
const say = (s: string) => process.stderr.write(`${s}\n`);

async function corpusFiles(count: number): Promise<{ name: string; bytes: Buffer }[]> {
  const paths: string[] = [];
  for (const kind of ['Audio_Speech_Actors_01-24', 'Audio_Song_Actors_01-24']) {
    for (const actor of (await readdir(join(RAVDESS, kind))).sort()) {
      for (const name of (await readdir(join(RAVDESS, kind, actor))).sort()) paths.push(join(RAVDESS, kind, actor, name));
    }
  }
  const picked = Array.from({ length: count }, (_, i) => paths[i % paths.length]);
  return Promise.all(picked.map(async (p, i) => ({ name: `${i}-${p.split('/').pop()}`, bytes: await readFile(p) })));
}

/**
 * CPU seconds a process has used (user + system), from /proc; with `children`, also
 * that of its children that have exited (PostgreSQL's backends that closed).
 */
function cpuSeconds(pid: number | undefined, children = false): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / 100;
  } catch {
    return 0;
  }
}

function cpuSnapshot(): Record<string, number> {
  const out: Record<string, number> = { 'bench (clients + local S3)': cpuSeconds(process.pid) };
  for (const s of Object.values(platform.services)) out[s.name] = cpuSeconds(s.pid);
  // Server processes by name, to the clock tick (ps's `times` rounds to whole seconds).
  // A backend that exits between two snapshots moves its time to its parent's
  // children's times, so those count too (without them the figure could go negative).
  for (const [name, command] of [
    ['postgres', 'postgres'],
    ['redis', 'redis-server'],
  ]) {
    const pids = execSync(`pgrep -x ${command} || true`).toString().split('\n').filter(Boolean).map(Number);
    out[name] = pids.reduce((sum, pid) => sum + cpuSeconds(pid, true), 0);
  }
  return out;
}

/** Each service's peak resident memory so far (VmHWM), in MB. */
function peakRssMb(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of Object.values(platform.services)) {
    try {
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.pid}/status`, 'utf8'))?.[1]);
      out[s.name] = Math.round(kb / 1024);
    } catch {
      // exited
    }
  }
  return out;
}

function cpuPerClip(before: Record<string, number>, after: Record<string, number>, clips: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, +(((after[k] - before[k]) * 1000) / clips).toFixed(2)]));
}

/** POST /v1/predictions through fetch, the form built per request; returns the latency in ms. */
async function postWithFetch(f: { name: string; bytes: Buffer }): Promise<number> {
  const body = new FormData();
  body.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/predictions`, { method: 'POST', body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`POST /v1/predictions: ${res.status}`);
  return performance.now() - t0;
}

const agent = new Agent({ keepAlive: true });
const BOUNDARY = 'ser-bench-boundary';
const multipartBodies = new Map<string, Buffer>();

function multipartBody(f: { name: string; bytes: Buffer }): Buffer {
  let body = multipartBodies.get(f.name);
  if (!body) {
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    body = Buffer.concat([Buffer.from(head), f.bytes, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
    multipartBodies.set(f.name, body);
  }
  return body;
}

/** The same request over node:http, its body encoded once per file (see multipartBody). */
function postPrebuilt(f: { name: string; bytes: Buffer }): Promise<number> {
  const body = multipartBody(f);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/predictions`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('error', reject);
        res.on('end', () =>
          res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`POST /v1/predictions: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const dataDir = await mkdtemp(join(tmpdir(), 'ser-bench-'));
say(`machine: ${availableParallelism()} cores (${cpus()[0]?.model}); starting the platform`);
const platform = await startPlatform({
  databaseUrl: values['database-url'],
  redisUrl: values['redis-url'],
  dataDir,
  ports: 'free',
  queuePrefix: `bench-${randomUUID()}`,
  // One job of N files: above the default limit of 500 files per job.
  serviceEnv: { gateway: { MAX_FILES: String(Math.max(500, N)) } },
  onLine: (service, line) => {
    if (/"level":(50|60)/.test(line)) say(`${service}: ${line}`);
  },
});
const url = platform.gatewayUrl;

/** One batch job of `files`, upload to CSV. */
async function runBatch(files: { name: string; bytes: Buffer }[]) {
  const t0 = performance.now();
  const body = new FormData();
  for (const f of files) body.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  const uploadedMs = performance.now() - t0;
  let job: { status: string; succeeded: number; failed: number };
  for (;;) {
    job = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as typeof job;
    if (job.status === 'completed' || job.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const doneMs = performance.now() - t0;
  const csv = await (await fetch(`${url}/v1/jobs/${id}/results.csv`)).text();
  const totalMs = performance.now() - t0;
  const rows = csv.trimEnd().split('\n').length - 1;
  return { job, rows, uploadedMs, doneMs, totalMs };
}

/** `count` single-clip requests from CLIENTS concurrent clients; the latencies, sorted. */
async function runSingles(files: { name: string; bytes: Buffer }[], count: number, offset: number): Promise<number[]> {
  const post = values.client === 'fetch' ? postWithFetch : postPrebuilt;
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) {
        const i = offset + next++;
        latencies.push(await post(files[(i * 7) % files.length]));
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

try {
  const warmupClips = Number(values['batch-warmup']);
  const loaded = await corpusFiles(Math.max(N, warmupClips));
  const files = loaded.slice(0, N);
  const megabytes = files.reduce((s, f) => s + f.bytes.length, 0) / 1e6;
  let warmupClipsPerSecond: number | null = null;
  if (warmupClips > 0) {
    const w = await runBatch(loaded.slice(0, warmupClips));
    warmupClipsPerSecond = +(warmupClips / (w.totalMs / 1000)).toFixed(1);
    say(`batch warm-up: ${warmupClips} clips in ${(w.totalMs / 1000).toFixed(2)} s (${warmupClipsPerSecond}/s)`);
  }

  // 1. Batch job, upload to CSV.
  say(`batch: ${N} clips (${megabytes.toFixed(1)} MB of 22050 Hz FLAC)`);
  const cpu0 = cpuSnapshot();
  const { job, rows, uploadedMs, doneMs, totalMs } = await runBatch(files);
  const cpu1 = cpuSnapshot();
  say(
    `batch: uploaded in ${(uploadedMs / 1000).toFixed(2)} s, done at ${(doneMs / 1000).toFixed(2)} s, CSV (${rows} rows) at ${(totalMs / 1000).toFixed(2)} s`,
  );

  // 2. Single clips, C concurrent clients.
  if (values.client === 'http') for (const f of files) multipartBody(f);
  const warmupRequests = Number(values.warmup);
  if (warmupRequests > 0) {
    const w0 = performance.now();
    const warm = await runSingles(files, warmupRequests, REQUESTS);
    const seconds = (performance.now() - w0) / 1000;
    say(
      `single warm-up: ${warmupRequests} requests, ${(warmupRequests / seconds).toFixed(1)}/s, p50 ${percentile(warm, 50).toFixed(1)} ms, p99 ${percentile(warm, 99).toFixed(1)} ms`,
    );
  }
  const cpu2 = cpuSnapshot();
  const s0 = performance.now();
  const latencies = await runSingles(files, REQUESTS, 0);
  const singleMs = performance.now() - s0;
  const cpu3 = cpuSnapshot();

  const result = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model },
    batch: {
      clips: N,
      warmupClips,
      warmupClipsPerSecond,
      succeeded: job.succeeded,
      failed: job.failed,
      csvRows: rows,
      uploadSeconds: +(uploadedMs / 1000).toFixed(3),
      completedSeconds: +(doneMs / 1000).toFixed(3),
      endToEndSeconds: +(totalMs / 1000).toFixed(3),
      clipsPerSecond: +(N / (totalMs / 1000)).toFixed(1),
      cpuMsPerClip: cpuPerClip(cpu0, cpu1, N),
    },
    single: {
      clients: CLIENTS,
      client: values.client,
      warmupRequests,
      requests: REQUESTS,
      requestsPerSecond: +(REQUESTS / (singleMs / 1000)).toFixed(1),
      p50Ms: +percentile(latencies, 50).toFixed(1),
      p95Ms: +percentile(latencies, 95).toFixed(1),
      p99Ms: +percentile(latencies, 99).toFixed(1),
      maxMs: +latencies[latencies.length - 1].toFixed(1),
      cpuMsPerRequest: cpuPerClip(cpu2, cpu3, REQUESTS),
    },
    peakRssMb: peakRssMb(),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await platform.stop();
  await rm(dataDir, { recursive: true, force: true });
}
