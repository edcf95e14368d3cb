/**
 * A real Prometheus server (Debian's `prometheus`, 2.42) for tests: started on a temporary configuration,
 * rule files and TSDB folder, listening on 127.0.0.1 only, and queried through its HTTP API
 * (https://prometheus.io/docs/prometheus/2.42/querying/api/).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { RuleGroup } from '../../src/monitoring/rule-file.js';
import type { PrometheusScrapeConfig } from '../../src/monitoring/scrape-config.js';
import { freePort, startProcess, type Started } from './processes.js';

/** The Prometheus binary (PROMETHEUS_PATH, else Debian's). */
export const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';

/** Why a Prometheus test cannot run here, or null when it can. */
export function prometheusMissing(): string | null {
  return existsSync(PROMETHEUS)
    ? null
    : `${PROMETHEUS} not found (apt-get install prometheus, or set PROMETHEUS_PATH)`;
}

/** One series of an instant query's vector result. */
export interface Sample {
  metric: Record<string, string>;
  /** [unix time in s, value as Prometheus prints it] */
  value: [number, string];
}

/** An answer of the query API: `status` "success" with data, or "error" with Prometheus' message. */
export type QueryAnswer =
  | {
      status: 'success';
      data: { resultType: 'vector' | 'scalar' | 'matrix' | 'string'; result: unknown };
      warnings?: string[];
    }
  | { status: 'error'; errorType: string; error: string };

/** A rule as `/api/v1/rules` reports it. */
export interface RuleState {
  name: string;
  query: string;
  type: 'recording' | 'alerting';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  state?: 'inactive' | 'pending' | 'firing';
}

/** A scrape target as `/api/v1/targets` reports it. */
export interface TargetState {
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** The HTTP API of a running Prometheus. */
export class PrometheusApi {
  constructor(readonly url: string) {}

  private async get<T>(endpoint: string, params: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.url}${endpoint}?${new URLSearchParams(params)}`);
    return (await response.json()) as T;
  }

  /**
   * Instant query `expr` at `time` (unix seconds; Prometheus' now when omitted).
   * @returns the answer as is: a parse or evaluation error is `{status: 'error', error}`, not a throw.
   */
  query(expr: string, time?: number): Promise<QueryAnswer> {
    return this.get('/api/v1/query', { query: expr, ...(time === undefined ? {} : { time: String(time) }) });
  }

  /**
   * The vector an instant query returns.
   * @throws Error with Prometheus' message when the query fails or does not return a vector.
   */
  async vector(expr: string, time?: number): Promise<Sample[]> {
    const answer = await this.query(expr, time);
    if (answer.status !== 'success') throw new Error(`${expr}: ${answer.errorType}: ${answer.error}`);
    if (answer.data.resultType !== 'vector') throw new Error(`${expr}: returned a ${answer.data.resultType}`);
    return answer.data.result as Sample[];
  }

  /** Every rule of every loaded rule group with its health and last evaluation error. */
  async rules(): Promise<RuleState[]> {
    const answer = await this.get<{ data: { groups: Array<{ rules: RuleState[] }> } }>('/api/v1/rules');
    return answer.data.groups.flatMap((group) => group.rules);
  }

  /** The active (kept after relabeling) scrape targets. */
  async targets(): Promise<TargetState[]> {
    const answer = await this.get<{ data: { activeTargets: TargetState[] } }>('/api/v1/targets', {
      state: 'active',
    });
    return answer.data.activeTargets;
  }
}

/** What {@link startPrometheus} writes and runs. */
export interface PrometheusSetup {
  /** Folder for prometheus.yml, rules.yml and the TSDB (created if missing). */
  dir: string;
  scrapeConfigs: PrometheusScrapeConfig[];
  ruleGroups: RuleGroup[];
  /** Global scrape interval, e.g. `1s`. */
  scrapeInterval: string;
  /** Rule evaluation interval, e.g. `1s`. */
  evaluationInterval: string;
}

/** A running Prometheus. */
export interface RunningPrometheus {
  process: Started;
  api: PrometheusApi;
  /** The configuration file it runs on. */
  configFile: string;
}

/**
 * Writes `<dir>/prometheus.yml` and `<dir>/rules.yml` and starts Prometheus on them, on 127.0.0.1 and a
 * free port, with its TSDB in `<dir>/data`; resolves once it answers `/-/ready`.
 * @throws Error with Prometheus' output when it exits (a configuration or rule file it rejects) or is not
 *   ready within `timeoutMs` (ms).
 */
export async function startPrometheus(
  setup: PrometheusSetup,
  timeoutMs = 30_000,
): Promise<RunningPrometheus> {
  await mkdir(setup.dir, { recursive: true });
  const rulesFile = path.join(setup.dir, 'rules.yml');
  const configFile = path.join(setup.dir, 'prometheus.yml');
  await writeFile(rulesFile, stringify({ groups: setup.ruleGroups }));
  await writeFile(
    configFile,
    stringify({
      global: { scrape_interval: setup.scrapeInterval, evaluation_interval: setup.evaluationInterval },
      rule_files: [rulesFile],
      scrape_configs: setup.scrapeConfigs,
    }),
  );
  const port = await freePort();
  const started = startProcess('prometheus', PROMETHEUS, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(setup.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const api = new PrometheusApi(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + timeoutMs;
  const exited = started.exited.then((how) => {
    throw new Error(`prometheus exited (${how}):\n${started.output()}`);
  });
  exited.catch(() => {});
  for (;;) {
    const ready = await Promise.race([
      fetch(`${api.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
      exited,
    ]);
    if (ready) break;
    if (Date.now() > deadline) {
      throw new Error(`prometheus not ready within ${timeoutMs} ms:\n${started.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { process: started, api, configFile };
}
