/**
 * The VirtualService writer.
 * - planWeight against the chart itself: from the routes `helm template` renders at any of the weights
 *   90/10, 75/25, 50/50, 0/100, 100/0, the routes planned for any other of them are deep-equal to what
 *   the chart renders for it (sticky routes appear and disappear with the split, the cookie regex is
 *   built like the chart's, also for a cookie name with regex metacharacters and a Secure cookie).
 * - VirtualServiceRoutes through @kubernetes/client-node against a local server speaking the
 *   Kubernetes API: the exact requests and the one JSON patch, dry run, no write when nothing changes,
 *   another client's change between read and write (ConflictError, nothing overwritten), 403, 404, 401,
 *   422, retries after 5xx, a dropped connection and a timeout, a lost answer to an applied write, and a
 *   retry that must not land on top of someone else's change.
 * - helmValues rendered through the chart.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { findObject, renderChart, type K8sObject } from '../../helm/src/helm/render.js';
import {
  ConflictError,
  ForbiddenError,
  helmValues,
  KubernetesError,
  NotFoundError,
  planWeight,
  readVirtualServiceState,
  VirtualServiceRoutes,
  VirtualServiceShapeError,
  type HttpRoute,
  type RetryEvent,
} from '../src/kubernetes/index.js';
import { FakeKubernetes, type KubeObject } from './support/fake-kubernetes.js';

const NS = 'restaurant-sentiment';
const PATH = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/app`;
const SPLITS = [
  [90, 10],
  [75, 25],
  [50, 50],
  [0, 100],
  [100, 0],
] as const;

/** The app VirtualService helm renders for these weights (and extra --set pairs). */
async function renderedVirtualService(
  stable: number,
  canary: number,
  set: string[] = [],
): Promise<K8sObject> {
  const objects = await renderChart({
    set: [`routing.weights.stable=${stable}`, `routing.weights.canary=${canary}`, ...set],
  });
  return findObject(objects, 'VirtualService', 'app');
}

const httpOf = (vs: K8sObject) => (vs.spec as { http: HttpRoute[] }).http;
/** A rendered object as the API would return it: with a resourceVersion. */
const live = (vs: K8sObject, resourceVersion = '7') => ({
  ...structuredClone(vs),
  metadata: { ...vs.metadata, resourceVersion },
});

/** The rendered VirtualService per split, "stable/canary" → object. */
const rendered = new Map<string, K8sObject>();
const key = (stable: number, canary: number) => `${stable}/${canary}`;

beforeAll(async () => {
  for (const [stable, canary] of SPLITS)
    rendered.set(key(stable, canary), await renderedVirtualService(stable, canary));
});

