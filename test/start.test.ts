/**
 * `npm start` (scripts/start.ts) on a prebuilt model release in a temporary MODEL_REGISTRY_DIR, on free
 * ports: what it prints, where the services' logs go, and that SIGTERM / SIGHUP to the PID a user or a
 * supervisor has (npm's, tsx's or node's) stops model-service and the app and frees their ports.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeTestRelease } from '../model-service/test/support/bundle.js';
import { publishRegistryDir } from '../pipeline/src/stages/publish.js';
import { LOG_TAIL_LINES, LogFile } from '../scripts/start/processes.js';
import { browserUrl, displayDir, displayFile, formatDuration, Progress } from '../scripts/start/progress.js';
import { formatHeadlineMetrics, stageErrorReason } from '../scripts/start/training.js';
import {
  commandLine,
  descendants,
  launch,
  normalizeStartOutput,
  portFree,
  ROOT,
  waitGone,
  type Launched,
} from './support/start.js';

let tmp: string;
let registry: string;
let env: Record<string, string>;
const launched: Launched[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rs-start-'));
  registry = path.join(tmp, 'registry');
  await writeTestRelease(registry, '1.3.0');
  env = {
    MODEL_REGISTRY_DIR: registry,
    FEEDBACK_DIR: path.join(tmp, 'feedback'),
    APP_PORT: '0',
    MODEL_SERVICE_PORT: '0',
    LOG_LEVEL: 'info',
  };
});

afterAll(async () => {
  // Anything a failed test left running: SIGTERM lets start.ts stop its services.
  for (const l of launched) l.child.kill('SIGTERM');
  await Promise.all(launched.map((l) => Promise.race([l.exited, new Promise((r) => setTimeout(r, 20_000))])));
  await rm(tmp, { recursive: true, force: true });
});

/**
 * Starts `command args`, waits until both services are up, sends `signal` to that process and returns
 * what it printed, its exit, and what was left running or listening afterwards.
 */
async function startAndSignal(
  command: string,
  args: string[],
  signal: NodeJS.Signals,
  logDir: string,
  extraEnv: Record<string, string> = {},
) {
  const run = launch(command, args, { ...env, START_LOG_DIR: logDir, ...extraEnv });
  launched.push(run);
  const { appUrl, modelServiceUrl } = await run.running;
  const tree = descendants(run.child.pid!);
  const services = tree.map(commandLine).filter((command) => command.endsWith('dist/main.js'));
  run.child.kill(signal);
  const exit = await run.exited;
  const left = await waitGone(tree, 20_000);
  const leftCommands = left.map(commandLine);
  for (const pid of left) process.kill(pid, 'SIGKILL'); // do not leak them when the test fails
  await Promise.race([run.closed, new Promise((r) => setTimeout(r, 2_000))]); // the last output
  const ports = [new URL(appUrl).port, new URL(modelServiceUrl).port].map(Number);
  return {
    output: run.output(),
    exit,
    services,
    left: leftCommands,
    portsFree: await Promise.all(ports.map(portFree)),
  };
}

/** What the tests expect `npm start` to print when a release exists (normalized). */
function expectedOutput(logDir: string): string {
  return [
    `Found model-v1.3.0 in ${registry}/ (no training needed)`,
    'Building model-service and the app … done in N s',
    'Starting model-service … ready in N s (model-v1.3.0)',
    'Starting the app … ready in N s',
    '',
    'Restaurant Sentiment is running: http://localhost:PORT',
    '  model-service http://127.0.0.1:PORT (model model-v1.3.0, API docs http://127.0.0.1:PORT/docs)',
    `  logs: ${logDir}/model-service.log, ${logDir}/app.log`,
    '  Ctrl-C stops both.',
  ].join('\n');
}

const SERVICES = [
  expect.stringMatching(/model-service\/dist\/main\.js$/),
  expect.stringMatching(/app\/dist\/main\.js$/),
];

