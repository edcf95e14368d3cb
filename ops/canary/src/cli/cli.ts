/**
 * `canary run | analyze | plan | serve`: parses the command line (node:util parseArgs), loads the
 * configuration with the flags on top, and runs the command against the implementations it is given
 * (real ones from wiring.ts, fakes in tests). A bad command line prints the usage and exits 2; a bad
 * configuration prints one line and exits 2.
 */
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { ConfigError, flagNumber, loadConfig, type ConfigOverride } from '../config/load.js';
import { resolveJudgeConfig, type CanaryConfig } from '../config/schema.js';
import { parseSince } from '../config/since.js';
import type { Annotations, Clock, JudgeFunction, LookSource, Routes, Target } from '../controller/ports.js';
import { EXIT, runCanary } from '../controller/run.js';
import { GrafanaAnnotations } from '../grafana/annotations.js';
import { Analyses } from '../http/analyses.js';
import { createServeApp } from '../http/app.js';
import { listen, type Listening } from '../http/listen.js';
import type { JudgeConfig } from '../judge/types.js';
import { CanaryMetrics } from '../metrics/metrics.js';
import { createMetricsApp } from '../metrics/server.js';
import { planSampleSizes, renderPlan, type SampleSize } from '../report/plan.js';
import { renderJson, renderMarkdown, renderText } from '../report/render.js';
import { COMMAND_OPTIONS, COMMANDS, COMMON_FLAGS, USAGE, type Command } from './usage.js';

/** Where the CLI writes, what it reads from the environment, and what stops it. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Aborting stops `run` between looks (exit 130) and stops `serve` (exit 0). */
  signal?: AbortSignal;
}

/** Prometheus and Kubernetes, built from the configuration. */
export interface Connections {
  looks: LookSource;
  /**
   * The VirtualService; built on first use (a command that is given the versions and the weight never
   * needs Kubernetes).
   * @throws ConfigError when no Kubernetes credentials can be found.
   */
  routes(): Routes;
}

/** The implementations the commands use. */
export interface CliDependencies {
  connect(config: CanaryConfig, log: Logger): Connections;
  judge: JudgeFunction;
  defaultJudgeConfig: JudgeConfig;
  sampleSize: SampleSize;
  clock: Clock;
  /** Default: pino on stderr at LOG_LEVEL (info for run and serve, warn otherwise). */
  log?: Logger;
  /** For Grafana (tests); default global fetch. */
  fetch?: typeof fetch;
}

/** A bad flag value: printed as one line, exit 2. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

interface Context {
  command: Command;
  values: Values;
  config: CanaryConfig;
  judgeConfig: JudgeConfig;
  io: CliIo;
  deps: CliDependencies;
  log: Logger;
}

/** parseArgs' message, first sentence only ("Unknown option '--x'"). */
function argsMessage(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return message.split(/\.\s/)[0].replace(/\.$/, '');
}

/** A percent flag, 0–100. */
function percentFlag(flag: string, text: string): number {
  const value = flagNumber(text);
  if (typeof value !== 'number' || value < 0 || value > 100) {
    throw new UsageError(`--${flag}: must be a number of percent, 0–100 (got "${text}")`);
  }
  return value;
}

/** A flag strictly between 0 and 1. */
function shareFlag(flag: string, text: string): number {
  const value = flagNumber(text);
  if (typeof value !== 'number' || value <= 0 || value >= 1) {
    const example = flag === 'power' ? '0.8' : '0.01';
    throw new UsageError(`--${flag}: must be a number between 0 and 1, e.g. ${example} (got "${text}")`);
  }
  return value;
}

/** A positive number of minutes. */
function minutesFlag(flag: string, text: string): number {
  const value = flagNumber(text);
  if (typeof value !== 'number' || value <= 0) {
    throw new UsageError(`--${flag}: must be a positive number of minutes (got "${text}")`);
  }
  return value;
}

/** Grafana annotations when configured; the token comes from the environment variable named. */
function annotationsOf(ctx: Context): Annotations | undefined {
  const grafana = ctx.config.grafana;
  if (!grafana) return undefined;
  const token = ctx.io.env[grafana.tokenEnv];
  if (!token) {
    throw new ConfigError(`grafana.tokenEnv: the environment variable ${grafana.tokenEnv} is not set`);
  }
  return new GrafanaAnnotations({
    url: grafana.url,
    token,
    dashboardUid: grafana.dashboardUid,
    log: ctx.log,
    fetch: ctx.deps.fetch,
  });
}

