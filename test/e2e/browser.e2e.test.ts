/**
 * End to end in a real browser: `npm start`'s orchestrator (scripts/start.ts) runs the real
 * model-service and app on a model release, and headless Chromium (Debian's `chromium`, driven by
 * playwright-core) submits reviews (positive, negative, unreadable), reads the verdict and the gauge,
 * gives feedback, opens People in both experiment variants and clicks a card, and sees the 404 page
 * and the page shown while model-service is down (a third app instance pointed at a closed port).
 * No page may log a console error (a CSP violation, a failed load). A PNG screenshot of every page goes
 * to test-output/screenshots/ (git-ignored).
 *
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): skipped with a message when it is missing, failed under CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeTestRelease } from '../../model-service/test/support/bundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'test-output/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve('tsx')).href;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI)
    throw new Error(`${CHROMIUM} is missing: .ci/run must install Debian's chromium package`);
  console.warn(
    `skipping the browser test: ${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
const describeBrowser = haveChromium ? describe : describe.skip;

/** Spawns a process and resolves the first match of `pattern` in what it prints. */
function spawnAndWait(
  args: string[],
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
): { child: ChildProcess; match: Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const match = new Promise<RegExpExecArray>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = pattern.exec(out);
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)));
  });
  return { child, match };
}

function stop(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (taken and released at once). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').pop()) : 0;
}

