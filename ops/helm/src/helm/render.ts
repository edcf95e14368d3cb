/**
 * Runs the chart through helm (`helm template`, `helm lint --strict`) and parses what it renders, for
 * the tests, the dashboards' staleness check and anyone who wants the manifests without a cluster.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { helmBinary, OPS_HELM_DIR } from './binary.js';

const run = promisify(execFile);

/** The chart folder. */
export const CHART_DIR = path.join(OPS_HELM_DIR, 'restaurant-sentiment');

/** A rendered Kubernetes object (only the fields every object has are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** What to render: values files (paths) and `--set` pairs, applied in that order after values.yaml. */
export interface RenderOptions {
  valuesFiles?: string[];
  /** `key.path=value` strings passed as `--set` (helm's syntax). */
  set?: string[];
  /** Release name (default `rs`). */
  release?: string;
  /** Namespace (default `restaurant-sentiment`). */
  namespace?: string;
}

/** helm's failure: `stderr` holds its message, e.g. the values.schema.json violation or a `fail` call. */
export class HelmError extends Error {
  override name = 'HelmError';
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

function args(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((file) => ['--values', file]),
    ...(options.set ?? []).flatMap((pair) => ['--set', pair]),
  ];
}

async function helm(argv: string[]): Promise<string> {
  const binary = await helmBinary();
  try {
    const { stdout } = await run(binary, argv, { maxBuffer: 64 * 1024 * 1024, env: helmEnv() });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    const stderr = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim();
    throw new HelmError(`helm ${argv[0]} failed: ${stderr || e.message}`, stderr);
  }
}

/** helm keeps its cache/config under HOME; point them into .cache so nothing outside the repo changes. */
function helmEnv(): NodeJS.ProcessEnv {
  const base = path.join(OPS_HELM_DIR, '..', '..', '.cache', 'helm-home');
  return {
    PATH: process.env.PATH,
    HOME: base,
    HELM_CACHE_HOME: path.join(base, 'cache'),
    HELM_CONFIG_HOME: path.join(base, 'config'),
    HELM_DATA_HOME: path.join(base, 'data'),
  };
}

/**
 * `helm template` of the chart; returns the YAML text exactly as helm prints it.
 * @throws HelmError with helm's message when values fail the schema or a template calls `fail`.
 */
export function renderChartText(options: RenderOptions = {}): Promise<string> {
  return helm([
    'template',
    options.release ?? 'rs',
    CHART_DIR,
    '--namespace',
    options.namespace ?? 'restaurant-sentiment',
    ...args(options),
  ]);
}

/**
 * `helm template` of the chart, parsed: one entry per non-empty YAML document, in helm's order.
 * @throws HelmError as {@link renderChartText}; Error when a rendered document is not valid YAML.
 */
export async function renderChart(options: RenderOptions = {}): Promise<K8sObject[]> {
  const text = await renderChartText(options);
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

/**
 * `helm lint --strict` of the chart; returns helm's output.
 * @throws HelmError when lint reports an error or (strict) a warning.
 */
export function lintChart(options: RenderOptions = {}): Promise<string> {
  return helm(['lint', '--strict', CHART_DIR, ...args(options)]);
}

/** The object of `kind` named `name`. @throws Error naming the kinds/names present when it is missing. */
export function findObject(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    const present = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`no ${kind}/${name} in the rendered chart (present: ${present})`);
  }
  return found;
}
