import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, ObjectStore, StorageError, startLocalS3 } from '../src/index.js';

let s3: LocalS3;
let dir: string;
let store: ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-s3-'));
  s3 = await startLocalS3({ directory: dir });
  store = new ObjectStore({
    s3Endpoint: s3.endpoint,
    s3AccessKey: s3.accessKey,
    s3SecretKey: s3.secretKey,
    s3Bucket: 'test-bucket',
    s3Region: 'us-east-1',
  });
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
