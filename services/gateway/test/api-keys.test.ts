/**
 * API keys on the real backends: the gateway with API_KEYS_REQUIRED=true refuses
 * /v1 requests without a valid, unrevoked key (401), counts each key's requests in
 * Redis (429 with Retry-After and x-ratelimit-* headers, shared by two gateways,
 * over again after the window), leaves the operational routes, the page and the
 * docs open; keys are made, listed and revoked with the real `ser keys` command.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { apiKeyMatches, createApiKey, hashApiKey, revokeApiKey } from '@ser/db';
import { producerConnection } from '@ser/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentedKey } from '../src/plugins/api-keys.js';
import { type Backends, buildTestApp, clip, multipart, startBackends, type TestApp } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const WINDOW_MS = 3_000;
const CACHE_MS = 200;
const KEYED = { API_KEYS_REQUIRED: 'true', API_KEY_CACHE_MS: String(CACHE_MS), RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) };

let backends: Backends;
let gw: TestApp;
let clipBytes: Buffer;

beforeAll(async () => {
  backends = await startBackends('apikeys', { classifiers: true });
  gw = await buildTestApp(backends, KEYED);
  clipBytes = await readFile(clip('01', '03-01-05-01-01-01-01.flac'));
});

afterAll(async () => {
  await gw?.close();
  await backends?.close();
});

const newKey = (rateLimitPerMinute = 600, name = 'test') => createApiKey(backends.db, { name, rateLimitPerMinute });
const get = (url: string, headers: Record<string, string> = {}, app = gw.app) => app.inject({ url, headers });

/** The `ser` command against the test database: what `pnpm --silent ser ARGS` runs, without pnpm's second of start-up. */
async function ser(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Waits until the start of a fresh rate-limit window, so a test's requests all fall in one. */
async function freshWindow(): Promise<void> {
  await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 20));
}

