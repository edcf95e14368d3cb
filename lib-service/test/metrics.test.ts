/** Registries, zero-initialized counters and the HTTP metrics. */
import { describe, expect, it } from '@jest/globals';
import { Counter } from 'prom-client';
import {
  createHttpMetrics,
  createRegistry,
  createServiceMetrics,
  initCounter,
  initSeries,
  labelCombinations,
} from '../src/index.js';

describe('labelCombinations', () => {
  it('is the cartesian product of the label values', () => {
    expect(labelCombinations({ member: ['ana', 'bo'], variant: ['control'] })).toEqual([
      { member: 'ana', variant: 'control' },
      { member: 'bo', variant: 'control' },
    ]);
    expect(labelCombinations({ outcome: [] as string[] })).toEqual([]);
    expect(labelCombinations({})).toEqual([{}]);
  });
});

describe('initCounter', () => {
  it('exports every given series at 0 and keeps existing values', async () => {
    const registry = createRegistry({ processMetrics: false, defaultLabels: { app_version: '1.2.3' } });
    const counter = new Counter({
      name: 'views_total',
      help: 'h',
      labelNames: ['variant'],
      registers: [registry],
    });
    counter.inc({ variant: 'treatment' }, 3);
    initCounter(counter, [{ variant: 'control' }, { variant: 'treatment' }]);
    const text = await registry.metrics();
    expect(text).toContain('views_total{variant="control",app_version="1.2.3"} 0');
    expect(text).toContain('views_total{variant="treatment",app_version="1.2.3"} 3');
  });
});

describe('createRegistry', () => {
  it('collects process metrics only when asked', async () => {
    expect(await createRegistry({ processMetrics: false }).metrics()).toBe('\n');
    expect(await createRegistry().metrics()).toContain('process_cpu_seconds_total');
  });
});

describe('createHttpMetrics', () => {
  it('registers the RED metrics with the given buckets', async () => {
    const registry = createRegistry({ processMetrics: false });
    const http = createHttpMetrics(registry, [0.01, 0.1]);
    http.requests.inc({ route: '/a', method: 'GET', status: '200' });
    http.duration.observe({ route: '/a', method: 'GET', status: '200' }, 0.05);
    const text = await registry.metrics();
    expect(text).toContain('http_requests_total{route="/a",method="GET",status="200"} 1');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.01",route="/a",method="GET",status="200"} 0',
    );
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.1",route="/a",method="GET",status="200"} 1',
    );
  });
});

describe('initSeries and createServiceMetrics', () => {
  it('create every combination at 0 on a registry that already has the HTTP metrics', async () => {
    const { registry, http } = createServiceMetrics({ processMetrics: false, httpBuckets: [0.1] });
    const clicks = new Counter({
      name: 'clicks_total',
      help: 'h',
      labelNames: ['member', 'variant'],
      registers: [registry],
    });
    initSeries(clicks, { member: ['ana', 'bo'], variant: ['control'] });
    http.requests.inc({ route: '/', method: 'GET', status: '200' });
    http.duration.observe({ route: '/', method: 'GET', status: '200' }, 0.05);
    const text = await registry.metrics();
    expect(text).toContain('clicks_total{member="ana",variant="control"} 0');
    expect(text).toContain('clicks_total{member="bo",variant="control"} 0');
    expect(text).toContain('http_requests_total{route="/",method="GET",status="200"} 1');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.1",route="/",method="GET",status="200"} 1',
    );
  });
});
