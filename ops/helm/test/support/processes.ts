/**
 * Real processes for the monitoring tests: each in a process group of its own (`detached`), so that
 * stopping it stops whatever it started too, and stopped for sure when the test file ends, even when a
 * test failed half-way. Servers listen on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

const require = createRequire(import.meta.url);
/** tsx's loader, for running the services from their TypeScript sources. */
const TSX = pathToFileURL(require.resolve('tsx')).href;

/** Most output kept per process (characters), for error messages. */
const OUTPUT_LIMIT = 64 * 1024;

/** A started process. */
export interface Started {
  name: string;
  child: ChildProcess;
  /** Its stdout and stderr so far (the last {@link OUTPUT_LIMIT} characters). */
  output(): string;
  /** Resolves with the exit code, or the signal name, once it has exited. */
  exited: Promise<number | string>;
}

const running = new Set<Started>();

/** Sends `signal` to the process group of `child` (its pid: it was spawned `detached`). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

// Last resort when the test process exits without afterAll (a crash): SIGKILL every group still running.
process.once('exit', () => {
  for (const started of running) signalGroup(started.child, 'SIGKILL');
});

/**
 * Spawns `command args` in a process group of its own, capturing stdout and stderr.
 * @param env added to the test's environment.
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Started {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const append = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT));
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => resolve(`spawn error: ${error.message}`));
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const started: Started = { name, child, output: () => output, exited };
  running.add(started);
  void exited.then(() => running.delete(started));
  return started;
}

/**
 * Stops a process group: SIGTERM, then SIGKILL after `graceMs` (ms) if it has not exited.
 * @returns how it exited (code or signal name).
 */
export async function stopProcess(started: Started, graceMs = 5000): Promise<number | string> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return started.exited;
  signalGroup(started.child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(started.child, 'SIGKILL'), graceMs);
  try {
    return await started.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every process {@link startProcess} started that is still running (all at once). */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...running].map((started) => stopProcess(started, graceMs)));
}

/**
 * Resolves with the first match of `pattern` in what `started` prints; rejects when it exits first or
 * after `timeoutMs` (ms), with its output in the message.
 */
export function waitForOutput(
  started: Started,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(started.output());
      if (match) {
        done();
        resolve(match);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${started.name} printed no ${pattern} within ${timeoutMs} ms:\n${started.output()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      started.child.stdout!.off('data', check);
      started.child.stderr!.off('data', check);
    };
    started.child.stdout!.on('data', check);
    started.child.stderr!.on('data', check);
    void started.exited.then((how) => {
      done();
      reject(new Error(`${started.name} exited (${how}) before printing ${pattern}:\n${started.output()}`));
    });
    check();
  });
}

/**
 * Starts a service workspace (`model-service` or `app`) from its sources with tsx, on 127.0.0.1 and a
 * port of the system's choosing, and waits for its "<name> ready on <url>" line.
 * @param env the service's variables (PORT, HOST and LOG_LEVEL are set here).
 * @returns the process and its base URL (`http://127.0.0.1:<port>`).
 * @throws Error with the service's output when it exits or is not ready within `timeoutMs` (ms).
 */
export async function startService(
  name: string,
  workspace: 'app' | 'model-service',
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ process: Started; url: string }> {
  const started = startProcess(name, process.execPath, ['--import', TSX, `${workspace}/src/main.ts`], {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const match = await waitForOutput(started, /ready on (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs);
  return { process: started, url: match[1] };
}

/** A TCP port free on 127.0.0.1 right now (found by listening on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
