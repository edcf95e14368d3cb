/**
 * Fills a {@link Look} from Prometheus: the eight queries of queries.ts, run together, turned into
 * per-version counts. Missing data is no traffic: a version without series counts 0, and an empty
 * histogram is `le [Infinity], counts [0]`.
 */
import type { LatencyHistogram, Look, VersionCounts } from '../judge/types.js';
import { PrometheusError, parsePromValue, type PromSample } from './client.js';
import { lookQueries, type LookQuery, type LookTarget, type LookWindow, type Quantity } from './queries.js';

/** What readLook needs of a Prometheus client (PrometheusClient, or a stand-in in tests). */
export interface InstantQuerier {
  query(expr: string, timeMs: number): Promise<PromSample[]>;
}

type Role = 'stable' | 'canary';

function roleOf(target: LookTarget, version: string | undefined): Role | undefined {
  if (version === target.stableVersion) return 'stable';
  if (version === target.canaryVersion) return 'canary';
  return undefined;
}

function badValue(query: LookQuery, sample: PromSample, why: string): PrometheusError {
  return new PrometheusError(
    `Prometheus answered ${why} for ${query.quantity} (${JSON.stringify(sample.metric)} = ${sample.value})`,
    'garbage',
    '',
  );
}

/** A count as an integer: the extrapolated increase rounded to the nearest integer. */
function count(query: LookQuery, sample: PromSample): number {
  if (!Number.isFinite(sample.value) || sample.value < 0) {
    throw badValue(query, sample, 'a count that is not a finite non-negative number');
  }
  return Math.round(sample.value);
}

/** Per-role totals of a count query; a role without a series is 0. */
function counts(target: LookTarget, query: LookQuery, samples: PromSample[]): Record<Role, number> {
  const totals: Record<Role, number> = { stable: 0, canary: 0 };
  for (const sample of samples) {
    const role = roleOf(target, sample.metric[query.versionLabel]);
    if (role) totals[role] += count(query, sample);
  }
  return totals;
}

/**
 * Merges the bucket series of both versions onto one set of bounds: the union of the bounds (seconds,
 * ascending, ending with Infinity). A version without a bound b counts, at b, what its largest own bound
 * ≤ b counts (a cumulative histogram carried forward; 0 before its first bound). Counts are made
 * non-decreasing (rounded extrapolations can dip by one).
 * @returns both versions' histograms on the same `le` (length ≥ 1); `[Infinity]`/`[0]` without data.
 */
export function mergeHistograms(perRole: Record<Role, Map<number, number>>): Record<Role, LatencyHistogram> {
  const bounds = new Set<number>([Infinity]);
  for (const buckets of Object.values(perRole)) for (const le of buckets.keys()) bounds.add(le);
  const le = [...bounds].sort((a, b) => a - b);
  const histogram = (buckets: Map<number, number>): LatencyHistogram => {
    const own = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    let i = 0;
    let carried = 0;
    for (const bound of le) {
      while (i < own.length && own[i][0] <= bound) carried = own[i++][1];
      out.push(Math.max(carried, out.length > 0 ? out[out.length - 1] : 0));
    }
    // A series set without a +Inf bucket (not a Prometheus histogram): Infinity holds the largest count.
    if (own.length > 0 && own[own.length - 1][0] !== Infinity) {
      out[out.length - 1] = Math.max(out[out.length - 1], ...own.map(([, c]) => c));
    }
    return { le, counts: out };
  };
  return { stable: histogram(perRole.stable), canary: histogram(perRole.canary) };
}

function histograms(
  target: LookTarget,
  query: LookQuery,
  samples: PromSample[],
): Record<Role, LatencyHistogram> {
  const perRole: Record<Role, Map<number, number>> = { stable: new Map(), canary: new Map() };
  const scale = query.leUnit === 'milliseconds' ? 1000 : 1;
  for (const sample of samples) {
    const role = roleOf(target, sample.metric[query.versionLabel]);
    if (!role) continue;
    const raw = sample.metric.le;
    const bound = raw === undefined ? undefined : parsePromValue(raw);
    if (bound === undefined || Number.isNaN(bound)) {
      throw badValue(query, sample, `a bucket whose le label ${JSON.stringify(raw)} is not a number`);
    }
    const seconds = bound / scale;
    const buckets = perRole[role];
    buckets.set(seconds, (buckets.get(seconds) ?? 0) + count(query, sample));
  }
  return mergeHistograms(perRole);
}

/**
 * One look at the canary: both versions' cumulative counts over `window`.
 * Runs the 8 queries of {@link lookQueries} in parallel, each evaluated at window.end.
 * @param target namespace, versions, component and metric source; `canaryWeight` (percent) is copied
 *   into the Look.
 * @param window ms since the epoch; counts are those of [start, end].
 * @returns the Look (`time` = window.end). Counts are integers (Prometheus extrapolates increases; they
 *   are rounded; errors are capped at requests); latency bounds are in seconds.
 * @throws PrometheusError when any query fails (Prometheus down, slow, or answering garbage): the
 *   controller holds; RangeError for an invalid target or window.
 */
export async function readLook(
  client: InstantQuerier,
  target: LookTarget,
  window: LookWindow,
): Promise<Look> {
  const queries = lookQueries(target, window);
  const answers = await Promise.all(queries.map((q) => client.query(q.expr, window.end)));
  const byQuantity = new Map<Quantity, { query: LookQuery; samples: PromSample[] }>();
  queries.forEach((query, i) => byQuantity.set(query.quantity, { query, samples: answers[i] }));
  const totals = (quantity: Quantity) => {
    const { query, samples } = byQuantity.get(quantity)!;
    return counts(target, query, samples);
  };
  const latencyAnswer = byQuantity.get('latency')!;
  const latency = histograms(target, latencyAnswer.query, latencyAnswer.samples);
  const requests = totals('requests');
  const errors = totals('errors');
  const agreed = totals('feedbackAgreed');
  const disagreed = totals('feedbackDisagreed');
  const views = totals('peopleViews');
  const clicks = totals('peopleClicks');
  const visitors = totals('visitors');
  const version = (role: Role): VersionCounts => ({
    requests: requests[role],
    // A subset of the requests; rounding two extrapolated sums can put it one above them.
    errors: Math.min(errors[role], requests[role]),
    latency: latency[role],
    feedbackAgreed: agreed[role],
    feedbackDisagreed: disagreed[role],
    peopleViews: views[role],
    peopleClicks: clicks[role],
    visitors: visitors[role],
  });
  return {
    stable: version('stable'),
    canary: version('canary'),
    canaryWeight: target.canaryWeight,
    time: window.end,
  };
}
