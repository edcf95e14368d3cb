/**
 * What the controller needs from the outside world, as interfaces: reading a look (Prometheus), judging
 * it (the judge), reading and writing the route weights (the VirtualService), the clock, metrics and
 * annotations. The CLI wires the real implementations (src/cli/wiring.ts); the tests use fakes.
 */
import type { Judgement, JudgeConfig, JudgeState, Look } from '../judge/types.js';

/** Which pair of versions to compare, and where their numbers come from (readLook's `target`). */
export interface Target {
  /** Kubernetes namespace of the release (Prometheus `namespace` label). */
  namespace: string;
  /** Version label of the stable pods, e.g. `v1`. */
  stableVersion: string;
  /** Version label of the canary pods, e.g. `v2`. */
  canaryVersion: string;
  /** Which service's requests the guardrails judge. */
  component: 'app' | 'model-service';
  /** `service`: the services' own metrics; `istio`: `istio_requests_total` and friends. */
  source: 'service' | 'istio';
}

/** A time range in ms since the epoch, `start` ≤ `end`. Looks are cumulative from `start`. */
export interface Window {
  start: number;
  end: number;
}

/** Reads one look (counts per version over `window`). */
export interface LookSource {
  /**
   * @returns the counts of both versions over the window; `canaryWeight` may be anything (the caller
   *   sets it from what it knows of the weights).
   * @throws Error (PrometheusError) when Prometheus is down, slow or answers garbage.
   */
  read(target: Target, window: Window): Promise<Look>;
}

/** The judge: `judge(look, config, state?)` of src/judge/judge.ts. No I/O. */
export type JudgeFunction = (look: Look, config: JudgeConfig, state?: JudgeState) => Judgement;

/** What the routes say now. */
export interface RouteState {
  /** Subset (version) of the stable destination of the weighted route. */
  stableVersion: string;
  /** Subset (version) of the canary destination. */
  canaryVersion: string;
  /** Canary share of new users, percent 0–100. */
  canaryWeight: number;
}

/** The result of one weight change: the JSON patch sent (or that would be sent with `dryRun`). */
export interface WeightChange {
  /** RFC 6902 JSON patch, including the `test` of metadata.resourceVersion. */
  patch: unknown;
}

/**
 * The app VirtualService's weights. Writes are ONE patch each (never half-written) and fail with an
 * error named `ConflictError` when someone else changed the object since it was read, `ForbiddenError`
 * on 403; other errors are Kubernetes API failures after retries.
 */
export interface Routes {
  /** Reads the VirtualService. */
  read(): Promise<RouteState>;
  /**
   * Sets the canary weight (stable gets 100 − weight), one patch.
   * @param weight percent, integer 0–100.
   * @param options.dryRun compute and return the patch without sending it.
   */
  setCanaryWeight(weight: number, options: { dryRun: boolean }): Promise<WeightChange>;
  /**
   * The Helm values (YAML text) that give the canary `weight` percent, for people who deploy only with
   * Helm; with `promote`, the values that make the canary the stable version.
   */
  helmValues(weight: number, routes: RouteState, options: { promote: boolean }): string;
}

/** Time, injectable so tests run the state machine without waiting. */
export interface Clock {
  /** Now, ms since the epoch. */
  now(): number;
  /**
   * Waits `ms` milliseconds; resolves early (without throwing) when `signal` aborts.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Where every look and weight ends up for Prometheus (src/metrics). */
export interface DecisionMetrics {
  /** The weight the routes now have (percent). */
  setWeight(weight: number): void;
  /** One look's outcome: the decision, and the judgement behind it when there is one. */
  recordLook(decision: Judgement['decision'], judgement?: Judgement): void;
}

/** Grafana annotations (src/grafana). Never throws: failures are logged by the implementation. */
export interface Annotations {
  /**
   * @param time ms since the epoch.
   * @param tags e.g. `['canary', 'FAIL']`.
   * @param text one paragraph.
   */
  annotate(time: number, tags: string[], text: string): Promise<void>;
}

/** Metrics and annotations that do nothing (when not configured). */
export const NO_METRICS: DecisionMetrics = { setWeight: () => {}, recordLook: () => {} };
export const NO_ANNOTATIONS: Annotations = { annotate: async () => {} };

/** The `name` of the error a write fails with when someone else changed the routes. */
export const CONFLICT_ERROR_NAME = 'ConflictError';
/** The `name` of the error a write fails with when the API answered 403. */
export const FORBIDDEN_ERROR_NAME = 'ForbiddenError';

/** A {@link Clock} on the real time (`Date.now`, timers that abort with the signal). */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
