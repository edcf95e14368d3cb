/** What model-service gets from lib-service: counters at 0 from start-up, once a model is served too. */
import { describe, expect, it } from '@jest/globals';
import { createMetrics, initModelSeries } from '../src/metrics.js';

describe('model-service counters dashboards divide by', () => {
  it('feedback_total exists at 0 for every agrees value from the start', async () => {
    const metrics = createMetrics(false);
    const text = await metrics.registry.metrics();
    expect(text).toContain('feedback_total{agrees="true"} 0');
    expect(text).toContain('feedback_total{agrees="false"} 0');
    expect(text).toContain('feedback_total{agrees="unknown"} 0');
    expect(text).not.toContain('model_predictions_total{');
  });

  it('model_predictions_total exists at 0 for every sentiment of the served model', async () => {
    const metrics = createMetrics(false);
    initModelSeries(metrics, '1.4.0');
    const text = await metrics.registry.metrics();
    for (const sentiment of ['positive', 'negative', 'unknown']) {
      expect(text).toContain(`model_predictions_total{sentiment="${sentiment}",model_version="1.4.0"} 0`);
    }
  });
});
