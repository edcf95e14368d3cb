/**
 * Temporary copies of the repository for the tests that run the real DVC (`.venv/bin/dvc`, pinned in
 * requirements.txt): the working tree's version of every file git would commit, the installed
 * node_modules linked in, a git repository of its own, and DVC run with a timeout and its output captured.
 * DVC is isolated from the developer's machine: no usage reports, no global or system DVC config, and its
 * per-repository site cache inside the copy's temporary folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { toolAvailable } from '../../../test/support/system-tool.js';
import { REPO_ROOT } from '../workspace.js';

/** The DVC command of the repository's virtual environment. */
export const DVC = path.join(REPO_ROOT, '.venv/bin/dvc');

/** How the Python tools are installed (requirements.txt), for skip and failure messages. */
export const PYTHON_TOOLS_INSTALL = 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt';

/** The version requirements.txt pins for a package (`name==version`), or null when it is not pinned. */
export function pinnedVersion(name: string): string | null {
  const text = readFileSync(path.join(REPO_ROOT, 'requirements.txt'), 'utf8');
  const line = text.split('\n').find((l) => l.trim().toLowerCase().startsWith(`${name.toLowerCase()}==`));
  return line ? line.trim().slice(name.length + 2) : null;
}

/**
 * Whether the DVC tests run: `.venv/bin/dvc` exists and is the version requirements.txt pins. Skips
 * with a message on a developer's machine, fails under CI=true (see toolAvailable).
 * @param what the tests that need it, for the message.
 * @throws Error when DVC is missing or another version and CI=true.
 */
export function dvcAvailable(what: string): boolean {
  let missing: string | null = null;
  if (!existsSync(DVC)) missing = `${DVC} not found`;
  else {
    const pinned = pinnedVersion('dvc');
    const version = execFileSync(DVC, ['--version'], { encoding: 'utf8', env: dvcEnv() }).trim();
    if (version !== pinned) missing = `${DVC} is version ${version}, requirements.txt pins dvc==${pinned}`;
  }
  return toolAvailable(missing, what, PYTHON_TOOLS_INSTALL);
}

/**
 * The environment DVC runs with: the test's, minus anything that would reach the network or the
 * developer's own DVC or AWS set-up (every AWS_* variable is dropped), plus `extra`.
 * @param home a private folder for DVC's site cache and global/system config (default: none set, for
 *   `dvc --version` only).
 */
export function dvcEnv(home?: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // No AWS_* variable of the developer's reaches DVC: remote tests pass their own credentials in `extra`.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
  );
  return {
    ...inherited,
    DVC_NO_ANALYTICS: '1',
    DVC_STUDIO_OFFLINE: '1',
    // DVC_IGNORE_ISATTY: no progress bars or pager even if the test runs in a terminal.
    DVC_IGNORE_ISATTY: 'true',
    ...(home
      ? {
          DVC_SITE_CACHE_DIR: path.join(home, 'site-cache'),
          DVC_GLOBAL_CONFIG_DIR: path.join(home, 'global-config'),
          DVC_SYSTEM_CONFIG_DIR: path.join(home, 'system-config'),
        }
      : {}),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** What a command printed and how it ended. */
export interface CommandResult {
  /** Exit code, or null when it did not exit by itself (see `ended`). */
  status: number | null;
  /** How it ended, for messages: "exit 0", "killed after the 120000 ms timeout", "cannot start: ENOENT". */
  ended: string;
  stdout: string;
  stderr: string;
  /** Wall time (ms). */
  ms: number;
}

/**
 * Runs `command args` in `cwd` in a process group of its own, capturing stdout and stderr (UTF-8). On
 * timeout the whole group is killed (SIGKILL): DVC's stage commands (node) do not outlive it.
 * @param options.timeoutMs default 120000 ms.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }, timeoutMs);
    const finish = (status: number | null, ended: string) => {
      clearTimeout(timer);
      resolve({ status, ended, stdout, stderr, ms: Math.round(performance.now() - started) });
    };
    child.once('error', (error) => finish(null, `cannot start: ${error.message}`));
    child.once('close', (code, signal) => {
      if (timedOut) finish(null, `killed after the ${timeoutMs} ms timeout`);
      else finish(code, code === null ? `killed by ${signal}` : `exit ${code}`);
    });
  });
}

/** Thrown by {@link RepoCopy.dvc} and {@link RepoCopy.git} when the command does not exit 0. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(
      `${command}: ${result.ended} after ${result.ms} ms\n--- stdout\n${result.stdout.slice(-8000)}\n--- stderr\n${result.stderr.slice(-8000)}`,
    );
  }
}

/** A temporary copy of the repository with its own git repository. */
export interface RepoCopy {
  /** The copy's root folder (inside {@link RepoCopy.home}). */
  root: string;
  /** The temporary folder holding the copy and DVC's private folders; removed by cleanup. */
  home: string;
  /**
   * Runs `dvc args` in the copy with {@link dvcEnv} plus `env`.
   * @param options.allowFailure return a failed result instead of throwing.
   * @throws CommandFailedError when it exits non-zero (unless allowFailure) or times out.
   */
  dvc(
    args: readonly string[],
    options?: { env?: Record<string, string>; timeoutMs?: number; allowFailure?: boolean },
  ): Promise<CommandResult>;
  /**
   * Runs `git args` in the copy (author and committer fixed).
   * @throws CommandFailedError when it exits non-zero.
   */
  git(args: readonly string[]): Promise<CommandResult>;
  /** Removes the copy and everything DVC kept for it. */
  cleanup(): Promise<void>;
}

/** Author and committer of the copies' commits (no global git identity needed). */
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'dvc test',
  GIT_AUTHOR_EMAIL: 'dvc-test@example.invalid',
  GIT_COMMITTER_NAME: 'dvc test',
  GIT_COMMITTER_EMAIL: 'dvc-test@example.invalid',
};

