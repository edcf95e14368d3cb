/** requestContext (request id, route label, RED metrics, access log), errors and 405s on a real Express app. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import {
  createHttpMetrics,
  createRegistry,
  HttpError,
  jsonErrorHandler,
  methodNotAllowed,
  notFound,
  requestContext,
  toHttpError,
} from '../src/index.js';
import { memoryLogger } from './support/log.js';

let staticDir: string;
beforeAll(async () => {
  staticDir = await mkdtemp(path.join(os.tmpdir(), 'lib-service-static-'));
  await writeFile(path.join(staticDir, 'styles.css'), 'body{}');
});

/** A small service: GET+POST /items, GET /items/:id, POST /echo (JSON), static files, /healthz. */
function service() {
  const registry = createRegistry({ processMetrics: false });
  const metrics = createHttpMetrics(registry);
  const { log, lines } = memoryLogger();
  const app = express();
  app.use(requestContext({ log, metrics, prefixes: ['/static'], quietRoutes: ['/healthz', '/static'] }));
  app.use('/static', express.static(staticDir));
  app.use(express.json({ limit: 100 }));
  app.get('/items', (_req, res) => {
    res.json([]);
  });
  app.post('/items', (_req, res) => {
    res.status(201).json({});
  });
  app.get('/items/:id', (req) => {
    if (req.params.id === 'boom') throw new Error('secret internals');
    throw new HttpError(404, 'no_such_item', `no item ${req.params.id}`);
  });
  app.post('/echo', (req, res) => {
    res.json({ echo: req.body, requestId: res.locals.requestId });
  });
  app.get(['/old', '/older'], (_req, res) => {
    res.redirect(303, '/items');
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(methodNotAllowed(app));
  app.use(notFound);
  app.use(jsonErrorHandler(log));
  const count = async (labels: Record<string, string>) => {
    const metric = await registry.getSingleMetric('http_requests_total')!.get();
    const found = metric.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
    return found?.value ?? 0;
  };
  return { app, lines, count };
}

describe('requestContext', () => {
  it('keeps a valid incoming x-request-id and exposes it on res.locals', async () => {
    const { app, lines } = service();
    const res = await request(app).post('/echo').set('x-request-id', 'abc-123.x').send({ a: 1 });
    expect(res.headers['x-request-id']).toBe('abc-123.x');
    expect(res.body).toEqual({ echo: { a: 1 }, requestId: 'abc-123.x' });
    expect(lines).toEqual([
      {
        level: 30,
        msg: 'request',
        reqId: 'abc-123.x',
        method: 'POST',
        route: '/echo',
        path: '/echo',
        status: 200,
        ms: expect.any(Number),
      },
    ]);
  });

  it('replaces a missing or invalid request id with a UUID', async () => {
    const { app } = service();
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect((await request(app).get('/items')).headers['x-request-id']).toMatch(uuid);
    const injected = await request(app).get('/items').set('x-request-id', 'a b\u00e9"}');
    expect(injected.headers['x-request-id']).toMatch(uuid);
    expect(
      (await request(app).get('/items').set('x-request-id', 'x'.repeat(129))).headers['x-request-id'],
    ).toMatch(uuid);
  });

  it('labels requests by route template, mount prefix or "unmatched"', async () => {
    const { app, count } = service();
    await request(app).get('/items/7');
    await request(app).get('/items/8');
    await request(app).get('/static/styles.css').expect(200);
    await request(app).get('/static/missing.css').expect(404);
    await request(app).get('/no/such/path');
    expect(await count({ route: '/items/:id', status: '404' })).toBe(2);
    expect(await count({ route: '/static', status: '200' })).toBe(1);
    expect(await count({ route: '/static', status: '404' })).toBe(1);
    expect(await count({ route: 'unmatched', status: '404' })).toBe(1);
  });

  it('does not log quiet routes (static files, probes), logs 4xx at warn without the query string', async () => {
    const { app, lines } = service();
    await request(app).get('/static/styles.css');
    await request(app).get('/healthz');
    await request(app).get('/items/7?token=hunter2');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, route: '/items/:id', path: '/items/7', status: 404 });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});

describe('errors', () => {
  it('answers HttpError as {error, detail}', async () => {
    const { app } = service();
    const res = await request(app).get('/items/7');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'no_such_item', detail: 'no item 7' });
  });

  it('answers an unexpected error with a generic 500 and logs it with the request id', async () => {
    const { app, lines } = service();
    const res = await request(app).get('/items/boom').set('x-request-id', 'r1');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal_error', detail: 'the request failed; see the service log' });
    expect(JSON.stringify(res.body)).not.toContain('secret');
    expect(lines[0]).toMatchObject({ level: 50, msg: 'unhandled error', reqId: 'r1' });
  });

  it('maps body-parser errors to 400, 413 and 415', async () => {
    const { app } = service();
    const bad = await request(app).post('/echo').set('content-type', 'application/json').send('{"a":');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_json');
    expect(bad.body.detail).toMatch(/^the body is not valid JSON: /);
    const big = await request(app)
      .post('/echo')
      .send({ text: 'x'.repeat(200) });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({
      error: 'payload_too_large',
      detail: 'the body is over the limit of 100 bytes',
    });
    const charset = await request(app)
      .post('/echo')
      .set('content-type', 'application/json; charset=klingon')
      .send('{}');
    expect(charset.status).toBe(415);
    expect(charset.body.error).toBe('unsupported_media_type');
  });

  it('toHttpError keeps 4xx statuses of other errors and hides 5xx details', () => {
    expect(toHttpError(Object.assign(new Error('range not satisfiable'), { status: 416 }))).toEqual({
      error: new HttpError(416, 'bad_request', 'range not satisfiable'),
      unexpected: false,
    });
    const { error, unexpected } = toHttpError(new TypeError('x is undefined'));
    expect([error.status, error.code, error.message, unexpected]).toEqual([
      500,
      'internal_error',
      'the request failed; see the service log',
      true,
    ]);
    expect(toHttpError(null).error.status).toBe(500);
  });
});

