/**
 * End to end in a real browser: `npm start`'s orchestrator (scripts/start.ts) runs the real
 * model-service and app on a model release, and headless Chromium (Debian's `chromium`, driven by
 * playwright-core) submits a review, reads the sentiment, presses "Correct", opens People in both
 * experiment variants and clicks a card. Screenshots go to test-output/e2e/.
 *
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): skipped with a message when it is missing, failed under CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeTestRelease } from '../../model-service/test/support/bundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'test-output/e2e');
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

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').pop()) : 0;
}

describeBrowser('the review app in Chromium', () => {
  let start: ChildProcess;
  let treatment: ChildProcess;
  let appUrl: string;
  let treatmentUrl: string;
  let modelServiceUrl: string;
  let feedbackFile: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    const root = await mkdtemp(path.join(os.tmpdir(), 'rs-e2e-'));
    const registry = path.join(root, 'releases');
    feedbackFile = path.join(root, 'feedback', 'feedback.jsonl');
    await writeTestRelease(registry, '1.3.0');
    // The main job's orchestrator, on free ports, with the test release.
    const started = spawnAndWait(
      ['--import', TSX, 'scripts/start.ts'],
      {
        MODEL_REGISTRY_DIR: registry,
        APP_PORT: '0',
        MODEL_SERVICE_PORT: '0',
        FEEDBACK_DIR: path.dirname(feedbackFile),
      },
      /Restaurant Sentiment is running: (http:\/\/\S+)\n\s+model-service (http:\/\/\S+)/,
    );
    start = started.child;
    [, appUrl, modelServiceUrl] = await started.match;
    // The treatment variant of the app, against the same model-service.
    const second = spawnAndWait(
      [path.join(ROOT, 'app/dist/main.js')],
      { PORT: '0', EXPERIMENT_VARIANT: 'treatment', MODEL_SERVICE_URL: modelServiceUrl },
      /ready on (http:\/\/\S+)/,
    );
    treatment = second.child;
    treatmentUrl = (await second.match)[1];
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
    // Profile links point at example.org, which this machine cannot reach: answer them locally.
    await page.route('https://example.org/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Profile</h1>' }),
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stop(treatment);
    await stop(start);
  });

  it('submits a review, shows the sentiment and records "correct" feedback', async () => {
    await page.goto(appUrl);
    await expect(page.locator('[data-testid="model-version"]').textContent()).resolves.toBe('1.3.0');
    await expect(page.locator('[data-testid="app-version"]').textContent()).resolves.toMatch(
      /^\d+\.\d+\.\d+/,
    );
    await page
      .getByLabel('Your review')
      .fill('The pasta was delicious and the staff were lovely. <b>Will return!</b>');
    await page.screenshot({ path: path.join(OUT, '1-home.png'), fullPage: true });
    await page.getByRole('button', { name: 'Analyze review' }).click();
    await expect(page.locator('[data-testid="sentiment"]').textContent()).resolves.toBe('positive');
    await expect(page.locator('[data-testid="review"]').textContent()).resolves.toContain(
      '<b>Will return!</b>',
    );
    await page.screenshot({ path: path.join(OUT, '2-result.png'), fullPage: true });
    await page.getByRole('button', { name: 'Correct' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Thank you');
    await page.screenshot({ path: path.join(OUT, '3-thanks.png'), fullPage: true });
    expect(await metric(appUrl, /^feedback_total\{outcome="correct"/)).toBe(1);
    expect(await metric(modelServiceUrl, /^feedback_total\{agrees="true"\}/)).toBe(1);
    const [line] = (await readFile(feedbackFile, 'utf8')).trim().split('\n');
    expect(JSON.parse(line)).toMatchObject({
      text: 'The pasta was delicious and the staff were lovely. <b>Will return!</b>',
      label: 1,
      predictedLabel: 1,
      modelVersion: '1.3.0',
    });
  });

  it('shows People in both variants; the treatment shows a profile icon on hover; a click counts and redirects', async () => {
    await page.goto(`${appUrl}/people`);
    await expect(page.locator('body').getAttribute('data-variant')).resolves.toBe('control');
    expect(await page.locator('[data-testid="person-card"]').count()).toBe(4);
    expect(await page.locator('.profile-icon').count()).toBe(0);
    await page.screenshot({ path: path.join(OUT, '4-people-control.png'), fullPage: true });

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
    await page.screenshot({ path: path.join(OUT, '5-people-treatment-hover.png'), fullPage: true });

    await card.locator('a').click();
    await page.waitForURL('https://example.org/team/ml-engineer');
    expect(
      await metric(treatmentUrl, /^profile_clicks_total\{member="ml-engineer",variant="treatment"/),
    ).toBe(1);
  });
});
