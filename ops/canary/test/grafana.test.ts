/**
 * Grafana annotations against a local server: the exact request (path, bearer token, JSON body), and
 * failures (500, connection refused, a hang past the timeout) that are logged without the token and
 * never thrown.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { GrafanaAnnotations } from '../src/grafana/annotations.js';

const TOKEN = 'glsa_secret_token_123';

interface Received {
  method?: string;
  url?: string;
  authorization?: string;
  contentType?: string;
  body: unknown;
}

describe('GrafanaAnnotations', () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1,"message":"Annotation added"}');
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body: JSON.parse(text),
        });
        answer(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function logged() {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { lines, log };
  }

  test('posts {time, tags, text, dashboardUID} with the bearer token', async () => {
    received.length = 0;
    const { log } = logged();
    const grafana = new GrafanaAnnotations({ url: `${base}/`, token: TOKEN, dashboardUid: 'rs-canary', log });
    await grafana.annotate(1714554000123.4, ['canary', 'FAIL'], 'canary v2 at 25%: error rate worse');
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/api/annotations',
        authorization: `Bearer ${TOKEN}`,
        contentType: 'application/json',
        body: {
          time: 1714554000123,
          tags: ['canary', 'FAIL'],
          text: 'canary v2 at 25%: error rate worse',
          dashboardUID: 'rs-canary',
        },
      },
    ]);
  });

  test('a refusal is logged with the status, never the token, and not thrown', async () => {
    answer = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"invalid API key"}');
    };
    const { lines, log } = logged();
    const grafana = new GrafanaAnnotations({ url: base, token: TOKEN, log });
    await expect(grafana.annotate(0, ['canary', 'PASS'], 'x')).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      status: 401,
      detail: '{"message":"invalid API key"}',
      endpoint: `${base}/api/annotations`,
      msg: 'grafana annotation refused',
    });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });

  test('Grafana down or hanging: logged and swallowed within the timeout', async () => {
    const { lines, log } = logged();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await new GrafanaAnnotations({ url: `http://127.0.0.1:${port}`, token: TOKEN, log }).annotate(
      0,
      ['canary'],
      'x',
    );

    answer = () => {}; // never answers
    const started = Date.now();
    await new GrafanaAnnotations({ url: base, token: TOKEN, log, timeoutMs: 200 }).annotate(
      0,
      ['canary'],
      'x',
    );
    expect(Date.now() - started).toBeLessThan(2000);

    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'grafana annotation failed'],
      [40, 'grafana annotation failed'],
    ]);
    expect(lines[0].error).toBe('fetch failed');
    expect(lines[1].error).toBe('The operation was aborted due to timeout');
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });
});
