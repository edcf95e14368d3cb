/**
 * The PromQL behind a look, one function per quantity, so the look reader, the integration test and the
 * docs all print the same expressions.
 *
 * Every quantity is a count per version since the canary started: the window [start, end] is evaluated
 * with the `@` modifier (`... @ <end>`), so a look taken late still counts exactly that window.
 *
 * Per series, the count over the window is:
 * - for a series that existed at the window's start (`x @ S`, within Prometheus' 5-minute lookback):
 *   its last value in the window minus its value at the start, `last_over_time(x[W] @ E) - x @ S`: the
 *   exact number of events scraped between the two samples. `increase()` would extrapolate each series
 *   to the window's edges, and since the two versions are scraped at different moments it scales the
 *   arms differently (on a 2 s window: 4 counted for 2 new visitors), enough to fake a sample-ratio
 *   mismatch. Only when that difference is negative (the counter reset: a container restarted) is
 *   `increase(x[W] @ E)` used, which handles resets (extrapolated; readLook rounds it);
 * - for a series born in the window (a new pod, or a label set used for the first time, such as the
 *   first 5xx answer of a version): `max_over_time(x[W] @ E)`, its value at the end, since a counter
 *   starts at 0. `increase()` would lose its first increments: it counts from the first sample, so a
 *   canary's lone 5xx answer (a series going 1, 1, 1) would count 0 and the error guardrail would never
 *   see it. A series born in the window whose counter also reset in it (a container restart) counts
 *   only its largest run — rare, and an undercount.
 * The two branches are disjoint (`and` / `unless x @ S`), then summed `by (version)`.
 *
 * Labels: every series of the services carries `namespace`, `component` (app | model-service) and
 * `version` (ServiceMonitor relabeling, ops/helm/restaurant-sentiment/templates/monitoring/). HTTP
 * quantities leave out the probe and scrape routes, as the chart's recording rules do. Istio's standard
 * metrics (https://istio.io/latest/docs/reference/config/metrics/) are taken as the server-side proxy
 * reports them (`reporter="destination"`, so a request is counted once), by `destination_version`, with
 * `destination_app` = the component; they cannot leave probe routes out (they carry no path).
 */
import { z } from 'zod';

/** Where to look: the release's namespace, the two versions, the component whose traffic is judged. */
export interface LookTarget {
  /** Namespace of the release (the `namespace` label). */
  namespace: string;
  /** Version names (pod label `version`, e.g. v1 and v2). */
  stableVersion: string;
  canaryVersion: string;
  /** Component whose requests, errors and latency are judged. */
  component: 'app' | 'model-service';
  /** The services' own metrics (http_requests_total, …) or Istio's (istio_requests_total, …). */
  source: 'service' | 'istio';
  /** Canary share of new users over the window, in percent (0–100); copied into the Look. */
  canaryWeight: number;
}

/** The analysis window, ms since the epoch: from the canary's start to the look. */
export interface LookWindow {
  start: number;
  end: number;
}

/** The quantities of a look, in the order they are queried. */
export const QUANTITIES = [
  'requests',
  'errors',
  'latency',
  'feedbackAgreed',
  'feedbackDisagreed',
  'peopleViews',
  'peopleClicks',
  'visitors',
] as const;
export type Quantity = (typeof QUANTITIES)[number];

/** One query of a look. */
export interface LookQuery {
  quantity: Quantity;
  /** The PromQL expression (instant vector, one series per version, and per `le` for latency). */
  expr: string;
  /** The label holding the version in the answer. */
  versionLabel: 'version' | 'destination_version';
  /** For latency: the unit of the `le` bounds (converted to seconds by readLook). */
  leUnit?: 'seconds' | 'milliseconds';
}

/** HTTP routes that are not user traffic (the chart's recording rules leave them out too). */
export const NON_USER_ROUTES = '/metrics|/healthz|/readyz';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const targetSchema = z
  .object({
    namespace: z.string().max(63).regex(DNS_LABEL, 'must be a Kubernetes namespace name (a DNS label)'),
    stableVersion: z.string().min(1).max(63).regex(LABEL_VALUE, 'must be a Kubernetes label value'),
    canaryVersion: z.string().min(1).max(63).regex(LABEL_VALUE, 'must be a Kubernetes label value'),
    component: z.enum(['app', 'model-service']),
    source: z.enum(['service', 'istio']),
    canaryWeight: z.number().min(0).max(100),
  })
  .refine((t) => t.stableVersion !== t.canaryVersion, {
    message: 'stableVersion and canaryVersion must differ',
    path: ['canaryVersion'],
  });

