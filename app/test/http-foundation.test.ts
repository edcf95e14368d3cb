/**
 * What the app gets from lib-service: 405 with Allow, counters that exist at 0 from start-up, static files
 * counted under "/static" and not logged, request ids.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/http/app.js';
import { createMetrics } from '../src/metrics.js';
import { ModelServiceClient } from '../src/model-client.js';
import { loadTeam } from '../src/team.js';
import { EXAMPLE_TEAM_FILE, makeApp, metricValue, type TestApp } from './support/app.js';
import { startFakeModelService, type FakeModelService } from './support/fake-model-service.js';

let fake: FakeModelService;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeModelService();
  t = await makeApp(fake.url, { variant: 'treatment' });
});
afterAll(() => fake.close());

describe('405 Method Not Allowed', () => {
  it('answers a known path with another method 405, Allow and an error page', async () => {
    const res = await request(t.app).delete('/people').expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('This address does not accept DELETE requests.');
    const put = await request(t.app).put('/feedback').expect(405);
    expect(put.headers.allow).toMatch(/\bPOST\b/);
    expect(await metricValue(t.metrics, 'http_requests_total', { route: '/people', status: '405' })).toBe(1);
  });

  it('still answers unknown paths 404', async () => {
    await request(t.app).delete('/no-such-page').expect(404);
  });
});

describe('counters dashboards divide by', () => {
  it('exist at 0 for every known label value before any request', async () => {
    const metrics = createMetrics('1.0.0', false);
    const team = await loadTeam(EXAMPLE_TEAM_FILE);
    const modelService = new ModelServiceClient(fake.url, 1000, metrics);
    createApp({
      config: { ...loadConfig({}), variant: 'control' },
      metrics,
      modelService,
      team,
      log: pino({ level: 'silent' }),
      appVersion: '1.0.0',
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('feedback_total{outcome="correct",app_version="1.0.0"} 0');
    expect(text).toContain('feedback_total{outcome="wrong",app_version="1.0.0"} 0');
    expect(text).toContain('people_page_views_total{variant="control",app_version="1.0.0"} 0');
    expect(text).toContain('visitors_total{variant="control",app_version="1.0.0"} 0');
    for (const member of team) {
      expect(text).toContain(
        `profile_clicks_total{member="${member.id}",variant="control",app_version="1.0.0"} 0`,
      );
    }
    expect(text).not.toContain('variant="treatment"');
  });
});

describe('static files', () => {
  it('are counted under route "/static", never "unmatched", and not logged', async () => {
    const lines: string[] = [];
    const metrics = createMetrics('1.0.0', false);
    const app = createApp({
      config: { ...loadConfig({}), variant: 'control' },
      metrics,
      modelService: new ModelServiceClient(fake.url, 1000, metrics),
      team: await loadTeam(EXAMPLE_TEAM_FILE),
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
      appVersion: '1.0.0',
    });
    await request(app).get('/static/styles.css').expect(200);
    await request(app).get('/static/nothing-here.css').expect(404);
    const count = (labels: Record<string, string>) =>
      metricValue(metrics as never, 'http_requests_total', labels);
    expect(await count({ route: '/static', status: '200' })).toBe(1);
    expect(await count({ route: '/static', status: '404' })).toBe(1);
    expect(await count({ route: 'unmatched' })).toBe(0);
    expect(lines.filter((line) => line.includes('"msg":"request"'))).toEqual([]);
  });
});
