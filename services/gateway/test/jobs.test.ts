/**
 * Batch jobs: uploads stored, the job row written, one BullMQ item per audio file
 * with a predictable id, files that are not audio failed at once. The batch worker
 * is not running here: the queue's contents are what is checked.
 */
import { readFile } from 'node:fs/promises';
import { decodeAudio, encodeWav } from '@ser/audio';
import { recordJobItemOutcome } from '@ser/db';
import { type ClassifyItemPayload, itemJobId, itemsQueue, JOBS, producerConnection } from '@ser/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, buildTestApp, clip, multipart, parseCsv, startBackends, type TestApp } from './helpers.js';

let backends: Backends;
let gw: TestApp;
const clips: { name: string; data: Buffer }[] = [];

beforeAll(async () => {
  backends = await startBackends('jobs', { classifiers: false });
  gw = await buildTestApp(backends, { MAX_FILES: '5' });
  for (const name of ['03-01-03-01-01-01-01.flac', '03-01-04-01-01-01-01.flac'])
    clips.push({ name, data: await readFile(clip('01', name)) });
  // A WAV too: the same kind of clip as a browser recorder or a user's file would send.
  const decoded = await decodeAudio(new Uint8Array(await readFile(clip('01', '03-01-08-01-01-01-01.flac'))));
  clips.push({ name: '03-01-08-01-01-01-01.wav', data: Buffer.from(encodeWav([decoded.samples], decoded.sampleRate, 'int16')) });
});

afterAll(async () => {
  await gw?.close();
  await backends?.close();
});

const post = (parts: Parameters<typeof multipart>[0], app = gw.app) => {
  const body = multipart(parts);
  return app.inject({ method: 'POST', url: '/v1/jobs', payload: body.payload, headers: body.headers });
};

const NOT_AUDIO = { name: 'file', filename: 'readme.wav', contentType: 'audio/wav', data: 'this is a text file wearing a .wav name\n' };

