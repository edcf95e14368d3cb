/**
 * The real processes of the canary integration test, all on 127.0.0.1: model-service v1 and v2 (the same
 * test model published as releases 1.0.0 and 1.1.0), app v1 (stable, experiment variant "control") and
 * app v2 (canary, "treatment"), each app calling its model-service through a {@link FaultProxy} (the
 * stable's always passes requests through, so both arms pay the same extra hop; the canary's can be told
 * to fail or slow down the model calls), and a real Prometheus (Debian's) scraping the four services with
 * the relabeling of the chart's ServiceMonitors and evaluating the chart's rules, every second.
 *
 * Reuses the issue-9 harness of ops/helm (process groups, Prometheus start-up, ServiceMonitor relabeling);
 * the processes it starts are stopped by {@link CanaryStack.stop}, or by that harness' exit hook (SIGKILL of
 * every process group) should the test process die first.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { writeTestRelease } from '../../../../../model-service/test/support/bundle.js';
import { findObject, renderChart, type K8sObject } from '../../../../helm/src/helm/render.js';
import { ruleFileOf } from '../../../../helm/src/monitoring/rule-file.js';
import { serviceMonitorScrapeConfigs } from '../../../../helm/src/monitoring/scrape-config.js';
import { ROOT, startService, stopAll } from '../../../../helm/test/support/processes.js';
import { startPrometheus, type PrometheusApi } from '../../../../helm/test/support/prometheus.js';
import type { CanaryMetrics } from '../../../src/metrics/metrics.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

/** The release namespace the chart is rendered into (the `namespace` label of every series). */
export const NAMESPACE = 'restaurant-sentiment';
/** The version cookie of the chart's default values (routing.sticky.cookieName). */
export const STICKY_COOKIE = 'rs-version';

/** The two arms as the chart's default values name them. */
export const ARMS = [
  { version: 'v1', appVersion: '1.0.0', model: '1.0.0', variant: 'control', seed: 101 },
  { version: 'v2', appVersion: '1.1.0', model: '1.1.0', variant: 'treatment', seed: 202 },
] as const;
export type Version = (typeof ARMS)[number]['version'];