describe('planWeight against helm template', () => {
  it('reads the chart-rendered VirtualService: versions by role, weights, resourceVersion', () => {
    const state = readVirtualServiceState(live(rendered.get('90/10')!, '4101'), NS, 'app');
    expect({ ...state, routes: state.routes.map((r) => r.name) }).toEqual({
      namespace: NS,
      name: 'app',
      resourceVersion: '4101',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      weights: { stable: 90, canary: 10 },
      routes: ['override-v1', 'override-v2', 'sticky-v1', 'sticky-v2', 'weighted'],
    });
  });

  for (const [fromStable, fromCanary] of SPLITS) {
    it(`from ${fromStable}/${fromCanary}, plans exactly the routes the chart renders for every other split`, () => {
      const from = live(rendered.get(key(fromStable, fromCanary))!);
      const before = structuredClone(from);
      const state = readVirtualServiceState(from, NS, 'app');
      expect(state.weights).toEqual({ stable: fromStable, canary: fromCanary });
      for (const [stable, canary] of SPLITS) {
        expect({ split: key(stable, canary), http: planWeight(state, canary) }).toEqual({
          split: key(stable, canary),
          http: httpOf(rendered.get(key(stable, canary))!),
        });
      }
      expect(from).toEqual(before); // the input is not modified
    });
  }

  it('builds the sticky routes like the chart for a cookie name with regex metacharacters and a Secure cookie', async () => {
    const set = [
      'routing.sticky.cookieName=rs.v+1',
      'istio.gateway.tls.enabled=true',
      'istio.gateway.tls.credentialName=restaurant-tls',
    ];
    const [allStable, split] = await Promise.all([
      renderedVirtualService(100, 0, set),
      renderedVirtualService(80, 20, set),
    ]);
    const planned = planWeight(readVirtualServiceState(live(allStable), NS, 'app'), 20);
    expect(planned).toEqual(httpOf(split));
    expect(planned[2].match).toEqual([{ headers: { cookie: { regex: '^(.*;\\s*)?rs\\.v\\+1=v1(;.*)?$' } } }]);
  });

  it('keeps routes it does not know where they are, and refuses weights Istio cannot take', () => {
    const state = readVirtualServiceState(live(rendered.get('90/10')!), NS, 'app');
    const extra: HttpRoute = { name: 'maintenance', match: [{ uri: { prefix: '/admin' } }], route: [] };
    const withExtra = { ...state, routes: [extra, ...state.routes] };
    expect(planWeight(withExtra, 50)).toEqual([extra, ...httpOf(rendered.get('50/50')!)]);
    for (const weight of [10.5, -1, 101, NaN]) {
      expect(() => planWeight(state, weight)).toThrow(
        new RangeError(`canary weight must be an integer from 0 to 100 (percent), got ${weight}`),
      );
    }
  });

  it('names what is missing when the VirtualService is not the chart’s', async () => {
    const vs = live(rendered.get('90/10')!);
    const shape = (object: unknown) => () => readVirtualServiceState(object, NS, 'app');
    const prefix = `VirtualService ${NS}/app is not shaped like the chart's app VirtualService: `;
    expect(shape({ ...vs, metadata: { name: 'app' } })).toThrow(
      `${prefix}metadata.resourceVersion is missing`,
    );
    expect(shape({ ...vs, spec: {} })).toThrow(`${prefix}spec.http is not a list of routes`);
    const noWeighted = { ...vs, spec: { http: httpOf(vs).filter((r) => r.name !== 'weighted') } };
    expect(shape(noWeighted)).toThrow(
      `${prefix}it has no route named "weighted" (routes: override-v1, override-v2, sticky-v1, sticky-v2)`,
    );
    const stableOnly = await renderedVirtualService(100, 0, ['canary.enabled=false']);
    expect(shape(live(stableOnly))).toThrow(
      `${prefix}route "weighted" has 1 destination(s), not 2 (stable and canary; is canary.enabled false?)`,
    );
    expect(shape(live(stableOnly))).toThrow(VirtualServiceShapeError);
  });
});

