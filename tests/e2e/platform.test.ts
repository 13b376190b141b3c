/**
 * The platform end to end: the four services as processes (as `npm start` runs
 * them) over real PostgreSQL, Redis and a local S3 server, real RAVDESS audio
 * through the real model.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Platform, startPlatform } from '@ser/launcher';
import { EMOTIONS } from '@ser/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipFile, clips, expectedProbabilities, RAVDESS, RAVDESS_48K } from './corpus.js';
import { parseCsv } from './csv.js';

const CSV_HEADER = 'filename,emotion,confidence,neutral,calm,happy,sad,angry,fearful,disgust,surprised,error';

let platform: Platform;
let dataDir: string;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ser-e2e-'));
  platform = await startPlatform({
    databaseUrl: process.env.TEST_DATABASE_URL!,
    redisUrl: process.env.TEST_REDIS_URL!,
    dataDir,
    ports: 'free',
    queuePrefix: `e2e-${randomUUID()}`,
    serviceEnv: { 'batch-worker': { WORKER_LOCK_DURATION_MS: '5000' } },
    onLine: (service, line) => {
      logs.push(`${service}: ${line}`);
      if (logs.length > 2000) logs.splice(0, 1000);
    },
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface JobView {
  id: string;
  status: string;
  total: number;
  succeeded: number;
  failed: number;
}

// The API's answers, read as the loosely typed JSON they are on the wire.
// biome-ignore lint/suspicious/noExplicitAny: assertions below check the shape
const json = async (res: Response): Promise<any> => res.json();

function form(files: { name: string; bytes: Buffer }[], fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const f of files) body.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  return body;
}

async function waitForJob(
  id: string,
  timeoutMs: number,
  until = (job: JobView) => job.status === 'completed' || job.status === 'failed',
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job: JobView = await json(await fetch(`${platform.gatewayUrl}/v1/jobs/${id}`));
    if (until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(job)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function expectClose(actual: number, expected: number, what: string) {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(2e-5);
}

describe('the running platform', () => {
  it('classifies one real RAVDESS clip through POST /v1/predictions and plays it back', async () => {
    const [clip] = await clips(RAVDESS, 1, 1);
    const expected = (await expectedProbabilities([clip])).get(clip.name)!;
    const res = await fetch(`${platform.gatewayUrl}/v1/predictions`, { method: 'POST', body: form([clip]) });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.filename).toBe(clip.name);
    for (const [i, e] of EMOTIONS.entries()) expectClose(body.probabilities[e], expected[i], e);
    const best = EMOTIONS[expected.indexOf(Math.max(...expected))];
    expect(body.emotion).toBe(best);
    expect(body.model).toEqual({ name: 'ser-default', version: expect.any(String) });
    expect(body.durationSeconds).toBeGreaterThan(2);

    const audio = await fetch(`${platform.gatewayUrl}/v1/recordings/${body.recordingId}/audio`);
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer()).equals(clip.bytes)).toBe(true);
  });

  it('runs a batch job of 48 kHz WAVs and 22050 Hz FLACs plus a corrupt file to completion, CSV row by row', async () => {
    const wavs = await clips(RAVDESS_48K, 21, 10);
    const flacs = await clips(RAVDESS, 2, 10);
    const files: ClipFile[] = [];
    for (let i = 0; i < 10; i++) files.push(wavs[i], flacs[i]);
    // A WAV header over bytes that are not audio: accepted at upload, fails as an item.
    const corrupt = Buffer.concat([wavs[0].bytes.subarray(0, 44), Buffer.alloc(20)]);
    corrupt.writeUInt32LE(10_000_000, 40); // the data chunk claims far more than is there
    files.splice(7, 0, { path: '', name: 'corrupt.wav', bytes: corrupt });
    const expected = await expectedProbabilities(files.filter((f) => f.name !== 'corrupt.wav'));

    const res = await fetch(`${platform.gatewayUrl}/v1/jobs`, { method: 'POST', body: form(files) });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted).toMatchObject({ status: 'queued', total: 21 });
    expect(res.headers.get('location')).toBe(`/v1/jobs/${accepted.id}`);

    const job = await waitForJob(accepted.id, 120_000);
    expect(job).toMatchObject({ status: 'completed', total: 21, succeeded: 20, failed: 1 });

    const csv = await fetch(`${platform.gatewayUrl}/v1/jobs/${accepted.id}/results.csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await csv.text();
    expect(text.split(/\r?\n/)[0]).toBe(CSV_HEADER);
    const [, ...rows] = parseCsv(text.trimEnd());
    expect(rows.map((r) => r[0])).toEqual(files.map((f) => f.name));
    for (const row of rows) {
      const [filename, emotion, confidence, ...rest] = row;
      const error = rest.pop();
      if (filename === 'corrupt.wav') {
        expect(emotion).toBe('');
        expect(error).not.toBe('');
        continue;
      }
      const probs = expected.get(filename)!;
      expect(error).toBe('');
      for (const [i, p] of rest.entries()) expectClose(Number(p), probs[i], `${filename} ${EMOTIONS[i]}`);
      expect(emotion).toBe(EMOTIONS[probs.indexOf(Math.max(...probs))]);
      expectClose(Number(confidence), Math.max(...probs), `${filename} confidence`);
    }
  });

  it('finishes every item exactly once when the worker is killed mid-job and restarted', async () => {
    const base = [...(await clips(RAVDESS, 3, 30)), ...(await clips(RAVDESS_48K, 22, 30))];
    const files = base.map((f, i) => ({ ...f, name: `${String(i).padStart(3, '0')}-${f.name}` }));
    const res = await fetch(`${platform.gatewayUrl}/v1/jobs`, { method: 'POST', body: form(files) });
    expect(res.status).toBe(202);
    const { id } = await json(res);

    await waitForJob(id, 60_000, (job) => job.succeeded >= 5);
    await platform.services['batch-worker'].kill();
    const atKill: JobView = await json(await fetch(`${platform.gatewayUrl}/v1/jobs/${id}`));
    expect(atKill.succeeded + atKill.failed).toBeLessThan(files.length);

    platform.services['batch-worker'].start();
    const job = await waitForJob(id, 150_000);
    expect(job).toMatchObject({ status: 'completed', total: files.length, succeeded: files.length, failed: 0 });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { filename: string }[]; nextCursor: string | null } = await json(
        await fetch(`${platform.gatewayUrl}/v1/jobs/${id}/results?limit=25${cursor ? `&cursor=${cursor}` : ''}`),
      );
      seen.push(...page.items.map((p) => p.filename));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(files.map((f) => f.name));
  });
});