/** The running stack. */
export interface CanaryStack {
  /** The chart rendered with the canary at weight 0 (stable 100): the objects a rollout starts from. */
  objects: K8sObject[];
  /** The app VirtualService as rendered at weight 0. */
  virtualService: K8sObject;
  /** Base URL of each app, by version (the VirtualService's subsets). */
  apps: Record<Version, string>;
  /** Base URL of each model-service, by version. */
  modelServices: Record<Version, string>;
  /** The proxy between each app and its model-service. */
  proxies: Record<Version, FaultProxy>;
  prometheus: PrometheusApi;
  /** Ids of the People page's team members. */
  team: string[];
  /**
   * The running controller's /metrics, scraped by Prometheus as a pod of the release's namespace would be
   * (job canary-controller): `serve(metrics)` points it at the scenario's CanaryMetrics.
   */
  controllerMetrics: { serve(metrics: CanaryMetrics): void };
  /** Milliseconds from the start of {@link startCanaryStack} to each stage. */
  timings: Record<string, number>;
  /** Stops the proxies and every process (process groups, SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts everything and waits until Prometheus scrapes all four services (`up == 1`), so every counter's
 * first sample is its start value.
 * @param dir a scratch folder (releases, model caches, feedback files, Prometheus TSDB).
 * @throws Error with a process' output when one fails to start; whatever was started is stopped first.
 */
export async function startCanaryStack(dir: string): Promise<CanaryStack> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const proxies: Partial<Record<Version, FaultProxy>> = {};
  let controllerServer: Server | undefined;
  let currentMetrics: CanaryMetrics | undefined;
  const stop = async (graceMs = 5000) => {
    await Promise.all(Object.values(proxies).map((p) => p.close()));
    await new Promise((resolve) => (controllerServer ? controllerServer.close(resolve) : resolve(undefined)));
    await stopAll(graceMs);
  };
  try {
    const registryDir = path.join(dir, 'releases');
    const rendering = renderChart({
      namespace: NAMESPACE,
      set: ['routing.weights.stable=100', 'routing.weights.canary=0'],
    });
    rendering.catch(() => {}); // awaited below
    for (const arm of ARMS) await writeTestRelease(registryDir, arm.model);
    timings.releases = Date.now() - t0;

    const models = await Promise.all(
      ARMS.map((arm) =>
        startService(`model-service-${arm.version}`, 'model-service', {
          APP_VERSION: arm.appVersion,
          MODEL_SOURCE: 'local',
          MODEL_REGISTRY_DIR: registryDir,
          MODEL_CACHE_DIR: path.join(dir, `cache-${arm.version}`),
          MODEL_VERSION: arm.model,
          FEEDBACK_DIR: path.join(dir, 'feedback'),
          FEEDBACK_WRITER_ID: `model-service-${arm.version}-0`,
        }),
      ),
    );
    for (const [i, arm] of ARMS.entries()) {
      proxies[arm.version] = await startFaultProxy({ upstream: models[i].url, seed: arm.seed });
    }
    const apps = await Promise.all(
      ARMS.map((arm) =>
        startService(`app-${arm.version}`, 'app', {
          APP_VERSION: arm.appVersion,
          MODEL_SERVICE_URL: proxies[arm.version]!.url,
          EXPERIMENT_VARIANT: arm.variant,
          RATE_LIMIT_PER_MINUTE: '1000000',
          // As the chart's Deployment sets them: a request without the cookie, or naming the other
          // version, is a user the mesh just assigned to this version.
          STICKY_COOKIE_NAME: STICKY_COOKIE,
          STICKY_COOKIE_VALUE: arm.version,
        }),
      ),
    );
    timings.services = Date.now() - t0;

    const objects = await rendering;
    const urls = new Map<string, string>();
    ARMS.forEach((arm, i) => {
      urls.set(`model-service-${arm.version}`, models[i].url);
      urls.set(`app-${arm.version}`, apps[i].url);
    });
    // The canary controller's metrics (empty until a scenario runs), as the rs-canary dashboard reads them.
    controllerServer = createServer((req, res) => {
      if (!currentMetrics) return void res.end('');
      currentMetrics.text().then(
        (text) => res.writeHead(200, { 'content-type': currentMetrics!.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => controllerServer!.listen(0, '127.0.0.1', resolve));
    const controllerPort = (controllerServer.address() as { port: number }).port;
    const scrapeConfigs = [
      ...serviceMonitorScrapeConfigs(
        objects,
        [...urls].map(([deployment, url]) => ({ deployment, address: new URL(url).host })),
        { namespace: NAMESPACE, scrapeInterval: '1s', plainHttp: true },
      ),
      {
        job_name: 'canary-controller',
        metrics_path: '/metrics',
        scheme: 'http',
        honor_labels: false,
        honor_timestamps: true,
        relabel_configs: [],
        static_configs: [{ targets: [`127.0.0.1:${controllerPort}`], labels: { namespace: NAMESPACE } }],
      },
    ];
    const prometheus = await startPrometheus({
      dir: path.join(dir, 'prometheus'),
      scrapeConfigs,
      ruleGroups: ruleFileOf(findObject(objects, 'PrometheusRule', 'restaurant-sentiment')).groups,
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    });
    const deadline = Date.now() + 20_000;
    while ((await prometheus.api.vector('up == 1')).length < 5) {
      if (Date.now() > deadline) {
        const targets = await prometheus.api.targets();
        throw new Error(
          `Prometheus does not scrape all 4 services and the controller within 20 s: ${JSON.stringify(targets.map((t) => [t.scrapeUrl, t.health, t.lastError]))}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    timings.prometheus = Date.now() - t0;

    const team = (
      JSON.parse(await readFile(path.join(ROOT, 'app/config/team.example.json'), 'utf8')) as Array<{
        id: string;
      }>
    ).map((m) => m.id);
    return {
      objects,
      virtualService: findObject(objects, 'VirtualService', 'app'),
      apps: { v1: apps[0].url, v2: apps[1].url },
      modelServices: { v1: models[0].url, v2: models[1].url },
      proxies: proxies as Record<Version, FaultProxy>,
      prometheus: prometheus.api,
      team,
      controllerMetrics: {
        serve: (metrics) => {
          currentMetrics = metrics;
        },
      },
      timings,
      stop,
    };
  } catch (error) {
    await stop(2000);
    throw error;
  }
}
