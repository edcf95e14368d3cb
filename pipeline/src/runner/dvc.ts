/**
 * A small runner for dvc.yaml on machines without DVC: reads the stages, orders them by their deps/outs
 * (a stage runs after every stage that produces something it depends on) and runs each `cmd` in a shell.
 * It always runs the stages it is asked for: unlike `dvc repro` it keeps no lock file and skips nothing.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { PipelineError } from '../errors.js';

/** A stage as the runner needs it. */
export interface DvcStage {
  name: string;
  cmd: string[];
  deps: string[];
  outs: string[];
  /** Working directory relative to the dvc.yaml folder. */
  wdir: string;
}

/** An entry of deps/outs/metrics/plots: a path, or a one-key object `{path: options}`. */
function entryPath(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  if (entry && typeof entry === 'object') return Object.keys(entry)[0];
  throw new PipelineError(`dvc.yaml: unexpected entry ${JSON.stringify(entry)}`);
}

/**
 * Parses dvc.yaml text into stages, in file order.
 * @throws PipelineError when there are no stages or a stage has no cmd.
 */
export function parseDvcYaml(text: string): DvcStage[] {
  const doc = YAML.parse(text) as { stages?: Record<string, Record<string, unknown>> } | null;
  if (!doc?.stages || typeof doc.stages !== 'object') throw new PipelineError('dvc.yaml: no stages');
  return Object.entries(doc.stages).map(([name, s]) => {
    if (s.foreach || s.matrix)
      throw new PipelineError(`dvc.yaml: stage ${name}: foreach/matrix stages are not supported`);
    const cmd = typeof s.cmd === 'string' ? [s.cmd] : Array.isArray(s.cmd) ? (s.cmd as string[]) : null;
    if (!cmd) throw new PipelineError(`dvc.yaml: stage ${name} has no cmd`);
    const list = (key: string) => ((s[key] as unknown[] | undefined) ?? []).map(entryPath);
    return {
      name,
      cmd,
      deps: list('deps'),
      outs: [...list('outs'), ...list('metrics'), ...list('plots')],
      wdir: typeof s.wdir === 'string' ? s.wdir : '.',
    };
  });
}

/** True when path a is b or inside b, or b inside a. */
function overlaps(a: string, b: string): boolean {
  const na = path.posix.normalize(a).replace(/\/$/, '');
  const nb = path.posix.normalize(b).replace(/\/$/, '');
  return na === nb || na.startsWith(nb + '/') || nb.startsWith(na + '/');
}

/**
 * Orders stages so each comes after the stages whose outs it depends on; ties keep file order.
 * @throws PipelineError on a dependency cycle.
 */
export function orderStages(stages: readonly DvcStage[]): DvcStage[] {
  const upstream = new Map(
    stages.map((s) => [
      s.name,
      stages
        .filter((o) => o !== s && s.deps.some((d) => o.outs.some((out) => overlaps(d, out))))
        .map((o) => o.name),
    ]),
  );
  const done = new Set<string>();
  const ordered: DvcStage[] = [];
  while (ordered.length < stages.length) {
    const next = stages.find((s) => !done.has(s.name) && upstream.get(s.name)!.every((u) => done.has(u)));
    if (!next) {
      const left = stages.filter((s) => !done.has(s.name)).map((s) => s.name);
      throw new PipelineError(`dvc.yaml: dependency cycle among stages ${left.join(', ')}`);
    }
    done.add(next.name);
    ordered.push(next);
  }
  return ordered;
}

/** Reads dvc.yaml from `root` and returns its stages in run order. */
export async function loadPipeline(root: string): Promise<DvcStage[]> {
  const file = path.join(root, 'dvc.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PipelineError(`${file}: cannot read`);
  }
  return orderStages(parseDvcYaml(text));
}

/**
 * Runs one command line in a shell, inheriting stdio.
 * @throws PipelineError when it exits non-zero or is killed.
 */
export function runCommand(
  cmd: string,
  cwd: string,
  label: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, { cwd, shell: true, stdio: 'inherit', env });
    child.on('error', (error) =>
      reject(new PipelineError(`${label}: cannot start "${cmd}": ${error.message}`)),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new PipelineError(
            `${label}: "${cmd}" ${signal ? `was killed by ${signal}` : `exited with ${code}`}`,
          ),
        );
    });
  });
}

/**
 * Runs one `cmd` of `stage` in `cwd`; rejects when it fails. {@link runCommand} is the default; `npm start`
 * passes its own, which logs to a file and stops the command's process group on Ctrl-C.
 */
export type StageCommandRunner = (
  cmd: string,
  cwd: string,
  stage: DvcStage,
  env: NodeJS.ProcessEnv,
) => Promise<void>;

/**
 * Runs the named stages (all when `only` is empty) in dependency order.
 * @param onStage called before each stage.
 * @param run runs each command (default: {@link runCommand}, stdio inherited).
 * @throws PipelineError for an unknown stage name or a failing stage (later stages do not run); what
 *   `run` throws.
 */
export async function runPipeline(
  root: string,
  only: readonly string[] = [],
  onStage: (stage: DvcStage) => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
  run: StageCommandRunner = (cmd, cwd, stage, commandEnv) =>
    runCommand(cmd, cwd, `stage ${stage.name}`, commandEnv),
): Promise<DvcStage[]> {
  const stages = await loadPipeline(root);
  const unknown = only.filter((name) => !stages.some((s) => s.name === name));
  if (unknown.length) {
    throw new PipelineError(
      `unknown stage ${unknown.join(', ')}; dvc.yaml has ${stages.map((s) => s.name).join(', ')}`,
    );
  }
  const selected = only.length ? stages.filter((s) => only.includes(s.name)) : stages;
  for (const stage of selected) {
    onStage(stage);
    for (const cmd of stage.cmd) await run(cmd, path.resolve(root, stage.wdir), stage, env);
  }
  return selected;
}
