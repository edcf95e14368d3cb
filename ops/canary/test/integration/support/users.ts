/**
 * Simulated users for the canary integration test. Each user is a browser with a cookie jar; every request
 * it makes is first routed through the app VirtualService's CURRENT routes (ops/helm's Envoy model,
 * `routeRequest`), so after the controller patches the weights new users follow the new split while
 * returning users stay on the version their `rs-version` cookie names (while the chart keeps the sticky
 * routes, i.e. while both weights are above 0), and then sent as a real HTTP request to the app process of
 * the version the route chose, with the jar's cookies.
 *
 * A user's visit: a home page view (`GET /`, where the app counts a new visitor), then `actionsPerUser`
 * actions drawn from a seeded generator: reviews (`POST /predict`), feedback on the last prediction
 * (`POST /feedback`, "wrong" for a seeded share), People page views (`GET /people`) followed sometimes by a
 * click on a team card (`GET /click/<id>`), and home page views; then the user leaves and a new one arrives.
 * A pacer starts one action every 1000/`ratePerSecond` ms on a user that is not waiting for an answer, so
 * the request rate is the configured one as long as the services keep up (ticks with every user busy are
 * counted as `skipped`).
 */
import { createRandom, type Random } from '@restaurant-sentiment/lib-ml';
import { CookieJar, routeRequest, type HttpRoute } from '../../../../helm/test/support/mesh.js';

/** Reviews the users type (positive and negative, as restaurant reviews are). */
export const REVIEWS = [
  'The food was delicious and the staff were friendly.',
  'Terrible service, cold soup and a rude waiter.',
  'Loved the dessert, will come back!',
  'Not worth the money, bland and overpriced.',
  'Great atmosphere and quick service.',
  'The fries were soggy and the burger was raw.',
  'Best pizza in town, crispy and fresh.',
  'We waited an hour and the order was wrong.',
];

/** Options of {@link UserLoad}. */
export interface UserLoadOptions {
  /** The app VirtualService's `spec.http` as the mesh applies it now (called before every request). */
  routes: () => HttpRoute[];
  /** Base URL of the app process serving each subset, e.g. `{ v1: 'http://127.0.0.1:4001', ... }`. */
  apps: Record<string, string>;
  /** Team member ids of the People page (targets of clicks). */
  team: string[];
  /** Requests started per second (all users together). 0: no requests. */
  ratePerSecond: number;
  /** Seed of every random choice (routing draws, actions, reviews, verdicts). */
  seed: number;
  /** Users browsing at the same time (default 24). */
  concurrentUsers?: number;
  /** Actions after the first home page view before a user leaves (default 6). */
  actionsPerUser?: number;
  /** Share of feedback saying the prediction was wrong (default 0.2). */
  wrongShare?: number;
}

/** What one subset (version) was sent and answered. */
export interface SubsetStats {
  /** Users whose first page view this subset served. */
  newUsers: number;
  requests: number;
  /** HTTP status → count (0: no answer, the connection failed). */
  statuses: Record<number, number>;
}

/** What a {@link UserLoad} did. */
export interface LoadStats {
  bySubset: Record<string, SubsetStats>;
  /** Pacer ticks on which every user was waiting for an answer (no request was started). */
  skipped: number;
  /** Requests the routes could not place (no matching route, weights not adding up to 100). */
  routingErrors: string[];
}

interface User {
  jar: CookieJar;
  /** Actions left; -1 before the first home page view. */
  left: number;
  busy: boolean;
  /** What the last result page's feedback form holds. */
  lastPrediction?: { review: string; predicted: 0 | 1; modelVersion: string };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A running load of simulated users; {@link UserLoad.stop} ends it. */
export class UserLoad {
  private readonly random: Random;
  private readonly users: User[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly stats: LoadStats = { bySubset: {}, skipped: 0, routingErrors: [] };

  constructor(private readonly options: UserLoadOptions) {
    if (!(options.ratePerSecond >= 0)) throw new RangeError(`rate ${options.ratePerSecond}/s is negative`);
    this.random = createRandom(options.seed);
    for (let i = 0; i < (options.concurrentUsers ?? 24); i++) this.users.push(this.newUser());
  }

  /** Starts the pacer (no-op at rate 0). */
  start(): this {
    if (this.options.ratePerSecond > 0 && !this.timer && !this.stopped) {
      this.timer = setInterval(() => this.tick(), 1000 / this.options.ratePerSecond);
    }
    return this;
  }

  /** Stops starting requests and resolves once every request already started has been answered. */
  async stop(): Promise<LoadStats> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    return this.stats;
  }

