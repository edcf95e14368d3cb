/**
 * Running `npm start` (scripts/start.ts) in tests: launching it the way a user does, reading what it
 * prints, and checking from /proc that it left no process and no port behind. Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The URLs `npm start` printed once both services were up. */
export interface Running {
  appUrl: string;
  modelServiceUrl: string;
  /** Everything printed on stdout and stderr until then. */
  output: string;
}

/** A launched `npm start`. */
export interface Launched {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves once the "Ctrl-C stops both." line is printed; rejects if the process exits first. */
  running: Promise<Running>;
  /** Resolves with the exit code (or the signal name) when the process has exited. */
  exited: Promise<number | string>;
  /** Resolves when its stdout and stderr are closed (by it and by every process that inherited them). */
  closed: Promise<void>;
}

const RUNNING =
  /Restaurant Sentiment is running: (http:\/\/\S+)\n\s+model-service (http:\/\/\S+)[^]*Ctrl-C stops both\.\n/;

/** Spawns `command args` in `cwd` with the environment plus `env`, capturing what it prints. */
export function launch(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd = ROOT,
): Launched {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => (output += chunk.toString('utf8'));
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const running = new Promise<Running>((resolve, reject) => {
    const check = () => {
      const match = RUNNING.exec(output);
      if (match) resolve({ appUrl: match[1], modelServiceUrl: match[2], output });
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) =>
      reject(new Error(`${command} ${args.join(' ')} exited (${code}):\n${output}`)),
    );
  });
  running.catch(() => {});
  return { child, output: () => output, running, exited, closed };
}

/** Parent pid of every process, from /proc/<pid>/stat; zombies are left out. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ")".
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') map.set(Number(name), Number(ppid));
    } catch {
      // exited meanwhile
    }
  }
  return map;
}

/** The pids of `pid`'s descendants (children, their children, …) that are alive now. */
export function descendants(pid: number): number[] {
  const map = parents();
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length) {
    const next = [...map].filter(([, ppid]) => frontier.includes(ppid)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** The command line of a process ("" when it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Which of `pids` are still alive (zombies count as gone). */
export function alive(pids: readonly number[]): number[] {
  const live = parents();
  return pids.filter((pid) => live.has(pid));
}

/** Polls until none of `pids` is alive or `timeoutMs` (ms) passes; returns those still alive. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pids).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return alive(pids);
}

/** True when nothing listens on 127.0.0.1:`port` (checked by listening on it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * What `npm start` prints, with the parts that differ between runs replaced: ports (":PORT"), durations
 * ("N s") and metric values ("0.NNN"), and the given paths by what the README shows for them.
 */
export function normalizeStartOutput(text: string, paths: Array<[from: string, to: string]> = []): string {
  let out = text;
  for (const [from, to] of paths) out = out.split(from).join(to);
  return out
    .replace(/(http:\/\/[\w.]+):\d+/g, '$1:PORT')
    .replace(/\b\d+(\.\d)? s\b/g, 'N s')
    .replace(/\b[01]\.\d{3}\b/g, '0.NNN');
}
