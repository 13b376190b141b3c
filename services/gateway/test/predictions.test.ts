/**
 * POST /v1/predictions end to end on the real services: a RAVDESS clip is stored,
 * classified by the real extractor and model, listed, exported and played back.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EMOTIONS } from '@ser/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, buildTestApp, clip, multipart, parseCsv, SHIPPED_VERSION, startBackends, type TestApp } from './helpers.js';

let backends: Backends;
let gw: TestApp;
let clipBytes: Buffer;
const extractorLog: string[] = [];
const CLIP_NAME = '03-01-05-01-01-01-01.flac'; // Actor 01, angry

beforeAll(async () => {
  backends = await startBackends('predictions', { classifiers: true, extractorLog });
  gw = await buildTestApp(backends);
  clipBytes = await readFile(clip('01', CLIP_NAME));
});

afterAll(async () => {
  await gw?.close();
  await backends?.close();
});

const upload = (parts: Parameters<typeof multipart>[0], headers: Record<string, string> = {}, app = gw.app) => {
  const body = multipart(parts);
  return app.inject({ method: 'POST', url: '/v1/predictions', payload: body.payload, headers: { ...body.headers, ...headers } });
};

describe('POST /v1/predictions', () => {
  let created: { id: string; recordingId: string; emotion: string; probabilities: Record<string, number> };

  it('classifies a real RAVDESS clip, answering the probabilities of all eight emotions', async () => {
    const res = await upload([{ name: 'file', filename: `../../etc/${CLIP_NAME}`, data: clipBytes }], {
      'x-correlation-id': 'test-corr-42',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['x-correlation-id']).toBe('test-corr-42');
    const body = res.json();
    expect(body).toMatchObject({ filename: CLIP_NAME, model: { name: 'ser-default', version: SHIPPED_VERSION } });
    expect(Object.keys(body.probabilities).sort()).toEqual([...EMOTIONS].sort());
    const values = Object.values(body.probabilities) as number[];
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    const argmax = EMOTIONS.reduce((best, e) => (body.probabilities[e] > body.probabilities[best] ? e : best), EMOTIONS[0]);
    expect(body.emotion).toBe(argmax);
    expect(body.confidence).toBeCloseTo(body.probabilities[argmax], 6);
    expect(body.durationSeconds).toBeCloseTo(3.87, 1);
    expect(body.timings.totalMs).toBeGreaterThan(0);
    created = body;

    const recording = await backends.db.recording.findUniqueOrThrow({ where: { id: body.recordingId } });
    expect(recording).toMatchObject({
      objectKey: `recordings/${body.recordingId}`,
      contentType: 'audio/flac',
      sampleRate: 22050,
      channels: 1,
    });
    expect(Number(recording.bytes)).toBe(clipBytes.length);
    const prediction = await backends.db.prediction.findUniqueOrThrow({ where: { id: body.id } });
    expect(prediction.correlationId).toBe('test-corr-42');
    // The id travelled in the gRPC metadata: the extractor logged its Classify call under it.
    const classifyLines = extractorLog.map((l) => JSON.parse(l)).filter((l) => l.method === 'Classify');
    expect(classifyLines.some((l) => l.correlationId === 'test-corr-42')).toBe(true);
  });

  it('lists the stored prediction, filtered, and pages with a cursor', async () => {
    const res = await gw.app.inject({ url: `/v1/predictions?emotion=${created.emotion}&minConfidence=0&limit=500` });
    expect(res.statusCode).toBe(200);
    const found = res.json().items.find((p: { id: string }) => p.id === created.id);
    expect(found).toMatchObject({ recordingId: created.recordingId, jobId: null, emotion: created.emotion, error: null });
    expect(found.probabilities.neutral).toBeCloseTo(created.probabilities.neutral, 5);

    const since = new Date(Date.now() + 60_000).toISOString();
    expect((await gw.app.inject({ url: `/v1/predictions?since=${since}` })).json().items).toEqual([]);
    const first = (await gw.app.inject({ url: '/v1/predictions?limit=1' })).json();
    expect(first.items).toHaveLength(1);
    if (first.nextCursor) expect((await gw.app.inject({ url: `/v1/predictions?limit=1&cursor=${first.nextCursor}` })).statusCode).toBe(200);
  });

  it('gives the audio back byte for byte, and byte ranges as 206', async () => {
    const whole = await gw.app.inject({ url: `/v1/recordings/${created.recordingId}/audio` });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/flac');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.rawPayload.equals(clipBytes)).toBe(true);

    const part = await gw.app.inject({ url: `/v1/recordings/${created.recordingId}/audio`, headers: { range: 'bytes=100-199' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${clipBytes.length}`);
    expect(part.rawPayload.equals(clipBytes.subarray(100, 200))).toBe(true);

    const tail = await gw.app.inject({ url: `/v1/recordings/${created.recordingId}/audio`, headers: { range: 'bytes=-10' } });
    expect(tail.rawPayload.equals(clipBytes.subarray(clipBytes.length - 10))).toBe(true);
    const outside = await gw.app.inject({
      url: `/v1/recordings/${created.recordingId}/audio`,
      headers: { range: `bytes=${clipBytes.length}-` },
    });
    expect(outside.statusCode).toBe(416);
  });

  it('answers 415 for content that is not audio, whatever its name, and stores nothing', async () => {
    const filename = `notes-${randomUUID()}.wav`;
    const objects = await backends.objectCount();
    expect(objects).toBeGreaterThan(0); // the clip uploaded above
    const res = await upload([{ name: 'file', filename, contentType: 'audio/wav', data: 'just some text, not a RIFF header' }]);
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      error: {
        code: 'unsupported_media_type',
        message: expect.stringContaining('not a recognised audio file'),
        reason: 'UNSUPPORTED_FORMAT',
      },
    });
    expect(await backends.objectCount()).toBe(objects);
    expect(await backends.db.recording.count({ where: { filename } })).toBe(0);
  });

  it('answers 422 with the reason for audio that does not decode', async () => {
    const broken = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), Buffer.alloc(40, 0xee)]);
    const res = await upload([{ name: 'file', filename: 'broken.wav', data: broken }]);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'unprocessable_audio', reason: expect.any(String) });
    expect(res.json().error.message).toContain(res.json().error.reason);
  });

  it('answers 400 without a file, and for a body that is not multipart', async () => {
    const none = await upload([{ name: 'comment', data: 'no file here' }]);
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe('no_file');
    const json = await gw.app.inject({ method: 'POST', url: '/v1/predictions', payload: { file: 'x' } });
    expect(json.statusCode).toBe(415);
    expect(json.json().error.code).toBe('multipart_required');
    const cut = multipart([{ name: 'file', filename: 'a.flac', data: clipBytes }]);
    const truncated = await gw.app.inject({
      method: 'POST',
      url: '/v1/predictions',
      payload: cut.payload.subarray(0, 2000),
      headers: cut.headers,
    });
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json().error.code).toBe('malformed_multipart');
  });

  it('answers 413 for a file over MAX_FILE_BYTES and keeps nothing of it', async () => {
    const small = await buildTestApp(backends, { MAX_FILE_BYTES: '10KiB' });
    try {
      const filename = `big-${randomUUID()}.flac`;
      const objects = await backends.objectCount();
      const res = await upload([{ name: 'file', filename, data: clipBytes }], {}, small.app);
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('file_too_large');
      expect(await backends.objectCount()).toBe(objects);
      expect(await backends.db.recording.count({ where: { filename } })).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('closes the connection of an upload refused before its end, so nothing hangs (a real socket)', async () => {
    const app = await buildTestApp(backends);
    try {
      await app.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.app.server.address() as AddressInfo;
      const boundary = 'x-boundary';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="junk.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
      const junk = Buffer.alloc(8 * 1024 * 1024, 'a'); // 8 MiB of text: refused after the first 4 KiB
      const response = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/predictions',
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
          req.destroy();
        });
        req.on('error', reject);
        req.write(head);
        req.write(junk);
      });
      expect(response).toEqual({ status: 415, connection: 'close' });
      const started = performance.now();
      await app.close();
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await app.close();
    }
  }, 15_000);

  it('answers 503 when the feature extractor cannot be reached', async () => {
    const down = await buildTestApp(backends, { EXTRACTOR_ADDRESS: '127.0.0.1:1' });
    try {
      const res = await upload([{ name: 'file', filename: 'x.flac', data: clipBytes }], {}, down.app);
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('classifier_unavailable');
      expect(res.body).not.toContain('127.0.0.1');
    } finally {
      await down.close();
    }
  });

  it('keeps hostile file names for display only: no path, no control characters, no crash on bad bytes', async () => {
    const raw = Buffer.concat([Buffer.from('filename="..\\\\..\\\\evil'), Buffer.from([0xff, 0xfe, 0x07]), Buffer.from('.flac"')]);
    const res = await upload([{ name: 'file', rawDisposition: raw, data: clipBytes }]);
    expect(res.statusCode, res.body).toBe(200);
    const name: string = res.json().filename;
    expect(name).not.toMatch(/[/\\\p{Cc}]/u);
    expect(name.endsWith('.flac')).toBe(true);
  });
});

describe('GET /v1/predictions.csv', () => {
  it('streams the twelve result columns first, quoting and defusing formula file names', async () => {
    // =HYPERLINK("x"),evil.flac, sent as an RFC 5987 extended value (quotes and commas intact).
    const evil = '=HYPERLINK("x"),evil.flac';
    const res = await upload([{ name: 'file', rawDisposition: `filename*=UTF-8''${encodeURIComponent(evil)}`, data: clipBytes }]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().filename).toBe(evil);

    const csv = await gw.app.inject({ url: `/v1/predictions.csv?since=${new Date(Date.now() - 600_000).toISOString()}` });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="predictions\.csv"/);
    const [header] = csv.body.split('\r\n');
    expect(header).toBe('filename,emotion,confidence,neutral,calm,happy,sad,angry,fearful,disgust,surprised,error,id,jobId,createdAt');
    expect(csv.body).toContain(`"'=HYPERLINK(""x""),evil.flac",`);
    const row = parseCsv(csv.body).find((r) => r[12] === res.json().id);
    expect(row?.[0]).toBe(`'${evil}`);
    expect(row?.[1]).toBe(res.json().emotion);
    expect(Number(row?.[2])).toBeCloseTo(res.json().confidence, 5);
  });

  it('answers 400 for bad filters', async () => {
    for (const query of ['emotion=bored', 'minConfidence=2', 'since=yesterday', 'jobId=42', 'limit=0', 'limit=501', 'cursor=bm9wZQ']) {
      const res = await gw.app.inject({ url: `/v1/predictions?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toMatch(/^(invalid_request|bad_cursor)$/);
    }
    expect((await gw.app.inject({ url: '/v1/predictions.csv?until=2020-01-01&since=2021-01-01' })).statusCode).toBe(400);
  });
});

describe('metrics', () => {
  it('counts requests by route and status, and predictions by emotion and model version', async () => {
    const res = await gw.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/ser_http_requests_total\{method="POST",route="\/v1\/predictions",status="200"[^}]*\} \d+/);
    expect(res.body).toMatch(/ser_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/predictions"/);
    const version = SHIPPED_VERSION.replaceAll('.', '\\.');
    expect(res.body).toMatch(new RegExp(`ser_predictions_total\\{emotion="\\w+",model_version="${version}"[^}]*\\} \\d+`));
    expect(res.body).toMatch(/ser_upload_bytes_total\{endpoint="predictions"[^}]*\} \d+/);
    expect(res.body).toMatch(/ser_http_errors_total\{kind="unsupported_media_type"[^}]*\} 1/);
  });
});