/**
 * The target with its versions, and the canary weight: flags and configuration first, the VirtualService
 * for what they leave open.
 */
async function resolveTarget(
  ctx: Context,
  connections: Connections,
  weightFlag: number | undefined,
): Promise<{ target: Target; weight: number }> {
  const { config } = ctx;
  let { stableVersion, canaryVersion } = config.target;
  let weight = weightFlag;
  if (stableVersion === undefined || canaryVersion === undefined || weight === undefined) {
    const routes = await connections.routes().read();
    stableVersion ??= routes.stableVersion;
    canaryVersion ??= routes.canaryVersion;
    weight ??= routes.canaryWeight;
  }
  const target: Target = {
    namespace: config.kubernetes.namespace,
    stableVersion,
    canaryVersion,
    component: config.target.component,
    source: config.target.source,
  };
  return { target, weight };
}

async function runCommand(ctx: Context): Promise<number> {
  const { config, values, io, deps, log } = ctx;
  if (values['dry-run'] && values['helm-values'])
    throw new UsageError('--dry-run and --helm-values: choose one');
  const connections = deps.connect(config, log);
  const routes = connections.routes();
  const metrics = new CanaryMetrics(config.kubernetes);
  const annotations = annotationsOf(ctx);
  let server: Listening | undefined;
  if (config.metrics) {
    server = await listen(createMetricsApp(metrics), config.metrics.port, config.metrics.host);
    log.info({ url: `${server.url}/metrics` }, 'metrics');
  }
  try {
    const result = await runCanary(
      {
        target: { namespace: config.kubernetes.namespace, ...config.target },
        steps: config.steps,
        intervalMs: config.interval * 1000,
        stepDeadlineMs: config.stepDeadline * 1000,
        onDeadline: config.onDeadline,
        judgeConfig: ctx.judgeConfig,
        mode: values['dry-run'] ? 'dry-run' : values['helm-values'] ? 'helm-values' : 'write',
        routesName: `VirtualService ${config.kubernetes.namespace}/${config.kubernetes.virtualService}`,
      },
      {
        looks: connections.looks,
        judge: deps.judge,
        routes,
        clock: deps.clock,
        metrics,
        annotations,
        log,
        print: (text) => io.stdout(`${text}\n`),
        signal: io.signal,
      },
    );
    return result.exitCode;
  } finally {
    await server?.close();
  }
}

