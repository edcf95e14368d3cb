/**
 * `npm start [-- --logs]`: the main job on the embedded default.
 *
 * 1. If the releases folder (MODEL_REGISTRY_DIR, else params.yaml publish.registry_dir) has no `model-v*`
 *    release, run the training pipeline (prepare → train → evaluate → publish), publishing into it.
 * 2. Bundle model-service and the app (esbuild), start model-service on that folder (MODEL_SERVICE_PORT,
 *    default 5001), wait until it is ready, then the app (APP_PORT, default 8080) pointed at it.
 * 3. Print the URLs. SIGINT (Ctrl-C), SIGTERM or SIGHUP stops every process it started (SIGKILL after
 *    15 s) and exits 0; if a step fails or a service exits on its own, it stops the rest and exits 1.
 *
 * The terminal gets one line per step; the processes' own output (JSON logs) goes to
 * START_LOG_DIR (default .cache/start/): pipeline.log, build.log, model-service.log, app.log, and to the
 * terminal too with `--logs`. A failing step shows the last lines of its log.
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatTag } from '@restaurant-sentiment/lib-version';
import { loadParams } from '../pipeline/src/params.js';
import { describeExit, LogFile, Supervisor, type Supervised } from './start/processes.js';
import {
  browserUrl,
  displayDir,
  displayFile,
  formatDuration,
  Progress,
  type Step,
} from './start/progress.js';
import { buildServices, ProcessFailedError, startService } from './start/services.js';
import {
  formatHeadlineMetrics,
  listReleases,
  readHeadlineMetrics,
  runTraining,
  StageFailedError,
  stageErrorReason,
} from './start/training.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm start [-- --logs]   (--logs: also print the services’ logs here)';
/** How long stopping waits for each process before SIGKILL (ms). */
const STOP_TIMEOUT_MS = 15_000;

/** Thrown after a step has printed why it failed: exit 1 without another message. */
class StepFailed extends Error {}

const processes = new Supervisor();
const logs: LogFile[] = [];
let stopping = false;
let progress = new Progress(process.stdout);

/** Stops every process started, closes the logs and exits with `code`; later calls do nothing. */
async function shutdown(code: number, announce?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const step = announce ? progress.begin(announce) : null;
  await processes.stopAll(STOP_TIMEOUT_MS);
  step?.done('done');
  // Bounded: a log file on a failing disk must not keep the process from exiting.
  await Promise.race([Promise.all(logs.map((log) => log.close())), delay(2_000)]);
  process.exit(code);
}

/** The lines shown under a failed step: where its log is and its last lines. */
function logTail(log: LogFile): string[] {
  const tail = log.tail();
  return [`last lines of ${displayFile(ROOT, log.file)}:`, ...(tail.length ? tail : ['(empty)'])];
}

/**
 * Runs `body` as a step: prints its outcome, or why it failed and throws StepFailed. While stopping, a
 * failure (the process was stopped) is not reported and the returned promise never settles.
 */
async function runStep<T>(
  label: string,
  body: () => Promise<T>,
  outcome: (value: T, step: Step) => string | Promise<string>,
): Promise<T> {
  const step = progress.begin(label);
  let value: T;
  try {
    value = await body();
  } catch (error) {
    if (stopping) return new Promise<never>(() => {});
    if (error instanceof StageFailedError) {
      const reason = stageErrorReason(error.stage, error.log.tail());
      step.fail(`failed in stage ${error.stage} (${reason ?? error.how})`, logTail(error.log));
    } else if (error instanceof ProcessFailedError)
      step.fail(`failed (${describeExit(error.exit)})`, logTail(error.log));
    else step.fail(`failed: ${error instanceof Error ? error.message : String(error)}`);
    throw new StepFailed();
  }
  step.done(await outcome(value, step));
  return value;
}

