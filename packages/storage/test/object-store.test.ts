import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, listLocalS3Keys, listLocalS3Uploads, ObjectStore, StorageError, startLocalS3 } from '../src/index.js';

let s3: LocalS3;
let dir: string;
let store: ObjectStore;

const storeOn = (server: LocalS3) =>
  new ObjectStore({
    s3Endpoint: server.endpoint,
    s3AccessKey: server.accessKey,
    s3SecretKey: server.secretKey,
    s3Bucket: 'test-bucket',
    s3Region: 'us-east-1',
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-s3-'));
  s3 = await startLocalS3({ directory: dir });
  store = storeOn(s3);
  await store.ensureBucket();
  await store.ensureBucket(); // idempotent
});

afterAll(async () => {
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ObjectStore on the local S3 server', () => {
  it('puts, stats, gets whole and by range, removes', async () => {
    const body = Buffer.from('RIFF....WAVEfmt hello world');
    await store.put('a/b.wav', body, { size: body.length, contentType: 'audio/wav' });
    expect(await store.stat('a/b.wav')).toEqual({ size: body.length, contentType: 'audio/wav' });
    expect((await store.get('a/b.wav')).equals(body)).toBe(true);
    const part: Buffer[] = [];
    for await (const c of await store.getStream('a/b.wav', { start: 4, end: 11 })) part.push(c as Buffer);
    expect(Buffer.concat(part).toString()).toBe('....WAVE');
    await store.remove('a/b.wav');
    await expect(store.get('a/b.wav')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("signs a buffer's SHA-256, the caller's when given, which the local server checks", async () => {
    const body = randomBytes(60_000);
    const sha256 = createHash('sha256').update(body).digest('hex');
    await store.put('hashed.bin', body, { sha256 });
    expect((await store.get('hashed.bin')).equals(body)).toBe(true);
    // A hash that is not the body's: refused, and nothing stored.
    const wrong = createHash('sha256').update('something else').digest('hex');
    await expect(store.put('wrong.bin', body, { sha256: wrong })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(store.stat('wrong.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A stream that ends within one part goes up as one buffer, hashed here.
    await store.put('streamed.bin', Readable.from([body.subarray(0, 1000), body.subarray(1000)]));
    expect((await store.get('streamed.bin')).equals(body)).toBe(true);
    await Promise.all(['hashed.bin', 'streamed.bin'].map((key) => store.remove(key)));
  });

  it('streams an upload of unknown length in parts (multipart through the ?uploads shim)', async () => {
    const size = 12 * 1024 * 1024 + 123; // three 5 MiB parts
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    async function* gen() {
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, size - sent));
    }
    await store.put('big.bin', Readable.from(gen()));
    const got = await store.get('big.bin');
    expect(got.length).toBe(size);
    expect(got[5 * 1024 * 1024 + 7]).toBe(((5 * 1024 * 1024 + 7) % (64 * 1024)) % 251);
    expect(await listLocalS3Uploads(dir, 'test-bucket')).toEqual([]);
  });

  it('keeps objects across a restart, in one pack file, and reads objects stored as files by the earlier layout', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i * 997));
    await Promise.all(bodies.map((b, i) => store.put(`clip-${i}`, b, { size: b.length, contentType: 'audio/flac' })));
    await store.remove('clip-3');
    // An object of the earlier layout: a file named by the encoded key, a journal line without an offset.
    const old = Buffer.from('an object stored as a file');
    await writeFile(join(dir, 'test-bucket', encodeURIComponent('old/one.wav')), old);
    const meta = { contentType: 'audio/wav', etag: '"x"', size: old.length, modified: new Date().toUTCString() };
    await appendFile(join(dir, 'test-bucket', '.objects.jsonl'), `${JSON.stringify({ key: 'old/one.wav', meta })}\n`);
    // A multipart upload cut off by the restart: its parts go.
    const cut = '0b7a4d5e-1c2f-4a3b-9d8e-7f6a5b4c3d2e';
    await mkdir(join(dir, 'test-bucket', '.uploads', cut), { recursive: true });
    await writeFile(join(dir, 'test-bucket', '.uploads', cut, 'part-1'), randomBytes(1000));
    expect(await listLocalS3Uploads(dir, 'test-bucket')).toEqual([cut]);

    await s3.close();
    s3 = await startLocalS3({ directory: dir });
    store = storeOn(s3);
    expect(await listLocalS3Uploads(dir, 'test-bucket')).toEqual([]);
    for (const [i, b] of bodies.entries()) {
      if (i === 3) await expect(store.get('clip-3')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      else expect((await store.get(`clip-${i}`)).equals(b)).toBe(true);
    }
    const part: Buffer[] = [];
    for await (const c of await store.getStream('clip-7', { start: 100, end: 199 })) part.push(c as Buffer);
    expect(Buffer.concat(part).equals(bodies[7].subarray(100, 200))).toBe(true);
    expect((await store.get('old/one.wav')).equals(old)).toBe(true);
    expect(await store.stat('old/one.wav')).toEqual({ size: old.length, contentType: 'audio/wav' });
    expect(await listLocalS3Keys(dir, 'test-bucket')).toEqual(
      [...bodies.keys()]
        .filter((i) => i !== 3)
        .map((i) => `clip-${i}`)
        .concat(['big.bin', 'old/one.wav'])
        .sort(),
    );
    // No file per object: the pack, the journal, and the earlier layout's one file.
    const files = async () =>
      (await readdir(join(dir, 'test-bucket'), { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    expect((await files()).sort()).toEqual(['.objects.jsonl', '.objects.pack', encodeURIComponent('old/one.wav')]);
    await store.remove('old/one.wav');
    expect(await files()).not.toContain(encodeURIComponent('old/one.wav'));
  });

  it('reports an unreachable server as UNAVAILABLE', async () => {
    const down = new ObjectStore({
      s3Endpoint: 'http://127.0.0.1:1',
      s3AccessKey: 'x',
      s3SecretKey: 'y',
      s3Bucket: 'b',
      s3Region: 'us-east-1',
    });
    const err = await down.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('UNAVAILABLE');
  });
});
