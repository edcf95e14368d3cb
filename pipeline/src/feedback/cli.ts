/**
 * `npm run feedback:collect -- [--from DIR]... [--cluster [--namespace NS] [--context CTX] ...] [--out DIR]
 * [--json]`: collects user feedback into `<feedback folder>/feedback-collected.jsonl` (see collect.ts for
 * what is kept, cluster.ts for how pods are read) and prints what happened to every line. Run it from the
 * repository root (params.yaml gives the test and fresh sets and the default feedback folder).
 *
 * Exit status: 0 when the file was written or already up to date, 1 with a one-line message on stderr for
 * bad arguments, unreadable sources, kubectl failures or an unwritable output folder.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PipelineError } from '../errors.js';
import { loadParams, type Params } from '../params.js';
import { splitDataset } from '../stages/prepare.js';
import { isMain } from '../stage.js';
import { readClusterSources, type ClusterOptions, type ClusterRead } from './cluster.js';
import {
  COLLECTED_FILE,
  collectFeedback,
  readFolderSource,
  writeCollected,
  type CollectCounts,
  type FeedbackSource,
} from './collect.js';

export const USAGE = `usage: npm run feedback:collect -- [--from DIR]... [--cluster] [options]

Collects model-service feedback into <out>/${COLLECTED_FILE}: lines validated, one (the latest) record
per text, texts of the test and fresh sets dropped.

sources (at least one):
  --from DIR          a folder of feedback*.jsonl files (a mounted PVC, a kubectl cp copy); repeatable
  --cluster           the chart's model-service pods, through kubectl (KUBECONFIG as usual)
cluster options:
  --namespace NS      namespace of the release (default: kubectl's current namespace)
  --context CTX       kubeconfig context (default: the current context)
  --selector SEL      label selector of the model-service pods (default: app=model-service)
  --container NAME    container that writes the feedback (default: model-service)
  --kubectl PATH      kubectl executable (default: $KUBECTL, else kubectl on PATH)
output:
  --out DIR           folder to write ${COLLECTED_FILE} to (default: prepare.feedback.dir of params.yaml)
  --json              print the counts as one JSON object instead of text
  -h, --help          print this help`;

/** Parsed command line. */
export interface CollectArgs {
  /** Absolute folders, duplicates removed, in the order given. */
  from: string[];
  cluster: ClusterOptions | null;
  /** Absolute output folder, or null for prepare.feedback.dir. */
  out: string | null;
  json: boolean;
  help: boolean;
}

/**
 * Parses the arguments (after `--`).
 * @param cwd folder that relative paths are relative to.
 * @throws PipelineError for unknown options, missing values, cluster options without --cluster, or no source.
 */
export function parseCollectArgs(
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): CollectArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: 'string', multiple: true },
        cluster: { type: 'boolean' },
        namespace: { type: 'string' },
        context: { type: 'string' },
        selector: { type: 'string' },
        container: { type: 'string' },
        kubectl: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new PipelineError(`${(error as Error).message}\n${USAGE}`);
  }
  const empty = Object.entries(values).find(([, v]) => v === '' || (Array.isArray(v) && v.includes('')));
  if (empty) throw new PipelineError(`--${empty[0]} needs a non-empty value\n${USAGE}`);
  const help = values.help ?? false;
  const clusterOnly = ['namespace', 'context', 'selector', 'container', 'kubectl'].filter(
    (k) => values[k as keyof typeof values] !== undefined,
  );
  if (!values.cluster && clusterOnly.length && !help) {
    throw new PipelineError(`--${clusterOnly[0]} is a cluster option: add --cluster\n${USAGE}`);
  }
  const from = [...new Set((values.from ?? []).map((dir) => path.resolve(cwd, dir)))];
  if (!help && from.length === 0 && !values.cluster) {
    throw new PipelineError(`no feedback source: give --from DIR or --cluster\n${USAGE}`);
  }
  return {
    from,
    cluster: values.cluster
      ? {
          kubectl: values.kubectl ?? (env.KUBECTL || 'kubectl'),
          namespace: values.namespace,
          context: values.context,
          selector: values.selector ?? 'app=model-service',
          container: values.container ?? 'model-service',
          env,
        }
      : null,
    out: values.out === undefined ? null : path.resolve(cwd, values.out),
    json: values.json ?? false,
    help,
  };
}