/** Runs git in `cwd` without the developer's global or system git config. */
async function git(cwd: string, args: readonly string[]): Promise<CommandResult> {
  const result = await runCommand('git', ['-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: { ...process.env, ...GIT_IDENTITY, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    timeoutMs: 60_000,
  });
  if (result.status !== 0) throw new CommandFailedError(`git ${args.join(' ')}`, result);
  return result;
}

/**
 * The repository's files as git would commit them from the working tree: tracked files that still
 * exist plus untracked files that are not ignored (repo-relative paths, sorted).
 */
export async function repositoryFiles(): Promise<string[]> {
  const listed = await git(REPO_ROOT, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  const files = [...new Set(listed.stdout.split('\0').filter(Boolean))].sort();
  return files.filter((file) => existsSync(path.join(REPO_ROOT, file)));
}

/** True when `target` is `dir` or inside it. */
function inside(target: string, dir: string): boolean {
  const relative = path.relative(dir, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Links the installed packages of `source` (a node_modules folder of the repository) into `dest`: every
 * package is a symlink to the installed one, except the workspace packages (npm's links into the
 * repository, e.g. `@restaurant-sentiment/lib-ml -> ../../lib-ml`), which are recreated with the same
 * relative target so that the copy runs its own lib-ml, not the repository's.
 */
async function linkNodeModules(source: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const linkOne = async (from: string, to: string): Promise<void> => {
    const info = await lstat(from);
    if (info.isSymbolicLink()) {
      const target = await readlink(from);
      const resolved = path.resolve(path.dirname(from), target);
      if (
        !path.isAbsolute(target) &&
        inside(resolved, REPO_ROOT) &&
        !inside(resolved, path.join(REPO_ROOT, 'node_modules'))
      ) {
        await symlink(target, to);
        return;
      }
    }
    await symlink(from, to);
  };
  for (const entry of await readdir(source)) {
    const from = path.join(source, entry);
    if (entry.startsWith('@') && (await lstat(from)).isDirectory()) {
      await mkdir(path.join(dest, entry));
      for (const child of await readdir(from))
        await linkOne(path.join(from, child), path.join(dest, entry, child));
    } else {
      await linkOne(from, path.join(dest, entry));
    }
  }
}

/** The workspace folders of the root package.json that have a node_modules folder of their own. */
async function workspaceNodeModules(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    workspaces?: string[];
  };
  return (pkg.workspaces ?? []).filter((ws) => existsSync(path.join(REPO_ROOT, ws, 'node_modules')));
}

/** Attaches the dvc/git runners and cleanup to a copy's folders. */
function repoCopy(root: string, home: string): RepoCopy {
  return {
    root,
    home,
    async dvc(args, options = {}) {
      const result = await runCommand(DVC, args, {
        cwd: root,
        env: dvcEnv(home, options.env),
        timeoutMs: options.timeoutMs ?? 180_000,
      });
      if (result.status !== 0 && !(options.allowFailure && result.status !== null)) {
        throw new CommandFailedError(`dvc ${args.join(' ')}`, result);
      }
      return result;
    },
    git: (args) => git(root, args),
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

/**
 * Links the repository's installed node_modules folders (the root one and the workspaces' own) into the
 * copy or clone at `root`; see linkNodeModules.
 */
export async function linkInstalledPackages(root: string): Promise<void> {
  await linkNodeModules(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  for (const ws of await workspaceNodeModules()) {
    await linkNodeModules(path.join(REPO_ROOT, ws, 'node_modules'), path.join(root, ws, 'node_modules'));
  }
}

/**
 * Copies the repository into a new temporary folder (see {@link repositoryFiles}), links node_modules,
 * applies `params` to params.yaml (comments kept), and commits everything in a new git repository.
 * @param params dotted params.yaml keys and their values, e.g. `{ 'evaluate.folds': 2 }`.
 * @throws Error when a key of `params` is not in params.yaml (a renamed param must not be ignored).
 */
export async function copyRepository(params: Record<string, unknown> = {}): Promise<RepoCopy> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'rs-dvc-'));
  const root = path.join(home, 'repo');
  const copy = repoCopy(root, home);
  try {
    for (const file of await repositoryFiles()) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await copyFile(path.join(REPO_ROOT, file), path.join(root, file));
    }
    await linkInstalledPackages(root);
    await setParams(root, params);
    await git(root, ['init', '--quiet', '--initial-branch=main']);
    await git(root, ['add', '--all']);
    await git(root, ['commit', '--quiet', '--message', 'copy of the working tree']);
    return copy;
  } catch (error) {
    await copy.cleanup();
    throw error;
  }
}

/**
 * Sets dotted keys of `root`/params.yaml, keeping its comments and layout.
 * @throws Error naming a key that params.yaml does not have.
 */
export async function setParams(root: string, params: Record<string, unknown>): Promise<void> {
  if (Object.keys(params).length === 0) return;
  const file = path.join(root, 'params.yaml');
  const doc = YAML.parseDocument(await readFile(file, 'utf8'));
  for (const [key, value] of Object.entries(params)) {
    const keyPath = key.split('.');
    if (!doc.hasIn(keyPath)) throw new Error(`params.yaml has no ${key}`);
    doc.setIn(keyPath, value);
  }
  await writeFile(file, doc.toString());
}

/**
 * Clones the copy at `source` (git clone, so only what git tracks) into a new temporary folder and links
 * node_modules into it; DVC outputs are not there until `dvc pull`.
 */
export async function cloneRepository(source: RepoCopy): Promise<RepoCopy> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'rs-dvc-clone-'));
  const root = path.join(home, 'repo');
  const clone = repoCopy(root, home);
  try {
    await git(home, ['clone', '--quiet', source.root, root]);
    await linkInstalledPackages(root);
    return clone;
  } catch (error) {
    await clone.cleanup();
    throw error;
  }
}

