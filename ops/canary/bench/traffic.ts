/**
 * The simulated world of `npm run bench:canary`: a stable and a canary version answering a fixed number of
 * requests per minute, split by the canary weight. Every request independently goes to the canary with
 * probability weight/100, fails (5xx) with its version's error rate, takes a lognormal latency that is
 * counted in the app's histogram buckets, and sometimes carries feedback. New visitors are split the same
 * way (the sample-ratio-mismatch check counts them).
 *
 * Every request uses exactly {@link UNIFORMS_PER_REQUEST} uniforms of the seeded generator, whichever
 * version it goes to, so two simulations with the same seed see the same requests (common random numbers)
 * even when their weights differ: only the routing of a request, and so which version's rates apply to it,
 * changes.
 */
import { createRandom, type Random } from '@restaurant-sentiment/lib-ml';
import type { Look, VersionCounts } from '../src/judge/types.js';
import { normalCdf } from '../src/stats/normal.js';

/** Upper bounds (s) of the app's `http_request_duration_seconds` buckets (app/src/metrics.ts), `+Inf` implied. */
export const APP_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Uniforms drawn per request: routing, 5xx, latency, feedback. */
export const UNIFORMS_PER_REQUEST = 4;

/** How one version behaves. */
export interface VersionModel {
  /** Probability that a request gets a 5xx answer (0–1). */
  errorRate: number;
  /** Median latency in seconds (the lognormal's e^mu). */
  latencyMedianSeconds: number;
  /** Standard deviation of ln(latency). */
  latencySigma: number;
  /** Probability that a request carries feedback (0–1). */
  feedbackRate: number;
  /** Probability that a feedback says the prediction was wrong (0–1). */
  disagreeRate: number;
}

/** The world of one scenario. */
export interface TrafficModel {
  /** Requests answered per minute by both versions together. */
  requestsPerMinute: number;
  /** New visitors per minute (0: the app does not count visitors, and the judge skips its SRM check). */
  visitorsPerMinute: number;
  /** Finite latency bucket upper bounds in seconds, ascending; `+Inf` is implied. */
  buckets: number[];
  stable: VersionModel;
  canary: VersionModel;
}

/** What one version did in one minute (not cumulative). */
export interface MinuteCounts {
  requests: number;
  errors: number;
  /** Requests per latency bucket (NOT cumulative), length `buckets.length + 1`; the last is the `+Inf` bucket. */
  latency: number[];
  feedbackAgreed: number;
  feedbackDisagreed: number;
  visitors: number;
}

/** One simulated minute of both versions. */
export interface Minute {
  stable: MinuteCounts;
  canary: MinuteCounts;
  /** The canary weight during this minute, percent (0–100). */
  canaryWeight: number;
}

/**
 * P(latency ≤ bound) for every bucket bound under the version's lognormal latency.
 * @returns cumulative probabilities, length `buckets.length` (the `+Inf` bucket's 1 is implied).
 */
export function bucketCdf(version: VersionModel, buckets: number[]): number[] {
  return buckets.map((le) =>
    normalCdf((Math.log(le) - Math.log(version.latencyMedianSeconds)) / version.latencySigma),
  );
}

function emptyMinuteCounts(bucketCount: number): MinuteCounts {
  return {
    requests: 0,
    errors: 0,
    latency: new Array<number>(bucketCount + 1).fill(0),
    feedbackAgreed: 0,
    feedbackDisagreed: 0,
    visitors: 0,
  };
}

/**
 * A seeded stream of simulated minutes. The weight may change between minutes (the caller's controller
 * decides it); the same seed gives the same requests whatever the weights.
 */
export class TrafficSimulator {
  private readonly random: Random;
  private readonly stableCdf: number[];
  private readonly canaryCdf: number[];

  /**
   * @param model the world; rates must be in [0, 1], latencies > 0, counts non-negative integers.
   * @param seed mulberry32 seed (any integer).
   * @throws RangeError when the model is out of range.
   */
  constructor(
    readonly model: TrafficModel,
    seed: number,
  ) {
    for (const [name, v] of [
      ['stable', model.stable],
      ['canary', model.canary],
    ] as const) {
      for (const key of ['errorRate', 'feedbackRate', 'disagreeRate'] as const) {
        if (!(v[key] >= 0 && v[key] <= 1))
          throw new RangeError(`${name}.${key} must be in [0, 1], got ${v[key]}`);
      }
      if (!(v.latencyMedianSeconds > 0) || !(v.latencySigma > 0)) {
        throw new RangeError(`${name} latency median and sigma must be > 0`);
      }
    }
    if (!Number.isInteger(model.requestsPerMinute) || model.requestsPerMinute < 0) {
      throw new RangeError(
        `requestsPerMinute must be a non-negative integer, got ${model.requestsPerMinute}`,
      );
    }
    if (!Number.isInteger(model.visitorsPerMinute) || model.visitorsPerMinute < 0) {
      throw new RangeError(
        `visitorsPerMinute must be a non-negative integer, got ${model.visitorsPerMinute}`,
      );
    }
    this.random = createRandom(seed);
    this.stableCdf = bucketCdf(model.stable, model.buckets);
    this.canaryCdf = bucketCdf(model.canary, model.buckets);
  }

