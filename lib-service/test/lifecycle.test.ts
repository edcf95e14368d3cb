/** listen, gracefulStop and exitOnSignals, on real sockets and a real child process. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import { gracefulStop, listen } from '../src/index.js';
import { memoryLogger } from './support/log.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

describe('listen', () => {
  it('binds a free port and sets the timeouts', async () => {
    const { server, url, port } = await listen(express(), {
      port: 0,
      host: '127.0.0.1',
      keepAliveTimeoutMs: 4_000,
      requestTimeoutMs: 20_000,
    });
    try {
      expect(url).toBe(`http://127.0.0.1:${port}`);
      expect([server.keepAliveTimeout, server.headersTimeout, server.requestTimeout]).toEqual([
        4_000, 15_000, 20_000,
      ]);
    } finally {
      server.close();
    }
  });

  it('says which address is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(listen(express(), { port, host: '127.0.0.1' })).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('gracefulStop', () => {
  it('lets an in-flight request finish, then cleans up; a second call returns the same promise', async () => {
    const events: string[] = [];
    const app = express();
    app.get('/slow', (_req, res) => {
      setTimeout(() => {
        res.json({ done: true });
        events.push('responded');
      }, 200);
    });
    const { server, url } = await listen(app, { port: 0, host: '127.0.0.1' });
    const { log, lines } = memoryLogger();
    const stop = gracefulStop(server, { timeoutMs: 5_000, log, cleanUp: () => void events.push('cleanUp') });
    const response = fetch(`${url}/slow`).then((r) => r.json());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = stop();
    expect(stop()).toBe(first);
    await first;
    expect(events).toEqual(['responded', 'cleanUp']);
    expect(await response).toEqual({ done: true });
    expect(lines.map((l) => l.msg)).toEqual([
      'stopping: no new connections; finishing in-flight requests',
      'stopped',
    ]);
    await expect(fetch(`${url}/slow`)).rejects.toThrow('fetch failed');
  });

  it('cuts requests still running after the timeout', async () => {
    const app = express();
    app.get('/hang', () => {});
    const { server, url } = await listen(app, { port: 0, host: '127.0.0.1' });
    const { log, lines } = memoryLogger();
    const hanging = fetch(`${url}/hang`).catch((e: Error) => e.message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await gracefulStop(server, { timeoutMs: 300, log })();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await hanging).toBe('fetch failed');
    expect(lines.map((l) => l.msg)).toContain('in-flight requests did not finish in time; closing them');
  });
});

describe('exitOnSignals', () => {
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    it(`on ${signal} finishes the in-flight request, cleans up and exits 0`, async () => {
      // node itself with tsx's loader (as the services run: one process, no wrapper relaying signals)
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(HERE, 'fixtures/signal-service.ts')],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /ready on (\S+)/.exec(stdout);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const response = fetch(`${url}/slow`).then((r) => r.json());
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.kill(signal);
      expect(await response).toEqual({ slow: true });
      expect(await exited).toBe(0);
      expect(stdout).toContain('cleaned up\n');
    }, 30_000);
  }
});
