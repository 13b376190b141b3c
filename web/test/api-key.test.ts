/**
 * The web page on a platform that requires API keys (API_KEYS_REQUIRED=true): the
 * real platform (four services as processes), the page built by Vite, a key made
 * with the real `ser keys create`, driven in Debian's Chromium. Without a key the
 * page asks for one; with a wrong key it says so; with the right one a real clip is
 * classified, its waveform drawn and its audio played (fetched with the key).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Platform, REPO_ROOT, startPlatform } from '@ser/launcher';
import { type Browser, chromium, type Request } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = join(WEB, 'test', 'artifacts');
const ACTOR_01 = resolve(REPO_ROOT, '..', 'shared', 'ravdess', 'Audio_Speech_Actors_01-24', 'Actor_01');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

let platform: Platform;
let browser: Browser;
let tempDir: string;
let key: string;
let clip: string;
const logs: string[] = [];

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'ser-web-keys-'));
  const publicDir = join(tempDir, 'public');
  await build({
    configFile: join(WEB, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: publicDir, emptyOutDir: true, sourcemap: false },
  });
  clip = join(ACTOR_01, (await readdir(ACTOR_01)).filter((n) => n.endsWith('.flac')).sort()[0]);
  const created = await promisify(execFile)('pnpm', ['--silent', 'ser', 'keys', 'create', '--name', 'web page test'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL },
  });
  key = created.stdout.trim();
  [platform, browser] = await Promise.all([
    startPlatform({
      databaseUrl: process.env.TEST_DATABASE_URL!,
      redisUrl: process.env.TEST_REDIS_URL!,
      dataDir: tempDir,
      ports: 'free',
      queuePrefix: `web-keys-${randomUUID()}`,
      serviceEnv: { gateway: { PUBLIC_DIR: publicDir, API_KEYS_REQUIRED: 'true' } },
      onLine: (service, line) => {
        logs.push(`${service}: ${line}`);
        if (logs.length > 2000) logs.splice(0, 1000);
      },
    }),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
  ]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe('the web page with API keys required', () => {
  it('asks for a key, refuses a wrong one, and with the right one classifies, draws and plays a clip', async () => {
    expect(key).toMatch(/^ser_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect((await fetch(`${platform.gatewayUrl}/v1/models`)).status).toBe(401);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const v1: Request[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) v1.push(r);
    });
    try {
      await page.goto(platform.gatewayUrl);
      // No key yet: the page's first /v1 requests are refused and the dialog asks for one.
      const dialog = page.locator('#api-key-dialog');
      await expect.poll(() => dialog.evaluate((d: HTMLDialogElement) => d.open), { timeout: 15_000 }).toBe(true);
      expect(await page.locator('#api-key-message').textContent()).toContain('This platform needs an API key');
      expect(await page.locator('#api-key-button').textContent()).toBe('API key');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'api-key-dialog.png') });
      // The rest of the page is open: readiness needs no key.
      await expect.poll(() => page.locator('#readiness').getAttribute('data-state'), { timeout: 15_000 }).toBe('ready');

      // An empty key is not saved; a wrong one is sent, refused, and the dialog says so.
      await page.locator('#api-key-save').click();
      expect(await page.locator('#api-key-problem').textContent()).toBe('Enter the key first.');
      await page.locator('#api-key-input').fill(`ser_000000000000_${'x'.repeat(43)}`);
      await page.locator('#api-key-save').click();
      await expect
        .poll(() => page.locator('#api-key-message').textContent(), { timeout: 10_000 })
        .toBe('The API key was not accepted: it is not a valid key. Check it and enter it again.');
      expect(await dialog.evaluate((d: HTMLDialogElement) => d.open)).toBe(true);

      // The right key: the dialog closes, the model card loads, the key is kept.
      await page.locator('#api-key-input').fill(key);
      await page.locator('#api-key-save').click();
      await expect.poll(() => dialog.evaluate((d: HTMLDialogElement) => d.open)).toBe(false);
      await page.locator('#model-headline').waitFor({ timeout: 15_000 });
      expect(await page.locator('#api-key-button').textContent()).toBe('API key ✓');
      expect(await page.evaluate(() => localStorage.getItem('ser.apiKey'))).toBe(key);

      // One clip: classified, its audio fetched back with the key, drawn and played.
      const answer = page.waitForResponse((r) => r.url().endsWith('/v1/predictions') && r.request().method() === 'POST', {
        timeout: 90_000,
      });
      await page.locator('#file-input').setInputFiles(clip);
      const res = await answer;
      expect(res.status()).toBe(200);
      expect(res.request().headers()['x-api-key']).toBe(key);
      expect(res.headers()['x-ratelimit-limit']).toBe('600');
      const prediction = await res.json();
      await page.locator('[data-view="single"]').waitFor();
      expect((await page.locator('#verdict .emotion-badge').textContent())?.toLowerCase()).toBe(prediction.emotion);
      await page.locator('#waveform canvas').first().waitFor({ timeout: 15_000 });
      const audioRequest = v1.find((r) => r.url().endsWith(`/v1/recordings/${prediction.recordingId}/audio`));
      expect(audioRequest?.headers()['x-api-key']).toBe(key);
      expect((await audioRequest?.response())?.status()).toBe(200);
      const play = page.locator('.play-button');
      await expect.poll(() => play.isEnabled(), { timeout: 10_000 }).toBe(true);
      await play.click();
      await expect
        .poll(() => page.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 5_000 })
        .toBeGreaterThan(0);
      await play.click();
      await page.screenshot({ path: join(ARTIFACTS, 'api-key-single.png') });

      // Every /v1 request after the key was saved carried it; after a reload the page still has it.
      const afterKey = v1.slice(v1.findIndex((r) => r.headers()['x-api-key'] === key));
      expect(afterKey.every((r) => r.headers()['x-api-key'] === key)).toBe(true);
      await page.reload();
      await page.locator('#model-headline').waitFor({ timeout: 15_000 });
      expect(await dialog.evaluate((d: HTMLDialogElement) => d.open)).toBe(false);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
