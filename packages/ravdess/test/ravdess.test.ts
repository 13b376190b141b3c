import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorpusError, foldActors, parseRavdessName, readCorpus, type SplitRow, splitRows, utteranceClips } from '../src/index.js';

const CORPUS = resolve(import.meta.dirname, '../../../../shared/ravdess');

describe('RAVDESS file names', () => {
  it('parses every field', () => {
    expect(parseRavdessName('03-02-06-02-01-02-24.flac', '/x/03-02-06-02-01-02-24.flac')).toEqual({
      id: '03-02-06-02-01-02-24',
      path: '/x/03-02-06-02-01-02-24.flac',
      modality: 3,
      channel: 'song',
      emotion: 'fearful',
      label: 5,
      intensity: 'strong',
      statement: 1,
      repetition: 2,
      actor: 24,
      sex: 'female',
    });
  });

  it.each([
    ['notes.flac', /seven two-digit fields/],
    ['03-03-01-01-01-01-01.wav', /vocal channel 3/],
    ['03-01-09-01-01-01-01.wav', /emotion 9/],
    ['03-01-01-02-01-01-01.wav', /neutral has no strong/],
    ['03-01-01-01-01-01-25.wav', /actor 25/],
  ])('refuses %s', (name, reason) => {
    expect(parseRavdessName(name)).toMatch(reason);
  });
});

describe('corpus reader', () => {
  it('reads the whole shared corpus: 1440 speech and 1012 song clips, 24 actors', async () => {
    const clips = await readCorpus(CORPUS);
    expect(clips.length).toBe(2452);
    expect(clips.filter((c) => c.channel === 'speech').length).toBe(1440);
    expect(new Set(clips.map((c) => c.actor)).size).toBe(24);
    const counts = new Map<string, number>();
    for (const c of clips) counts.set(c.emotion, (counts.get(c.emotion) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({
      neutral: 188,
      calm: 376,
      happy: 376,
      sad: 376,
      angry: 376,
      fearful: 376,
      disgust: 192,
      surprised: 192,
    });
  });

  it('refuses a corpus with a file whose name does not parse, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ravdess-'));
    mkdirSync(join(dir, 'Actor_01'));
    writeFileSync(join(dir, 'Actor_01', '03-01-01-01-01-01-01.wav'), '');
    writeFileSync(join(dir, 'Actor_01', 'take2.wav'), '');
    const err = await readCorpus(dir).catch((e) => e);
    expect(err).toBeInstanceOf(CorpusError);
    expect(err.message).toMatch(/take2\.wav/);
  });
});

describe('protocols', () => {
  it('actor-6fold folds: test actors 4k-3..4k, validation 4k+1 and 4k+2 mod 24', () => {
    expect(foldActors(1)).toEqual({ test: [1, 2, 3, 4], validation: [5, 6] });
    expect(foldActors(6)).toEqual({ test: [21, 22, 23, 24], validation: [1, 2] });
  });

  const rows: SplitRow[] = [];
  for (let actor = 1; actor <= 24; actor++)
    for (let i = 0; i < 16; i++)
      for (const augmentation of ['none', 'noise']) rows.push({ clipId: `a${actor}-c${i}`, label: i % 8, actor, augmentation });

  it('holdout-21-24: no test or validation actor in training, originals only in validation and test', () => {
    const split = splitRows('holdout-21-24', rows);
    const actorsOf = (ids: number[]) => new Set(ids.map((i) => rows[i].actor));
    expect([...actorsOf(split.test)].sort((a, b) => a - b)).toEqual([21, 22, 23, 24]);
    expect([...actorsOf(split.validation)].sort((a, b) => a - b)).toEqual([1, 2]);
    for (const a of actorsOf(split.train)) expect(a >= 3 && a <= 20).toBe(true);
    expect(split.test.every((i) => rows[i].augmentation === 'none')).toBe(true);
    expect(split.train.some((i) => rows[i].augmentation === 'noise')).toBe(true);
    expect(split.train.length + split.validation.length + split.test.length).toBe(18 * 32 + 6 * 16);
  });

  it('utterance: clips split 80/20 by emotion, no clip on two sides, reproducible', () => {
    const split = splitRows('utterance', rows);
    const clipsOf = (ids: number[]) => new Set(ids.map((i) => rows[i].clipId));
    const train = clipsOf(split.train);
    for (const id of clipsOf(split.test)) expect(train.has(id)).toBe(false);
    for (const id of clipsOf(split.validation)) expect(train.has(id)).toBe(false);
    expect(clipsOf(split.test).size).toBe(Math.round((384 / 8) * 0.2) * 8);
    expect(splitRows('utterance', rows)).toEqual(split);
    const unique = utteranceClips(
      [...new Set(rows.map((r) => r.clipId))].map((clipId) => ({ clipId, label: Number(clipId.split('c')[1]) % 8 })),
    );
    expect(unique.test.size).toBe(clipsOf(split.test).size);
  });

  it('seed: random 80/20 over rows with the 20 % reused for validation (leaky by design)', () => {
    const split = splitRows('seed', rows);
    expect(split.validation).toBe(split.test);
    expect(split.test.length).toBe(Math.ceil(rows.length * 0.2));
    // Copies of one recording land on both sides: the leak the protocol documents.
    const testClips = new Set(split.test.map((i) => rows[i].clipId));
    expect(split.train.some((i) => testClips.has(rows[i].clipId))).toBe(true);
  });
});