  /**
   * Simulates the next minute at `canaryWeight` percent (0–100).
   * @throws RangeError when the weight is outside [0, 100].
   */
  next(canaryWeight: number): Minute {
    if (!(canaryWeight >= 0 && canaryWeight <= 100)) {
      throw new RangeError(`canaryWeight must be in [0, 100], got ${canaryWeight}`);
    }
    const { model, random } = this;
    const share = canaryWeight / 100;
    const n = model.buckets.length;
    const stable = emptyMinuteCounts(n);
    const canary = emptyMinuteCounts(n);
    for (let i = 0; i < model.requestsPerMinute; i++) {
      const toCanary = random() < share;
      const uError = random();
      const uLatency = random();
      const uFeedback = random();
      const counts = toCanary ? canary : stable;
      const version = toCanary ? model.canary : model.stable;
      const cdf = toCanary ? this.canaryCdf : this.stableCdf;
      counts.requests++;
      if (uError < version.errorRate) counts.errors++;
      let bucket = 0;
      while (bucket < n && uLatency >= cdf[bucket]) bucket++;
      counts.latency[bucket]++;
      if (uFeedback < version.feedbackRate) {
        if (uFeedback < version.feedbackRate * version.disagreeRate) counts.feedbackDisagreed++;
        else counts.feedbackAgreed++;
      }
    }
    for (let i = 0; i < model.visitorsPerMinute; i++) {
      if (random() < share) canary.visitors++;
      else stable.visitors++;
    }
    return { stable, canary, canaryWeight };
  }
}

/** Running totals of one version since the canary started. */
export class CumulativeCounts {
  requests = 0;
  errors = 0;
  latency: number[];
  feedbackAgreed = 0;
  feedbackDisagreed = 0;
  visitors = 0;

  /** @param bucketCount number of finite buckets (the `+Inf` one is added). */
  constructor(bucketCount: number) {
    this.latency = new Array<number>(bucketCount + 1).fill(0);
  }

  add(minute: MinuteCounts): void {
    this.requests += minute.requests;
    this.errors += minute.errors;
    for (let i = 0; i < this.latency.length; i++) this.latency[i] += minute.latency[i];
    this.feedbackAgreed += minute.feedbackAgreed;
    this.feedbackDisagreed += minute.feedbackDisagreed;
    this.visitors += minute.visitors;
  }

  /** The judge's view: a Prometheus-style cumulative histogram (`le` ends with Infinity). */
  toVersionCounts(buckets: number[]): VersionCounts {
    const counts: number[] = [];
    let running = 0;
    for (const c of this.latency) counts.push((running += c));
    return {
      requests: this.requests,
      errors: this.errors,
      latency: { le: [...buckets, Infinity], counts },
      feedbackAgreed: this.feedbackAgreed,
      feedbackDisagreed: this.feedbackDisagreed,
      peopleViews: 0,
      peopleClicks: 0,
      visitors: this.visitors,
    };
  }
}

/**
 * Accumulates minutes into the cumulative {@link Look}s the judge reads (counts since the canary started).
 * The look's weight is the visitor-weighted average of the minutes' weights (the plain average when no
 * visitors are counted), as types.ts defines it.
 */
export class LookBuilder {
  readonly stable: CumulativeCounts;
  readonly canary: CumulativeCounts;
  minutes = 0;
  private weightedWeight = 0;
  private weightSum = 0;
  private plainWeightSum = 0;

  constructor(private readonly buckets: number[]) {
    this.stable = new CumulativeCounts(buckets.length);
    this.canary = new CumulativeCounts(buckets.length);
  }

  add(minute: Minute): void {
    this.stable.add(minute.stable);
    this.canary.add(minute.canary);
    const visitors = minute.stable.visitors + minute.canary.visitors;
    this.weightedWeight += visitors * minute.canaryWeight;
    this.weightSum += visitors;
    this.plainWeightSum += minute.canaryWeight;
    this.minutes++;
  }

  /** The look after the minutes added so far; `time` is the minute count in ms. */
  look(): Look {
    const canaryWeight =
      this.weightSum > 0
        ? this.weightedWeight / this.weightSum
        : this.plainWeightSum / Math.max(this.minutes, 1);
    return {
      stable: this.stable.toVersionCounts(this.buckets),
      canary: this.canary.toVersionCounts(this.buckets),
      canaryWeight,
      time: this.minutes * 60_000,
    };
  }
}

/**
 * Prometheus `histogram_quantile(q, ...)` on one set of bucket counts: finds the bucket holding rank
 * q·total (the first whose cumulative count reaches it) and interpolates linearly inside it (lower bound 0
 * for the first bucket); a rank in the `+Inf` bucket answers the highest finite bound. Source: Prometheus docs, "histogram_quantile()"
 * (prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile).
 * @param q quantile in [0, 1].
 * @param buckets finite upper bounds (s), ascending.
 * @param counts per-bucket counts (NOT cumulative), length `buckets.length + 1`.
 * @returns seconds, or NaN when there are no observations.
 */
export function histogramQuantile(q: number, buckets: number[], counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (below + counts[i] >= rank) {
      const lower = i === 0 ? 0 : buckets[i - 1];
      return lower + ((buckets[i] - lower) * (rank - below)) / counts[i];
    }
    below += counts[i];
  }
  return buckets[buckets.length - 1];
}