describe('VirtualServiceRoutes against a local Kubernetes API', () => {
  let api: FakeKubernetes;
  let sleeps: number[];
  let retries: RetryEvent[];
  let kubeConfig: KubeConfig;
  const routes = (extra: { timeoutMs?: number; kubeConfig?: KubeConfig } = {}) =>
    new VirtualServiceRoutes(extra.kubeConfig ?? kubeConfig, {
      namespace: NS,
      timeoutMs: extra.timeoutMs ?? 2000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onRetry: (event) => retries.push(event),
    });
  const stored = () => api.get(NS, 'app')!;
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof Error)) throw new Error('expected a failure');
    return error;
  };
  /** Another client's change: 50/50 by hand, without touching the sticky routes. */
  const someoneElse = () =>
    api.update(NS, 'app', (o) => {
      const weighted = httpOf(o as unknown as K8sObject).find((r) => r.name === 'weighted')!;
      weighted.route![0].weight = 50;
      weighted.route![1].weight = 50;
    });

  beforeEach(async () => {
    api = await new FakeKubernetes().start();
    api.create(structuredClone(rendered.get('90/10')!) as unknown as KubeObject); // resourceVersion 4101
    kubeConfig = await api.kubeConfig();
    sleeps = [];
    retries = [];
  });
  afterEach(() => api.stop());

  it('reads the routes with one authenticated GET', async () => {
    const state = await routes().read();
    expect([state.resourceVersion, state.stableVersion, state.canaryVersion, state.weights]).toEqual([
      '4101',
      'v1',
      'v2',
      { stable: 90, canary: 10 },
    ]);
    expect(state.routes).toEqual(httpOf(rendered.get('90/10')!));
    expect(api.requestLines()).toEqual([`GET ${PATH}`]);
    expect(api.requests[0].authorization).toBe('Bearer canary-test-token');
  });

  it('writes a weight as ONE JSON patch that tests the resourceVersion read', async () => {
    const change = await routes().setCanaryWeight(25);
    const expectedPatch = [
      { op: 'test', path: '/metadata/resourceVersion', value: '4101' },
      { op: 'replace', path: '/spec/http', value: httpOf(rendered.get('75/25')!) },
    ];
    expect(change).toEqual({
      patch: expectedPatch,
      dryRun: false,
      written: true,
      from: { stable: 90, canary: 10 },
      to: { stable: 75, canary: 25 },
      resourceVersion: '4101',
      newResourceVersion: '4102',
    });
    expect(api.requestLines()).toEqual([`GET ${PATH}`, `PATCH ${PATH}`]);
    expect(api.requests[1]).toMatchObject({
      contentType: 'application/json-patch+json',
      body: expectedPatch,
    });
    expect(stored().spec).toEqual(rendered.get('75/25')!.spec);
    expect(stored().metadata).toMatchObject({ resourceVersion: '4102', generation: 2 });
    expect(retries).toEqual([]);
  });

  it('rolls back to 0 and promotes to 100: the sticky routes go, exactly as the chart renders them', async () => {
    await routes().setCanaryWeight(0);
    expect(stored().spec).toEqual(rendered.get('100/0')!.spec);
    await routes().setCanaryWeight(100);
    expect(stored().spec).toEqual(rendered.get('0/100')!.spec);
    await routes().setCanaryWeight(50);
    expect(stored().spec).toEqual(rendered.get('50/50')!.spec);
    expect(stored().metadata.resourceVersion).toBe('4104');
  });

  it('dry run: reads, returns the patch it would send, writes nothing', async () => {
    const change = await routes().setCanaryWeight(50, { dryRun: true });
    expect(change.patch).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '4101' },
      { op: 'replace', path: '/spec/http', value: httpOf(rendered.get('50/50')!) },
    ]);
    expect([change.dryRun, change.written, change.newResourceVersion]).toEqual([true, false, '4101']);
    expect(api.requestLines()).toEqual([`GET ${PATH}`]);
    expect(stored().metadata.resourceVersion).toBe('4101');
  });

  it('sends nothing when the routes already are those of the weight', async () => {
    const change = await routes().setCanaryWeight(10);
    expect([change.written, change.newResourceVersion]).toEqual([false, '4101']);
    expect(api.requestLines()).toEqual([`GET ${PATH}`]);
  });

  it('someone else changed the VirtualService between read and write: ConflictError, their change kept', async () => {
    api.afterRequest = (request) => {
      if (request.method === 'GET' && api.requests.length === 1) someoneElse();
    };
    const error = await failure(routes().setCanaryWeight(25));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      'the VirtualService changed since it was read (resourceVersion 4101 → 4102); nothing was written',
    );
    expect((error as ConflictError).status).toBe(422);
    expect(api.requestLines()).toEqual([`GET ${PATH}`, `PATCH ${PATH}`, `GET ${PATH}`]);
    const weighted = httpOf(stored() as unknown as K8sObject).find((r) => r.name === 'weighted')!;
    expect(weighted.route!.map((d) => d.weight)).toEqual([50, 50]);
    expect(stored().metadata.resourceVersion).toBe('4102');
  });

  it('a 409 from the API is a ConflictError too', async () => {
    api.injectFault('PATCH', { status: 409 });
    api.afterRequest = (request) => {
      if (request.method === 'PATCH') someoneElse();
    };
    const error = await failure(routes().setCanaryWeight(25));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      'the VirtualService changed since it was read (resourceVersion 4101 → 4102); nothing was written',
    );
  });

  it('403: ForbiddenError naming the verb and the resource; nothing written', async () => {
    api.injectFault('PATCH', { status: 403 });
    const error = await failure(routes().setCanaryWeight(25));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.message).toBe(
      `forbidden to patch virtualservices.networking.istio.io "app" in namespace "${NS}": grant the controller's account the verb "patch" on virtualservices (API group networking.istio.io) in that namespace (the API said: virtualservices.networking.istio.io "app" is forbidden: User "system:serviceaccount:${NS}:canary" cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "${NS}")`,
    );
    expect(api.requestLines()).toEqual([`GET ${PATH}`, `PATCH ${PATH}`]);
    expect(stored().metadata.resourceVersion).toBe('4101');
    api.injectFault('GET', { status: 403 });
    expect(await failure(routes().read())).toMatchObject({
      name: 'ForbiddenError',
      verb: 'get',
      status: 403,
    });
  });

  it('404: a clear NotFoundError, not retried', async () => {
    const error = await failure(
      new VirtualServiceRoutes(kubeConfig, { namespace: NS, name: 'web', sleep: async () => {} }).read(),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe(
      `VirtualService "web" not found in namespace "${NS}" (is the chart installed there with istio.gateway.enabled, and Istio's CRDs present? The API said: virtualservices.networking.istio.io "web" not found)`,
    );
    expect(api.requests).toHaveLength(1);
  });

  it('401: the credentials are refused', async () => {
    const error = await failure(routes({ kubeConfig: await api.kubeConfig('expired') }).read());
    expect(error).toBeInstanceOf(KubernetesError);
    expect(error.message).toBe(
      `the Kubernetes API refused the credentials (HTTP 401) when trying to get VirtualService ${NS}/app: check the kubeconfig's token or certificate`,
    );
  });

  it('422 for invalid routes (the test op passed): nothing written, said so', async () => {
    api.injectFault('PATCH', {
      status: 422,
      message:
        'VirtualService.networking.istio.io "app" is invalid: spec.http[4].route[0].weight: Invalid value',
    });
    const error = await failure(routes().setCanaryWeight(25));
    expect(error.message).toBe(
      `the API rejected the routes for VirtualService ${NS}/app (HTTP 422: VirtualService.networking.istio.io "app" is invalid: spec.http[4].route[0].weight: Invalid value); nothing was written`,
    );
    expect(error).not.toBeInstanceOf(ConflictError);
  });

  it('retries 5xx with backoff (200, 400 ms) and then writes once', async () => {
    api.injectFault('PATCH', { status: 500 }, 2);
    const change = await routes().setCanaryWeight(25);
    expect([change.written, change.newResourceVersion]).toEqual([true, '4102']);
    expect(sleeps).toEqual([200, 400]);
    expect(retries).toEqual([
      {
        verb: 'patch',
        attempt: 1,
        delayMs: 200,
        reason: 'HTTP 500: Internal error occurred: etcdserver: request timed out',
      },
      {
        verb: 'patch',
        attempt: 2,
        delayMs: 400,
        reason: 'HTTP 500: Internal error occurred: etcdserver: request timed out',
      },
    ]);
    expect(api.requestLines()).toEqual([`GET ${PATH}`, `PATCH ${PATH}`, `PATCH ${PATH}`, `PATCH ${PATH}`]);
    // The same patch every time.
    expect(new Set(api.requests.slice(1).map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(stored().spec).toEqual(rendered.get('75/25')!.spec);
  });

  it('gives up after 3 retries, says nothing was written (checked by reading again)', async () => {
    api.injectFault('PATCH', { status: 503 }, 4);
    const error = await failure(routes().setCanaryWeight(25));
    expect(error).toBeInstanceOf(KubernetesError);
    expect(error.message).toBe(
      `could not patch VirtualService ${NS}/app after 4 attempts (last: HTTP 503: the server is currently unable to handle the request); nothing was written`,
    );
    expect(sleeps).toEqual([200, 400, 800]);
    expect(api.requestLines()).toEqual([`GET ${PATH}`, ...Array(4).fill(`PATCH ${PATH}`), `GET ${PATH}`]);
    expect(stored().metadata.resourceVersion).toBe('4101');
  });

  it('an applied write whose answer was lost: the retry fails its test, finds our routes, reports written', async () => {
    api.injectFault('PATCH', { status: 500, afterApplying: true });
    const change = await routes().setCanaryWeight(25);
    expect([change.written, change.newResourceVersion]).toEqual([true, '4102']);
    expect(api.requestLines()).toEqual([`GET ${PATH}`, `PATCH ${PATH}`, `PATCH ${PATH}`, `GET ${PATH}`]);
    expect(stored().spec).toEqual(rendered.get('75/25')!.spec);
    expect(stored().metadata.resourceVersion).toBe('4102');
  });

  it('a retry never lands on top of a change made meanwhile: ConflictError, the other change kept', async () => {
    api.injectFault('PATCH', { status: 500 });
    api.afterRequest = (request) => {
      if (request.method === 'PATCH' && api.requests.length === 2) someoneElse();
    };
    const error = await failure(routes().setCanaryWeight(25));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      'the VirtualService changed since it was read (resourceVersion 4101 → 4102); nothing was written',
    );
    const weighted = httpOf(stored() as unknown as K8sObject).find((r) => r.name === 'weighted')!;
    expect(weighted.route!.map((d) => d.weight)).toEqual([50, 50]);
  });

  it('retries a dropped connection and a request that times out', async () => {
    api.injectFault('GET', { destroy: true, status: 0 });
    api.injectFault('GET', { hang: true, status: 0 });
    const started = Date.now();
    const state = await routes({ timeoutMs: 300 }).read();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(state.resourceVersion).toBe('4101');
    expect(retries.map((r) => [r.verb, r.attempt, r.delayMs])).toEqual([
      ['get', 1, 200],
      ['get', 2, 400],
    ]);
    expect(retries[1].reason).toBe('no answer within the timeout');
    expect(api.requestLines()).toEqual([`GET ${PATH}`, `GET ${PATH}`, `GET ${PATH}`]);
  });

  it('refuses a weight Istio cannot take before any request', async () => {
    await expect(routes().setCanaryWeight(12.5)).rejects.toThrow(
      'canary weight must be an integer from 0 to 100 (percent), got 12.5',
    );
    expect(api.requests).toEqual([]);
  });
});