describe('npm start', () => {
  it('SIGTERM to the PID of `npm start` stops both services and frees their ports', async () => {
    const logDir = path.join(tmp, 'logs-npm');
    const result = await startAndSignal('npm', ['start', '--silent'], 'SIGTERM', logDir);
    expect(result.services).toEqual(SERVICES);
    expect(result.left).toEqual([]);
    expect(result.portsFree).toEqual([true, true]);
    expect(result.exit).toBe(0);
    // A short summary, no JSON log lines on the terminal; they are in the log files.
    expect(normalizeStartOutput(result.output)).toBe(
      `${expectedOutput(logDir)}\nStopping (SIGTERM) … done\n`,
    );
    const serviceLog = (await readFile(path.join(logDir, 'model-service.log'), 'utf8')).trim().split('\n');
    expect(JSON.parse(serviceLog[0])).toMatchObject({ level: 30, service: 'model-service' });
    expect(serviceLog.every((line) => line.startsWith('{') || line.startsWith('model-service ready'))).toBe(
      true,
    );
  });

  it('SIGHUP to the PID of `npm start` (npm does not forward it) still stops both services', async () => {
    const logDir = path.join(tmp, 'logs-npm-hup');
    const result = await startAndSignal('npm', ['start', '--silent'], 'SIGHUP', logDir);
    expect(result.services).toEqual(SERVICES);
    // npm itself dies of the SIGHUP; start.ts notices it was orphaned and stops what it started.
    expect(result.left).toEqual([]);
    expect(result.portsFree).toEqual([true, true]);
  });

  it('SIGTERM to the PID of `tsx scripts/start.ts` (tsx relays it to node) stops both services', async () => {
    const logDir = path.join(tmp, 'logs-tsx');
    const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
    const result = await startAndSignal(tsx, ['scripts/start.ts'], 'SIGTERM', logDir);
    expect(result.services).toEqual(SERVICES);
    expect(result.left).toEqual([]);
    expect(result.portsFree).toEqual([true, true]);
    expect(result.output).toContain('Stopping (SIGTERM) … done\n');
  });

  it('SIGHUP (terminal closed) to the node process stops both services; --logs shows the logs too', async () => {
    const logDir = path.join(tmp, 'logs-node');
    const result = await startAndSignal(
      process.execPath,
      ['--import', 'tsx', 'scripts/start.ts', '--logs'],
      'SIGHUP',
      logDir,
    );
    expect(result.services).toEqual(SERVICES);
    expect(result.left).toEqual([]);
    expect(result.portsFree).toEqual([true, true]);
    expect(result.exit).toBe(0);
    const jsonLines = result.output.split('\n').filter((line) => line.startsWith('{"level":'));
    expect(jsonLines.map((line) => JSON.parse(line).service)).toEqual(
      expect.arrayContaining(['model-service', 'app']),
    );
    // With logs on the terminal, each step's outcome repeats its label.
    expect(normalizeStartOutput(result.output)).toContain(
      'Starting model-service … ready in N s (model-v1.3.0)\n',
    );
  });

  it('a service that cannot start: the last lines of its log, exit 1, nothing left running', async () => {
    const logDir = path.join(tmp, 'logs-fail');
    const run = launch(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      ...env,
      START_LOG_DIR: logDir,
      MODEL_VERSION: '9.9.9',
    });
    launched.push(run);
    expect(await run.exited).toBe(1);
    await run.closed;
    const lines = normalizeStartOutput(run.output()).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      `Found model-v1.3.0 in ${registry}/ (no training needed)`,
      'Building model-service and the app … done in N s',
      'Starting model-service … failed (exit code 1)',
      `    last lines of ${logDir}/model-service.log:`,
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {4}model-service: cannot load a model: .*9\.9\.9 not found \(available: 1\.3\.0\)/,
      ),
    );
    expect(existsSync(path.join(logDir, 'app.log'))).toBe(false); // the app was never started
    expect(descendants(run.child.pid!)).toEqual([]);
  });

  it('a service that stops on its own: says so with its log, stops the other, exit 1', async () => {
    const logDir = path.join(tmp, 'logs-crash');
    const run = launch(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      ...env,
      START_LOG_DIR: logDir,
    });
    launched.push(run);
    await run.running;
    const tree = descendants(run.child.pid!);
    const appPid = tree.find((pid) => commandLine(pid).endsWith('app/dist/main.js'))!;
    process.kill(appPid, 'SIGKILL');
    expect(await run.exited).toBe(1);
    await run.closed;
    expect(await waitGone(tree, 20_000)).toEqual([]);
    // The tail printed is exactly the last lines of the app's log file, however many it wrote before
    // the kill (its "app ready on <url>" line and pino JSON lines, in the order they arrived).
    const logLines = (await readFile(path.join(logDir, 'app.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(logLines.some((line) => /^app ready on http:\/\/127\.0\.0\.1:\d+$/.test(line))).toBe(true);
    expect(run.output()).toContain(
      `  Ctrl-C stops both.\n\napp stopped on its own (killed by SIGKILL); stopping the rest.\n` +
        `    last lines of ${logDir}/app.log:\n` +
        logLines
          .slice(-LOG_TAIL_LINES)
          .map((line) => `    ${line}\n`)
          .join(''),
    );
  });

  it('rejects an unknown option with the usage and exit 2', async () => {
    const run = launch(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--verbose'], env);
    expect(await run.exited).toBe(2);
    await run.closed;
    expect(run.output()).toBe(
      "start: Unknown option '--verbose'\n" +
        'usage: npm start [-- --logs]   (--logs: also print the services’ logs here)\n',
    );
  });
});

describe("npm start's output helpers", () => {
  it('formats durations, folders and the browser URL', () => {
    expect([400, 9_949, 9_950, 18_400].map(formatDuration)).toEqual(['0.4 s', '9.9 s', '10 s', '18 s']);
    expect(displayDir('/repo', '/repo/releases')).toBe('releases/');
    expect(displayDir('/repo', '/tmp/registry/')).toBe('/tmp/registry/');
    expect(displayDir('/repo', '/repo-other/releases')).toBe('/repo-other/releases/');
    expect(displayFile('/repo', '/repo/.cache/start/app.log')).toBe('.cache/start/app.log');
    expect(
      ['http://127.0.0.1:8080', 'http://0.0.0.0:8080/', 'http://[::]:80', 'http://app.local:81'].map(
        browserUrl,
      ),
    ).toEqual(['http://localhost:8080', 'http://localhost:8080', 'http://localhost', 'http://app.local:81']);
  });

  it('stageErrorReason finds the reason a stage printed', () => {
    const lines = [
      '{"level":30,"msg":"evaluated"}',
      '',
      'evaluate: error: gate failed: test accuracy 0.888268 is below evaluate.min_accuracy 0.99; the model is not published',
    ];
    expect(stageErrorReason('evaluate', lines)).toBe(
      'gate failed: test accuracy 0.888268 is below evaluate.min_accuracy 0.99; the model is not published',
    );
    expect(stageErrorReason('train', lines)).toBeUndefined();
    expect(stageErrorReason('evaluate', ['{"level":50}'])).toBeUndefined();
  });

  it('formats the headline metrics, leaving out what metrics.json lacks', () => {
    expect(
      formatHeadlineMetrics({ accuracy: 0.8883, balancedAccuracy: 0.88651, majorityBaseline: 0.553 }),
    ).toBe('held-out accuracy 0.888 (balanced 0.887, majority baseline 0.553)');
    expect(formatHeadlineMetrics({ accuracy: 0.9, balancedAccuracy: null, majorityBaseline: null })).toBe(
      'held-out accuracy 0.900',
    );
  });

  it('prints a step on one line, or repeats its label when logs share the terminal', () => {
    const written: string[] = [];
    const out = { write: (text: string) => written.push(text) } as unknown as NodeJS.WritableStream;
    const inline = new Progress(out);
    inline.begin('Starting the app').done('ready in 0.6 s');
    const failing = inline.begin('Building');
    inline.line('interrupted'); // e.g. a service stopping on its own
    failing.fail('failed (exit code 1)', ['last lines of build.log:', 'boom']);
    new Progress(out, false).begin('Starting model-service').done('ready');
    expect(written.join('')).toBe(
      'Starting the app … ready in 0.6 s\n' +
        'Building … \ninterrupted\nBuilding … failed (exit code 1)\n    last lines of build.log:\n    boom\n' +
        'Starting model-service …\nStarting model-service … ready\n',
    );
  });

  it('keeps the last lines of a log, split across chunks, and writes all of it to the file', async () => {
    const file = path.join(tmp, 'logfile-test/a.log');
    const log = new LogFile(file, null, 3);
    log.write(Buffer.from('one\ntwo\nthr'), 'stdout');
    log.write(Buffer.from('ee\n\nfour\nfi'), 'stderr');
    expect(log.tail()).toEqual(['three', 'four', 'fi']);
    await log.close();
    expect(await readFile(file, 'utf8')).toBe('one\ntwo\nthree\n\nfour\nfi');
  });

  it("publishes where npm start says: PUBLISH_REGISTRY_DIR overrides params' publish.registry_dir", () => {
    const ctx = { root: '/repo', params: { publish: { registry_dir: 'releases' } } } as never;
    expect(publishRegistryDir(ctx, {})).toBe('/repo/releases');
    expect(publishRegistryDir(ctx, { PUBLISH_REGISTRY_DIR: '' })).toBe('/repo/releases');
    expect(publishRegistryDir(ctx, { PUBLISH_REGISTRY_DIR: '/tmp/registry' })).toBe('/tmp/registry');
    expect(publishRegistryDir(ctx, { PUBLISH_REGISTRY_DIR: 'elsewhere' })).toBe('/repo/elsewhere');
  });
});