/** Outcome of {@link runCollect}. */
export interface CollectReport extends CollectCounts {
  /** The collected file (absolute). */
  file: string;
  /** False when the file already had this content (nothing written). */
  written: boolean;
  /** The cluster's pods (matching / Running / copied from), or null without --cluster. */
  pods: ClusterRead['pods'] | null;
  /** Things the user should know that do not stop the collection. */
  warnings: string[];
}

/**
 * Collects from the folders, then the cluster, and writes the collected file.
 * @param root the repository root (params.yaml; relative prepare.feedback.dir).
 * @throws PipelineError from reading the data, the sources, kubectl or writing (see collect.ts, cluster.ts).
 */
export async function runCollect(root: string, args: CollectArgs, params?: Params): Promise<CollectReport> {
  const p = params ?? (await loadParams(root));
  const outDir = args.out ?? path.resolve(root, p.prepare.feedback.dir);
  const file = path.join(outDir, COLLECTED_FILE);
  const warnings: string[] = [];
  if (!p.prepare.feedback.enabled) {
    warnings.push(
      'prepare.feedback.enabled is false in params.yaml: prepare will not read the collected feedback',
    );
  } else if (path.resolve(root, p.prepare.feedback.dir) !== outDir) {
    warnings.push(`prepare reads ${p.prepare.feedback.dir}, not ${outDir} (prepare.feedback.dir)`);
  }
  const sources: FeedbackSource[] = [];
  for (const dir of args.from) {
    const source = await readFolderSource(dir, file);
    if (source.files.length === 0) warnings.push(`${dir} holds no feedback*.jsonl files`);
    sources.push(source);
  }
  let pods: ClusterRead['pods'] | null = null;
  if (args.cluster) {
    const cluster = await readClusterSources(args.cluster);
    sources.push(...cluster.sources);
    pods = cluster.pods;
  }
  const { test, fresh } = await splitDataset({ params: p });
  const collected = collectFeedback(sources, { test, fresh });
  const written = await writeCollected(file, collected.content);
  return { file, written, pods, ...collected.counts, warnings };
}

/** The report as text lines (what `npm run feedback:collect` prints without --json). */
export function formatReport(report: CollectReport, root: string): string {
  const r = report.rejected;
  const rejected = r.invalid_json + r.invalid_label + r.empty_text + r.invalid_time;
  const relative = path.relative(root, report.file);
  const file = relative.startsWith('..') || path.isAbsolute(relative) ? report.file : relative;
  return [
    `${file}: ${report.written ? 'written' : 'unchanged (already up to date)'}`,
    ...report.sources.map((s) => `source:      ${s}`),
    ...(report.pods
      ? [
          `pods:        ${report.pods.matched} matched, ${report.pods.running} running, ${report.pods.copied} copied`,
        ]
      : []),
    `files:       ${report.files}`,
    `lines:       ${report.lines}`,
    `rejected:    ${rejected} (invalid_json ${r.invalid_json}, invalid_label ${r.invalid_label}, empty_text ${r.empty_text}, invalid_time ${r.invalid_time})`,
    `records:     ${report.records}`,
    `duplicates:  ${report.duplicates} (same text and label as a later record)`,
    `superseded:  ${report.superseded} (same text, a later record has the other label)`,
    `leaked:      ${report.leaked.test + report.leaked.fresh} (test set ${report.leaked.test}, fresh set ${report.leaked.fresh})`,
    `kept:        ${report.kept}`,
    ...report.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

/**
 * The command: parses `argv`, collects, prints the report (stdout) or the error (stderr).
 * @returns the exit status (0 or 1).
 */
export async function main(
  argv: string[],
  io: { cwd: string; env: NodeJS.ProcessEnv; stdout: (s: string) => void; stderr: (s: string) => void },
): Promise<number> {
  try {
    const args = parseCollectArgs(argv, io.cwd, io.env);
    if (args.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const report = await runCollect(io.cwd, args);
    if (args.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else io.stdout(`${formatReport(report, io.cwd)}\n`);
    return 0;
  } catch (error) {
    // Expected failures are one line; anything else is a bug: print its stack.
    const message =
      error instanceof PipelineError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    io.stderr(`feedback:collect: error: ${message}\n`);
    return 1;
  }
}

if (isMain(import.meta.url)) {
  const code = await main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
  process.exit(code);
}
