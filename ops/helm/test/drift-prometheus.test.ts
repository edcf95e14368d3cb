/**
 * Drift, measured by a real Prometheus (Debian's `prometheus` 2.42) with the chart's rules: a model-service
 * serving a test release whose manifest carries the drift reference (a logistic regression trained on Yelp
 * reviews 0–299, reference measured on the held-out reviews 300–599, as the pipeline measures it on its
 * test split) is scraped every second with the relabeling of the chart's ServiceMonitors, and the rendered
 * PrometheusRule is evaluated every second, with `monitoring.prometheusRule.drift` set to a 15 s window
 * and `for: 4s` so that the test fits in a minute (distance 0.3 and 200 observations: the defaults).
 *
 * First in-domain traffic, Yelp reviews the model has not seen (600–899), for longer than the window: both
 * Jensen–Shannon distances stay low, the drift alerts' expressions are empty and nothing fires. Then
 * out-of-domain traffic, the IMDb movie-review sentences of the `sentiment` package: the OOV-ratio distance
 * rises above the threshold, ModelInputDrift's expression holds and the alert fires. The measured
 * distances are printed (and asserted against the in-domain ones).
 *
 * Needs /usr/bin/prometheus (or PROMETHEUS_PATH): skipped with a warning when it is missing, failed when
 * CI=true.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeTestRelease, yelpTexts } from '../../../model-service/test/support/bundle.js';
import { findObject, renderChart } from '../src/helm/render.js';
import { ruleFileOf, type Rule } from '../src/monitoring/rule-file.js';
import { serviceMonitorScrapeConfigs } from '../src/monitoring/scrape-config.js';
import { startService, stopAll } from './support/processes.js';
import { prometheusMissing, startPrometheus, type PrometheusApi } from './support/prometheus.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const require = createRequire(import.meta.url);
const NAMESPACE = 'restaurant-sentiment';
const VERSION = 'v1';
const MODEL = '1.0.0';
/** The drift window the test renders the chart with (s). */
const WINDOW_S = 15;
/** Texts per /predict/batch call, and the pause between two calls (ms): ~100 texts a second. */
const BATCH = 10;
const PAUSE_MS = 60;
const SELECTOR = `{namespace="${NAMESPACE}", version="${VERSION}", model_version="${MODEL}"}`;

const describeWithPrometheus = toolAvailable(
  prometheusMissing(),
  'the real-Prometheus drift test',
  "Debian's prometheus package",
)
  ? describe
  : describe.skip;

/** What was measured at the end of a phase. */
interface Measured {
  /** Jensen–Shannon distances (0–1), null when Prometheus has none. */
  score: number | null;
  oov: number | null;
  /** Texts sent in the phase, and texts with a word in the drift window as Prometheus counts them. */
  texts: number;
  inWindow: number | null;
  /** Versions for which each drift alert's expression holds. */
  predictionDrift: string[];
  inputDrift: string[];
  /** Firing alerts, `name/version`. */
  firing: string[];
}