  /**
   * Starts counting afresh (e.g. when the canary starts after a warm-up): requests started from now on
   * are counted; those already in flight stay out (a user's first answer still counts its new user).
   */
  resetStats(): void {
    this.stats.bySubset = {};
    this.stats.skipped = 0;
    this.stats.routingErrors = [];
  }

  private newUser(): User {
    return { jar: new CookieJar(), left: -1, busy: false };
  }

  private tick(): void {
    const idle = this.users.map((u, i) => [u, i] as const).filter(([u]) => !u.busy);
    if (idle.length === 0) {
      this.stats.skipped++;
      return;
    }
    const [user, index] = idle[Math.floor(this.random() * idle.length)];
    user.busy = true;
    const action = this.act(user).finally(() => {
      user.busy = false;
      if (user.left === 0) this.users[index] = this.newUser();
      this.inFlight.delete(action);
    });
    this.inFlight.add(action);
  }

  private subsetStats(subset: string): SubsetStats {
    return (this.stats.bySubset[subset] ??= { newUsers: 0, requests: 0, statuses: {} });
  }

  /** Routes and sends one request of `user`; returns the status (0 without an answer) and the subset. */
  private async send(
    user: User,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; subset: string; body: string } | null> {
    const cookie = user.jar.header();
    let routed;
    try {
      routed = routeRequest(
        this.options.routes(),
        { uri: path, headers: cookie ? { cookie } : {} },
        this.random,
      );
    } catch (error) {
      this.stats.routingErrors.push((error as Error).message);
      return null;
    }
    const base = this.options.apps[routed.subset];
    if (!base) {
      this.stats.routingErrors.push(
        `route ${routed.route} chose subset ${routed.subset}, which no app serves`,
      );
      return null;
    }
    const stats = this.subsetStats(routed.subset);
    stats.requests++;
    let status = 0;
    let body = '';
    try {
      const response = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        redirect: 'manual',
        headers: { ...init.headers, ...(cookie ? { cookie } : {}) },
        body: init.body,
      });
      body = await response.text();
      status = response.status;
    } catch {
      status = 0;
    }
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
    // Envoy adds the route's response headers to whatever the app answered.
    const setCookie = routed.responseHeaders['Set-Cookie'];
    if (setCookie && status !== 0) user.jar.store(setCookie);
    return { status, subset: routed.subset, body };
  }

  /** The user's next action. */
  private async act(user: User): Promise<void> {
    if (user.left === -1) {
      const answer = await this.send(user, '/');
      if (answer) this.subsetStats(answer.subset).newUsers++;
      user.left = this.options.actionsPerUser ?? 6;
      return;
    }
    user.left--;
    const draw = this.random();
    if (draw < 0.45) {
      const review = REVIEWS[Math.floor(this.random() * REVIEWS.length)];
      const answer = await this.send(user, '/predict', {
        method: 'POST',
        headers: FORM,
        body: new URLSearchParams({ review }).toString(),
      });
      // The result page's feedback form carries the predicted label and the model version: read them.
      const predicted = /name="predicted" value="([01])"/.exec(answer?.body ?? '');
      const modelVersion = /name="model_version" value="([^"]+)"/.exec(answer?.body ?? '');
      user.lastPrediction =
        answer?.status === 200 && predicted && modelVersion
          ? { review, predicted: predicted[1] === '1' ? 1 : 0, modelVersion: modelVersion[1] }
          : undefined;
    } else if (draw < 0.7 && user.lastPrediction) {
      const { review, predicted, modelVersion } = user.lastPrediction;
      const wrong = this.random() < (this.options.wrongShare ?? 0.2);
      await this.send(user, '/feedback', {
        method: 'POST',
        headers: FORM,
        body: new URLSearchParams({
          review,
          predicted: String(predicted),
          verdict: wrong ? 'wrong' : 'correct',
          model_version: modelVersion,
        }).toString(),
      });
      user.lastPrediction = undefined;
    } else if (draw < 0.9) {
      await this.send(user, '/people');
      if (this.random() < 0.5) {
        const member = this.options.team[Math.floor(this.random() * this.options.team.length)];
        await this.send(user, `/click/${member}`);
      }
    } else {
      await this.send(user, '/');
    }
  }
}
