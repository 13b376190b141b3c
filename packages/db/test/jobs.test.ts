import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  createJob,
  createPrediction,
  createRecording,
  type Db,
  getJob,
  listJobResults,
  listJobs,
  listPredictions,
  type Outcome,
  recordJobItemOutcome,
  streamJobResults,
  streamPredictions,
} from '../src/index.js';

let db: Db;
beforeAll(() => {
  db = createDb(process.env.TEST_DATABASE_URL!);
});
afterAll(async () => {
  await db.$disconnect();
});

const recording = (jobId: string | null, i: number) => ({
  id: randomUUID(),
  objectKey: `test/${randomUUID()}`,
  filename: `clip-${i}.wav`,
  contentType: 'audio/wav',
  bytes: 1000 + i,
  sha256: 'a'.repeat(64),
  jobId,
});

const ok = (confidence: number): Outcome => ({
  ok: true,
  model: { name: 'm', version: '1' },
  emotion: 'happy',
  confidence,
  probabilities: { neutral: 0, calm: 0, happy: confidence, sad: 1 - confidence, angry: 0, fearful: 0, disgust: 0, surprised: 0 },
  timings: { total: 3 },
});
const bad: Outcome = { ok: false, errorCode: 'DECODE_FAILED', error: 'not audio' };

describe('batch job bookkeeping', () => {
  it('counts each item exactly once under concurrent redelivery, then completes', async () => {
    const id = randomUUID();
    const recordings = Array.from({ length: 6 }, (_, i) => recording(null, i));
    const job = await createJob(db, { id, recordings, callbackUrl: 'https://example.com/hook' });
    expect(job).toMatchObject({ status: 'queued', total: 6, succeeded: 0, failed: 0, callbackStatus: 'pending' });

    // Every item delivered three times at once; item 5 is undecodable.
    const results = await Promise.all(
      recordings.flatMap((r, position) =>
        [0, 1, 2].map(() =>
          recordJobItemOutcome(
            db,
            { jobId: id, recordingId: r.id, position, filename: r.filename },
            position === 5 ? bad : ok(0.5 + position / 20),
          ),
        ),
      ),
    );
    expect(results.filter((r) => r.recorded)).toHaveLength(6);
    expect(results.filter((r) => r.finishedNow)).toHaveLength(1);
    const done = await getJob(db, id);
    expect(done).toMatchObject({ status: 'completed', succeeded: 5, failed: 1 });
    expect(done?.startedAt).toBeInstanceOf(Date);
    expect(done?.finishedAt).toBeInstanceOf(Date);

    const page1 = await listJobResults(db, id, { limit: 4 });
    expect(page1.items.map((r) => r.position)).toEqual([0, 1, 2, 3]);
    const page2 = await listJobResults(db, id, { limit: 4, cursor: page1.nextCursor! });
    expect(page2.items.map((r) => r.position)).toEqual([4, 5]);
    expect(page2.nextCursor).toBeNull();
    expect(page2.items[1]).toMatchObject({ emotion: null, probabilities: null, errorCode: 'DECODE_FAILED', error: 'not audio' });
    expect(page2.items[0].probabilities?.happy).toBeCloseTo(0.7, 6);
    const all = [];
    for await (const row of streamJobResults(db, id, 2)) all.push(row.filename);
    expect(all).toEqual(recordings.map((r) => r.filename));
  });

  it('fails a job none of whose items succeeded', async () => {
    const id = randomUUID();
    const [r] = [recording(null, 0)];
    await createJob(db, { id, recordings: [r] });
    const out = await recordJobItemOutcome(db, { jobId: id, recordingId: r.id, position: 0, filename: r.filename }, bad);
    expect(out).toMatchObject({ recorded: true, finishedNow: true, job: { status: 'failed', failed: 1 } });
  });

  it('lists jobs newest first by status with cursors, and predictions by filter', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      ids.push(id);
      await createJob(db, { id, recordings: [recording(null, i)] });
    }
    const first = await listJobs(db, { status: 'queued', limit: 2 });
    expect(first.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    const second = await listJobs(db, { status: 'queued', limit: 2, cursor: first.nextCursor! });
    expect(second.items[0].id).toBe(ids[0]);

    const since = new Date();
    const rec = recording(null, 9);
    await createRecording(db, rec);
    const single = await createPrediction(db, { recordingId: rec.id, filename: rec.filename }, ok(0.93));
    expect(single.jobId).toBeNull();
    const found = await listPredictions(db, { since, emotion: 'happy', minConfidence: 0.9 }, { limit: 10 });
    expect(found.items.map((p) => p.id)).toEqual([single.id]);
    expect((await listPredictions(db, { since, minConfidence: 0.95 }, { limit: 10 })).items).toEqual([]);
    const streamed = [];
    for await (const p of streamPredictions(db, { since })) streamed.push(p.id);
    expect(streamed).toEqual([single.id]);
  });
});