describe('POST /v1/jobs', () => {
  let jobId: string;

  it('stores the files, writes the job, queues one item per audio file and fails the non-audio one at once', async () => {
    const parts = [
      { name: 'file', filename: clips[0].name, data: clips[0].data },
      NOT_AUDIO,
      { name: 'callbackUrl', data: 'https://example.com/hooks/ser' },
      { name: 'file', filename: clips[1].name, data: clips[1].data },
      { name: 'file', filename: clips[2].name, data: clips[2].data },
    ];
    const body = multipart(parts);
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: body.payload,
      headers: { ...body.headers, 'x-correlation-id': 'job-corr-1' },
    });
    expect(res.statusCode, res.body).toBe(202);
    const created = res.json();
    jobId = created.id;
    expect(created).toMatchObject({ total: 4 });
    expect(res.headers.location).toBe(`/v1/jobs/${jobId}`);
    expect(res.headers['x-correlation-id']).toBe('job-corr-1');

    const job = (await gw.app.inject({ url: `/v1/jobs/${jobId}` })).json();
    expect(job).toMatchObject({ id: jobId, total: 4, succeeded: 0, failed: 1, finishedAt: null });
    expect(job.status).toBe(created.status);
    expect(job.callback).toEqual({ url: 'https://example.com/hooks/ser', status: 'pending', attempts: 0, error: null });

    const recordings = await backends.db.recording.findMany({ where: { jobId }, orderBy: { position: 'asc' } });
    expect(recordings.map((r) => [r.position, r.filename, r.contentType])).toEqual([
      [0, clips[0].name, 'audio/flac'],
      [1, 'readme.wav', 'application/octet-stream'],
      [2, clips[1].name, 'audio/flac'],
      [3, clips[2].name, 'audio/wav'],
    ]);

    const queued = await backends.queue.getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    const mine = queued.filter((j) => (j.data as ClassifyItemPayload).jobId === jobId);
    expect(mine).toHaveLength(3);
    const audio = recordings.filter((r) => r.contentType !== 'application/octet-stream');
    expect(mine.map((j) => j.id).sort()).toEqual(audio.map((r) => itemJobId(jobId, r.id)).sort());
    for (const item of mine) {
      const r = audio.find((x) => x.id === (item.data as ClassifyItemPayload).recordingId)!;
      expect(item.name).toBe(JOBS.classify);
      expect(item.data).toEqual({
        jobId,
        recordingId: r.id,
        objectKey: r.objectKey,
        filename: r.filename,
        position: r.position,
        correlationId: 'job-corr-1',
      });
      expect((await backends.store.get(r.objectKey)).equals(clips.find((c) => c.name === r.filename)!.data)).toBe(true);
    }
  });

  it("lists the job's results: the failed item now, the others as the worker records them; CSV defuses formulas", async () => {
    const results = (await gw.app.inject({ url: `/v1/jobs/${jobId}/results` })).json();
    expect(results.items).toHaveLength(1);
    expect(results.items[0]).toMatchObject({ position: 1, filename: 'readme.wav', emotion: null, error: { code: 'UNSUPPORTED_FORMAT' } });

    // Play the worker for one item, under a hostile name, to see it in the export.
    const rec = await backends.db.recording.findFirstOrThrow({ where: { jobId, position: 0 } });
    const probabilities = { neutral: 0.05, calm: 0.05, happy: 0.6, sad: 0.1, angry: 0.05, fearful: 0.05, disgust: 0.05, surprised: 0.05 };
    await recordJobItemOutcome(
      backends.db,
      { jobId, recordingId: rec.id, position: 0, filename: '@SUM(A1:A9),"quoted".flac' },
      { ok: true, model: { name: 'ser-default', version: '1.0.0' }, emotion: 'happy', confidence: 0.6, probabilities },
    );

    const csv = await gw.app.inject({ url: `/v1/jobs/${jobId}/results.csv` });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="job-${jobId}-results.csv"`);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('filename,emotion,confidence,neutral,calm,happy,sad,angry,fearful,disgust,surprised,error');
    expect(lines[1]).toBe(`"'@SUM(A1:A9),""quoted"".flac",happy,0.6,0.05,0.05,0.6,0.1,0.05,0.05,0.05,0.05,`);
    expect(lines[2]).toMatch(/^readme\.wav,,,,,,,,,,,"UNSUPPORTED_FORMAT: not a recognised audio file \(supported: WAV, FLAC, [^"]*\)"$/);
    expect(lines.at(-1)).toBe('');
    expect(parseCsv(csv.body).map((r) => r.length)).toEqual([12, 12, 12]);

    const page = (await gw.app.inject({ url: `/v1/jobs/${jobId}/results?limit=1` })).json();
    expect(page.items.map((r: { position: number }) => r.position)).toEqual([0]);
    const next = (await gw.app.inject({ url: `/v1/jobs/${jobId}/results?limit=1&cursor=${page.nextCursor}` })).json();
    expect(next.items.map((r: { position: number }) => r.position)).toEqual([1]);
  });

  it('lists jobs newest first, by status, with cursors', async () => {
    // Three jobs at least, whatever else the database holds: the first page of two has a next one.
    await post([{ name: 'file', filename: 'z.flac', data: clips[0].data }]);
    const second = await post([{ name: 'file', filename: 'a.flac', data: clips[0].data }]);
    expect(second.json().status).toBe('queued');
    const all = (await gw.app.inject({ url: '/v1/jobs?limit=2' })).json();
    expect(all.items[0].id).toBe(second.json().id);
    expect(all.nextCursor).toEqual(expect.any(String));
    const queued = (await gw.app.inject({ url: '/v1/jobs?status=queued&limit=500' })).json();
    expect(queued.items.every((j: { status: string }) => j.status === 'queued')).toBe(true);
    expect(queued.items.some((j: { id: string }) => j.id === second.json().id)).toBe(true);
    const after = await gw.app.inject({ url: `/v1/jobs?limit=2&cursor=${all.nextCursor}` });
    expect(after.statusCode).toBe(200);
  });

  it('fails a job made only of non-audio files at once, and queues nothing', async () => {
    const res = await post([NOT_AUDIO]);
    expect(res.statusCode).toBe(202);
    const job = (await gw.app.inject({ url: `/v1/jobs/${res.json().id}` })).json();
    expect(job).toMatchObject({ status: 'failed', total: 1, failed: 1 });
    expect(job.finishedAt).toEqual(expect.any(String));
  });

  it('answers 400 without files or with a callbackUrl that is not http(s), and stores nothing then', async () => {
    const none = await post([{ name: 'callbackUrl', data: 'https://example.com/x' }]);
    expect([none.statusCode, none.json().error.code]).toEqual([400, 'no_file']);
    const objects = await backends.objectCount();
    for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'not a url', `https://example.com/${'x'.repeat(3000)}`]) {
      const bad = await post([
        { name: 'file', filename: 'a.flac', data: clips[0].data },
        { name: 'callbackUrl', data: url },
      ]);
      expect([bad.statusCode, bad.json().error.code], url).toEqual([400, 'invalid_callback_url']);
    }
    expect(await backends.objectCount()).toBe(objects);
  });

  it('answers 413 for more files than MAX_FILES, and stores nothing', async () => {
    const objects = await backends.objectCount();
    const res = await post(Array.from({ length: 6 }, (_, i) => ({ name: 'file', filename: `${i}.flac`, data: clips[0].data })));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('too_many_files');
    expect(await backends.objectCount()).toBe(objects);
  });

  it('answers 503 when the queue is unreachable, and fails every item of the job with that reason', async () => {
    const deadRedis = producerConnection('redis://127.0.0.1:1');
    deadRedis.on('error', () => {});
    const deadQueue = itemsQueue(deadRedis, `${backends.queuePrefix}-dead`);
    deadQueue.on('error', () => {});
    const down = await buildTestApp(backends, { QUEUE_TIMEOUT_MS: '300' }, { queue: deadQueue, redis: deadRedis });
    try {
      const res = await post(
        [
          { name: 'file', filename: 'a.flac', data: clips[0].data },
          { name: 'file', filename: 'b.txt', data: Buffer.from('not audio') },
          { name: 'file', filename: 'c.flac', data: clips[0].data },
        ],
        down.app,
      );
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('queue_unavailable');
      const jobId = /job ([\w-]+) was marked failed/.exec(res.json().error.message)?.[1];
      const job = (await gw.app.inject({ url: `/v1/jobs/${jobId}` })).json();
      expect(job).toMatchObject({ status: 'failed', total: 3, succeeded: 0, failed: 3, finishedAt: expect.any(String) });
      // Each file keeps the reason it failed for: the refused one its own, the others the queue's.
      const results = (await gw.app.inject({ url: `/v1/jobs/${jobId}/results` })).json();
      expect(results.items.map((r: { filename: string; error: { code: string } }) => [r.filename, r.error.code])).toEqual([
        ['a.flac', 'QUEUE_UNAVAILABLE'],
        ['b.txt', 'UNSUPPORTED_FORMAT'],
        ['c.flac', 'QUEUE_UNAVAILABLE'],
      ]);
    } finally {
      await down.close();
      await deadQueue.close().catch(() => {});
      deadRedis.disconnect();
    }
  });
});

describe('job lookups', () => {
  it('answers 404 for an unknown job, 400 for an id that is not a UUID, a bad cursor or a bad status', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const url of [`/v1/jobs/${unknown}`, `/v1/jobs/${unknown}/results`, `/v1/jobs/${unknown}/results.csv`]) {
      const res = await gw.app.inject({ url });
      expect([res.statusCode, res.json().error.code], url).toEqual([404, 'not_found']);
    }
    for (const url of ['/v1/jobs/not-a-uuid', '/v1/jobs?cursor=garbage', '/v1/jobs?status=done', '/v1/jobs?limit=abc']) {
      const res = await gw.app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error).toEqual({ code: expect.stringMatching(/^(invalid_request|bad_cursor)$/), message: expect.any(String) });
    }
  });
});
