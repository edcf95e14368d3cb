/**
 * `npm start`'s services: bundling model-service and the app (esbuild, scripts/build-service.mjs), and
 * starting a bundle and waiting for the "<name> ready on <url>" line it prints.
 */
import path from 'node:path';
import { describeExit, type Exit, type LogFile, type Supervisor, type Supervised } from './processes.js';

/** Node flags the services run with (as their own `npm start`). */
export const SERVICE_FLAGS = ['--max-old-space-size=160', '--enable-source-maps'];

/** A process that ended before it did what was expected of it. */
export class ProcessFailedError extends Error {
  constructor(
    readonly processName: string,
    readonly exit: Exit,
    readonly log: LogFile,
  ) {
    super(`${processName} failed (${describeExit(exit)})`);
    this.name = 'ProcessFailedError';
  }
}

/**
 * Bundles each workspace into `<root>/<workspace>/dist/main.js`, all at once; output goes to `log`.
 * @throws ProcessFailedError for the first build that fails.
 */
export async function buildServices(
  root: string,
  workspaces: readonly string[],
  processes: Supervisor,
  log: LogFile,
): Promise<void> {
  const builds = workspaces.map((workspace) =>
    processes.spawn(`build ${workspace}`, process.execPath, ['scripts/build-service.mjs', workspace], {
      cwd: root,
      log,
    }),
  );
  for (const build of builds) {
    const exit = await build.exited;
    if (exit.code !== 0) throw new ProcessFailedError(build.name, exit, log);
  }
}

/** A service being started. */
export interface Service extends Supervised {
  /** Resolves with the URL from the service's "ready on <url>" line. */
  ready: Promise<string>;
}

/**
 * Starts `<root>/<workspace>/dist/main.js` with {@link SERVICE_FLAGS}, the environment plus `env`, and
 * its output going to `log`.
 * The returned `ready` rejects with ProcessFailedError when the service exits before printing its
 * "ready on <url>" line.
 */
export function startService(
  root: string,
  workspace: string,
  env: Record<string, string>,
  processes: Supervisor,
  log: LogFile,
): Service {
  const cwd = path.join(root, workspace);
  let seen = '';
  let found = false;
  let onUrl: (url: string) => void = () => {};
  const urlSeen = new Promise<string>((resolve) => (onUrl = resolve));
  const supervised = processes.spawn(
    workspace,
    process.execPath,
    [...SERVICE_FLAGS, path.join(cwd, 'dist/main.js')],
    {
      cwd,
      env: { ...process.env, ...env },
      log,
      onStdout: (text) => {
        if (found) return;
        seen = (seen + text).slice(-8192);
        const match = /ready on (http:\/\/\S+)/.exec(seen);
        if (match) {
          found = true;
          onUrl(match[1]);
        }
      },
    },
  );
  const ready = Promise.race([
    urlSeen,
    supervised.exited.then((exit) => Promise.reject(new ProcessFailedError(workspace, exit, log))),
  ]);
  ready.catch(() => {}); // handled by whoever awaits it
  return { ...supervised, ready };
}