describe('helmValues', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-helm-values-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const renderWith = async (values: string) => {
    const file = path.join(dir, `values-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, values);
    return renderChart({ valuesFiles: [file] });
  };

  it('a weight step: routing.weights, which the chart renders as the routes the controller would write', async () => {
    const values = helmValues({ canaryWeight: 25 });
    expect(values).toBe(
      [
        '# Canary at 25% of new users (docs/deployment.md, "Canary releases by hand").',
        '',
        'routing:',
        '  weights:',
        '    stable: 75',
        '    canary: 25',
        '',
      ].join('\n'),
    );
    const vs = findObject(await renderWith(values), 'VirtualService', 'app');
    expect(httpOf(vs)).toEqual(httpOf(rendered.get('75/25')!));
    expect(helmValues({ canaryWeight: 0 })).toBe(
      [
        '# Roll back: every user back on stable at the next request (docs/deployment.md, "Roll back").',
        '',
        'routing:',
        '  weights:',
        '    stable: 100',
        '    canary: 0',
        '',
      ].join('\n'),
    );
  });

  it('promotion: the canary block becomes stable, the canary goes, 100/0', async () => {
    const canary = {
      app: {
        image: { repository: 'ghcr.io/restaurant-sentiment/app', tag: '1.1.0' },
        experimentVariant: 'treatment',
      },
      modelService: {
        image: { repository: 'ghcr.io/restaurant-sentiment/model-service', tag: '1.1.0' },
        modelVersion: '^1.1.0',
      },
    };
    const values = helmValues({ promote: true, canaryVersion: 'v2', canary });
    expect(values).toBe(
      [
        '# Promotion of v2, second upgrade (docs/deployment.md, "Promote"): apply only once',
        '# routing.weights {stable: 0, canary: 100} is live and every proxy has the routes (istioctl proxy-status).',
        '# v2 becomes the stable version; its Deployments keep their names and pods.',
        '',
        'stable:',
        '  version: v2',
        '  app:',
        '    image:',
        '      repository: ghcr.io/restaurant-sentiment/app',
        '      tag: 1.1.0',
        '    experimentVariant: treatment',
        '  modelService:',
        '    image:',
        '      repository: ghcr.io/restaurant-sentiment/model-service',
        '      tag: 1.1.0',
        '    modelVersion: ^1.1.0',
        'canary:',
        '  enabled: false',
        'routing:',
        '  weights:',
        '    stable: 100',
        '    canary: 0',
        '',
      ].join('\n'),
    );
    const objects = await renderWith(values);
    expect(httpOf(findObject(objects, 'VirtualService', 'app')).map((r) => r.name)).toEqual([
      'override-v2',
      'weighted',
    ]);
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual([
      'app-v2',
      'model-service-v2',
    ]);
    expect(() => helmValues({ promote: true })).toThrow(
      'helmValues: promote needs the canary version (canaryVersion)',
    );
    expect(() => helmValues({ canaryWeight: 101 })).toThrow(
      'canary weight must be an integer from 0 to 100 (percent), got 101',
    );
  });
});
