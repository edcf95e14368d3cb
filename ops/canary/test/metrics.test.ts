/**
 * The canary metrics: exact exposition text after looks, on a registry of their own (two instances do
 * not collide, and prom-client's global registry stays empty).
 */
import { describe, expect, test } from '@jest/globals';
import { register } from 'prom-client';
import request from 'supertest';
import { CanaryMetrics } from '../src/metrics/metrics.js';
import { createMetricsApp } from '../src/metrics/server.js';
import { FIXED_JUDGEMENT } from './support/judgements.js';

/** The sample lines of the exposition text (no HELP/TYPE comments). */
function samples(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('CanaryMetrics', () => {
  test('a judged look sets the decision, the per-guardrail p-values and verdicts, SRM and the weight', async () => {
    const metrics = new CanaryMetrics({ namespace: 'rs', virtualService: 'app' });
    metrics.setWeight(25);
    metrics.recordLook('FAIL', FIXED_JUDGEMENT);
    expect(samples(await metrics.text())).toEqual([
      'canary_weight{virtual_service_namespace="rs",virtual_service="app"} 25',
      'canary_decision{decision="PASS"} 0',
      'canary_decision{decision="FAIL"} 1',
      'canary_decision{decision="INSUFFICIENT"} 0',
      'canary_decision{decision="HOLD"} 0',
      'canary_guardrail_p_value{guardrail="error_rate"} 0.0012',
      'canary_guardrail_p_value{guardrail="latency_slo"} 0.9',
      'canary_guardrail_p_value{guardrail="latency_rank"} 0.00004',
      'canary_guardrail_verdict{guardrail="error_rate",verdict="PASS"} 0',
      'canary_guardrail_verdict{guardrail="error_rate",verdict="FAIL"} 1',
      'canary_guardrail_verdict{guardrail="error_rate",verdict="INSUFFICIENT"} 0',
      'canary_guardrail_verdict{guardrail="latency_slo",verdict="PASS"} 1',
      'canary_guardrail_verdict{guardrail="latency_slo",verdict="FAIL"} 0',
      'canary_guardrail_verdict{guardrail="latency_slo",verdict="INSUFFICIENT"} 0',
      'canary_guardrail_verdict{guardrail="latency_rank",verdict="PASS"} 0',
      'canary_guardrail_verdict{guardrail="latency_rank",verdict="FAIL"} 0',
      'canary_guardrail_verdict{guardrail="latency_rank",verdict="INSUFFICIENT"} 1',
      'canary_looks_total 1',
      'canary_srm_p_value 0.5716',
    ]);
  });

  test('a look without a judgement (Prometheus down) moves only the decision and the count', async () => {
    const metrics = new CanaryMetrics({ namespace: 'rs', virtualService: 'app' });
    metrics.recordLook('PASS', { ...FIXED_JUDGEMENT, decision: 'PASS' });
    metrics.recordLook('HOLD');
    const lines = samples(await metrics.text());
    expect(lines).toContain('canary_decision{decision="HOLD"} 1');
    expect(lines).toContain('canary_decision{decision="PASS"} 0');
    expect(lines).toContain('canary_guardrail_p_value{guardrail="error_rate"} 0.0012');
    expect(lines).toContain('canary_looks_total 2');
  });

  test('an unchecked SRM is NaN; two instances do not share series; the global registry stays empty', async () => {
    const a = new CanaryMetrics({ namespace: 'rs', virtualService: 'app' });
    const b = new CanaryMetrics({ namespace: 'other', virtualService: 'web' });
    a.recordLook('INSUFFICIENT', { ...FIXED_JUDGEMENT, srm: { ...FIXED_JUDGEMENT.srm, checked: false } });
    b.setWeight(5);
    // prom-client prints NaN as "Nan"; Prometheus parses it case-insensitively (Go strconv.ParseFloat).
    expect(samples(await a.text())).toContain('canary_srm_p_value Nan');
    expect(samples(await b.text())).toContain('canary_srm_p_value Nan'); // before any look: not 0
    expect(samples(await b.text())).toContain(
      'canary_weight{virtual_service_namespace="other",virtual_service="web"} 5',
    );
    expect(samples(await b.text())).toContain('canary_looks_total 0');
    expect(register.getMetricsAsArray()).toEqual([]);
  });

  test('the /metrics endpoint of canary run', async () => {
    const metrics = new CanaryMetrics({ namespace: 'rs', virtualService: 'app' });
    metrics.setWeight(10);
    const app = createMetricsApp(metrics);
    const response = await request(app).get('/metrics').expect(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.text).toContain(
      'canary_weight{virtual_service_namespace="rs",virtual_service="app"} 10\n',
    );
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    await request(app).get('/nope').expect(404, { error: 'not_found', detail: 'no route GET /nope' });
  });
});
