/**
 * A small model of how Envoy applies a rendered Istio VirtualService, so the routing tests can follow a
 * browser through several requests: routes are tried in order, the first whose match holds wins (a route
 * without `match` matches everything); header matchers `exact` and `regex` (RE2, which Envoy matches
 * against the whole value); `uri.exact`; `sourceLabels` against the calling pod's labels. A weighted
 * route picks a destination with probability weight/100. Response headers of the chosen destination are
 * returned so a cookie jar can keep `Set-Cookie`.
 * Semantics: istio.io/latest/docs/reference/config/networking/virtual-service/ (HTTPMatchRequest,
 * HTTPRouteDestination).
 */
import type { Random } from '@restaurant-sentiment/lib-ml';

interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

interface MatchRequest {
  headers?: Record<string, StringMatch>;
  uri?: StringMatch;
  sourceLabels?: Record<string, string>;
}

interface RouteDestination {
  destination: { host: string; subset?: string; port?: { number: number } };
  weight?: number;
  headers?: { response?: { set?: Record<string, string>; add?: Record<string, string> } };
}

/** One entry of a VirtualService's `spec.http`. */
export interface HttpRoute {
  name?: string;
  match?: MatchRequest[];
  route: RouteDestination[];
  [field: string]: unknown;
}

/** A request as the sidecar or gateway sees it. Header names lower case. */
export interface MeshRequest {
  uri?: string;
  headers?: Record<string, string>;
  /** Labels of the calling pod (for `sourceLabels`). */
  sourceLabels?: Record<string, string>;
}

/** Where a request went: the route's name, the destination subset, the response headers Envoy set. */
export interface Routed {
  route: string;
  subset: string;
  responseHeaders: Record<string, string>;
}

function stringMatches(match: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (match.exact !== undefined) return value === match.exact;
  if (match.prefix !== undefined) return value.startsWith(match.prefix);
  if (match.regex !== undefined) return new RegExp(`^(?:${match.regex})$`).test(value);
  throw new Error(`unsupported string match ${JSON.stringify(match)}`);
}

function requestMatches(match: MatchRequest, request: MeshRequest): boolean {
  for (const [name, m] of Object.entries(match.headers ?? {})) {
    if (!stringMatches(m, request.headers?.[name.toLowerCase()])) return false;
  }
  if (match.uri && !stringMatches(match.uri, request.uri ?? '/')) return false;
  for (const [name, value] of Object.entries(match.sourceLabels ?? {})) {
    if (request.sourceLabels?.[name] !== value) return false;
  }
  return true;
}

/**
 * Routes one request through `routes` (a VirtualService's `spec.http`).
 * @param random picks among weighted destinations (seeded in tests).
 * @throws Error when no route matches (Envoy would answer 404) or a weighted route's weights are not 100.
 */
export function routeRequest(routes: HttpRoute[], request: MeshRequest, random: Random): Routed {
  const route = routes.find((r) => !r.match || r.match.some((m) => requestMatches(m, request)));
  if (!route) throw new Error(`no route matches ${JSON.stringify(request)}`);
  let chosen = route.route[0];
  if (route.route.length > 1) {
    const total = route.route.reduce((sum, d) => sum + (d.weight ?? 0), 0);
    if (total !== 100) throw new Error(`route ${route.name}: weights add up to ${total}, not 100`);
    let point = random() * 100;
    chosen = route.route.find((d) => (point -= d.weight ?? 0) < 0) ?? route.route[route.route.length - 1];
  }
  return {
    route: route.name ?? '(unnamed)',
    subset: chosen.destination.subset ?? '(none)',
    responseHeaders: { ...chosen.headers?.response?.set, ...chosen.headers?.response?.add },
  };
}

/**
 * A browser's cookie jar for one host: keeps `name=value` of each Set-Cookie (attributes other than
 * Max-Age=0 are ignored) and sends them back as one `cookie` header, as browsers do (RFC 6265 §5.4).
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Applies a Set-Cookie header value. */
  store(setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const expired = attributes.some((a) => /^max-age=0$/i.test(a));
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, pair.slice(eq + 1));
  }

  /** Adds a cookie set by another site on the same host (e.g. an analytics cookie). */
  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  /** The `cookie` request header, or undefined with no cookies. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * One browser visiting the app through the gateway: each visit sends the jar's cookies (plus `headers`)
 * and stores what the route sets.
 * @returns the subset that served each visit, in order (length `visits`).
 */
export function browse(
  routes: HttpRoute[],
  jar: CookieJar,
  visits: number,
  random: Random,
  headers: Record<string, string> = {},
): string[] {
  const served: string[] = [];
  for (let i = 0; i < visits; i++) {
    const cookie = jar.header();
    const routed = routeRequest(
      routes,
      { uri: '/', headers: { ...headers, ...(cookie ? { cookie } : {}) } },
      random,
    );
    const setCookie = routed.responseHeaders['Set-Cookie'];
    if (setCookie) jar.store(setCookie);
    served.push(routed.subset);
  }
  return served;
}