describeBrowser('the review app in Chromium', () => {
  let start: ChildProcess;
  let treatment: ChildProcess;
  let down: ChildProcess;
  let appUrl: string;
  let treatmentUrl: string;
  let downUrl: string;
  let modelServiceUrl: string;
  let feedbackDir: string;
  let browser: Browser;
  let page: Page;
  /** Console errors and page errors of the current test (CSP violations are console errors). */
  const problems: string[] = [];

  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  /** The feedback records model-service wrote (every .jsonl file of FEEDBACK_DIR), oldest first. */
  const feedbackLines = async () => {
    const files = (await readdir(feedbackDir)).filter((f) => f.endsWith('.jsonl'));
    const texts = await Promise.all(files.map((f) => readFile(path.join(feedbackDir, f), 'utf8')));
    return texts
      .flatMap((text) => text.split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .sort((a, b) => String(a.time).localeCompare(String(b.time)));
  };
  const submit = async (review: string) => {
    await page.goto(appUrl);
    await page.getByLabel('Your review').fill(review);
    await page.getByRole('button', { name: 'Analyze review' }).click();
    await page.waitForURL(`${appUrl}/predict`);
  };
  const gauge = () => page.getByRole('meter', { name: 'How positive the review reads' });

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    const root = await mkdtemp(path.join(os.tmpdir(), 'rs-e2e-'));
    const registry = path.join(root, 'releases');
    feedbackDir = path.join(root, 'feedback');
    await writeTestRelease(registry, '1.3.0');
    // The main job's orchestrator, on free ports, with the test release.
    const started = spawnAndWait(
      ['--import', TSX, 'scripts/start.ts'],
      {
        MODEL_REGISTRY_DIR: registry,
        APP_PORT: '0',
        MODEL_SERVICE_PORT: '0',
        FEEDBACK_DIR: feedbackDir,
      },
      /Restaurant Sentiment is running: (http:\/\/\S+)\n\s+model-service (http:\/\/\S+)/,
    );
    start = started.child;
    [, appUrl, modelServiceUrl] = await started.match;
    // The treatment variant of the app, against the same model-service; and an app whose model-service
    // is down (nothing listens on its port).
    const second = spawnAndWait(
      [path.join(ROOT, 'app/dist/main.js')],
      { PORT: '0', EXPERIMENT_VARIANT: 'treatment', MODEL_SERVICE_URL: modelServiceUrl },
      /ready on (http:\/\/\S+)/,
    );
    const third = spawnAndWait(
      [path.join(ROOT, 'app/dist/main.js')],
      { PORT: '0', MODEL_SERVICE_URL: `http://127.0.0.1:${await closedPort()}`, LOG_LEVEL: 'fatal' },
      /ready on (http:\/\/\S+)/,
    );
    treatment = second.child;
    down = third.child;
    treatmentUrl = (await second.match)[1];
    downUrl = (await third.match)[1];
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // Profile links point at example.org, which this machine cannot reach: answer them locally.
    await page.route('https://example.org/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Profile</h1>' }),
    );
  }, 120_000);

  afterEach(() => {
    // The expected statuses (404, 503) are logged by Chromium as failed loads; nothing else may be.
    const unexpected = problems.splice(0).filter((p) => !/status of (404|503)/.test(p));
    expect(unexpected).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await stop(down);
    await stop(treatment);
    await stop(start);
  });

  it('home: brand, favicon, versions, a skip link first in the tab order', async () => {
    const response = await page.goto(appUrl);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Review · Restaurant Sentiment');
    await expect(page.locator('[data-testid="model-version"]').textContent()).resolves.toBe('1.3.0');
    await expect(page.locator('[data-testid="app-version"]').textContent()).resolves.toMatch(
      /^\d+\.\d+\.\d+/,
    );
    await expect(page.locator('link[rel="icon"]').getAttribute('href')).resolves.toBe('/static/favicon.svg');
    const favicon = await page.request.get(`${appUrl}/favicon.ico`);
    expect([favicon.status(), favicon.headers()['content-type']]).toEqual([200, 'image/svg+xml']);
    await expect(page.locator('svg.logo').isVisible()).resolves.toBe(true);
    await page.keyboard.press('Tab');
    await expect(
      page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document
            .activeElement.textContent,
      ),
    ).resolves.toBe('Skip to content');
    await shot('home-skip-link');
    await page
      .getByLabel('Your review')
      .fill('The pasta was delicious and the staff were lovely. <b>Will return!</b>');
    await shot('home');
  });

  it('a positive review: verdict, gauge and "Correct" feedback, then the thank-you page', async () => {
    const review = 'The pasta was delicious and the staff were lovely. <b>Will return!</b>';
    await submit(review);
    await expect(page.locator('[data-testid="sentiment"]').textContent()).resolves.toBe('positive');
    await expect(page.locator('[data-testid="review"]').textContent()).resolves.toBe(review);
    await expect(gauge().getAttribute('aria-valuetext')).resolves.toMatch(
      /^(over 99%|just over 50%|\d{2}%) chance positive$/,
    );
    expect(Number(await gauge().getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(50);
    await shot('result-positive');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('result-positive-phone');
    await page.setViewportSize({ width: 1000, height: 800 });
    await page.getByRole('button', { name: 'Correct' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Thank you');
    await expect(
      page.getByRole('heading', { name: 'What happens to your feedback' }).isVisible(),
    ).resolves.toBe(true);
    await shot('thanks');
    expect(await metric(appUrl, /^feedback_total\{outcome="correct"/)).toBe(1);
    expect(await metric(modelServiceUrl, /^feedback_total\{agrees="true"\}/)).toBe(1);
    const [line] = await feedbackLines();
    expect(line).toMatchObject({ text: review, label: 1, predictedLabel: 1, modelVersion: '1.3.0' });
    // Reloading the thank-you page (GET /feedback) lands on the form, not on an error.
    await page.goto(`${appUrl}/feedback`);
    expect(page.url()).toBe(`${appUrl}/`);
  });

  it('a negative review: verdict and gauge; reloading the result goes back to the form', async () => {
    await submit('The soup was cold, the waiter was rude and we waited an hour. Never again.');
    await expect(page.locator('[data-testid="sentiment"]').textContent()).resolves.toBe('negative');
    await expect(gauge().getAttribute('aria-valuetext')).resolves.toMatch(
      /^(over 99%|just over 50%|\d{2}%) chance negative$/,
    );
    expect(Number(await gauge().getAttribute('aria-valuenow'))).toBeLessThan(50);
    await shot('result-negative');
    const reloaded = await page.goto(`${appUrl}/predict`);
    expect([reloaded?.status(), page.url()]).toEqual([200, `${appUrl}/`]);
  });

  it('an emoji-only review: "can\'t tell", and the label the user gives is recorded', async () => {
    const review = '🍕🍕🍕 😋';
    await submit(review);
    await expect(page.locator('[data-testid="verdict"]').textContent()).resolves.toBe('Can’t tell');
    expect(await gauge().count()).toBe(0);
    await shot('result-cant-tell');
    expect(await metric(appUrl, /^predictions_total\{sentiment="unknown"/)).toBe(1);
    await page.getByRole('button', { name: 'Positive' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Thank you');
    await shot('thanks-labelled');
    expect(await metric(appUrl, /^feedback_total\{outcome="labelled"/)).toBe(1);
    const lines = await feedbackLines();
    expect(lines.at(-1)).toMatchObject({ text: review, label: 1, modelVersion: '1.3.0' });
    expect(lines.at(-1)).not.toHaveProperty('predictedLabel');
  });

  it('shows People in both variants; the treatment shows a profile icon on hover; a click counts and redirects', async () => {
    await page.goto(`${appUrl}/people`);
    await expect(page.locator('body').getAttribute('data-variant')).resolves.toBe('control');
    expect(await page.locator('[data-testid="person-card"]').count()).toBe(4);
    expect(await page.locator('.profile-icon').count()).toBe(0);
    await expect(page.getByRole('heading', { level: 2 }).allTextContents()).resolves.toEqual([
      'Amira Haddad',
      'Tomás Ferreira',
      'Priya Nair',
      'Jonas Berg',
    ]);
    await shot('people-control');

    await page.goto(`${treatmentUrl}/people`);
    await expect(page.locator('body').getAttribute('data-variant')).resolves.toBe('treatment');
    const card = page.locator('[data-testid="person-card"]').first();
    const icon = card.locator('.profile-icon');
    // Runs in the page: the browser's getComputedStyle (the Node typings have no DOM).
    const opacityOf = (el: unknown) =>
      (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el)
        .opacity;
    expect(await icon.evaluate(opacityOf)).toBe('0');
    await card.hover();
    await page.waitForFunction(
      (el) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el)
          .opacity === '1',
      await icon.elementHandle(),
    );
    await shot('people-treatment');

    await card.locator('a').click();
    await page.waitForURL('https://example.org/team/ml-engineer');
    expect(
      await metric(treatmentUrl, /^profile_clicks_total\{member="ml-engineer",variant="treatment"/),
    ).toBe(1);
  });

  it('an unknown address: the 404 page', async () => {
    const response = await page.goto(`${appUrl}/no/such/page`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Page not found');
    await shot('not-found');
  });

  it('model-service down: the 503 page', async () => {
    await page.goto(downUrl);
    await page.getByLabel('Your review').fill('Lovely food.');
    const [response] = await Promise.all([
      page.waitForResponse(`${downUrl}/predict`),
      page.getByRole('button', { name: 'Analyze review' }).click(),
    ]);
    expect(response.status()).toBe(503);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'The sentiment service is not available',
    );
    await expect(page.locator('[data-testid="model-version"]').textContent()).resolves.toBe('unavailable');
    await shot('error');
  });
});
