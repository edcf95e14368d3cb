/**
 * `npm start`: the main job on the embedded default.
 *
 * 1. If the local releases folder (params.yaml publish.registry_dir, or MODEL_REGISTRY_DIR) has no
 *    `model-v*` release, run the training pipeline (prepare → train → evaluate → publish).
 * 2. Bundle model-service and the app (esbuild) and start model-service on the local releases
 *    (MODEL_SERVICE_PORT, default 5001), wait until it is ready, then the app (APP_PORT, default 8080)
 *    pointed at it.
 * 3. Print the URL. Ctrl-C (SIGINT) or SIGTERM stops both cleanly; if either exits on its own, the other
 *    is stopped and `npm start` exits 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalRegistry } from '@restaurant-sentiment/lib-version';
import { pino } from 'pino';
import { loadParams } from '../pipeline/src/params.js';
import { runPipeline } from '../pipeline/src/runner/dvc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = pino({ base: { component: 'start' }, level: process.env.LOG_LEVEL ?? 'info' });
/** Node flags the services run with (as their own `npm start`). */
const SERVICE_FLAGS = ['--max-old-space-size=160', '--enable-source-maps'];

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${code}`)),
    );
  });
}

interface Service {
  name: string;
  child: ChildProcess;
  /** Resolves with the URL the service prints once ready ("... ready on <url> ..."). */
  ready: Promise<string>;
  exited: Promise<number | null>;
}

/** Starts a bundled service; its stdout is passed through, its "ready on" line awaited. */
function startService(name: string, entry: string, env: NodeJS.ProcessEnv): Service {
  const child = spawn(process.execPath, [...SERVICE_FLAGS, entry], {
    cwd: path.dirname(path.dirname(entry)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffer += chunk.toString();
      const match = /ready on (http:\/\/\S+)/.exec(buffer);
      if (match) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
  ready.catch(() => {});
  return { name, child, ready, exited };
}

/** Stops services with SIGTERM (SIGKILL after 15 s). */
async function stopAll(services: Service[]): Promise<void> {
  await Promise.all(
    services.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      s.child.kill('SIGTERM');
      const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
      await s.exited;
      clearTimeout(timer);
    }),
  );
}

/** Every service started so far (stopped on any failure). */
const started: Service[] = [];

async function main(): Promise<void> {
  const params = await loadParams(ROOT);
  const registry = path.resolve(ROOT, process.env.MODEL_REGISTRY_DIR ?? params.publish.registry_dir);
  const local = new LocalRegistry(registry);
  if ((await local.listVersions()).length === 0) {
    log.info({ registry }, 'no model release found: running the training pipeline');
    await runPipeline(ROOT, [], (stage) => log.info({ stage: stage.name }, 'stage'));
  }
  log.info({ registry, versions: await local.listVersions() }, 'model releases available');

  for (const workspace of ['model-service', 'app'])
    await run(process.execPath, ['scripts/build-service.mjs', workspace]);

  const services = started;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stopAll(services);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const modelService = startService('model-service', path.join(ROOT, 'model-service/dist/main.js'), {
    PORT: process.env.MODEL_SERVICE_PORT ?? '5001',
    HOST: process.env.MODEL_SERVICE_HOST ?? '127.0.0.1',
    MODEL_SOURCE: 'local',
    MODEL_REGISTRY_DIR: registry,
  });
  services.push(modelService);
  const modelServiceUrl = await modelService.ready;
  const app = startService('app', path.join(ROOT, 'app/dist/main.js'), {
    PORT: process.env.APP_PORT ?? '8080',
    MODEL_SERVICE_URL: modelServiceUrl,
  });
  services.push(app);
  const appUrl = await app.ready;
  const { model } = (await (await fetch(`${modelServiceUrl}/version`)).json()) as { model: string };
  for (const s of services) {
    void s.exited.then(async (code) => {
      if (stopping) return;
      log.error({ service: s.name, code }, 'a service stopped on its own; stopping the other');
      await shutdown(1);
    });
  }
  process.stdout.write(
    `\nRestaurant Sentiment is running: ${appUrl.replace('127.0.0.1', 'localhost')}\n` +
      `  model-service ${modelServiceUrl} (model ${model}, API docs ${modelServiceUrl}/docs)\n` +
      `  Ctrl-C stops both.\n`,
  );
}

main().catch(async (error: unknown) => {
  process.stderr.write(`start: error: ${error instanceof Error ? error.message : String(error)}\n`);
  await stopAll(started); // never leave a service running after a failed start
  process.exit(1);
});
