/**
 * `canary run`: the state machine that steps the canary weight.
 *
 * For each step weight below 100: set the weight (one patch), then every interval read a cumulative look
 * since the run started, judge it (carrying the JudgeState), export metrics and annotate decision changes:
 * - PASS → next step; after the last step below 100, promote: weight 100, and print the Helm values that
 *   make the canary the stable version.
 * - FAIL → weight 0 (rollback), exit 1.
 * - INSUFFICIENT / HOLD → keep waiting until the step deadline; then roll back (exit 1), or with
 *   `onDeadline: hold-and-exit` exit 3 without touching the weights.
 * - Prometheus down, slow or answering garbage → HOLD with the message: never a promotion.
 * - Someone else changed the routes (conflict, or a weight we did not write) → stop without writing,
 *   exit 4; so are a 403 and a Kubernetes API failure (the patch is all or nothing).
 * Modes: `write` patches the VirtualService; `dry-run` prints every patch instead; `helm-values` prints the
 * Helm values of every weight instead.
 */
import type { Logger } from 'pino';
import type { Decision, Judgement, JudgeConfig, JudgeState } from '../judge/types.js';
import { WeightHistory } from './exposure.js';
import {
  CONFLICT_ERROR_NAME,
  FORBIDDEN_ERROR_NAME,
  NO_ANNOTATIONS,
  NO_METRICS,
  type Annotations,
  type Clock,
  type DecisionMetrics,
  type JudgeFunction,
  type LookSource,
  type Routes,
  type RouteState,
  type Target,
} from './ports.js';

/** Exit codes of `canary run` (and of the CLI). */
export const EXIT = {
  /** The canary was promoted (weight 100). */
  promoted: 0,
  /** The canary was rolled back (weight 0): it failed, or the deadline passed without a decision. */
  rolledBack: 1,
  /** Bad command line or configuration. */
  usage: 2,
  /** The step deadline passed without a decision and `onDeadline: hold-and-exit`: weights untouched. */
  held: 3,
  /** Stopped without writing: someone else changed the routes, 403, or the Kubernetes API failed. */
  stopped: 4,
  /** Interrupted (SIGINT/SIGTERM) between looks; the weights stay as they were. */
  interrupted: 130,
} as const;

/** How a run ended. */
export type Outcome = 'promoted' | 'rolled-back' | 'held' | 'stopped' | 'interrupted' | 'invalid';

/** What `canary run` does. */
export interface RunOptions {
  /** The pair to judge; missing versions are read from the VirtualService. */
  target: Omit<Target, 'stableVersion' | 'canaryVersion'> & {
    stableVersion?: string;
    canaryVersion?: string;
  };
  /** Canary weights in percent, strictly ascending, the last 100 (the promotion; no analysis at 100). */
  steps: number[];
  /** Time between looks (ms). */
  intervalMs: number;
  /** Longest wait for PASS at one step (ms). */
  stepDeadlineMs: number;
  onDeadline: 'rollback' | 'hold-and-exit';
  judgeConfig: JudgeConfig;
  mode: 'write' | 'dry-run' | 'helm-values';
  /** Names the routes in messages, e.g. `VirtualService restaurant-sentiment/app`. */
  routesName: string;
}

/** What `canary run` talks to. */
export interface RunDependencies {
  looks: LookSource;
  judge: JudgeFunction;
  routes: Routes;
  clock: Clock;
  metrics?: DecisionMetrics;
  annotations?: Annotations;
  log: Logger;
  /** Human output (stdout), one block of text per call, without the trailing newline. */
  print: (text: string) => void;
  /** Aborting it stops the run between looks (SIGINT). */
  signal?: AbortSignal;
}

/** How a run ended, and what it did. */
export interface RunResult {
  outcome: Outcome;
  exitCode: number;
  /** Weights set (or, in dry-run/helm-values mode, that would have been set), in order. */
  weights: number[];
  /** The last look's judgement, when there was one. */
  judgement?: Judgement;
  /** One sentence saying how it ended. */
  message: string;
}

