/**
 * Debian's Prometheus for tests: the committed scrape configuration with this run's
 * addresses, a throwaway instance scraping them, and its query API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@ser/launcher';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** The job names of a scrape configuration, in order. */
export function scrapeJobs(config: string): string[] {
  return [...config.matchAll(/^\s*-\s*job_name:\s*["']?([\w.-]+)["']?\s*$/gm)].map((m) => m[1]);
}

/**
 * The committed configuration with each job's targets replaced by `targets[job]` and
 * the intervals shortened to `interval`. Every job must have an address and every
 * address a job, and each job's targets must be a flow list (`targets: [...]`), so a
 * job added to the committed file without a local address fails loudly.
 */
export function localScrapeConfig(committed: string, targets: Record<string, string>, interval = '1s'): string {
  const jobs = scrapeJobs(committed);
  const unknown = Object.keys(targets).filter((job) => !jobs.includes(job));
  const unaddressed = jobs.filter((job) => !(job in targets));
  if (unknown.length || unaddressed.length)
    throw new Error(`scrape jobs ${JSON.stringify(jobs)}: no local address for ${unaddressed}; addresses for unknown jobs ${unknown}`);
  const replaced = new Set<string>();
  let job: string | undefined;
  const lines = committed.split('\n').map((line) => {
    const name = /^\s*-\s*job_name:\s*["']?([\w.-]+)["']?\s*$/.exec(line);
    if (name) job = name[1];
    if (job && /\btargets:\s*\[[^\]]*\]/.test(line)) {
      if (replaced.has(job)) throw new Error(`job ${job} has more than one targets list`);
      replaced.add(job);
      return line.replace(/\btargets:\s*\[[^\]]*\]/, `targets: [${JSON.stringify(targets[job])}]`);
    }
    return line
      .replace(/^(\s*)scrape_interval:.*$/, `$1scrape_interval: ${interval}\n$1scrape_timeout: ${interval}`)
      .replace(/^(\s*)evaluation_interval:.*$/, `$1evaluation_interval: ${interval}`);
  });
  const missing = jobs.filter((j) => !replaced.has(j));
  if (missing.length) throw new Error(`no \`targets: [...]\` line found for jobs ${missing}`);
  return lines.join('\n');
}

export interface Prometheus {
  url: string;
  /** The last lines Prometheus wrote (for failure messages). */
  output: string[];
  stop(): Promise<void>;
}

/** Starts Prometheus on a free local port with `config`, resolving once /-/ready answers. */
export async function startPrometheus(config: string, timeoutMs = 30_000): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'ser-prometheus-'));
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${output.join('\n')}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return { url, output, stop };
    if (Date.now() > until) {
      await stop();
      throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query; throws with Prometheus' own message when the query is refused. */
export async function instantQuery(prometheusUrl: string, query: string): Promise<Sample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`query refused (${res.status}): ${body.error}`);
  if (body.data.resultType !== 'vector') throw new Error(`expected a vector, got ${body.data.resultType}`);
  return body.data.result;
}

export interface Target {
  job: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  /** When its last scrape started (ms since the epoch). */
  lastScrape: number;
}

export async function activeTargets(prometheusUrl: string): Promise<Target[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
  type Active = Omit<Target, 'job' | 'lastScrape'> & { labels: { job: string }; lastScrape: string };
  const body = (await res.json()) as { data: { activeTargets: Active[] } };
  return body.data.activeTargets.map((t) => ({
    job: t.labels.job,
    scrapeUrl: t.scrapeUrl,
    health: t.health,
    lastError: t.lastError,
    lastScrape: Date.parse(t.lastScrape),
  }));
}
