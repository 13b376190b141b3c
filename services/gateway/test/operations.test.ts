/** Health, readiness, the model, the docs, the page, correlation ids and the error shape. */
import { mkdir, writeFile } from 'node:fs/promises';
import { createDb } from '@ser/db';
import { createLogger } from '@ser/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backends,
  buildTestApp,
  type InferenceHandle,
  SHIPPED_VERSION,
  startBackends,
  startInference,
  type TestApp,
} from './helpers.js';

let backends: Backends;
let gw: TestApp;

beforeAll(async () => {
  backends = await startBackends('operations', { classifiers: true });
  gw = await buildTestApp(backends);
});

afterAll(async () => {
  await gw?.close();
  await backends?.close();
});

describe('health and readiness', () => {
  it('/healthz answers 200 while the process is up', async () => {
    const res = await gw.app.inject({ url: '/healthz' });
    expect([res.statusCode, res.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('/readyz is 200 when every backend answers, and 503 naming inference once it stops', async () => {
    const ready = await gw.app.inject({ url: '/readyz' });
    expect(ready.statusCode, ready.body).toBe(200);
    expect(ready.json().status).toBe('ready');
    expect(Object.keys(ready.json().checks).sort()).toEqual(['database', 'extractor', 'inference', 'redis', 'storage']);

    // An inference server of this test's own, so the shared one keeps serving the other tests.
    const own: InferenceHandle = await startInference();
    const app = await buildTestApp(backends, { INFERENCE_ADDRESS: own.address, READY_TIMEOUT_MS: '1000' });
    try {
      expect((await app.app.inject({ url: '/readyz' })).statusCode).toBe(200);
      await own.shutdown();
      const res = await app.app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const body = res.json();
      expect(body.status).toBe('not_ready');
      expect(body.checks.inference.ok).toBe(false);
      expect(body.checks.database.ok).toBe(true);
      expect(body.error).toEqual({ code: 'not_ready', message: 'not ready: inference' });
      expect(res.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    } finally {
      await app.close();
      await own.shutdown();
    }
  });
});

describe('a database that is down', () => {
  it('answers 503 database_unavailable, and /readyz names the database', async () => {
    const deadDb = createDb('postgresql://postgres@127.0.0.1:1/ser');
    const down = await buildTestApp(backends, {}, { db: deadDb });
    try {
      const res = await down.app.inject({ url: '/v1/jobs' });
      expect([res.statusCode, res.json().error]).toEqual([503, { code: 'database_unavailable', message: 'the database is unavailable' }]);
      const ready = await down.app.inject({ url: '/readyz' });
      expect([ready.statusCode, ready.json().error.message]).toEqual([503, 'not ready: database']);
    } finally {
      await down.close();
      await deadDb.$disconnect();
    }
  });
});

describe('GET /v1/models', () => {
  it('describes the served model, with its metrics parsed', async () => {
    const res = await gw.app.inject({ url: '/v1/models' });
    expect(res.statusCode, res.body).toBe(200);
    const [model] = res.json().items;
    expect(model).toMatchObject({
      name: 'ser-default',
      version: SHIPPED_VERSION,
      labels: ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'],
      inputShape: [-1, 2376],
      featureSpec: { sampleRate: 22050, vectorLength: 2376 },
      architecture: expect.any(String),
      parameterCount: expect.any(Number),
    });
    expect(model.metrics.trainerTestRows.accuracy).toEqual(expect.any(Number));
  });

  it('answers 503 when inference cannot be reached', async () => {
    const down = await buildTestApp(backends, { INFERENCE_ADDRESS: '127.0.0.1:1' });
    try {
      const res = await down.app.inject({ url: '/v1/models' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('classifier_unavailable');
    } finally {
      await down.close();
    }
  });
});

describe('OpenAPI and docs', () => {
  it('/openapi.json lists every route with its methods', async () => {
    const res = await gw.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods('/v1/predictions')).toEqual(['get', 'post']);
    expect(methods('/v1/predictions.csv')).toEqual(['get']);
    expect(methods('/v1/jobs')).toEqual(['get', 'post']);
    expect(methods('/v1/jobs/{id}')).toEqual(['get']);
    expect(methods('/v1/jobs/{id}/results')).toEqual(['get']);
    expect(methods('/v1/jobs/{id}/results.csv')).toEqual(['get']);
    expect(methods('/v1/recordings/{id}/audio')).toEqual(['get']);
    expect(methods('/v1/models')).toEqual(['get']);
    expect(methods('/healthz')).toEqual(['get']);
    expect(methods('/readyz')).toEqual(['get']);
    expect(methods('/metrics')).toEqual(['get']);
    const upload = doc.paths['/v1/predictions'].post.requestBody.content['multipart/form-data'].schema;
    expect(upload.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(doc.paths['/v1/jobs'].post.responses['202']).toBeDefined();
  });

  it('/docs serves Swagger UI from this server only', async () => {
    const page = await gw.app.inject({ url: '/docs/' });
    const html = page.statusCode === 302 ? await gw.app.inject({ url: page.headers.location as string }) : page;
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('swagger-ui');
    expect(html.body).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    for (const asset of ['/docs/static/swagger-initializer.js', '/docs/static/swagger-ui-bundle.js']) {
      const res = await gw.app.inject({ url: asset });
      expect(res.statusCode, asset).toBe(200);
      expect(res.body, asset).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    }
    const init = await gw.app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain('validatorUrl: null');
  });
});

describe('the page', () => {
  it('serves a placeholder linking the docs until the web page is built, then the page and its assets', async () => {
    const placeholder = await gw.app.inject({ url: '/' });
    expect(placeholder.statusCode).toBe(200);
    expect(placeholder.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(placeholder.body).toContain('href="/docs"');

    await mkdir(`${gw.config.publicDir}/assets`, { recursive: true });
    await writeFile(
      `${gw.config.publicDir}/index.html`,
      '<!doctype html><title>SER</title><script src="/assets/app-1234abcd.js"></script>',
    );
    await writeFile(`${gw.config.publicDir}/assets/app-1234abcd.js`, 'console.log(1)');
    expect((await gw.app.inject({ url: '/' })).body).toContain('<title>SER</title>');
    const js = await gw.app.inject({ url: '/assets/app-1234abcd.js' });
    expect([js.statusCode, js.headers['content-type'], js.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)']);
    for (const url of ['/assets/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/hostname', '/assets/missing.js', '/.env']) {
      const res = await gw.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
    }
  });
});

describe('errors and correlation ids', () => {
  it('answers unknown routes and ids with 404 in the one error shape', async () => {
    const route = await gw.app.inject({ method: 'DELETE', url: '/v1/nothing' });
    expect([route.statusCode, route.json()]).toEqual([404, { error: { code: 'not_found', message: 'no route DELETE /v1/nothing' } }]);
    const recording = await gw.app.inject({ url: '/v1/recordings/00000000-0000-4000-8000-000000000000/audio' });
    expect([recording.statusCode, recording.json().error.code]).toEqual([404, 'not_found']);
    const notUuid = await gw.app.inject({ url: '/v1/recordings/abc/audio' });
    expect(notUuid.statusCode).toBe(400);
  });

  it('makes a correlation id when none (or a malformed one) is sent', async () => {
    const made = await gw.app.inject({ url: '/healthz' });
    expect(made.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const replaced = await gw.app.inject({ url: '/healthz', headers: { 'x-correlation-id': 'bad id with spaces' } });
    expect(replaced.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await gw.app.inject({ url: '/v1/nothing', headers: { 'x-correlation-id': 'abc-123' } });
    expect(kept.headers['x-correlation-id']).toBe('abc-123');
  });

  it('puts the correlation id on every log line of the request', async () => {
    const lines: string[] = [];
    const logger = createLogger('gateway', {
      hooks: {
        streamWrite: (line) => {
          lines.push(line);
          return '';
        },
      },
    });
    const logged = await buildTestApp(backends, {}, { logger });
    try {
      await logged.app.inject({ url: '/v1/nothing', headers: { 'x-correlation-id': 'abc-124' } });
    } finally {
      await logged.close();
    }
    const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg !== 'Server listening');
    expect(requestLines.map((l) => l.msg)).toEqual(['incoming request', 'no route GET /v1/nothing', 'request completed']);
    for (const line of requestLines) expect(line.correlationId).toBe('abc-124');
  });
});
