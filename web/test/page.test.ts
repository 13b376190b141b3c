/**
 * The web page end to end: built from web/src by Vite, served by the real gateway of
 * the real platform (the four services as processes over PostgreSQL, Redis and a
 * local S3 server), driven in Debian's Chromium through playwright-core with real
 * RAVDESS clips. Screenshots go to web/test/artifacts/.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '@ser/e2e-tests/csv';
import { type Platform, REPO_ROOT, startPlatform } from '@ser/launcher';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = join(WEB, 'test', 'artifacts');
const ACTOR_01 = resolve(REPO_ROOT, '..', 'shared', 'ravdess', 'Audio_Speech_Actors_01-24', 'Actor_01');
const EMOTIONS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];
const CSV_HEADER = 'filename,emotion,confidence,neutral,calm,happy,sad,angry,fearful,disgust,surprised,error';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let platform: Platform;
let browser: Browser;
let tempDir: string;
let clips: string[];
let corruptWav: string;
const logs: string[] = [];
/** Every URL any page asked for, and the ones that went to a host other than the gateway (aborted). */
const requested: string[] = [];
const foreign: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'ser-web-'));
  const publicDir = join(tempDir, 'public');
  // The page as it is now, built where only this test's gateway serves it.
  await build({
    configFile: join(WEB, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: publicDir, emptyOutDir: true, sourcemap: false },
  });
  await mkdir(ARTIFACTS, { recursive: true });

  clips = (await readdir(ACTOR_01))
    .filter((n) => n.endsWith('.flac'))
    .sort()
    .map((n) => join(ACTOR_01, n));
  // A WAV header whose data chunk claims far more than the 1 KB of noise after it.
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + 10_000_000, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(22_050, 24);
  header.writeUInt32LE(44_100, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(10_000_000, 40);
  corruptWav = join(tempDir, 'corrupt.wav');
  await writeFile(corruptWav, Buffer.concat([header, randomBytes(1024)]));

  [platform, browser] = await Promise.all([
    startPlatform({
      databaseUrl: process.env.TEST_DATABASE_URL!,
      redisUrl: process.env.TEST_REDIS_URL!,
      dataDir: tempDir,
      ports: 'free',
      queuePrefix: `web-${randomUUID()}`,
      serviceEnv: { gateway: { PUBLIC_DIR: publicDir } },
      onLine: (service, line) => {
        logs.push(`${service}: ${line}`);
        if (logs.length > 2000) logs.splice(0, 1000);
      },
    }),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

/** A browser context that lets requests reach the gateway only; anything else is recorded and aborted. */
async function open(viewport: { width: number; height: number }, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce', acceptDownloads: true });
  const origin = new URL(platform.gatewayUrl).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('blob:') || url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${platform.gatewayUrl}${path}`);
  return { context, page };
}

/** Width and height of the first element matching the selector (shadow DOM included). */
async function size(page: Page, selector: string): Promise<{ width: number; height: number }> {
  const box = await page.locator(selector).first().boundingBox();
  return { width: box?.width ?? 0, height: box?.height ?? 0 };
}

async function noHorizontalScroll(page: Page): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, 'page wider than the viewport').toBeLessThanOrEqual(client);
}

describe('the web page', () => {
  it('classifies one real clip: waveform, player, emotion and the bar chart of all eight', async () => {
    const { context, page } = await open({ width: 1366, height: 900 });
    try {
      await expect.poll(() => page.locator('#readiness').getAttribute('data-state'), { timeout: 10_000 }).toBe('ready');
      const answer = page.waitForResponse((r) => r.url().endsWith('/v1/predictions') && r.request().method() === 'POST', {
        timeout: 90_000,
      });
      // The drop zone is a real button (reachable and operable from the keyboard) labelling the file input.
      expect(await page.locator('#dropzone').evaluate((el) => el.tagName)).toBe('BUTTON');
      await page.locator('#file-input').setInputFiles(clips[0]);
      const prediction = await (await answer).json();
      expect(prediction.filename).toBe('03-01-01-01-01-01-01.flac');

      const view = page.locator('[data-view="single"]');
      await view.waitFor();
      await expect.poll(() => view.locator('h2').textContent()).toBe(prediction.filename);
      const badge = page.locator('#verdict .emotion-badge');
      expect((await badge.textContent())?.toLowerCase()).toBe(prediction.emotion);
      expect(EMOTIONS).toContain(prediction.emotion);
      expect(await page.locator('#verdict .verdict-confidence').textContent()).toBe(`${(prediction.confidence * 100).toFixed(1)} %`);

      // The waveform: wavesurfer's canvas (in its shadow DOM), drawn from the audio the gateway serves back.
      await page.locator('#waveform canvas').first().waitFor({ timeout: 15_000 });
      const wave = await size(page, '#waveform canvas');
      expect(wave.width).toBeGreaterThan(100);
      expect(wave.height).toBeGreaterThan(20);
      expect(requested.some((u) => u.endsWith(`/v1/recordings/${prediction.recordingId}/audio`))).toBe(true);

      // The player: enabled once the audio is decoded; it plays.
      const play = page.locator('.play-button');
      await expect.poll(() => play.isEnabled(), { timeout: 10_000 }).toBe(true);
      await play.click();
      await expect.poll(() => play.textContent(), { timeout: 5_000 }).toBe('Pause');
      await expect
        .poll(() => page.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 5_000 })
        .toBeGreaterThan(0);
      await play.click();
      await expect.poll(() => play.textContent()).toBe('Play');
      await page.locator('audio').evaluate((a: HTMLAudioElement) => {
        a.currentTime = 0;
      });

      // The bar chart of the eight confidences.
      const bars = await size(page, '.chart-bars canvas');
      expect(bars.width).toBeGreaterThan(200);
      expect(bars.height).toBeGreaterThan(150);
      const label = await page.locator('.chart-bars canvas').getAttribute('aria-label');
      for (const e of EMOTIONS) expect(label).toContain(e);

      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(ARTIFACTS, 'single.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('runs five clips and a corrupt file as a batch job: progress, sortable table, pie, histogram, CSV, reopenable', async () => {
    const { context, page } = await open({ width: 1366, height: 900 });
    try {
      const files = [clips[0], clips[4], clips[8], clips[12], clips[16], corruptWav];
      const names = files.map((f) => f.split('/').pop()!);
      const created = page.waitForResponse((r) => r.url().endsWith('/v1/jobs') && r.request().method() === 'POST');
      await page.setInputFiles('#file-input', files);
      const accepted = await (await created).json();
      expect(accepted).toMatchObject({ status: 'queued', total: 6 });

      const view = page.locator(`[data-view="batch"][data-job-id="${accepted.id}"]`);
      await view.waitFor();
      expect(await page.locator('#job-progress').getAttribute('aria-labelledby')).toBe('progress-text');
      await expect.poll(() => view.getAttribute('data-status'), { timeout: 60_000 }).toBe('completed');
      expect(await page.locator('#progress-text').textContent()).toMatch(/^6 of 6 done · 1 failed/);
      expect(await page.locator('#job-progress').evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([6, 6]);

      // The table: six rows in upload order, the corrupt one with its reason.
      const rows = page.locator('#results-table tbody tr');
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(6);
      expect(await page.locator('#results-table tbody th').allTextContents()).toEqual(names);
      const failed = page.locator('#results-table tbody tr[data-failed]');
      expect(await failed.count()).toBe(1);
      expect(await failed.locator('th').textContent()).toBe('corrupt.wav');
      expect((await failed.locator('.reason').textContent())?.replace('Reason: ', '').length).toBeGreaterThan(5);
      for (const row of await page.locator('#results-table tbody tr:not([data-failed])').all()) {
        expect(EMOTIONS).toContain(await row.getAttribute('data-emotion'));
        expect(await row.locator('td.prob').count()).toBe(8);
      }

      // Sorting: a click on Confidence (largest first, the failed file last), then File from the keyboard.
      await page.locator('button[data-sort="confidence"]').click();
      expect(await page.locator('th:has(button[data-sort="confidence"])').getAttribute('aria-sort')).toBe('descending');
      const confidences = (await page.locator('#results-table tbody .confidence-cell').allTextContents()).map((t) => Number.parseFloat(t));
      expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
      expect(await page.locator('#results-table tbody tr').last().getAttribute('data-failed')).toBe('true');
      await page.locator('button[data-sort="filename"]').focus();
      await page.keyboard.press('Enter');
      expect(await page.locator('th:has(button[data-sort="filename"])').getAttribute('aria-sort')).toBe('ascending');
      expect(await page.locator('#results-table tbody th').allTextContents()).toEqual([...names].sort());
      await page.keyboard.press('Space');
      expect(await page.locator('th:has(button[data-sort="filename"])').getAttribute('aria-sort')).toBe('descending');
      await page.locator('button[data-sort="position"]').click();

      // The charts.
      for (const id of ['#emotion-pie', '#confidence-histogram']) {
        const box = await size(page, id);
        expect(box.width, id).toBeGreaterThan(150);
        expect(box.height, id).toBeGreaterThan(150);
      }

      // The CSV through the page's button.
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-csv').click()]);
      const csv = await readFile((await download.path())!, 'utf8');
      expect(csv.split(/\r?\n/)[0]).toBe(CSV_HEADER);
      const [, ...data] = parseCsv(csv.trimEnd());
      expect(data.length).toBe(6);
      expect(data.map((r) => r[0])).toEqual(names);
      const corrupt = data.find((r) => r[0] === 'corrupt.wav')!;
      expect(corrupt[1]).toBe('');
      expect(corrupt[11]).not.toBe('');
      for (const r of data.filter((r) => r[0] !== 'corrupt.wav')) {
        expect(EMOTIONS).toContain(r[1]);
        expect(r[11]).toBe('');
      }

      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(ARTIFACTS, 'batch.png'), fullPage: true });

      // Past jobs: after a reload the job is listed and opens again.
      await page.goto(platform.gatewayUrl);
      const listed = page.locator(`#job-list button[data-job-id="${accepted.id}"]`);
      await page.locator('#job-list li').first().waitFor({ timeout: 10_000 });
      // Other suites share the database: the job may already be on an older page of the list.
      for (let i = 0; i < 10 && (await listed.count()) === 0; i++) {
        const count = await page.locator('#job-list li').count();
        await page.locator('.jobs-card .more').click();
        await expect.poll(() => page.locator('#job-list li').count()).toBeGreaterThan(count);
      }
      await listed.click();
      await page.locator(`[data-view="batch"][data-job-id="${accepted.id}"] #results-table`).waitFor({ timeout: 10_000 });
      expect(await page.locator('#results-table tbody tr').count()).toBe(6);
      expect(await listed.getAttribute('aria-current')).toBe('true');
      expect(new URL(page.url()).hash).toBe(`#job/${accepted.id}`);
    } finally {
      await context.close();
    }
  });

  it('fits a phone-width screen without horizontal scrolling', async () => {
    // A job of its own, made through the API, opened from its address.
    const body = new FormData();
    for (const f of [clips[1], clips[2]]) body.append('file', new Blob([new Uint8Array(await readFile(f))]), f.split('/').pop());
    const res = await fetch(`${platform.gatewayUrl}/v1/jobs`, { method: 'POST', body });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const { context, page } = await open({ width: 375, height: 812 });
    try {
      await page.locator('#model-headline').waitFor();
      await noHorizontalScroll(page);

      await page.setInputFiles('#file-input', clips[3]);
      await page.locator('#waveform canvas').first().waitFor({ timeout: 15_000 });
      await noHorizontalScroll(page);
      await page.screenshot({ path: join(ARTIFACTS, 'phone-single.png'), fullPage: true });

      await page.goto(`${platform.gatewayUrl}/#job/${id}`);
      await page.locator('#results-table').waitFor({ timeout: 30_000 });
      expect(await page.locator('#results-table tbody tr').count()).toBe(2);
      await noHorizontalScroll(page);
      // The wide table scrolls inside its own region instead.
      const region = page.locator('.table-wrap');
      expect(await region.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'phone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('explains rejected files: checked in the page, and the gateway’s own answer', async () => {
    const { context, page } = await open({ width: 1024, height: 800 });
    try {
      const before = requested.length;
      const messages = page.locator('#upload-messages');
      // Dropped on the drop zone, and refused before upload: not audio.
      const dropped = await page.evaluateHandle(() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(['minutes of the meeting'], 'minutes.pdf', { type: 'application/pdf' }));
        return transfer;
      });
      await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: dropped });
      await expect.poll(() => messages.textContent()).toContain('minutes.pdf: not a supported audio file (.pdf)');
      // Chosen, and refused before upload: not an audio extension, and empty.
      await page.setInputFiles('#file-input', [
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
        { name: 'empty.wav', mimeType: 'audio/wav', buffer: Buffer.alloc(0) },
      ]);
      await expect.poll(() => messages.textContent()).toContain('notes.txt: not a supported audio file');
      expect(await messages.textContent()).toContain('empty.wav: the file is empty');
      expect(requested.slice(before).some((u) => u.endsWith('/v1/predictions') || u.endsWith('/v1/jobs'))).toBe(false);

      // Sent, and refused by the gateway: text dressed up as a WAV.
      const answer = page.waitForResponse((r) => r.url().endsWith('/v1/predictions'));
      await page.setInputFiles('#file-input', {
        name: 'fake.wav',
        mimeType: 'audio/wav',
        buffer: Buffer.from('this is not audio at all, only text'.repeat(40)),
      });
      const res = await answer;
      expect([400, 415, 422]).toContain(res.status());
      const { error } = await res.json();
      await expect.poll(() => messages.textContent()).toContain('fake.wav could not be analysed');
      expect(await messages.textContent()).toContain(error.message);
      expect(await page.locator('#upload-messages [role="alert"]').count()).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });

  it('loads everything from the gateway alone, and shows readiness and the model’s accuracy with its protocol', async () => {
    const { context, page } = await open({ width: 1280, height: 800 });
    try {
      await page.waitForLoadState('networkidle');
      await expect.poll(() => page.locator('#readiness').getAttribute('data-state'), { timeout: 10_000 }).toBe('ready');
      await page.locator('#readiness summary').click();
      const checks = await page.locator('#ready-checks li').allTextContents();
      for (const name of ['database', 'redis', 'storage', 'inference', 'extractor']) expect(checks.join(' ')).toContain(name);

      const headline = await page.locator('#model-headline').textContent();
      expect(headline).toMatch(/\d+\.\d %/);
      expect(headline).toContain('speech UA');
      expect(headline).toContain('holdout-21-24');
      expect(headline).toContain('never seen in training');

      const origin = new URL(platform.gatewayUrl).origin;
      expect(requested.length).toBeGreaterThan(5);
      expect(foreign).toEqual([]);
      for (const url of requested) if (!url.startsWith('blob:') && !url.startsWith('data:')) expect(new URL(url).origin).toBe(origin);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