/**
 * Checks a target and a window.
 * @throws RangeError naming the field: a namespace or version that is not a Kubernetes name, equal
 *   versions, a weight outside 0–100, a window that does not end after it starts (at least 1 s).
 */
export function checkLookInput(target: LookTarget, window: LookWindow): void {
  const parsed = targetSchema.safeParse(target);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`look target ${issue.path.join('.')}: ${issue.message}`);
  }
  if (!Number.isFinite(window.start) || !Number.isFinite(window.end)) {
    throw new RangeError(
      `look window: start and end must be ms since the epoch (got ${window.start}, ${window.end})`,
    );
  }
  if (Math.round((window.end - window.start) / 1000) < 1) {
    throw new RangeError(
      `look window: end (${window.end}) must be at least 1 s after start (${window.start}); both are ms since the epoch`,
    );
  }
}

/** A PromQL string literal (Go escapes, which JSON's are a subset of). */
function str(value: string): string {
  return JSON.stringify(value);
}

/** Go's regexp.QuoteMeta (what Helm's regexQuoteMeta calls): escapes RE2 metacharacters. */
export function quoteMeta(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function versionsRegex(target: LookTarget): string {
  return `${quoteMeta(target.stableVersion)}|${quoteMeta(target.canaryVersion)}`;
}

/** The window in PromQL terms: its length `[W s]`, the `@` end and the start instant (s). */
function times(window: LookWindow): { range: string; end: string; start: string } {
  const seconds = Math.round((window.end - window.start) / 1000);
  const end = window.end / 1000;
  return { range: `${seconds}s`, end: String(end), start: String(Math.round((end - seconds) * 1000) / 1000) };
}

/**
 * Counts since the window's start per series (end value minus start value, increase() after a counter
 * reset, the end value for series born in the window: see the module comment), summed `by (labels)`.
 * @param selector a vector selector, e.g. `http_requests_total{namespace="x"}`.
 */
export function windowCount(selector: string, by: string[], window: LookWindow): string {
  const { range, end, start } = times(window);
  return [
    `sum by (${by.join(', ')}) (`,
    `  (`,
    `    (last_over_time(${selector}[${range}] @ ${end}) - ${selector} @ ${start}) >= 0`,
    `    or`,
    `    (increase(${selector}[${range}] @ ${end}) and ${selector} @ ${start})`,
    `  )`,
    `  or`,
    `  (max_over_time(${selector}[${range}] @ ${end}) unless ${selector} @ ${start})`,
    `)`,
  ].join('\n');
}

function matchers(pairs: Array<[string, '=' | '=~' | '!~', string]>): string {
  return `{${pairs.map(([label, op, value]) => `${label}${op}${str(value)}`).join(', ')}}`;
}

/** Matchers of a service metric of `component` for the two versions. */
function serviceMatchers(
  target: LookTarget,
  component: LookTarget['component'],
): Array<[string, '=' | '=~' | '!~', string]> {
  return [
    ['namespace', '=', target.namespace],
    ['component', '=', component],
    ['version', '=~', versionsRegex(target)],
  ];
}

/** Matchers of the service HTTP metrics: user routes of target.component. */
function httpMatchers(target: LookTarget): Array<[string, '=' | '=~' | '!~', string]> {
  return [...serviceMatchers(target, target.component), ['route', '!~', NON_USER_ROUTES]];
}

/** Matchers of Istio's metrics: the server-side proxy's report of requests to target.component. */
function istioMatchers(target: LookTarget): Array<[string, '=' | '=~' | '!~', string]> {
  return [
    ['reporter', '=', 'destination'],
    ['destination_workload_namespace', '=', target.namespace],
    ['destination_app', '=', target.component],
    ['destination_version', '=~', versionsRegex(target)],
  ];
}

/**
 * Requests answered per version. Service: `http_requests_total` of target.component on user routes.
 * Istio: `istio_requests_total`.
 */
export function requestsQuery(target: LookTarget, window: LookWindow): LookQuery {
  if (target.source === 'istio') {
    return {
      quantity: 'requests',
      expr: windowCount(
        `istio_requests_total${matchers(istioMatchers(target))}`,
        ['destination_version'],
        window,
      ),
      versionLabel: 'destination_version',
    };
  }
  return {
    quantity: 'requests',
    expr: windowCount(`http_requests_total${matchers(httpMatchers(target))}`, ['version'], window),
    versionLabel: 'version',
  };
}

/** 5xx answers per version: `status=~"5.."` (service) or `response_code=~"5.."` (Istio). */
export function errorsQuery(target: LookTarget, window: LookWindow): LookQuery {
  if (target.source === 'istio') {
    const m = matchers([...istioMatchers(target), ['response_code', '=~', '5..']]);
    return {
      quantity: 'errors',
      expr: windowCount(`istio_requests_total${m}`, ['destination_version'], window),
      versionLabel: 'destination_version',
    };
  }
  const m = matchers([...httpMatchers(target), ['status', '=~', '5..']]);
  return {
    quantity: 'errors',
    expr: windowCount(`http_requests_total${m}`, ['version'], window),
    versionLabel: 'version',
  };
}

/**
 * Latency histogram per version and bucket bound: `http_request_duration_seconds_bucket` (bounds in
 * seconds) or `istio_request_duration_milliseconds_bucket` (bounds in ms, converted by readLook).
 */
export function latencyQuery(target: LookTarget, window: LookWindow): LookQuery {
  if (target.source === 'istio') {
    return {
      quantity: 'latency',
      expr: windowCount(
        `istio_request_duration_milliseconds_bucket${matchers(istioMatchers(target))}`,
        ['destination_version', 'le'],
        window,
      ),
      versionLabel: 'destination_version',
      leUnit: 'milliseconds',
    };
  }
  return {
    quantity: 'latency',
    expr: windowCount(
      `http_request_duration_seconds_bucket${matchers(httpMatchers(target))}`,
      ['version', 'le'],
      window,
    ),
    versionLabel: 'version',
    leUnit: 'seconds',
  };
}

function feedbackQuery(
  quantity: 'feedbackAgreed' | 'feedbackDisagreed',
  agrees: 'true' | 'false',
  target: LookTarget,
  window: LookWindow,
): LookQuery {
  const m = matchers([...serviceMatchers(target, 'model-service'), ['agrees', '=', agrees]]);
  return { quantity, expr: windowCount(`feedback_total${m}`, ['version'], window), versionLabel: 'version' };
}

/** Feedback agreeing with the prediction: model-service `feedback_total{agrees="true"}` (either source). */
export function feedbackAgreedQuery(target: LookTarget, window: LookWindow): LookQuery {
  return feedbackQuery('feedbackAgreed', 'true', target, window);
}

/** Feedback saying the prediction was wrong: model-service `feedback_total{agrees="false"}`. */
export function feedbackDisagreedQuery(target: LookTarget, window: LookWindow): LookQuery {
  return feedbackQuery('feedbackDisagreed', 'false', target, window);
}

function appCounterQuery(
  quantity: Quantity,
  metric: string,
  target: LookTarget,
  window: LookWindow,
): LookQuery {
  const m = matchers(serviceMatchers(target, 'app'));
  return { quantity, expr: windowCount(`${metric}${m}`, ['version'], window), versionLabel: 'version' };
}

/** People page views: app `people_page_views_total`. */
export function peopleViewsQuery(target: LookTarget, window: LookWindow): LookQuery {
  return appCounterQuery('peopleViews', 'people_page_views_total', target, window);
}

/** Clicks on a team card: app `profile_clicks_total`. */
export function peopleClicksQuery(target: LookTarget, window: LookWindow): LookQuery {
  return appCounterQuery('peopleClicks', 'profile_clicks_total', target, window);
}

/** Users the mesh assigned a version: app `visitors_total` (page views without the version cookie). */
export function visitorsQuery(target: LookTarget, window: LookWindow): LookQuery {
  return appCounterQuery('visitors', 'visitors_total', target, window);
}

/**
 * Every query of a look, in {@link QUANTITIES} order (8 entries).
 * @throws RangeError when the target or window is invalid ({@link checkLookInput}).
 */
export function lookQueries(target: LookTarget, window: LookWindow): LookQuery[] {
  checkLookInput(target, window);
  return [
    requestsQuery(target, window),
    errorsQuery(target, window),
    latencyQuery(target, window),
    feedbackAgreedQuery(target, window),
    feedbackDisagreedQuery(target, window),
    peopleViewsQuery(target, window),
    peopleClicksQuery(target, window),
    visitorsQuery(target, window),
  ];
}
