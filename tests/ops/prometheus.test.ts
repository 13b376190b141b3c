/**
 * The operations configuration against the running platform: Debian's Prometheus
 * scrapes the four services with the jobs of infra/prometheus/prometheus.yml (its
 * targets rewritten to this run's ports), and after some traffic (single
 * predictions, batch jobs with a corrupt file and a webhook, client errors) every
 * panel query of the Grafana dashboards in infra/grafana/dashboards returns data.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Platform, REPO_ROOT, startPlatform } from '@ser/launcher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipFile, clips, RAVDESS } from '../e2e/corpus.js';
import { type GrafanaDashboard, loadDashboard, panelQueries, panelsWithRows } from './dashboards.js';
import {
  activeTargets,
  instantQuery,
  localScrapeConfig,
  PROMETHEUS_BIN,
  type Prometheus,
  type Sample,
  scrapeJobs,
  startPrometheus,
} from './prometheus.js';

const SCRAPE_CONFIG = join(REPO_ROOT, 'infra', 'prometheus', 'prometheus.yml');
const DATASOURCES = join(REPO_ROOT, 'infra', 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
const DASHBOARD_FILES = ['overview.json', 'services.json'];

let platform: Platform;
let prometheus: Prometheus | undefined;
let receiver: Server;
let dataDir: string;
let jobs: string[];
let dashboards: GrafanaDashboard[];
const webhookBodies: string[] = [];
const logs: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: the API's answers, checked where used
const json = async (res: Response): Promise<any> => res.json();

function form(files: ClipFile[], fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const f of files) body.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  return body;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus (scripts/setup.sh test does)`);
  dashboards = await Promise.all(DASHBOARD_FILES.map(loadDashboard));
  jobs = scrapeJobs(await readFile(SCRAPE_CONFIG, 'utf8'));

  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      webhookBodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));

  dataDir = await mkdtemp(join(tmpdir(), 'ser-ops-'));
  platform = await startPlatform({
    databaseUrl: process.env.TEST_DATABASE_URL!,
    redisUrl: process.env.TEST_REDIS_URL!,
    dataDir,
    ports: 'free',
    queuePrefix: `ops-${randomUUID()}`,
    serviceEnv: { 'batch-worker': { WEBHOOK_ALLOW_PRIVATE: 'true' } },
    onLine: (service, line) => {
      logs.push(`${service}: ${line}`);
      if (logs.length > 500) logs.splice(0, 250);
    },
  });
  const { ports } = platform;
  const config = localScrapeConfig(await readFile(SCRAPE_CONFIG, 'utf8'), {
    gateway: `127.0.0.1:${ports.gateway}`,
    inference: `127.0.0.1:${ports.metricsInference}`,
    'feature-extractor': `127.0.0.1:${ports.metricsExtractor}`,
    'batch-worker': `127.0.0.1:${ports.metricsWorker}`,
  });
  prometheus = await startPrometheus(config);
}, 150_000);

afterAll(async () => {
  await prometheus?.stop();
  await platform?.stop();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** One round of traffic touching every metric the dashboards show. */
