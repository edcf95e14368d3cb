/**
 * The app VirtualService's routes as the chart renders them
 * (ops/helm/restaurant-sentiment/templates/istio/virtualservice-app.yaml), read from a live object and
 * recomputed for a new canary weight — pure functions, no I/O:
 * 1. `override-<version>`: a header naming a version or role goes there (kept as they are);
 * 2. `sticky-<version>`: a request carrying the version cookie stays on that version — only while both
 *    versions have weight, so at 0 or 100 everyone moves on;
 * 3. `weighted`: everyone else split by the weights, the answer setting the cookie.
 */
import { quoteMeta } from '../prometheus/queries.js';
import { VirtualServiceShapeError } from './errors.js';

/** One destination of an HTTP route (Istio HTTPRouteDestination); unknown fields are kept. */
export interface RouteDestination {
  destination: { host: string; subset?: string; port?: { number: number } };
  weight?: number;
  headers?: { response?: { add?: Record<string, string>; set?: Record<string, string> } };
  [field: string]: unknown;
}

/** One entry of `spec.http` (Istio HTTPRoute); unknown fields are kept. */
export interface HttpRoute {
  name?: string;
  match?: Array<Record<string, unknown>>;
  route?: RouteDestination[];
  [field: string]: unknown;
}

/** Canary and stable shares of new users, percent; they add up to 100. */
export interface Weights {
  stable: number;
  canary: number;
}

/** What the controller needs of the live VirtualService. */
export interface VirtualServiceState {
  namespace: string;
  name: string;
  /** metadata.resourceVersion when read: the patch only applies if it is unchanged. */
  resourceVersion: string;
  stableVersion: string;
  canaryVersion: string;
  weights: Weights;
  /** The whole `spec.http`, as read. */
  routes: HttpRoute[];
}

/** The name of the route that splits new users by weight. */
export const WEIGHTED_ROUTE = 'weighted';
const OVERRIDE_PREFIX = 'override-';
const STICKY_PREFIX = 'sticky-';

function describe(namespace: string, name: string): string {
  return `VirtualService ${namespace}/${name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The role ("stable" | "canary") an override route serves, from its header matches
 * (`<overrideHeader>: {exact: "stable"}`), or undefined.
 */
function overrideRole(route: HttpRoute): 'stable' | 'canary' | undefined {
  for (const match of route.match ?? []) {
    const headers = match.headers;
    if (!isRecord(headers)) continue;
    for (const matcher of Object.values(headers)) {
      if (isRecord(matcher) && (matcher.exact === 'stable' || matcher.exact === 'canary'))
        return matcher.exact;
    }
  }
  return undefined;
}

/**
 * Reads the controller's view of a VirtualService object (as the API returns it).
 * Stable and canary are the subsets of the override routes matching the roles `stable` and `canary`;
 * without override routes, the weighted route's order (the chart renders stable first).
 * @throws VirtualServiceShapeError naming what is missing: spec.http, the route `weighted`, its two
 *   destinations with subset and integer weight, metadata.resourceVersion.
 */
export function readVirtualServiceState(
  object: unknown,
  namespace: string,
  name: string,
): VirtualServiceState {
  const where = describe(namespace, name);
  const shape = (what: string) =>
    new VirtualServiceShapeError(`${where} is not shaped like the chart's app VirtualService: ${what}`);
  if (!isRecord(object)) throw shape('the API answered no object');
  const metadata = object.metadata;
  const resourceVersion = isRecord(metadata) ? metadata.resourceVersion : undefined;
  if (typeof resourceVersion !== 'string' || resourceVersion === '')
    throw shape('metadata.resourceVersion is missing');
  const spec = object.spec;
  const http = isRecord(spec) ? spec.http : undefined;
  if (!Array.isArray(http) || !http.every(isRecord)) throw shape('spec.http is not a list of routes');
  const routes = http as HttpRoute[];
  const weighted = routes.find((r) => r.name === WEIGHTED_ROUTE);
  if (!weighted) {
    const names = routes.map((r) => r.name ?? '(unnamed)').join(', ') || 'none';
    throw shape(`it has no route named "${WEIGHTED_ROUTE}" (routes: ${names})`);
  }
  const destinations = weighted.route;
  if (!Array.isArray(destinations) || destinations.length !== 2) {
    throw shape(
      `route "${WEIGHTED_ROUTE}" has ${Array.isArray(destinations) ? destinations.length : 0} destination(s), not 2 (stable and canary; is canary.enabled false?)`,
    );
  }
  for (const [i, d] of destinations.entries()) {
    if (!isRecord(d) || !isRecord(d.destination) || typeof d.destination.subset !== 'string') {
      throw shape(`route "${WEIGHTED_ROUTE}" destination ${i} has no destination.subset`);
    }
    if (!Number.isInteger(d.weight))
      throw shape(`route "${WEIGHTED_ROUTE}" destination ${i} has no integer weight`);
  }
  const subsets = destinations.map((d) => d.destination.subset as string);
  const roles: Partial<Record<'stable' | 'canary', string>> = {};
  for (const route of routes) {
    if (!route.name?.startsWith(OVERRIDE_PREFIX)) continue;
    const role = overrideRole(route);
    const subset = route.route?.[0]?.destination?.subset;
    if (role && typeof subset === 'string') roles[role] = subset;
  }
  const stableVersion = roles.stable ?? subsets[0];
  const canaryVersion = roles.canary ?? subsets[1];
  if (
    stableVersion === canaryVersion ||
    !subsets.includes(stableVersion) ||
    !subsets.includes(canaryVersion)
  ) {
    throw shape(
      `the override routes name stable ${stableVersion} and canary ${canaryVersion}, but route "${WEIGHTED_ROUTE}" splits ${subsets.join(' and ')}`,
    );
  }
  const weightOf = (version: string) => destinations[subsets.indexOf(version)].weight as number;
  return {
    namespace,
    name,
    resourceVersion,
    stableVersion,
    canaryVersion,
    weights: { stable: weightOf(stableVersion), canary: weightOf(canaryVersion) },
    routes,
  };
}