/** An error's `name` and message, for classification and display. */
function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/**
 * Runs a canary to its end (see the module doc).
 * @returns the outcome; never throws for Prometheus or Kubernetes failures (they are outcomes).
 */
export async function runCanary(options: RunOptions, deps: RunDependencies): Promise<RunResult> {
  const { routes, clock, log, print } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const annotations = deps.annotations ?? NO_ANNOTATIONS;
  const weights: number[] = [];
  let lastJudgement: Judgement | undefined;

  let routeState: RouteState;
  try {
    routeState = await routes.read();
  } catch (error) {
    const { name, message } = describeError(error);
    if (name === 'ConfigError') {
      // No credentials for the cluster (e.g. a kubeconfig path that does not exist): a configuration error.
      print(`canary: ${message}`);
      return { outcome: 'invalid', exitCode: EXIT.usage, weights, message };
    }
    return stop(`cannot read the ${options.routesName}: ${message}`);
  }
  const stableVersion = options.target.stableVersion ?? routeState.stableVersion;
  const canaryVersion = options.target.canaryVersion ?? routeState.canaryVersion;
  if (stableVersion !== routeState.stableVersion || canaryVersion !== routeState.canaryVersion) {
    const message =
      `the ${options.routesName} routes stable ${routeState.stableVersion} and canary ${routeState.canaryVersion}, ` +
      `but the configuration says stable ${stableVersion} and canary ${canaryVersion}`;
    print(`canary: ${message}`);
    return { outcome: 'invalid', exitCode: EXIT.usage, weights, message };
  }
  const target: Target = { ...options.target, stableVersion, canaryVersion };
  const label = `canary ${canaryVersion} (stable ${stableVersion})`;
  const start = clock.now();
  const history = new WeightHistory(routeState.canaryWeight);
  metrics.setWeight(routeState.canaryWeight);
  let state: JudgeState | undefined;
  let lastDecision: Decision | undefined;
  let lastVisitors = 0;
  let looks = 0;

  /** Ends the run without a decision (Kubernetes refused or failed); nothing more is written. */
  function stop(message: string): RunResult {
    print(`stopped: ${message}`);
    log.error({ outcome: 'stopped' }, message);
    return { outcome: 'stopped', exitCode: EXIT.stopped, weights, judgement: lastJudgement, message };
  }

  /**
   * Sets the canary weight (or prints what would be set).
   * @returns undefined when done, or the RunResult of a stop.
   */
  async function setWeight(weight: number, reason: string): Promise<RunResult | undefined> {
    weights.push(weight);
    if (options.mode === 'helm-values') {
      const values = routes.helmValues(weight, routeState, { promote: false });
      print(`Helm values for canary weight ${weight}% (${reason}):\n${values.trimEnd()}`);
      return undefined;
    }
    try {
      const change = await routes.setCanaryWeight(weight, { dryRun: options.mode === 'dry-run' });
      if (options.mode === 'dry-run') {
        print(
          `dry run: would patch the ${options.routesName} to canary weight ${weight}% (${reason}):\n` +
            JSON.stringify(change.patch, null, 2),
        );
        return undefined;
      }
    } catch (error) {
      const { name, message } = describeError(error);
      weights.pop();
      const unchanged = `the weights are unchanged (canary ${history.current}%)`;
      if (name === CONFLICT_ERROR_NAME) {
        return stop(
          `someone else changed the ${options.routesName} since it was read (${message}); ${unchanged}; ` +
            'a human is in charge now: check the routes, then run again',
        );
      }
      if (name === FORBIDDEN_ERROR_NAME) {
        return stop(`not allowed to patch the ${options.routesName} (${message}); ${unchanged}`);
      }
      return stop(`the Kubernetes API failed to set canary weight ${weight}% (${message}); ${unchanged}`);
    }
    history.change(weight, lastVisitors);
    routeState = { ...routeState, canaryWeight: weight };
    metrics.setWeight(weight);
    print(`${label}: weight ${weight}% (${reason})`);
    log.info({ canaryWeight: weight, reason }, 'weight set');
    return undefined;
  }

  /** Rolls back to weight 0 and ends the run with exit 1 (or the stop when the write failed). */
  async function rollBack(reason: string): Promise<RunResult> {
    const stopped = await setWeight(0, `rollback: ${reason}`);
    if (stopped) {
      const message = `ROLLBACK NOT WRITTEN: ${stopped.message}. Set the canary weight to 0 yourself.`;
      print(message);
      return { ...stopped, message };
    }
    const message = `${label} rolled back: ${reason}`;
    await annotations.annotate(clock.now(), ['canary', 'rollback'], message);
    print(message);
    return { outcome: 'rolled-back', exitCode: EXIT.rolledBack, weights, judgement: lastJudgement, message };
  }

  const judged = options.steps.filter((weight) => weight < 100);
  for (const [index, weight] of judged.entries()) {
    const stopped = await setWeight(weight, `step ${index + 1} of ${judged.length}`);
    if (stopped) return stopped;
    const stepStart = clock.now();
    for (;;) {
      await clock.sleep(options.intervalMs, deps.signal);
      if (deps.signal?.aborted) {
        const message = `interrupted at canary weight ${history.current}%; the weights stay as they are`;
        print(message);
        return {
          outcome: 'interrupted',
          exitCode: EXIT.interrupted,
          weights,
          judgement: lastJudgement,
          message,
        };
      }
      const end = clock.now();
      looks += 1;

      // The live weight: what the SRM check compares with, and a human's change to stop for.
      try {
        const live = await routes.read();
        if (options.mode === 'write' && live.canaryWeight !== history.current) {
          return stop(
            `someone else set the canary weight to ${live.canaryWeight}% (it was ${history.current}%); ` +
              'a human is in charge now: nothing more is written',
          );
        }
        if (live.canaryWeight !== history.current) history.change(live.canaryWeight, lastVisitors);
        metrics.setWeight(live.canaryWeight);
      } catch (error) {
        log.warn({ err: describeError(error) }, 'cannot read the routes; assuming the weight is unchanged');
      }

      let decision: Decision;
      let summary: string;
      try {
        const look = await deps.looks.read(target, { start, end });
        lastVisitors = look.stable.visitors + look.canary.visitors;
        const judgement = deps.judge(
          { ...look, canaryWeight: history.expectedWeight(lastVisitors) },
          options.judgeConfig,
          state,
        );
        state = judgement.state;
        lastJudgement = judgement;
        decision = judgement.decision;
        summary = judgement.summary;
        metrics.recordLook(decision, judgement);
      } catch (error) {
        decision = 'HOLD';
        summary = `no look: ${describeError(error).message}; holding (never promoting on missing data)`;
        metrics.recordLook(decision);
        log.warn({ err: describeError(error) }, 'look failed');
      }
      print(`look ${looks} at ${history.current}%: ${decision}: ${summary}`);
      if (decision !== lastDecision) {
        await annotations.annotate(end, ['canary', decision], `${label} at ${history.current}%: ${summary}`);
        lastDecision = decision;
      }

      if (decision === 'PASS') break;
      if (decision === 'FAIL') return rollBack(summary);
      if (end - stepStart >= options.stepDeadlineMs) {
        const waited = `no PASS within ${Math.round(options.stepDeadlineMs / 1000)} s at ${history.current}% (last: ${decision})`;
        if (options.onDeadline === 'rollback') return rollBack(waited);
        const message = `${label} held: ${waited}; the weights are untouched (onDeadline: hold-and-exit)`;
        print(message);
        await annotations.annotate(clock.now(), ['canary', 'held'], message);
        return { outcome: 'held', exitCode: EXIT.held, weights, judgement: lastJudgement, message };
      }
    }
  }

  const stopped = await setWeight(100, 'promotion');
  if (stopped) return stopped;
  const values = routes.helmValues(100, routeState, { promote: true });
  const message = `${label} promoted: it gets every new user now`;
  print(`${message}. Make it permanent with these Helm values:\n${values.trimEnd()}`);
  await annotations.annotate(clock.now(), ['canary', 'promotion'], message);
  return { outcome: 'promoted', exitCode: EXIT.promoted, weights, judgement: lastJudgement, message };
}
