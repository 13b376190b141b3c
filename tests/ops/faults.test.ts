/**
 * Faults, on the real platform (the four services as processes, real RAVDESS clips,
 * real PostgreSQL and Redis, no mocks): inference stopped mid-job, Redis crashed and
 * restarted mid-job, Redis silent mid-job, PostgreSQL unreachable and back, a worker
 * killed with several items in flight, the feature extractor killed under single
 * predictions. Each batch job must end with every item recorded exactly once.
 *
 * The machine's shared servers are never stopped: the services reach PostgreSQL
 * through a TCP proxy this test takes down and brings back, and use a redis-server of
 * their own (AOF, fsync on every write) that this test kills, pauses and starts again.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db } from '@ser/db';
import { freePort, type Platform, startPlatform, waitForPort } from '@ser/launcher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipFile, clips, RAVDESS } from '../e2e/corpus.js';
import { RedisServer, TcpProxy } from './fault-tools.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL!;
/** Clips per batch job: enough that a fault lands while items are still queued. */
const BATCH = 24;

let platform: Platform;
let dataDir: string;
let pgProxy: TcpProxy;
let redis: RedisServer;
let db: Db;
const logs: string[] = [];
const queuePrefix = `faults-${randomUUID()}`;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ser-faults-'));
  await mkdir(join(dataDir, 'redis'));
  const target = new URL(DATABASE_URL);
  pgProxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await pgProxy.up();
  const proxied = new URL(DATABASE_URL);
  proxied.port = String(pgProxy.port);
  redis = new RedisServer(await freePort(), join(dataDir, 'redis'));
  await redis.start();
  // The test's own view of the database, not through the proxy.
  db = createDb(DATABASE_URL, { poolSize: 2 });
  platform = await startPlatform({
    databaseUrl: proxied.toString(),
    redisUrl: redis.url,
    dataDir,
    ports: 'free',
    queuePrefix,
    // A database that stops answering is noticed within seconds: connecting and each query give up after these.
    env: { DATABASE_CONNECT_TIMEOUT_MS: '2000', DATABASE_QUERY_TIMEOUT_MS: '3000' },
    serviceEnv: {
      // Retries over an outage of a few seconds take seconds, not a minute: 250 ms doubling, 10 attempts (~2 min in all).
      gateway: { ITEM_ATTEMPTS: '10', ITEM_BACKOFF_MS: '250', QUEUE_TIMEOUT_MS: '2000' },
      'batch-worker': { WORKER_CONCURRENCY: '8', WORKER_LOCK_DURATION_MS: '4000' },
    },
    onLine: (service, line) => {
      logs.push(`${service}: ${line}`);
      if (logs.length > 20_000) logs.splice(0, 10_000);
    },
  });
}, 180_000);

