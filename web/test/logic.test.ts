/** The page's logic that needs no browser: checks before upload, the model's figures, readiness, sorting, bins. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ResultItem } from '../src/api.js';
import { errorFromBody } from '../src/api.js';
import { percent } from '../src/format.js';
import { modelFigures, readChecks, readModel } from '../src/model-info.js';
import { emotionCounts, failureOf, histogram, histogramLabels, sortResults } from '../src/results.js';
import { checkSelection, fileProblem, MAX_FILE_BYTES } from '../src/validate.js';

const manifest = JSON.parse(await readFile(new URL('../../models/ser-default/manifest.json', import.meta.url), 'utf8'));

const item = (
  filename: string,
  emotion: ResultItem['emotion'],
  confidence: number | null,
  error: ResultItem['error'] = null,
  position = 0,
): ResultItem => ({
  id: filename,
  recordingId: filename,
  position,
  filename,
  emotion,
  confidence,
  probabilities: emotion
    ? { neutral: 0, calm: 0, happy: 0, sad: 0, angry: 0, fearful: 0, disgust: 0, surprised: 0, [emotion]: confidence ?? 0 }
    : null,
  error,
});

describe('checks before upload', () => {
  it('accepts the six formats in any case and refuses others, empty files and files over 50 MB', () => {
    for (const name of ['a.wav', 'b.FLAC', 'c.mp3', 'd.ogg', 'e.opus', 'f.M4A']) expect(fileProblem({ name, size: 10 })).toBeNull();
    expect(fileProblem({ name: 'notes.txt', size: 10 })).toMatch(/not a supported audio file \(\.txt\)/);
    expect(fileProblem({ name: 'README', size: 10 })).toMatch(/no extension/);
    expect(fileProblem({ name: 'a.wav', size: 0 })).toBe('the file is empty');
    expect(fileProblem({ name: 'a.wav', size: MAX_FILE_BYTES })).toBeNull();
    expect(fileProblem({ name: 'a.wav', size: MAX_FILE_BYTES + 1 })).toBe('50.0 MB is over the 50 MB limit per file');
  });

  it('sends what passes, names what does not, and refuses a selection over 500 files whole', () => {
    const picked = checkSelection([
      { name: 'a.wav', size: 1 },
      { name: 'b.txt', size: 1 },
    ]);
    expect(picked.accepted.map((f) => f.name)).toEqual(['a.wav']);
    expect(picked.rejected.map((r) => r.file.name)).toEqual(['b.txt']);
    const many = checkSelection(Array.from({ length: 501 }, (_, i) => ({ name: `${i}.wav`, size: 1 })));
    expect(many.accepted).toEqual([]);
    expect(many.problem).toMatch(/501 files .* at most 500/);
  });
});

describe('the model card', () => {
  it('reads GET /v1/models ({items: [...]}) and heads with speech UA on holdout-21-24, the manifest’s own figure', () => {
    const model = readModel({ items: [{ ...manifest, metrics: manifest.metrics }] })!;
    expect(model).toMatchObject({ name: 'ser-default', architecture: 'ser-cnn-ensemble', parameterCount: 528024 });
    const { headline, others } = modelFigures(model.metrics);
    const speechUa = manifest.metrics.servingPath['../shared/ravdess'].speech.ua;
    expect(headline).toMatchObject({
      label: 'Speech UA',
      value: speechUa,
      protocol: 'holdout-21-24',
      note: 'actors 21–24 never seen in training',
      count: 240,
    });
    expect(percent(headline!.value)).toBe(`${(speechUa * 100).toFixed(1)} %`);
    expect(percent(0.625)).toBe('62.5 %');
    expect(others.map((f) => f.label)).toEqual(['Song UA', 'Speech UA (original 48 kHz recordings)', 'Speech UA, cross-validated']);
    expect(others[2]).toMatchObject({
      protocol: 'actor-6fold',
      value: manifest.metrics.actor6fold.speech.ua.mean,
      std: manifest.metrics.actor6fold.speech.ua.std,
    });
  });

  it('says where a figure comes from when there is no serving-path evaluation, and nothing when there are no figures', () => {
    expect(modelFigures({ trainerTestRowsByChannel: { speech: { ua: 0.5 } } }).headline).toMatchObject({
      value: 0.5,
      protocol: 'trainer test rows',
    });
    expect(modelFigures({})).toEqual({ headline: null, others: [] });
    expect(readModel({ items: [] })).toBeNull();
  });

  it('reads the readiness checks as the gateway sends them', () => {
    const lines = readChecks({
      status: 'not_ready',
      checks: { database: { ok: true, ms: 3 }, inference: { ok: false, ms: 2000, error: 'no answer within 2000 ms' } },
    });
    expect(lines).toEqual([
      { name: 'database', ok: true, detail: '3 ms' },
      { name: 'inference', ok: false, detail: 'no answer within 2000 ms' },
    ]);
  });
});

describe('results', () => {
  const items = [
    item('b.wav', 'sad', 0.5, null, 0),
    item('corrupt.wav', null, null, { code: 'DECODE_FAILED', message: 'bad data' }, 1),
    item('a.wav', 'happy', 0.9, null, 2),
  ];

  it('sorts either way with failed files last, and keeps ties in upload order', () => {
    expect(sortResults(items, 'confidence', 'descending').map((i) => i.filename)).toEqual(['a.wav', 'b.wav', 'corrupt.wav']);
    expect(sortResults(items, 'confidence', 'ascending').map((i) => i.filename)).toEqual(['b.wav', 'a.wav', 'corrupt.wav']);
    expect(sortResults(items, 'filename', 'ascending').map((i) => i.filename)).toEqual(['a.wav', 'b.wav', 'corrupt.wav']);
    expect(sortResults(items, 'happy', 'descending').map((i) => i.filename)).toEqual(['a.wav', 'b.wav', 'corrupt.wav']);
    expect(sortResults(items, 'position', 'descending').map((i) => i.filename)).toEqual(['a.wav', 'corrupt.wav', 'b.wav']);
  });

  it('words a failure from {code, message} or a string', () => {
    expect(failureOf(items[1])).toBe('bad data (DECODE_FAILED)');
    expect(failureOf({ ...items[1], error: 'could not decode', errorCode: 'DECODE_FAILED' })).toBe('could not decode (DECODE_FAILED)');
    expect(failureOf(items[0])).toBeNull();
  });

  it('counts emotions and bins confidences into ten bins over [0, 1]', () => {
    expect(emotionCounts(items)).toMatchObject({ sad: 1, happy: 1, neutral: 0 });
    expect(histogram([0, 0.05, 0.5, 0.99, 1])).toEqual([2, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(histogramLabels()[0]).toBe('0–10 %');
    expect(histogramLabels()[9]).toBe('90–100 %');
  });
});

describe('API errors', () => {
  it('reads {"error": {code, message}} and copes with bodies that are not', () => {
    expect(errorFromBody(413, '{"error":{"code":"file_too_large","message":"over 50 MB"}}')).toMatchObject({
      status: 413,
      code: 'file_too_large',
      message: 'over 50 MB',
    });
    expect(errorFromBody(502, '<html>Bad gateway</html>')).toMatchObject({ status: 502, code: 'http_502' });
  });
});