/**
 * Checks a canary weight.
 * @throws RangeError unless it is an integer from 0 to 100 (Istio route weights are integers).
 */
export function checkCanaryWeight(canaryWeight: number): void {
  if (!Number.isInteger(canaryWeight) || canaryWeight < 0 || canaryWeight > 100) {
    throw new RangeError(`canary weight must be an integer from 0 to 100 (percent), got ${canaryWeight}`);
  }
}

/** The cookie name in a `Set-Cookie` value (`rs-version=v2; Max-Age=…`). */
function cookieName(setCookie: unknown): string | undefined {
  if (typeof setCookie !== 'string') return undefined;
  const match = /^\s*([^=;\s]+)=/.exec(setCookie);
  return match?.[1];
}

/** The sticky route the chart renders for the version of `destination`. */
function stickyRoute(state: VirtualServiceState, destination: RouteDestination): HttpRoute {
  const version = destination.destination.subset as string;
  const setCookie = destination.headers?.response?.add?.['Set-Cookie'];
  const name = cookieName(setCookie);
  if (!name) {
    throw new VirtualServiceShapeError(
      `${describe(state.namespace, state.name)}: cannot build route "${STICKY_PREFIX}${version}": the "${WEIGHTED_ROUTE}" destination ${version} sets no Set-Cookie response header naming the sticky cookie`,
    );
  }
  const rest = structuredClone(destination);
  delete rest.weight;
  return {
    name: `${STICKY_PREFIX}${version}`,
    match: [{ headers: { cookie: { regex: `^(.*;\\s*)?${quoteMeta(name)}=${quoteMeta(version)}(;.*)?$` } } }],
    route: [rest],
  };
}

/**
 * The `spec.http` the chart renders for `canaryWeight`, from the live routes: routes other than the
 * weighted and sticky ones (the overrides) kept in place; `sticky-<stable>` and `sticky-<canary>` only
 * while both weights are above 0 (an existing sticky route is kept as is, a missing one is built like
 * the chart's, the cookie name taken from the weighted route's Set-Cookie); the weighted route's two
 * weights set (stable = 100 − canary). Nothing else changes.
 * @param canaryWeight percent of new users for the canary, integer 0–100.
 * @returns a new list (the input is not modified).
 * @throws RangeError for a weight that is not an integer 0–100; VirtualServiceShapeError when a sticky
 *   route must be built and the weighted route sets no cookie.
 */
export function planWeight(current: VirtualServiceState, canaryWeight: number): HttpRoute[] {
  checkCanaryWeight(canaryWeight);
  const weights: Weights = { stable: 100 - canaryWeight, canary: canaryWeight };
  const weightedIndex = current.routes.findIndex((r) => r.name === WEIGHTED_ROUTE);
  const weighted = current.routes[weightedIndex];
  const destinations = weighted.route ?? [];
  const stickyNames = new Set(
    [current.stableVersion, current.canaryVersion].map((v) => `${STICKY_PREFIX}${v}`),
  );
  const isSticky = (r: HttpRoute) => r.name !== undefined && stickyNames.has(r.name);
  const before = current.routes.slice(0, weightedIndex).filter((r) => !isSticky(r));
  const after = current.routes.slice(weightedIndex + 1).filter((r) => !isSticky(r));
  const split = weights.stable > 0 && weights.canary > 0;
  const sticky = split
    ? destinations.map((d) => {
        const existing = current.routes.find((r) => r.name === `${STICKY_PREFIX}${d.destination.subset}`);
        return existing ? structuredClone(existing) : stickyRoute(current, d);
      })
    : [];
  const newWeighted: HttpRoute = {
    ...structuredClone(weighted),
    route: destinations.map((d) => ({
      ...structuredClone(d),
      weight: d.destination.subset === current.stableVersion ? weights.stable : weights.canary,
    })),
  };
  return [...structuredClone(before), ...sticky, newWeighted, ...structuredClone(after)];
}