async function traffic(round: number): Promise<void> {
  const gw = platform.gatewayUrl;
  const speech = await clips(RAVDESS, 3 + round, 5);
  // Single predictions.
  for (const clip of speech.slice(0, 3)) {
    const res = await fetch(`${gw}/v1/predictions`, { method: 'POST', body: form([clip]) });
    expect(res.status, `${await res.clone().text()}\n${logs.slice(-20).join('\n')}`).toBe(200);
  }
  // A batch job with a corrupt file (a WAV header over 20 bytes that claim 10 MB) and a webhook.
  const corrupt = Buffer.concat([speech[0].bytes.subarray(0, 44), Buffer.alloc(20)]);
  corrupt.writeUInt32LE(10_000_000, 40);
  const files = [...speech.slice(3), { path: '', name: 'corrupt.wav', bytes: corrupt }];
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/${round}`;
  const created = await fetch(`${gw}/v1/jobs`, { method: 'POST', body: form(files, { callbackUrl }) });
  expect(created.status).toBe(202);
  const { id } = await json(created);
  // Client errors: a malformed id, an unknown route, a prediction without a file.
  expect((await fetch(`${gw}/v1/jobs/not-a-job`)).status).toBeGreaterThanOrEqual(400);
  expect((await fetch(`${gw}/v1/nothing-here`)).status).toBe(404);
  expect((await fetch(`${gw}/v1/predictions`, { method: 'POST', body: form([]) })).status).toBe(400);
  const job = await waitFor(`job ${id}`, 60_000, async () => {
    const view = await json(await fetch(`${gw}/v1/jobs/${id}`));
    return view.status === 'completed' || view.status === 'failed' ? view : undefined;
  });
  expect(job).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
  expect((await fetch(`${gw}/v1/jobs/${id}/results.csv`)).status).toBe(200);
  await waitFor(`webhook of job ${id}`, 30_000, async () => (webhookBodies.some((b) => b.includes(id)) ? true : undefined));
}

const finite = (samples: Sample[]) => samples.some((s) => Number.isFinite(Number(s.value[1])));

describe('Prometheus and the Grafana dashboards', () => {
  it('dashboards are Grafana dashboards on the provisioned data source', async () => {
    const uid = /^\s*uid:\s*(\S+)\s*$/m.exec(await readFile(DATASOURCES, 'utf8'))?.[1];
    expect(uid).toBeTruthy();
    for (const dashboard of dashboards) {
      expect(dashboard.uid).toMatch(/^ser-/);
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      const ids = panelsWithRows(dashboard).map(({ panel }) => panel.id);
      expect(new Set(ids).size, `${dashboard.title}: panel ids are unique`).toBe(ids.length);
      for (const { panel } of panelsWithRows(dashboard)) {
        const where = `${dashboard.title} › ${panel.title}`;
        expect(panel.targets?.length, `${where} has queries`).toBeGreaterThan(0);
        expect(panel.gridPos, `${where} has a position`).toBeDefined();
        for (const source of [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)])
          expect(source, `${where} uses the provisioned data source`).toEqual({ type: 'prometheus', uid });
      }
    }
  });

  it('every scrape target is up and every panel query returns data after traffic', async () => {
    const started = Date.now();
    const url = prometheus!.url;
    const scraped = async (delivered: number, items: number) => {
      const [d] = await instantQuery(url, 'sum(ser_webhook_deliveries_total{outcome="delivered"})');
      const [i] = await instantQuery(url, 'sum(ser_batch_items_total{outcome=~"succeeded|failed"})');
      return Number(d?.value[1]) >= delivered && Number(i?.value[1]) >= items ? true : undefined;
    };
    // Every target scraped (not only the worker, whose counters the rounds wait for) after
    // the metrics of a round were recorded: scrapes start at a different offset per target.
    const everyTargetScrapedAfter = async (what: string, since: number) =>
      waitFor(what, 20_000, async () => {
        const targets = await activeTargets(url);
        return targets.length >= jobs.length && targets.every((t) => t.health === 'up' && t.lastScrape > since) ? true : undefined;
      });
    // Every target scraped once before any traffic, then all of the first round scraped
    // before the second is sent: each series has samples on both sides of an increase,
    // whatever the machine's speed, so rates and quantiles are defined.
    await everyTargetScrapedAfter('every target scraped', 0);
    await traffic(0);
    await waitFor('the first round counted', 20_000, () => scraped(1, 3));
    await everyTargetScrapedAfter('the first round scraped', Date.now());
    await traffic(1);
    // Both jobs' items and both webhooks counted, then scraped everywhere.
    await waitFor('the last traffic counted', 20_000, () => scraped(2, 6));
    await everyTargetScrapedAfter('the last traffic scraped', Date.now());
    // A target's last-scrape time is set just before its samples are committed.
    await new Promise((r) => setTimeout(r, 1_000));

    const targets = await activeTargets(url);
    expect(targets.map((t) => t.job).sort()).toEqual([...jobs].sort());
    for (const target of targets) expect(target.health, `${target.job} (${target.scrapeUrl}): ${target.lastError}`).toBe('up');

    const failures: string[] = [];
    let checked = 0;
    for (const dashboard of dashboards) {
      for (const { name, expr } of panelQueries(dashboard, { job: jobs })) {
        checked++;
        try {
          const samples = await instantQuery(url, expr);
          if (!samples.length) failures.push(`${name}: no data for ${expr}`);
          else if (!finite(samples)) failures.push(`${name}: only NaN/Inf for ${expr}`);
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message} for ${expr}`);
        }
      }
    }
    expect(failures, `${failures.length} of ${checked} panel queries failed`).toEqual([]);
    expect(checked).toBeGreaterThan(40);
    console.log(`checked ${checked} panel queries; traffic and scrapes took ${Date.now() - started} ms`);
  }, 120_000);
});