describe('keys themselves', () => {
  it('are ser_<12 hex>_<43 base64url>, stored only as their SHA-256, compared by hash', async () => {
    const { key, row } = await newKey();
    expect(key).toMatch(/^ser_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.slice(4, 16)).toBe(row.prefix);
    expect(row.hash).toBe(hashApiKey(key));
    expect(JSON.stringify(await backends.db.apiKey.findUnique({ where: { id: row.id } }))).not.toContain(key.slice(17));
    expect(apiKeyMatches(row, key)).toBe(true);
    expect(apiKeyMatches(row, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
  });

  it('are read from x-api-key, else Authorization: Bearer', () => {
    expect(presentedKey({ 'x-api-key': ' k1 ' })).toBe('k1');
    expect(presentedKey({ authorization: 'Bearer k2' })).toBe('k2');
    expect(presentedKey({ authorization: 'bearer   k3 ' })).toBe('k3');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});

describe('with API_KEYS_REQUIRED=true', () => {
  it('refuses /v1 requests without a key: 401 api_key_required in the error shape, with WWW-Authenticate', async () => {
    for (const url of [
      '/v1/jobs',
      '/v1/predictions',
      '/v1/models',
      '/v1/predictions.csv',
      '/v1/recordings/00000000-0000-4000-8000-000000000000/audio',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toEqual({
        error: { code: 'api_key_required', message: 'an API key is required: send it in the x-api-key header or as Authorization: Bearer' },
      });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="ser"');
      expect(res.headers['x-correlation-id']).toBeTruthy();
    }
    // Before the upload is read or stored: nothing reaches the bucket.
    const before = await backends.objectCount();
    const body = multipart([{ name: 'file', filename: 'a.flac', data: clipBytes }]);
    const upload = await gw.app.inject({ method: 'POST', url: '/v1/predictions', payload: body.payload, headers: body.headers });
    expect([upload.statusCode, upload.json().error.code]).toEqual([401, 'api_key_required']);
    const head = await gw.app.inject({ method: 'HEAD', url: '/v1/jobs' });
    expect(head.statusCode).toBe(401);
    expect(await backends.objectCount()).toBe(before);
  });

  it('refuses keys that are malformed, unknown, or right in prefix but wrong in secret: 401 invalid_api_key', async () => {
    const { key } = await newKey();
    const wrongSecret = `${key.slice(0, 17)}${'x'.repeat(43)}`;
    const unknown = `ser_000000000000_${'y'.repeat(43)}`;
    for (const bad of ['hello', `${key}x`, unknown, wrongSecret, key.toUpperCase()]) {
      for (const headers of [{ 'x-api-key': bad }, { authorization: `Bearer ${bad}` }] as Record<string, string>[]) {
        const res = await get('/v1/jobs', headers);
        expect(res.statusCode, bad).toBe(401);
        expect(res.json().error).toEqual({ code: 'invalid_api_key', message: 'the API key is not valid' });
      }
    }
  });

  it('answers a valid key, in either header, with the rate-limit headers; a real clip is classified', async () => {
    const { key, row } = await newKey(600);
    for (const headers of [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }] as Record<string, string>[]) {
      const res = await get('/v1/jobs', headers);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('600');
      expect(Number(res.headers['x-ratelimit-remaining'])).toBeLessThan(600);
      expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(WINDOW_MS / 1000);
    }
    const body = multipart([{ name: 'file', filename: 'angry.flac', data: clipBytes }]);
    const predicted = await gw.app.inject({
      method: 'POST',
      url: '/v1/predictions',
      payload: body.payload,
      headers: { ...body.headers, 'x-api-key': key },
    });
    expect(predicted.statusCode, predicted.body).toBe(200);
    const { recordingId } = predicted.json();
    const audio = await get(`/v1/recordings/${recordingId}/audio`, { 'x-api-key': key });
    expect([audio.statusCode, audio.rawPayload.length]).toEqual([200, clipBytes.length]);
    // lastUsedAt is written in the background.
    await expect
      .poll(async () => (await backends.db.apiKey.findUniqueOrThrow({ where: { id: row.id } })).lastUsedAt, { timeout: 5_000 })
      .not.toBeNull();
  });

  it('refuses a revoked key within the cache time: 401 api_key_revoked', async () => {
    const { key, row } = await newKey();
    expect((await get('/v1/jobs', { 'x-api-key': key })).statusCode).toBe(200);
    const revoked = await revokeApiKey(backends.db, row.id);
    expect(revoked?.changed).toBe(true);
    const t0 = Date.now();
    await expect.poll(async () => (await get('/v1/jobs', { 'x-api-key': key })).statusCode, { timeout: 5_000, interval: 50 }).toBe(401);
    expect(Date.now() - t0).toBeLessThan(CACHE_MS + 1_000);
    const res = await get('/v1/jobs', { 'x-api-key': key });
    expect(res.json().error).toEqual({ code: 'api_key_revoked', message: 'the API key has been revoked' });
    expect((await revokeApiKey(backends.db, row.prefix))?.changed).toBe(false);
  });

  it('cannot be passed by spelling a /v1 path differently', async () => {
    for (const url of ['/%761/jobs', '/v1/%6aobs', '/v1//jobs', '/v1/jobs/', '/V1/jobs', '/./v1/jobs']) {
      const res = await get(url);
      expect([401, 404], url).toContain(res.statusCode);
    }
  });

  it('keeps health, readiness, metrics, the page, the OpenAPI document and the docs open', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/', '/openapi.json', '/docs/static/swagger-ui-bundle.js']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['x-ratelimit-limit'], url).toBeUndefined();
    }
    const docs = await get('/docs');
    expect([200, 302]).toContain(docs.statusCode);
    expect((await get('/assets/missing.js')).statusCode).toBe(404);
  });

  it('names the key schemes in the OpenAPI document and puts every /v1 route (only those) under them', async () => {
    const doc = (await get('/openapi.json')).json();
    expect(doc.components.securitySchemes).toEqual({
      apiKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown; responses: object }>>)) {
      for (const [method, op] of Object.entries(methods)) {
        if (path.startsWith('/v1/')) {
          expect(op.security, `${method} ${path}`).toEqual([{ apiKeyHeader: [] }, { bearerAuth: [] }]);
          expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '429']));
        } else expect(op.security, `${method} ${path}`).toBeUndefined();
      }
    }
    expect(doc.paths['/v1/predictions'].post.requestBody.content['multipart/form-data']).toBeDefined();
  });

  it('limits each key per window, counted in Redis and shared by two gateways: 429 with Retry-After, then served again', async () => {
    const { key } = await newKey(3);
    const other = await buildTestApp(backends, KEYED);
    try {
      await freshWindow();
      const headers = { 'x-api-key': key };
      const a1 = await get('/v1/jobs', headers);
      const a2 = await get('/v1/jobs', headers);
      const b3 = await get('/v1/jobs', headers, other.app);
      expect([a1, a2, b3].map((r) => r.statusCode)).toEqual([200, 200, 200]);
      expect([a1, a2, b3].map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0']);

      const over = await get('/v1/jobs', headers, other.app);
      expect(over.statusCode).toBe(429);
      expect(over.json().error.code).toBe('rate_limited');
      expect(over.json().error.message).toMatch(/limit of 3 requests per 3 s/);
      const retryAfter = Number(over.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
      expect(over.headers['x-ratelimit-limit']).toBe('3');
      expect(over.headers['x-ratelimit-remaining']).toBe('0');
      expect(over.headers['x-ratelimit-reset']).toBe(String(retryAfter));
      expect((await get('/v1/jobs', headers)).statusCode).toBe(429);
      // Another key is not affected.
      const { key: second } = await newKey(3);
      expect((await get('/v1/jobs', { 'x-api-key': second })).statusCode).toBe(200);

      // After the window: served again, with a fresh count.
      await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 20));
      const again = await get('/v1/jobs', headers);
      expect(again.statusCode).toBe(200);
      expect(again.headers['x-ratelimit-remaining']).toBe('2');
    } finally {
      await other.close();
    }
  });

  it('lets requests through (without counting) when Redis cannot be asked', async () => {
    const { key } = await newKey(1);
    const deadRedis = producerConnection('redis://127.0.0.1:1');
    deadRedis.on('error', () => {});
    const down = await buildTestApp(backends, KEYED, { redis: deadRedis });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await get('/v1/jobs', { 'x-api-key': key }, down.app);
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    } finally {
      await down.close();
      deadRedis.disconnect();
    }
  });

  it('answers 401 over a real socket to an upload it does not read', async () => {
    const own = await buildTestApp(backends, KEYED);
    try {
      await own.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = own.app.server.address() as AddressInfo;
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(Buffer.concat(Array.from({ length: 20 }, () => clipBytes)))]), 'big.flac');
      const res = await fetch(`http://127.0.0.1:${port}/v1/predictions`, { method: 'POST', body: form });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('api_key_required');
    } finally {
      await own.close();
    }
  });
});

