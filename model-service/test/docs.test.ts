/** `/docs` serves Swagger UI on our spec only: no Petstore, and 404 JSON for any other path. */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import { FeedbackWriter } from '../src/feedback/writer.js';
import { createApp } from '../src/http/app.js';
import { DOCS_ASSETS } from '../src/http/docs.js';
import { createMetrics } from '../src/metrics.js';
import { testConfig } from './support/config.js';

const { config } = await testConfig();
const app = createApp({
  state: { model: null, predictor: null },
  metrics: createMetrics(false),
  feedback: new FeedbackWriter(config.feedbackDir, 1024, { writerId: 'docs' }),
  log: pino({ level: 'silent' }),
  serviceVersion: 'test',
});

describe('/docs', () => {
  it('redirects /docs to /docs/, which loads Swagger UI on ../openapi.json', async () => {
    const redirect = await request(app).get('/docs').expect(301);
    expect(redirect.headers.location).toBe('docs/');
    const page = await request(app).get('/docs/').expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<title>model-service API</title>');
    expect(page.text).toContain('<div id="swagger-ui"></div>');
    expect([...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'swagger-ui.css',
      'favicon-32x32.png',
      'favicon-16x16.png',
      'swagger-ui-bundle.js',
      'docs-init.js',
    ]);
    const init = await request(app).get('/docs/docs-init.js').expect(200);
    expect(init.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(init.text).toContain("url: '../openapi.json',");
    expect(init.text).toContain('validatorUrl: null,');
  });

  it('serves no Petstore URL anywhere', async () => {
    const bodies: string[] = [];
    for (const p of ['/docs/', '/docs/docs-init.js', ...DOCS_ASSETS.map((a) => `/docs/${a}`)]) {
      const res = await request(app)
        .get(p)
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect([p, res.status]).toEqual([p, 200]);
      bodies.push((res.body as Buffer).toString('latin1'));
    }
    expect(bodies.filter((b) => /petstore/i.test(b))).toEqual([]);
    expect(bodies[2].length).toBeGreaterThan(100_000); // swagger-ui.css, the real file
  });

  it.each([
    '/docs/index.html',
    '/docs/swagger-initializer.js',
    '/docs/swagger-ui-init.js',
    '/docs/package.json',
    '/docs/anything/else',
  ])('answers 404 JSON for %s', async (p) => {
    const res = await request(app).get(p).expect(404);
    expect(res.body).toEqual({ error: 'not_found', detail: `no route GET ${p}` });
  });
});
