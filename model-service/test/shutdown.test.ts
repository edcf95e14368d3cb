/** Graceful shutdown of the real process: SIGTERM during a request lets the request complete. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { writeTestRelease } from './support/bundle.js';
import { testConfig } from './support/config.js';

const require = createRequire(import.meta.url);

describe('SIGTERM', () => {
  it('finishes the request in flight, flushes feedback, refuses new connections and exits 0', async () => {
    const { root, config } = await testConfig();
    await writeTestRelease(config.registryDir, '1.0.0');
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(require.resolve('tsx')).href, 'model-service/src/main.ts'],
      {
        env: {
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
          MODEL_REGISTRY_DIR: config.registryDir,
          FEEDBACK_DIR: config.feedbackDir,
          FEEDBACK_WRITER_ID: 'shutdown-test',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ready = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /ready on (http:\/\/[\d.:]+)/.exec(out);
        if (match) resolve(match[1]);
      });
    });
    const url = new URL(ready);

    // A feedback request whose body is only half sent when SIGTERM arrives.
    const body = JSON.stringify({ text: 'The soup was lovely', label: 1 });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: '/feedback',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    expect(await response).toEqual({ status: 201, body: '{"status":"recorded"}' });
    expect(await exited).toBe(0);
    await expect(fetch(`${ready}/healthz`)).rejects.toThrow();
    const lines = (await readFile(path.join(config.feedbackDir, 'feedback-shutdown-test.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(JSON.parse(lines[0])).toMatchObject({ text: 'The soup was lovely', label: 1 });
    expect(root).toBeTruthy();
  });
});