describe('with API keys off (the default)', () => {
  it('answers /v1 without a key, and without rate-limit headers', async () => {
    const open = await buildTestApp(backends);
    try {
      expect(open.config.apiKeysRequired).toBe(false);
      const res = await get('/v1/jobs', {}, open.app);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      const doc = (await get('/openapi.json', {}, open.app)).json();
      expect(doc.paths['/v1/jobs'].get.security).toBeUndefined();
    } finally {
      await open.close();
    }
  });
});

describe('ser keys (the real command)', () => {
  it('creates a key (printed once, alone on stdout), lists it, and revokes it; the gateway follows', async () => {
    const created = await ser('keys', 'create', '--name', 'cli test key', '--rate-limit', '7');
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^ser_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/Created API key "cli test key" \(id [0-9a-f-]{36}, prefix [0-9a-f]{12}, 7 requests per minute\)/);
    expect(created.stderr).toContain('only time the key is shown');
    const prefix = key.slice(4, 16);

    const ok = await get('/v1/jobs', { 'x-api-key': key });
    expect([ok.statusCode, ok.headers['x-ratelimit-limit']]).toEqual([200, '7']);

    const listed = await ser('keys', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as {
      id: string;
      prefix: string;
      name: string;
      rateLimitPerMinute: number;
      revokedAt: string | null;
    }[];
    const mine = rows.find((r) => r.prefix === prefix)!;
    expect(mine).toMatchObject({ name: 'cli test key', rateLimitPerMinute: 7, revokedAt: null });
    expect(listed.stdout).not.toContain(key.slice(17));
    const text = await ser('keys', 'list');
    expect(text.stdout.split('\n')[0]).toMatch(/^id\s+prefix\s+name\s+per minute\s+created\s+last used\s+revoked$/);
    expect(text.stdout).toContain(prefix);

    const revoked = await ser('keys', 'revoke', mine.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked API key ${prefix} ("cli test key"); gateways refuse it within seconds\n`);
    await expect
      .poll(async () => (await get('/v1/jobs', { 'x-api-key': key })).json().error?.code, { timeout: 5_000 })
      .toBe('api_key_revoked');
    const again = await ser('keys', 'revoke', prefix);
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/was already revoked at /)]);

    const missing = await ser('keys', 'revoke', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no API key');
    const wrong = await ser('keys', 'create', '--name', 'x', '--rate-limit', 'lots');
    expect(wrong.code).toBe(2);
  });
});
