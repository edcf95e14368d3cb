/**
 * The judge behind `canary serve`: each canary a Flagger or Argo Rollouts engine asks about is an
 * analysis with its own start time and JudgeState, so repeated calls are the repeated looks of one
 * always-valid test on counts cumulative since the first call (or since the `since` the caller gives).
 * Prometheus or VirtualService failures give HOLD with the message, never PASS.
 */
import type { Logger } from 'pino';
import type { JudgeFunction, LookSource, RouteState, Target, Window } from '../controller/ports.js';
import type { DecisionMetrics } from '../controller/ports.js';
import type { Decision, Judgement, JudgeConfig, JudgeState } from '../judge/types.js';
import { WeightHistory } from '../controller/exposure.js';

/** What a caller asks about. Missing versions come from the configuration, then from the routes. */
export interface AnalysisRequest {
  /** Identifies the analysis (e.g. Flagger's namespace/name/checksum). */
  key: string;
  stableVersion?: string;
  canaryVersion?: string;
  /** Configured canary share of new users, percent; default: the VirtualService's weight. */
  weight?: number;
  /** Start of the counts (ms since the epoch); default: the analysis's first call. */
  since?: number;
}

/** The answer: the decision, and the judgement when there was a look. */
export interface AnalysisAnswer {
  decision: Decision;
  summary: string;
  stableVersion?: string;
  canaryVersion?: string;
  window: Window;
  judgement?: Judgement;
}

/** What {@link Analyses} needs. */
export interface AnalysesOptions {
  looks: LookSource;
  judge: JudgeFunction;
  judgeConfig: JudgeConfig;
  /** The configured target; its versions are optional. */
  target: Omit<Target, 'stableVersion' | 'canaryVersion'> & {
    stableVersion?: string;
    canaryVersion?: string;
  };
  /** Reads the VirtualService (weights, versions); absent when Kubernetes is not configured. */
  readRoutes?: () => Promise<RouteState>;
  metrics: DecisionMetrics;
  now: () => number;
  log: Logger;
  /** Most analyses remembered; the least recently used is forgotten first. Default 100. */
  capacity?: number;
}

/** Live analyses by key (see module doc). */
export class Analyses {
  private readonly entries = new Map<
    string,
    { start: number; state?: JudgeState; weights?: WeightHistory; lastVisitors?: number }
  >();

  constructor(private readonly options: AnalysesOptions) {}

  /** Takes one look for `request` and judges it. Never throws for Prometheus or Kubernetes failures. */
  async look(request: AnalysisRequest): Promise<AnalysisAnswer> {
    const { options } = this;
    const now = options.now();
    const key = request.since === undefined ? request.key : `${request.key}@${request.since}`;
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    entry ??= { start: request.since ?? now };
    this.entries.set(key, entry); // most recently used last
    while (this.entries.size > (options.capacity ?? 100)) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    const window = { start: entry.start, end: now };
    if (window.end - window.start < 1000) {
      // The analysis starts with this call: nothing has been counted yet.
      options.metrics.recordLook('INSUFFICIENT');
      return {
        decision: 'INSUFFICIENT',
        summary: 'the analysis starts now: counts accumulate from this call on; ask again after an interval',
        stableVersion: request.stableVersion ?? options.target.stableVersion,
        canaryVersion: request.canaryVersion ?? options.target.canaryVersion,
        window,
      };
    }

    let stableVersion = request.stableVersion ?? options.target.stableVersion;
    let canaryVersion = request.canaryVersion ?? options.target.canaryVersion;
    let weight = request.weight;
    if (stableVersion === undefined || canaryVersion === undefined || weight === undefined) {
      if (!options.readRoutes) {
        const missing = weight === undefined ? 'the canary weight' : 'the versions';
        return this.hold(window, `${missing} not given and no VirtualService to read them from`);
      }
      try {
        const routes = await options.readRoutes();
        stableVersion ??= routes.stableVersion;
        canaryVersion ??= routes.canaryVersion;
        weight ??= routes.canaryWeight;
      } catch (error) {
        return this.hold(window, `cannot read the VirtualService: ${(error as Error).message}`);
      }
    }
    const target: Target = { ...options.target, stableVersion, canaryVersion };
    try {
      const look = await options.looks.read(target, window);
      // Flagger and Argo move the weight during one analysis: compare the split of the visitors counted
      // since it started with the visitor-weighted average of the weights, as `canary run` does. The
      // engine changes the weight after a gate answered, so a new weight counts from the previous look.
      const visitors = look.stable.visitors + look.canary.visitors;
      if (!entry.weights) entry.weights = new WeightHistory(weight);
      else if (weight !== entry.weights.current) entry.weights.change(weight, entry.lastVisitors ?? 0);
      entry.lastVisitors = visitors;
      const canaryWeight = entry.weights.expectedWeight(visitors);
      const judgement = options.judge({ ...look, canaryWeight }, options.judgeConfig, entry.state);
      entry.state = judgement.state;
      options.metrics.recordLook(judgement.decision, judgement);
      options.log.info({ key, decision: judgement.decision, canaryVersion }, 'look');
      return {
        decision: judgement.decision,
        summary: judgement.summary,
        stableVersion,
        canaryVersion,
        window,
        judgement,
      };
    } catch (error) {
      return { ...this.hold(window, `no look: ${(error as Error).message}`), stableVersion, canaryVersion };
    }
  }

  private hold(window: Window, reason: string): AnalysisAnswer {
    this.options.metrics.recordLook('HOLD');
    this.options.log.warn({ reason }, 'look held');
    return { decision: 'HOLD', summary: `${reason}; holding (never passing on missing data)`, window };
  }
}
