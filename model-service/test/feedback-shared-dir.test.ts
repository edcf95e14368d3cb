/**
 * Two real model-service processes (stable and canary on one volume) write feedback into one FEEDBACK_DIR
 * with a tiny FEEDBACK_MAX_BYTES, so both rotate every few records, under concurrent load: every record
 * answered 201 must be found, exactly once, in the folder's `feedback*.jsonl` files, and nothing may be
 * answered 5xx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { writeTestRelease } from './support/bundle.js';
import { testConfig } from './support/config.js';

const require = createRequire(import.meta.url);
/** Rotate past this many bytes: records are ~100 bytes, so a file holds about 15. */
const MAX_BYTES = 1500;
/** How long the load runs (ms), and the concurrent requests per process. */
const LOAD_MS = 4000;
const CONCURRENCY = 8;

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts model-service (tsx) on 127.0.0.1 and an ephemeral port; resolves with its URL once ready. */
async function startModelService(
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(require.resolve('tsx')).href, 'model-service/src/main.ts'],
    {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /ready on (http:\/\/[\d.:]+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`model-service exited ${code} before it was ready`)));
  });
  return { url, exited };
}

describe('two model-service processes sharing one FEEDBACK_DIR', () => {
  it('lose no acknowledged feedback while both rotate many times, and answer no 5xx', async () => {
    const { config } = await testConfig();
    await writeTestRelease(config.registryDir, '1.0.0');
    const env = {
      MODEL_REGISTRY_DIR: config.registryDir,
      FEEDBACK_DIR: config.feedbackDir,
      FEEDBACK_MAX_BYTES: String(MAX_BYTES),
    };
    const services = await Promise.all([
      startModelService({ ...env, FEEDBACK_WRITER_ID: 'model-service-stable-0' }),
      startModelService({ ...env, FEEDBACK_WRITER_ID: 'model-service-canary-0' }),
    ]);

    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    const deadline = Date.now() + LOAD_MS;
    const worker = async (service: number, connection: number) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const text = `shared dir ${service}-${connection}-${i} ${'tasty '.repeat(i % 7)}`;
        const res = await fetch(`${services[service].url}/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text, label: i % 2, predictedLabel: 1 }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) acknowledged.push(text);
      }
    };
    await Promise.all([0, 1].flatMap((s) => Array.from({ length: CONCURRENCY }, (_, c) => worker(s, c))));
    for (const child of children) child.kill('SIGTERM');
    expect(await Promise.all(services.map((s) => s.exited))).toEqual([0, 0]);

    expect([...statuses.keys()]).toEqual([201]);
    expect(acknowledged.length).toBeGreaterThan(400);
    const files = (await readdir(config.feedbackDir)).sort();
    const pattern = /^feedback-model-service-(stable|canary)-0(-\d{8}T\d{6}Z-\d+)?\.jsonl$/;
    expect(files.filter((f) => !pattern.test(f))).toEqual([]);
    expect(files.length).toBeGreaterThan(20); // many rotations of both writers
    const stored: string[] = [];
    for (const file of files) {
      const raw = await readFile(path.join(config.feedbackDir, file), 'utf8');
      expect(raw.length).toBeLessThanOrEqual(MAX_BYTES);
      expect(raw.endsWith('\n')).toBe(true);
      for (const line of raw.slice(0, -1).split('\n')) {
        const record = JSON.parse(line);
        expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        stored.push(record.text);
      }
    }
    const storedSet = new Set(stored);
    const lost = acknowledged.filter((t) => !storedSet.has(t));
    expect({
      acknowledged: acknowledged.length,
      lost: lost.length,
      duplicates: stored.length - storedSet.size,
    }).toEqual({
      acknowledged: acknowledged.length,
      lost: 0,
      duplicates: 0,
    });
    expect(stored.sort()).toEqual(acknowledged.sort());
  });
});