async function analyzeCommand(ctx: Context): Promise<number> {
  const { values, io, deps } = ctx;
  if (values.json && values.markdown) throw new UsageError('--json and --markdown: choose one');
  const now = deps.clock.now();
  let start = now - 60 * 60_000;
  if (typeof values.since === 'string') {
    try {
      start = parseSince(values.since, now);
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
  }
  const weightFlag = typeof values.weight === 'string' ? percentFlag('weight', values.weight) : undefined;
  const connections = deps.connect(ctx.config, ctx.log);
  const { target, weight } = await resolveTarget(ctx, connections, weightFlag);
  const window = { start, end: now };
  const look = await connections.looks.read(target, window);
  const judgement = deps.judge({ ...look, canaryWeight: weight }, ctx.judgeConfig);
  const render = values.json ? renderJson : values.markdown ? renderMarkdown : renderText;
  io.stdout(render({ target, window, judgement }));
  return 0;
}

async function planCommand(ctx: Context): Promise<number> {
  const { values, io, deps, judgeConfig } = ctx;
  const mde =
    typeof values.mde === 'string'
      ? shareFlag('mde', values.mde)
      : judgeConfig.experiment.minimumDetectableEffect;
  const power =
    typeof values.power === 'string' ? shareFlag('power', values.power) : judgeConfig.experiment.power;
  const minutes = typeof values.window === 'string' ? minutesFlag('window', values.window) : 60;
  const weightFlag = typeof values.weight === 'string' ? percentFlag('weight', values.weight) : undefined;
  const connections = deps.connect(ctx.config, ctx.log);
  const { target, weight } = await resolveTarget(ctx, connections, weightFlag);
  const now = deps.clock.now();
  const windowMs = Math.round(minutes * 60_000);
  const look = await connections.looks.read(target, { start: now - windowMs, end: now });
  const input = {
    look: { ...look, canaryWeight: weight },
    windowMs,
    currentWeight: weight,
    steps: ctx.config.steps.filter((w) => w < 100),
    judgeConfig,
    minimumDetectableEffect: mde,
    power,
    sampleSize: deps.sampleSize,
  };
  io.stdout(renderPlan(input, planSampleSizes(input)));
  return 0;
}

async function serveCommand(ctx: Context): Promise<number> {
  const { config, io, deps, log } = ctx;
  const connections = deps.connect(config, log);
  const metrics = new CanaryMetrics(config.kubernetes);
  const analyses = new Analyses({
    looks: connections.looks,
    judge: deps.judge,
    judgeConfig: ctx.judgeConfig,
    target: { namespace: config.kubernetes.namespace, ...config.target },
    readRoutes: () => connections.routes().read(),
    metrics,
    now: () => deps.clock.now(),
    log,
  });
  const app = createServeApp({ analyses, metrics, now: () => deps.clock.now(), log });
  const server = await listen(app, config.metrics?.port ?? 9464, config.metrics?.host ?? '0.0.0.0');
  io.stdout(`canary serve: listening on ${server.url}\n`);
  log.info({ url: server.url }, 'listening');
  await new Promise<void>((resolve) => {
    if (!io.signal || io.signal.aborted) return resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  log.info('stopped');
  return 0;
}

const IMPLEMENTATIONS: Record<Command, (ctx: Context) => Promise<number>> = {
  run: runCommand,
  analyze: analyzeCommand,
  plan: planCommand,
  serve: serveCommand,
};

/**
 * Runs one `canary` command line.
 * @param argv the arguments after `canary` (e.g. `['run', '-c', 'canary.yaml', '--dry-run']`).
 * @returns the exit code (see USAGE): 0, 1 rolled back, 2 usage or configuration, 3 held, 4 stopped or
 *   failed, 130 interrupted. Never throws.
 */
export async function runCli(argv: string[], io: CliIo, deps: CliDependencies): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command ?? '')) {
    io.stderr(
      `canary: ${command === undefined ? 'no command given' : `unknown command "${command}"`}\n${USAGE}`,
    );
    return EXIT.usage;
  }
  const name = command as Command;
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: COMMAND_OPTIONS[name], strict: true, allowPositionals: false })
      .values as Values;
  } catch (error) {
    io.stderr(`canary ${name}: ${argsMessage(error)}\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (typeof values.config !== 'string') {
    io.stderr(`canary ${name}: -c <config.yaml> is required\n${USAGE}`);
    return EXIT.usage;
  }
  const overrides: ConfigOverride[] = [];
  for (const [flag, { path }] of Object.entries(COMMON_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') overrides.push({ path, value, flag: `--${flag}` });
  }
  if (typeof values.port === 'string') {
    overrides.push({ path: ['metrics', 'port'], value: flagNumber(values.port), flag: '--port' });
  }
  const log =
    deps.log ??
    pino(
      {
        level: io.env.LOG_LEVEL ?? (name === 'run' || name === 'serve' ? 'info' : 'warn'),
        base: { service: 'canary', command: name },
      },
      process.stderr,
    );
  try {
    const config = await loadConfig(values.config, overrides);
    const judgeConfig = resolveJudgeConfig(deps.defaultJudgeConfig, config.judge);
    return await IMPLEMENTATIONS[name]({ command: name, values, config, judgeConfig, io, deps, log });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.stderr(`canary ${name}: ${message}\n`);
      return EXIT.usage;
    }
    // Prometheus and Kubernetes failures are explained by their one-line message; anything else is a bug.
    const known =
      error instanceof Error &&
      /^(Prometheus|Kubernetes|Conflict|Forbidden|NotFound|VirtualServiceShape)Error$/.test(error.name);
    if (known) log.debug({ err: error }, 'command failed');
    else log.error({ err: error }, 'command failed');
    io.stderr(`canary ${name}: ${message}\n`);
    return EXIT.stopped;
  }
}