/** The stages `dvc repro` / `dvc exp run` ran, in order, from their "Running stage 'name':" lines. */
export function stagesRun(output: string): string[] {
  return [...output.matchAll(/^Running stage '([^']+)':$/gm)].map((m) => m[1]);
}

/**
 * Every file under the repo-relative `paths` of `root` (files or folders, recursively), as repo-relative
 * paths mapped to their bytes; missing paths give no entries.
 */
export async function readOutputs(root: string, paths: readonly string[]): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const visit = async (relative: string): Promise<void> => {
    const absolute = path.join(root, relative);
    const info = await lstat(absolute).catch(() => null);
    if (!info) return;
    if (info.isDirectory()) {
      for (const entry of (await readdir(absolute)).sort()) await visit(path.posix.join(relative, entry));
    } else {
      files.set(relative, await readFile(absolute));
    }
  };
  for (const p of paths) await visit(p);
  return files;
}

/** The `outs`, `metrics` and `plots` paths of every stage in `root`/dvc.lock. */
export async function lockedOutputs(root: string): Promise<string[]> {
  const lock = YAML.parse(await readFile(path.join(root, 'dvc.lock'), 'utf8')) as {
    stages: Record<string, { outs?: { path: string }[] }>;
  };
  return Object.values(lock.stages).flatMap((stage) => (stage.outs ?? []).map((out) => out.path));
}