afterAll(async () => {
  // FAULTS_LOG=path keeps the services' log lines of the run (the last few thousand).
  if (process.env.FAULTS_LOG) await writeFile(process.env.FAULTS_LOG, `${logs.join('\n')}\n`);
  await platform?.stop();
  await db?.$disconnect();
  await redis?.stop();
  await pgProxy?.down();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface JobView {
  id: string;
  status: string;
  total: number;
  succeeded: number;
  failed: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, checked by the assertions
const json = async (res: Response): Promise<any> => res.json();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function form(files: ClipFile[]): FormData {
  const body = new FormData();
  for (const f of files) body.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  return body;
}

/** `count` clips of one actor, named by position so every name is distinct. */
async function batch(actor: number, count = BATCH): Promise<ClipFile[]> {
  return (await clips(RAVDESS, actor, count)).map((f, i) => ({ ...f, name: `${String(i).padStart(3, '0')}-${f.name}` }));
}

/** The items queue's counts when each job was submitted (each test runs one job at a time). */
const queueBefore = new Map<string, QueueCounts>();

async function submit(files: ClipFile[]): Promise<string> {
  const counts = await queueCounts();
  const res = await fetch(`${platform.gatewayUrl}/v1/jobs`, { method: 'POST', body: form(files) });
  expect(res.status).toBe(202);
  const { id } = await json(res);
  queueBefore.set(id, counts);
  return id;
}

/** The job as PostgreSQL has it (the gateway may be the thing that is down). */
async function jobRow(id: string): Promise<JobView> {
  const row = await db.job.findUniqueOrThrow({ where: { id } });
  return { id, status: row.status, total: row.total, succeeded: row.succeeded, failed: row.failed };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}\n${logs.slice(-40).join('\n')}`);
    await sleep(everyMs);
  }
}

const finished = (id: string, timeoutMs: number) =>
  waitFor(
    `job ${id} to finish`,
    async () => {
      const job = await jobRow(id);
      return job.status === 'completed' || job.status === 'failed' ? job : undefined;
    },
    timeoutMs,
    250,
  );

const progressed = (id: string, outcomes: number) =>
  waitFor(
    `job ${id} to have ${outcomes} outcomes`,
    async () => {
      const job = await jobRow(id);
      return job.succeeded + job.failed >= outcomes ? job : undefined;
    },
    90_000,
    50,
  );

/**
 * Every recording of the job has one outcome, a successful one, and the job's
 * counters say so: nothing lost, nothing counted twice. `otherItemsQueued`: queue
 * jobs of other batch jobs that went through the queue meanwhile.
 */
async function expectEveryItemOnce(id: string, files: ClipFile[], otherItemsQueued = 0): Promise<void> {
  const job = await jobRow(id);
  expect(job).toMatchObject({ status: 'completed', total: files.length, succeeded: files.length, failed: 0 });
  const rows = await db.$queryRaw<{ filename: string; outcomes: number; errors: number }[]>`
    SELECT r.filename, count(p.id)::int AS outcomes, count(p.error)::int AS errors
    FROM recordings r LEFT JOIN predictions p ON p.recording_id = r.id AND p.job_id = r.job_id
    WHERE r.job_id = ${id}::uuid GROUP BY r.id, r.filename, r.position ORDER BY r.position`;
  expect(rows.map((r) => r.filename)).toEqual(files.map((f) => f.name));
  expect(rows.filter((r) => r.outcomes !== 1 || r.errors !== 0)).toEqual([]);
  // And the queue agrees: each item's queue job completed once, none failed, none left behind (a queue job
  // whose lock was lost in the fault is taken back by BullMQ's stalled check within two lock durations).
  const before = queueBefore.get(id)!;
  const after = await waitFor(
    'the items queue to drain',
    async () => {
      const counts = await queueCounts();
      return counts.active + counts.waiting + counts.delayed === 0 ? counts : undefined;
    },
    20_000,
    250,
  );
  expect({ completed: after.completed - before.completed, failed: after.failed - before.failed }).toEqual({
    completed: files.length + otherItemsQueued,
    failed: 0,
  });
}

/**
 * Attempts each item's queue job spent (BullMQ's `atm`, read from Redis): 1 for an item
 * that succeeded at its first try, whatever waiting it did for the database.
 */
async function attemptsSpent(id: string): Promise<number[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`SELECT id::text FROM recordings WHERE job_id = ${id}::uuid ORDER BY position`;
  return rows.map((r) =>
    Number(execFileSync('redis-cli', ['-u', redis.url, 'HGET', `${queuePrefix}:ser-batch-items:item.${id}.${r.id}`, 'atm']).toString()),
  );
}

/** One sample of the batch worker's Prometheus metrics, by name and labels. */
async function workerMetric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${platform.ports.metricsWorker}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
const itemsCounter = (outcome: string) => workerMetric('ser_batch_items_total', { outcome });

type QueueCounts = Record<'active' | 'waiting' | 'delayed' | 'completed' | 'failed', number>;
/** The items queue by state, as the worker reads it from Redis for each scrape. */
async function queueCounts(): Promise<QueueCounts> {
  const states = ['active', 'waiting', 'delayed', 'completed', 'failed'] as const;
  const values = await Promise.all(states.map((state) => workerMetric('ser_queue_jobs', { queue: 'ser-batch-items', state })));
  return Object.fromEntries(states.map((state, i) => [state, values[i]])) as QueueCounts;
}

async function readyz(): Promise<{
  status: number;
  ms: number;
  body: { status: string; checks: Record<string, { ok: boolean }>; error?: { message: string } };
}> {
  const started = Date.now();
  const res = await fetch(`${platform.gatewayUrl}/readyz`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await json(res), ms: Date.now() - started };
}

const untilReady = (timeoutMs: number) => waitFor('/readyz to answer 200', async () => (await readyz()).status === 200, timeoutMs, 250);

const pids = () => Object.fromEntries(Object.values(platform.services).map((s) => [s.name, s.pid]));

function expectAllRunning() {
  for (const service of Object.values(platform.services)) expect(service.running, `${service.name} is running`).toBe(true);
}

describe('faults', { timeout: 150_000 }, () => {
  it('retries items while inference is stopped, and completes the job once it is back on the same address', async () => {
    await untilReady(30_000);
    const files = await batch(5);
    const [retriedBefore, succeededBefore] = [await itemsCounter('retried'), await itemsCounter('succeeded')];
    const id = await submit(files);
    await progressed(id, 2);

    const inference = platform.services.inference;
    const stoppedAt = Date.now();
    await inference.stop();
    const atStop = await jobRow(id);
    expect(atStop.succeeded + atStop.failed).toBeLessThan(files.length);

    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.checks.inference.ok).toBe(false);
    expect(ready.body.error?.message).toMatch(/inference/);
    // Items keep failing and going back to the queue while it is down; none is given up on.
    await waitFor('items to be retried', async () => (await itemsCounter('retried')) >= retriedBefore + 8, 30_000, 250);
    const down = await jobRow(id);
    expect(down.failed).toBe(0);

    inference.start();
    await waitForPort(platform.ports.inference, 60_000);
    const restartedAt = Date.now();
    const job = await finished(id, 90_000);
    console.info(
      `inference: down ${restartedAt - stoppedAt} ms with ${files.length - atStop.succeeded} items left; ` +
        `job done ${Date.now() - restartedAt} ms after it was back; ${(await itemsCounter('retried')) - retriedBefore} retries`,
    );
    expect(job.status).toBe('completed');
    await expectEveryItemOnce(id, files);
    // Each item counted once by the worker too (a retry is not a second success).
    expect((await itemsCounter('succeeded')) - succeededBefore).toBe(files.length);
    await untilReady(30_000);
    expectAllRunning();
  });

  it('loses no item and does none twice when Redis crashes and restarts mid-job', async () => {
    await untilReady(30_000);
    const files = await batch(6);
    const succeededBefore = await itemsCounter('succeeded');
    const id = await submit(files);
    await progressed(id, 2);

    const crashedAt = Date.now();
    await redis.kill();
    const atCrash = await jobRow(id);
    expect(atCrash.succeeded + atCrash.failed).toBeLessThan(files.length);
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis.ok).toBe(false);
    expect(ready.body.error?.message).toMatch(/redis/);
    // A job submitted now cannot be queued: a clean 503 within QUEUE_TIMEOUT_MS, the job marked failed.
    const started = Date.now();
    const refused = await fetch(`${platform.gatewayUrl}/v1/jobs`, { method: 'POST', body: form(files.slice(0, 2)) });
    expect(refused.status).toBe(503);
    const refusal = (await json(refused)).error;
    expect(refusal).toMatchObject({ code: 'queue_unavailable', message: expect.any(String) });
    expect(Date.now() - started).toBeLessThan(10_000);
    const refusedId = /job ([\w-]+) was marked failed/.exec(refusal.message)?.[1] ?? '';
    expect(await jobRow(refusedId)).toMatchObject({ status: 'failed', total: 2, succeeded: 0, failed: 2 });
    // Down longer than WORKER_LOCK_DURATION_MS: the items in flight lose their locks (the AOF keeps expiry times
    // as absolute ones), so BullMQ hands them out again after the restart and their second delivery must add nothing.
    await sleep(Math.max(0, 6_000 - (Date.now() - crashedAt)));

    await redis.start();
    const restartedAt = Date.now();
    const job = await finished(id, 90_000);
    console.info(
      `redis: down ${restartedAt - crashedAt} ms with ${files.length - atCrash.succeeded} items left; ` +
        `job done ${Date.now() - restartedAt} ms after the restart`,
    );
    expect(job.status).toBe('completed');
    await expectEveryItemOnce(id, files);
    expect((await itemsCounter('succeeded')) - succeededBefore).toBe(files.length);
    await untilReady(30_000);
    expectAllRunning();
  });

  it('waits out a Redis that stops answering mid-job; a job refused meanwhile stays failed when the queue takes it late', async () => {
    await untilReady(30_000);
    const files = await batch(9);
    const succeededBefore = await itemsCounter('succeeded');
    const id = await submit(files);
    await progressed(id, 2);

    const pausedAt = Date.now();
    redis.pause();
    try {
      const atPause = await jobRow(id);
      expect(atPause.succeeded + atPause.failed).toBeLessThan(files.length);
      const ready = await readyz();
      expect(ready.status).toBe(503);
      expect(ready.body.checks.redis.ok).toBe(false);
      expect(ready.ms).toBeLessThan(5_000);
      // A single prediction does not need the queue.
      const [single] = await clips(RAVDESS, 10, 1);
      const one = await fetch(`${platform.gatewayUrl}/v1/predictions`, { method: 'POST', body: form([single]) });
      expect(one.status).toBe(200);
      // A job submitted now is not queued within QUEUE_TIMEOUT_MS: 503, and its items fail with that reason.
      // Its queueing command is still in Redis's socket buffer, and runs when Redis resumes.
      const started = Date.now();
      const refused = await fetch(`${platform.gatewayUrl}/v1/jobs`, { method: 'POST', body: form(files.slice(0, 2)) });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(refused.status).toBe(503);
      const refusedId = /job ([\w-]+) was marked failed/.exec((await json(refused)).error.message)?.[1] ?? '';
      const refusedJob = { status: 'failed', total: 2, succeeded: 0, failed: 2 };
      expect(await jobRow(refusedId)).toMatchObject(refusedJob);
      // Paused longer than WORKER_LOCK_DURATION_MS: the locks of the items in flight expire when Redis resumes.
      await sleep(Math.max(0, 6_000 - (Date.now() - pausedAt)));
      redis.resume();
      const resumedAt = Date.now();

      const job = await finished(id, 90_000);
      console.info(
        `redis: silent ${resumedAt - pausedAt} ms with ${files.length - atPause.succeeded} items left; ` +
          `job done ${Date.now() - resumedAt} ms after it answered again`,
      );
      expect(job.status).toBe('completed');
      // The refused job's items did reach the queue once Redis read its buffers; their deliveries found the
      // outcomes recorded at the refusal and did nothing: the job stays failed, no file was classified.
      const refusedItems = await db.$queryRaw<{ id: string }[]>`SELECT id::text FROM recordings WHERE job_id = ${refusedId}::uuid`;
      const queued = refusedItems.map((r) =>
        execFileSync('redis-cli', ['-u', redis.url, 'EXISTS', `${queuePrefix}:ser-batch-items:item.${refusedId}.${r.id}`])
          .toString()
          .trim(),
      );
      expect(queued).toEqual(['1', '1']);
      await expectEveryItemOnce(id, files, refusedItems.length);
      expect(await jobRow(refusedId)).toMatchObject(refusedJob);
      const outcomes = await db.prediction.findMany({ where: { jobId: refusedId } });
      expect(outcomes.map((p) => [p.errorCode, p.emotion])).toEqual([
        ['QUEUE_UNAVAILABLE', null],
        ['QUEUE_UNAVAILABLE', null],
      ]);
      expect((await itemsCounter('succeeded')) - succeededBefore).toBe(files.length);
    } finally {
      redis.resume();
    }
    await untilReady(30_000);
    expectAllRunning();
  });

  it('answers 503 while PostgreSQL is unreachable, and recovers without restarting anything', async () => {
    await untilReady(30_000);
    const before = pids();
    const files = await batch(7);
    const [single] = await clips(RAVDESS, 8, 1);
    const id = await submit(files);
    await progressed(id, 2);
    const deferredBefore = await itemsCounter('deferred');

    const downAt = Date.now();
    await pgProxy.down();
    const atOutage = await jobRow(id);
    expect(atOutage.succeeded + atOutage.failed).toBeLessThan(files.length);

    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database.ok).toBe(false);
    expect(ready.body.error?.message).toMatch(/database/);
    expect(ready.ms).toBeLessThan(5_000);

    const url = platform.gatewayUrl;
    const requests: [string, () => Promise<Response>][] = [
      ['GET /v1/jobs/{id}', () => fetch(`${url}/v1/jobs/${id}`, { signal: AbortSignal.timeout(20_000) })],
      ['GET /v1/jobs', () => fetch(`${url}/v1/jobs`, { signal: AbortSignal.timeout(20_000) })],
      ['GET /v1/jobs/{id}/results', () => fetch(`${url}/v1/jobs/${id}/results`, { signal: AbortSignal.timeout(20_000) })],
      ['GET /v1/jobs/{id}/results.csv', () => fetch(`${url}/v1/jobs/${id}/results.csv`, { signal: AbortSignal.timeout(20_000) })],
      ['GET /v1/predictions', () => fetch(`${url}/v1/predictions`, { signal: AbortSignal.timeout(20_000) })],
      [
        'POST /v1/predictions',
        () => fetch(`${url}/v1/predictions`, { method: 'POST', body: form([single]), signal: AbortSignal.timeout(20_000) }),
      ],
      [
        'POST /v1/jobs',
        () => fetch(`${url}/v1/jobs`, { method: 'POST', body: form(files.slice(0, 2)), signal: AbortSignal.timeout(20_000) }),
      ],
    ];
    const answers: string[] = [];
    for (const [what, request] of requests) {
      const started = Date.now();
      const res = await request();
      const body = await res.text();
      const ms = Date.now() - started;
      answers.push(`${what} ${res.status} ${ms} ms`);
      expect(res.status, `${what}: ${body}`).toBe(503);
      expect(JSON.parse(body), what).toEqual({ error: { code: 'database_unavailable', message: expect.any(String) } });
      expect(ms, what).toBeLessThan(10_000);
    }
    // The worker puts its items back to wait for the database instead of giving up on them or dying.
    await waitFor('items to wait for the database', async () => (await itemsCounter('deferred')) > deferredBefore, 30_000, 250);
    await sleep(Math.max(0, 4_000 - (Date.now() - downAt)));
    expectAllRunning();
    expect((await jobRow(id)).failed).toBe(0);

    await pgProxy.up();
    const upAt = Date.now();
    await untilReady(30_000);
    const readyAfter = Date.now() - upAt;
    const res = await fetch(`${url}/v1/predictions`, { method: 'POST', body: form([single]) });
    expect(res.status).toBe(200);
    expect((await json(res)).filename).toBe(single.name);
    const job = await finished(id, 90_000);
    console.info(
      `postgres: down ${upAt - downAt} ms with ${files.length - atOutage.succeeded} items left; ready ${readyAfter} ms after it was back, ` +
        `job done ${Date.now() - upAt} ms after; answers while down: ${answers.join(', ')}`,
    );
    expect(job.status).toBe('completed');
    await expectEveryItemOnce(id, files);
    // Waiting for the database spent none of the items' attempts (10 here): an outage longer than the
    // retry budget cannot leave a job running for ever with items that could not record their failure.
    expect(await attemptsSpent(id)).toEqual(files.map(() => 1));
    expect(pids()).toEqual(before);
    expectAllRunning();
  });

  it('answers 503 within a bound while PostgreSQL is silently gone, and recovers when a replacement answers', async () => {
    await untilReady(30_000);
    const before = pids();
    const files = await batch(10);
    const [single] = await clips(RAVDESS, 11, 1);
    const id = await submit(files);
    await progressed(id, 2);

    // Neither refused nor reset: every connection, the pools' open ones too, just stops answering.
    const goneAt = Date.now();
    pgProxy.blackhole();
    const atOutage = await jobRow(id);
    expect(atOutage.succeeded + atOutage.failed).toBeLessThan(files.length);
    const url = platform.gatewayUrl;
    const answers: string[] = [];
    const expect503 = async (what: string, request: () => Promise<Response>, code: string) => {
      const started = Date.now();
      const res = await request();
      const body = await res.text();
      const ms = Date.now() - started;
      answers.push(`${what} ${res.status} ${ms} ms`);
      expect(res.status, `${what}: ${body}`).toBe(503);
      expect(JSON.parse(body).error, what).toMatchObject({ code, message: expect.any(String) });
      // Bounded by the pool's connect timeout (2 s here) and the query timeout (3 s).
      expect(ms, what).toBeLessThan(8_000);
    };
    const ready = await readyz();
    expect([ready.status, ready.body.checks.database.ok, ready.body.error?.message]).toEqual([
      503,
      false,
      expect.stringMatching(/database/),
    ]);
    expect(ready.ms).toBeLessThan(5_000);
    // Probed again and again, as an orchestrator does: each probe must not leave a connection hanging in the pool.
    for (let i = 0; i < 2; i++)
      await expect503('/readyz', () => fetch(`${url}/readyz`, { signal: AbortSignal.timeout(30_000) }), 'not_ready');
    const signal = () => AbortSignal.timeout(30_000);
    await expect503('GET /v1/jobs/{id}', () => fetch(`${url}/v1/jobs/${id}`, { signal: signal() }), 'database_unavailable');
    await expect503('GET /v1/jobs', () => fetch(`${url}/v1/jobs`, { signal: signal() }), 'database_unavailable');
    await expect503(
      'POST /v1/predictions',
      () => fetch(`${url}/v1/predictions`, { method: 'POST', body: form([single]), signal: signal() }),
      'database_unavailable',
    );
    expectAllRunning();

    pgProxy.replace();
    const replacedAt = Date.now();
    await untilReady(30_000);
    const readyAfter = Date.now() - replacedAt;
    const res = await fetch(`${url}/v1/predictions`, { method: 'POST', body: form([single]), signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
    const job = await finished(id, 90_000);
    console.info(
      `postgres gone silently: ${replacedAt - goneAt} ms with ${files.length - atOutage.succeeded} items left; ready ${readyAfter} ms ` +
        `after the replacement answered, job done ${Date.now() - replacedAt} ms after; answers while gone: ${answers.join(', ')}`,
    );
    expect(job.status).toBe('completed');
    await expectEveryItemOnce(id, files);
    expect(await attemptsSpent(id)).toEqual(files.map(() => 1));
    expect(pids()).toEqual(before);
    expectAllRunning();
  });

  it('finishes every item once when the worker is killed with several items in flight', async () => {
    // tests/e2e/platform.test.ts kills the worker mid-job at the default concurrency; here 8 items are in flight at the kill.
    await untilReady(30_000);
    const files = await batch(9);
    const id = await submit(files);
    const inFlight = await waitFor(
      'several items in flight after the first outcomes',
      async () => {
        const job = await jobRow(id);
        if (job.succeeded < 2) return undefined;
        const active = await workerMetric('ser_queue_jobs', { queue: 'ser-batch-items', state: 'active' });
        return active >= 4 ? active : undefined;
      },
      90_000,
      50,
    );
    const worker = platform.services['batch-worker'];
    const killedAt = Date.now();
    await worker.kill();
    const atKill = await jobRow(id);
    expect(atKill.succeeded + atKill.failed).toBeLessThan(files.length);

    worker.start();
    const job = await finished(id, 90_000);
    console.info(
      `worker: killed with ${inFlight} items active and ${files.length - atKill.succeeded} left; job done ${Date.now() - killedAt} ms later`,
    );
    expect(job.status).toBe('completed');
    await expectEveryItemOnce(id, files);
    expectAllRunning();
  });

  it('answers single predictions 503 while the extractor is killed under them, and 200 once it is back', async () => {
    // The gateway calls the extractor over one call stream: the extractor's death fails the calls in
    // flight at once (none waits for its deadline), and a later call opens a stream to its new process.
    await untilReady(30_000);
    const [single] = await clips(RAVDESS, 12, 1);
    const answers: { status: number; at: number; ms: number }[] = [];
    let posting = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (posting) {
        const at = Date.now();
        const res = await fetch(`${platform.gatewayUrl}/v1/predictions`, {
          method: 'POST',
          body: form([single]),
          signal: AbortSignal.timeout(20_000),
        });
        await res.arrayBuffer();
        answers.push({ status: res.status, at, ms: Date.now() - at });
      }
    });
    const answered = (status: number, since: number) => answers.filter((a) => a.status === status && a.at >= since).length;
    try {
      await waitFor('answers before the kill', async () => answered(200, 0) >= 8, 60_000, 50);
      const extractor = platform.services['feature-extractor'];
      const killedAt = Date.now();
      await extractor.kill();
      await waitFor('503 answers while it is down', async () => answered(503, killedAt) >= 4, 20_000, 50);
      extractor.start();
      await waitForPort(platform.ports.extractor, 60_000);
      const backAt = Date.now();
      await waitFor('200 answers again', async () => answered(200, backAt) >= 4, 60_000, 50);
    } finally {
      posting = false;
      await Promise.allSettled(clients);
    }
    await Promise.all(clients);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 503]));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(5_000);
    await untilReady(30_000);
    expectAllRunning();
  });
});