async function main(): Promise<void> {
  let options: { logs?: boolean; help?: boolean };
  try {
    options = parseArgs({
      options: { logs: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (error) {
    process.stderr.write(`start: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // A closed terminal must not take the orchestrator down before it has stopped the services.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(0, `Stopping (${signal})`));
  // npm forwards only SIGINT and SIGTERM: a SIGHUP (closed terminal) ends npm and leaves this process
  // orphaned. Reparenting is how that shows; treat it as the hang-up it was. (Checked every 500 ms.)
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown(0, 'Stopping (parent process gone)');
  }, 500).unref();

  progress = new Progress(process.stdout, !options.logs);
  const tee = options.logs ? { stdout: process.stdout, stderr: process.stderr } : null;
  const logDir = path.resolve(ROOT, process.env.START_LOG_DIR || '.cache/start');
  const openLog = (name: string) => {
    const log = new LogFile(path.join(logDir, `${name}.log`), tee);
    logs.push(log);
    return log;
  };

  const params = await loadParams(ROOT);
  const registryDir = path.resolve(ROOT, process.env.MODEL_REGISTRY_DIR || params.publish.registry_dir);
  const shownRegistry = displayDir(ROOT, registryDir);
  const releases = await listReleases(registryDir);
  if (releases.length === 0) {
    const log = openLog('pipeline');
    await runStep(
      `Training the model (no release in ${shownRegistry})`,
      async () => {
        await runTraining({ root: ROOT, registryDir, processes, log });
        if ((await listReleases(registryDir)).length === 0)
          throw new Error(`the pipeline published no release in ${shownRegistry}`);
        return readHeadlineMetrics(ROOT);
      },
      (metrics, step) => `done in ${formatDuration(step.elapsedMs())}: ${formatHeadlineMetrics(metrics)}`,
    );
  } else {
    const found =
      releases.length === 1
        ? `Found ${releases[0]} in ${shownRegistry}`
        : `Found ${releases.length} model releases in ${shownRegistry}, newest ${releases[0]}`;
    progress.line(`${found} (no training needed)`);
  }

  const buildLog = openLog('build');
  await runStep(
    'Building model-service and the app',
    () => buildServices(ROOT, ['model-service', 'app'], processes, buildLog),
    (_, step) => `done in ${formatDuration(step.elapsedMs())}`,
  );

  const modelServiceLog = openLog('model-service');
  let modelService!: Supervised;
  const { url: modelServiceUrl, model } = await runStep(
    'Starting model-service',
    async () => {
      const service = startService(
        ROOT,
        'model-service',
        {
          PORT: process.env.MODEL_SERVICE_PORT || '5001',
          HOST: process.env.MODEL_SERVICE_HOST || '127.0.0.1',
          MODEL_SOURCE: 'local',
          MODEL_REGISTRY_DIR: registryDir,
        },
        processes,
        modelServiceLog,
      );
      modelService = service;
      const url = await service.ready;
      // The version model-service actually serves (MODEL_VERSION may pick another than the newest).
      const version = (await (await fetch(`${url}/version`)).json()) as { model: string };
      return { url, model: formatTag('model', version.model) };
    },
    (value, step) => `ready in ${formatDuration(step.elapsedMs())} (${value.model})`,
  );

  const appLog = openLog('app');
  let app!: Supervised;
  const appUrl = await runStep(
    'Starting the app',
    () => {
      const service = startService(
        ROOT,
        'app',
        { PORT: process.env.APP_PORT || '8080', MODEL_SERVICE_URL: modelServiceUrl },
        processes,
        appLog,
      );
      app = service;
      return service.ready;
    },
    (_, step) => `ready in ${formatDuration(step.elapsedMs())}`,
  );

  for (const service of [modelService, app]) {
    void service.exited.then((exit) => {
      if (stopping) return;
      progress.line(
        [
          `\n${service.name} stopped on its own (${describeExit(exit)}); stopping the rest.`,
          ...logTail(service.log).map((line) => `    ${line}`),
        ].join('\n'),
      );
      void shutdown(1);
    });
  }
  process.stdout.write(
    `\nRestaurant Sentiment is running: ${browserUrl(appUrl)}\n` +
      `  model-service ${modelServiceUrl} (model ${model}, API docs ${modelServiceUrl}/docs)\n` +
      `  logs: ${displayFile(ROOT, modelServiceLog.file)}, ${displayFile(ROOT, appLog.file)}\n` +
      `  Ctrl-C stops both.\n`,
  );
}

main().catch(async (error: unknown) => {
  if (stopping) return;
  if (!(error instanceof StepFailed))
    process.stderr.write(`start: error: ${error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1); // never leave a process running after a failed start
});