describe('methodNotAllowed', () => {
  it('answers a known path with another method 405 and Allow', async () => {
    const { app, count } = service();
    const res = await request(app).delete('/items');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
    expect(res.body).toEqual({
      error: 'method_not_allowed',
      detail: 'DELETE is not allowed on /items; use GET or HEAD or POST',
    });
    const echo = await request(app).get('/echo');
    expect([echo.status, echo.headers.allow]).toEqual([405, 'OPTIONS, POST']);
    const param = await request(app).put('/items/3');
    expect([param.status, param.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS']);
    expect(await count({ route: '/items', method: 'DELETE', status: '405' })).toBe(1);
    expect(await count({ route: '/items/:id', method: 'PUT', status: '405' })).toBe(1);
  });

  it('labels a route with several paths by the path requested, 405s included', async () => {
    const { app, count } = service();
    await request(app).get('/old').expect(303);
    await request(app).get('/older').expect(303);
    await request(app).get('/older').expect(303);
    const res = await request(app).delete('/older').expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(await count({ route: '/old', method: 'GET' })).toBe(1);
    expect(await count({ route: '/older', method: 'GET' })).toBe(2);
    expect(await count({ route: '/older', method: 'DELETE', status: '405' })).toBe(1);
    expect(await count({ route: 'unmatched' })).toBe(0);
  });

  it('serves every method of a path split over several routes, and HEAD for GET', async () => {
    const { app } = service();
    expect((await request(app).get('/items')).status).toBe(200);
    expect((await request(app).post('/items')).status).toBe(201);
    expect((await request(app).head('/items')).status).toBe(200);
  });

  it('answers OPTIONS on a known path 204 with Allow, and unknown paths 404', async () => {
    const { app } = service();
    const options = await request(app).options('/echo');
    expect([options.status, options.headers.allow]).toEqual([204, 'OPTIONS, POST']);
    const unknown = await request(app).delete('/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'not_found', detail: 'no route DELETE /nothing' });
  });
});