describeWithPrometheus('drift of a model-service from its reference, measured by a real Prometheus', () => {
  let tmp: string;
  let api: PrometheusApi;
  let model: string;
  let alerts: Array<Rule & { alert: string }>;
  const measured: Record<'inDomain' | 'outOfDomain', Measured> = {} as never;
  const timings: Record<string, number> = {};

  /** Sends `texts` round-robin in batches until `until()` says stop; returns how many texts were sent. */
  async function drive(texts: string[], until: () => boolean): Promise<number> {
    let sent = 0;
    for (let i = 0; !until(); i += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, k) => texts[(i + k) % texts.length]);
      const response = await fetch(`${model}/predict/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: batch }),
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      sent += batch.length;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    return sent;
  }

  /** The distances, alert expressions and firing drift alerts now. */
  async function measure(texts: number): Promise<Measured> {
    const value = async (expr: string) => {
      const [sample] = await api.vector(expr);
      return sample ? Number(sample.value[1]) : null;
    };
    const holds = async (name: string) =>
      (await api.vector(alerts.find((a) => a.alert === name)!.expr)).map((s) => s.metric.version).sort();
    return {
      score: await value(`version:model_prediction_score:js_distance${SELECTOR}`),
      oov: await value(`version:model_input_oov_ratio:js_distance${SELECTOR}`),
      texts,
      inWindow: await value(`sum(increase(model_input_oov_ratio_count${SELECTOR}[${WINDOW_S}s]))`),
      predictionDrift: await holds('ModelPredictionDrift'),
      inputDrift: await holds('ModelInputDrift'),
      firing: (await api.vector('ALERTS{alertstate="firing", alertname=~"Model.*Drift"}'))
        .map((s) => `${s.metric.alertname}/${s.metric.version}`)
        .sort(),
    };
  }

  beforeAll(async () => {
    const t0 = Date.now();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rs-drift-'));
    const registryDir = path.join(tmp, 'releases');
    await writeTestRelease(registryDir, MODEL);
    const values = path.join(tmp, 'drift-values.yaml');
    await writeFile(
      values,
      [
        'monitoring:',
        '  prometheusRule:',
        '    drift:',
        `      window: ${WINDOW_S}s`,
        '      for: 4s',
        '',
      ].join('\n'),
    );
    const rendering = renderChart({ namespace: NAMESPACE, valuesFiles: [values] });
    rendering.catch(() => {}); // awaited below
    timings.release = Date.now() - t0;

    const service = await startService(`model-service-${VERSION}`, 'model-service', {
      MODEL_SOURCE: 'local',
      MODEL_REGISTRY_DIR: registryDir,
      MODEL_CACHE_DIR: path.join(tmp, 'cache'),
      MODEL_VERSION: MODEL,
      FEEDBACK_DIR: path.join(tmp, 'feedback'),
    });
    model = service.url;
    timings.service = Date.now() - t0;

    const objects = await rendering;
    const groups = ruleFileOf(findObject(objects, 'PrometheusRule', 'restaurant-sentiment')).groups;
    alerts = groups.flatMap((g) => g.rules.filter((r): r is Rule & { alert: string } => !!r.alert));
    const prometheus = await startPrometheus({
      dir: path.join(tmp, 'prometheus'),
      scrapeConfigs: serviceMonitorScrapeConfigs(
        objects,
        [{ deployment: `model-service-${VERSION}`, address: new URL(model).host }],
        { namespace: NAMESPACE, scrapeInterval: '1s', plainHttp: true },
      ),
      ruleGroups: groups,
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    });
    api = prometheus.api;
    await waitUntil(async () => (await api.vector('up == 1')).length === 1, 20_000, 'model-service scraped');
    // The reference gauges are there from the first scrape.
    await waitUntil(
      async () => (await api.vector(`model_reference_input_oov_ratio_share${SELECTOR}`)).length === 9,
      10_000,
      'the reference gauges',
    );
    timings.prometheus = Date.now() - t0;

    // In-domain: held-out Yelp reviews for longer than the window, then a scrape and an evaluation.
    const inDomainEnd = Date.now() + (WINDOW_S + 3) * 1000;
    const inDomainTexts = await drive(yelpTexts([600, 900]), () => Date.now() > inDomainEnd);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    measured.inDomain = await measure(inDomainTexts);
    timings.inDomain = Date.now() - t0;

    // Out of domain: IMDb sentences until ModelInputDrift fires (the window full of them, for 4 s).
    // The 1000 labelled sentences (the file ends with an empty row, which /predict/batch refuses).
    const imdb = (require('sentiment/test/fixtures/imdb.json') as Array<{ text: string }>)
      .map((r) => r.text)
      .filter((text) => text.trim() !== '');
    expect(imdb).toHaveLength(1000);
    const start = Date.now();
    let firing = false;
    const load = drive(imdb, () => firing || Date.now() - start > 45_000);
    await waitUntil(
      async () => {
        const found = await api.vector(`ALERTS{alertname="ModelInputDrift", alertstate="firing"}`);
        return found.length > 0 && Date.now() - start > (WINDOW_S + 2) * 1000;
      },
      45_000,
      'ModelInputDrift firing',
    ).finally(() => (firing = true));
    const outOfDomainTexts = await load;
    measured.outOfDomain = await measure(outOfDomainTexts);
    timings.outOfDomain = Date.now() - t0;
  }, 120_000);

  afterAll(async () => {
    await stopAll(5000);
    if (tmp) await rm(tmp, { recursive: true, force: true });
    console.log(
      `drift measured by Prometheus (Jensen–Shannon distance, window ${WINDOW_S} s): ${JSON.stringify(measured)}; timings (ms from start): ${JSON.stringify(timings)}`,
    );
  }, 30_000);

  it('in-domain reviews: both distances low, neither drift alert’s expression holds, nothing fires', () => {
    const { score, oov, inWindow, predictionDrift, inputDrift, firing } = measured.inDomain;
    // Over 200 observations in the window: the traffic guard is not what keeps the alerts silent.
    expect(inWindow!).toBeGreaterThan(200);
    expect({ score: score! < 0.2, oov: oov! < 0.2 }).toEqual({ score: true, oov: true });
    expect({ predictionDrift, inputDrift, firing }).toEqual({
      predictionDrift: [],
      inputDrift: [],
      firing: [],
    });
  });

  it('out-of-domain sentences: the OOV distance is high, ModelInputDrift holds and fires for the version', () => {
    const { oov, score, inputDrift, firing } = measured.outOfDomain;
    expect(oov!).toBeGreaterThan(0.3);
    expect(oov!).toBeGreaterThan(measured.inDomain.oov! + 0.2);
    expect(score!).toBeGreaterThan(measured.inDomain.score!);
    expect(inputDrift).toEqual([VERSION]);
    expect(firing).toContain(`ModelInputDrift/${VERSION}`);
  });
});

/** Polls `condition` every 250 ms until it holds; throws naming `what` after `timeoutMs` (ms). */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
