/**
 * Istio routing of the chart: the exact routes for the default 90/10 split, the sticky cookie followed
 * through simulated browsers, the header override, weight 0 and 100, the model-service routes by
 * sourceLabels with their timeouts and mirror, the connection-pool idle timeout against Node's
 * keep-alive timeout, and the app's STICKY_COOKIE_NAME (the cookie whose absence marks a user being
 * assigned a version: each simulated browser reaches the app without it exactly once).
 */
import { describe, expect, it, beforeAll } from '@jest/globals';
import { createRandom } from '@restaurant-sentiment/lib-ml';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFeedbackDir } from '../../../pipeline/src/data/feedback.js';
import { FeedbackWriter } from '../../../model-service/src/feedback/writer.js';
import { hasCookie } from '../../../app/src/http/cookies.js';
import { findObject, HelmError, renderChart, type K8sObject } from '../src/helm/render.js';
import { browse, CookieJar, routeRequest, type HttpRoute } from './support/mesh.js';

const APP = 'app.restaurant-sentiment.svc.cluster.local';
const MODEL_SERVICE = 'model-service.restaurant-sentiment.svc.cluster.local';
const COOKIE_V1 = 'rs-version=v1; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax';
const COOKIE_V2 = 'rs-version=v2; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax';

function httpRoutes(objects: K8sObject[], name: string): HttpRoute[] {
  return (findObject(objects, 'VirtualService', name).spec as { http: HttpRoute[] }).http;
}

const appDestination = (subset: string) => ({ host: APP, subset, port: { number: 80 } });
const msDestination = (subset: string) => ({ host: MODEL_SERVICE, subset, port: { number: 5001 } });

function env(container: { env?: Array<{ name: string; value?: string }> }, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

interface PodSpec {
  containers: Array<{
    name: string;
    env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }>;
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: unknown }>;
}

function podSpec(deployment: K8sObject): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

describe('app VirtualService with the default values (90/10)', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await renderChart();
  });

  it('binds the gateway host and lists override, sticky and weighted routes in that order', () => {
    const vs = findObject(objects, 'VirtualService', 'app');
    expect(vs.spec).toEqual({
      hosts: ['restaurant.local'],
      gateways: ['restaurant-sentiment'],
      http: [
        {
          name: 'override-v1',
          match: [
            { headers: { 'x-version': { exact: 'v1' } } },
            { headers: { 'x-version': { exact: 'stable' } } },
          ],
          route: [{ destination: appDestination('v1') }],
        },
        {
          name: 'override-v2',
          match: [
            { headers: { 'x-version': { exact: 'v2' } } },
            { headers: { 'x-version': { exact: 'canary' } } },
          ],
          route: [{ destination: appDestination('v2') }],
        },
        {
          name: 'sticky-v1',
          match: [{ headers: { cookie: { regex: '^(.*;\\s*)?rs-version=v1(;.*)?$' } } }],
          route: [
            {
              destination: appDestination('v1'),
              headers: { response: { add: { 'Set-Cookie': COOKIE_V1 } } },
            },
          ],
        },
        {
          name: 'sticky-v2',
          match: [{ headers: { cookie: { regex: '^(.*;\\s*)?rs-version=v2(;.*)?$' } } }],
          route: [
            {
              destination: appDestination('v2'),
              headers: { response: { add: { 'Set-Cookie': COOKIE_V2 } } },
            },
          ],
        },
        {
          name: 'weighted',
          route: [
            {
              destination: appDestination('v1'),
              weight: 90,
              headers: { response: { add: { 'Set-Cookie': COOKIE_V1 } } },
            },
            {
              destination: appDestination('v2'),
              weight: 10,
              headers: { response: { add: { 'Set-Cookie': COOKIE_V2 } } },
            },
          ],
        },
      ],
    });
  });

  it('keeps every one of 2,000 simulated browsers on the version of its first visit, about 10% on v2', () => {
    const routes = httpRoutes(objects, 'app');
    const random = createRandom(42);
    let canaryUsers = 0;
    for (let user = 0; user < 2000; user++) {
      const served = browse(routes, new CookieJar(), 8, random);
      expect(new Set(served).size).toBe(1);
      if (served[0] === 'v2') canaryUsers++;
    }
    // Binomial(2000, 0.1): mean 200, sd 13.4; the seed gives exactly this count.
    expect(canaryUsers).toBe(206);
  });

  it('lets the app count users per version: each browser reaches it without STICKY_COOKIE_NAME once', () => {
    const routes = httpRoutes(objects, 'app');
    const cookieName = env(
      podSpec(findObject(objects, 'Deployment', 'app-v1')).containers[0],
      'STICKY_COOKIE_NAME',
    );
    expect(cookieName).toBe('rs-version');
    const random = createRandom(42);
    const users: Record<string, number> = { v1: 0, v2: 0 };
    const withoutCookie: Record<string, number> = { v1: 0, v2: 0 };
    for (let user = 0; user < 2000; user++) {
      const jar = new CookieJar();
      // Every third browser already has a cookie of another site whose name ends like the version cookie.
      if (user % 3 === 0) jar.set('xrs-version', 'v2');
      for (let visit = 0; visit < 8; visit++) {
        const cookie = jar.header();
        const routed = routeRequest(routes, { uri: '/', headers: cookie ? { cookie } : {} }, random);
        if (visit === 0) users[routed.subset]++;
        // What the app of that version counts in visitors_total.
        if (!hasCookie(cookie, cookieName as string)) withoutCookie[routed.subset]++;
        const setCookie = routed.responseHeaders['Set-Cookie'];
        if (setCookie) jar.store(setCookie);
      }
    }
    // The same seed and draws as the test above: 206 of the 2,000 browsers on v2.
    expect(users).toEqual({ v1: 1794, v2: 206 });
    expect(withoutCookie).toEqual(users);
  });

  it('reads the version cookie among other cookies and does not match look-alike names or values', () => {
    const routes = httpRoutes(objects, 'app');
    const random = createRandom(1);
    const route = (cookie: string) => routeRequest(routes, { headers: { cookie } }, random).route;
    expect(route('theme=dark; rs-version=v2; lang=en')).toBe('sticky-v2');
    expect(route('rs-version=v1')).toBe('sticky-v1');
    expect(route('xrs-version=v2')).toBe('weighted');
    expect(route('rs-version=v20')).toBe('weighted');
    expect(route('rs-version=v3')).toBe('weighted');
  });

  it('sends a request with x-version to that version whatever its cookie, and sets no cookie', () => {
    const routes = httpRoutes(objects, 'app');
    const random = createRandom(7);
    const jar = new CookieJar();
    jar.set('rs-version', 'v1');
    expect(browse(routes, jar, 3, random, { 'x-version': 'canary' })).toEqual(['v2', 'v2', 'v2']);
    expect(browse(routes, jar, 1, random, { 'x-version': 'v2' })).toEqual(['v2']);
    expect(jar.header()).toBe('rs-version=v1');
    expect(browse(routes, jar, 2, random)).toEqual(['v1', 'v1']);
  });
});

describe('app VirtualService at the ends of a rollout', () => {
  it('weight 0 (rolled back): no sticky routes, so canary users move to stable and get the stable cookie', async () => {
    const objects = await renderChart({ set: ['routing.weights.stable=100', 'routing.weights.canary=0'] });
    const routes = httpRoutes(objects, 'app');
    expect(routes.map((r) => r.name)).toEqual(['override-v1', 'override-v2', 'weighted']);
    expect(routes[2].route.map((d) => [d.destination.subset, d.weight])).toEqual([
      ['v1', 100],
      ['v2', 0],
    ]);
    const jar = new CookieJar();
    jar.set('rs-version', 'v2');
    expect(browse(routes, jar, 3, createRandom(3))).toEqual(['v1', 'v1', 'v1']);
    expect(jar.header()).toBe('rs-version=v1');
    // Testers still reach the canary by header.
    expect(routeRequest(routes, { headers: { 'x-version': 'canary' } }, createRandom(3)).subset).toBe('v2');
  });

  it('weight 100 (promoted): stable users move to the canary', async () => {
    const objects = await renderChart({ set: ['routing.weights.stable=0', 'routing.weights.canary=100'] });
    const routes = httpRoutes(objects, 'app');
    expect(routes.map((r) => r.name)).toEqual(['override-v1', 'override-v2', 'weighted']);
    const jar = new CookieJar();
    jar.set('rs-version', 'v1');
    expect(browse(routes, jar, 2, createRandom(5))).toEqual(['v2', 'v2']);
    expect(jar.header()).toBe('rs-version=v2');
  });

  it('canary disabled: stable only, and a v2 cookie or header falls through to it', async () => {
    const objects = await renderChart({
      set: ['canary.enabled=false', 'routing.weights.stable=100', 'routing.weights.canary=0'],
    });
    const routes = httpRoutes(objects, 'app');
    expect(routes).toEqual([
      {
        name: 'override-v1',
        match: [
          { headers: { 'x-version': { exact: 'v1' } } },
          { headers: { 'x-version': { exact: 'stable' } } },
        ],
        route: [{ destination: appDestination('v1') }],
      },
      {
        name: 'weighted',
        route: [
          {
            destination: appDestination('v1'),
            weight: 100,
            headers: { response: { add: { 'Set-Cookie': COOKIE_V1 } } },
          },
        ],
      },
    ]);
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual([
      'app-v1',
      'model-service-v1',
    ]);
    const routed = routeRequest(
      routes,
      { headers: { 'x-version': 'canary', cookie: 'rs-version=v2' } },
      createRandom(1),
    );
    expect(routed.subset).toBe('v1');
  });

  it('leaves Secure off when plain HTTP still serves pages (a browser drops Secure cookies set over http)', async () => {
    const objects = await renderChart({
      set: [
        'istio.gateway.tls.enabled=true',
        'istio.gateway.tls.credentialName=restaurant-tls',
        'istio.gateway.tls.httpsRedirect=false',
      ],
    });
    const weighted = httpRoutes(objects, 'app').find((r) => r.name === 'weighted');
    expect(weighted?.route[1].headers?.response?.add).toEqual({ 'Set-Cookie': COOKIE_V2 });
  });

  it('marks the cookie Secure when the gateway serves TLS', async () => {
    const objects = await renderChart({
      set: ['istio.gateway.tls.enabled=true', 'istio.gateway.tls.credentialName=restaurant-tls'],
    });
    const weighted = httpRoutes(objects, 'app').find((r) => r.name === 'weighted');
    expect(weighted?.route[1].headers?.response?.add).toEqual({ 'Set-Cookie': `${COOKIE_V2}; Secure` });
    expect(findObject(objects, 'Gateway', 'restaurant-sentiment').spec).toEqual({
      selector: { istio: 'ingressgateway' },
      servers: [
        {
          port: { number: 80, name: 'http', protocol: 'HTTP' },
          hosts: ['restaurant.local'],
          tls: { httpsRedirect: true },
        },
        {
          port: { number: 443, name: 'https', protocol: 'HTTPS' },
          hosts: ['restaurant.local'],
          tls: { mode: 'SIMPLE', credentialName: 'restaurant-tls', minProtocolVersion: 'TLSV1_2' },
        },
      ],
    });
  });
});

describe('model-service VirtualService', () => {
  const predictRetries = {
    attempts: 2,
    perTryTimeout: '1000ms',
    retryOn: 'connect-failure,refused-stream,reset,503',
  };
  const otherRetries = { attempts: 2, perTryTimeout: '3000ms', retryOn: 'connect-failure,refused-stream' };
  const fromApp = (version: string, uri?: string) => [
    { sourceLabels: { app: 'app', version }, ...(uri ? { uri: { exact: uri } } : {}) },
  ];

  it('pairs app-vN with model-service-vN, with the app timeout as route timeout', async () => {
    const objects = await renderChart();
    const vs = findObject(objects, 'VirtualService', 'model-service');
    expect(vs.spec).toEqual({
      hosts: [MODEL_SERVICE],
      http: [
        {
          name: 'predict-from-app-v1',
          match: fromApp('v1', '/predict'),
          route: [{ destination: msDestination('v1') }],
          timeout: '3000ms',
          retries: predictRetries,
        },
        {
          name: 'from-app-v1',
          match: fromApp('v1'),
          route: [{ destination: msDestination('v1') }],
          timeout: '3000ms',
          retries: otherRetries,
        },
        {
          name: 'predict-from-app-v2',
          match: fromApp('v2', '/predict'),
          route: [{ destination: msDestination('v2') }],
          timeout: '3000ms',
          retries: predictRetries,
        },
        {
          name: 'from-app-v2',
          match: fromApp('v2'),
          route: [{ destination: msDestination('v2') }],
          timeout: '3000ms',
          retries: otherRetries,
        },
        { name: 'default', route: [{ destination: msDestination('v1') }], timeout: '3000ms' },
      ],
    });
    const routes = httpRoutes(objects, 'model-service');
    const random = createRandom(9);
    const from = (version: string, uri: string) =>
      routeRequest(routes, { uri, sourceLabels: { app: 'app', version } }, random).subset;
    expect([
      from('v1', '/predict'),
      from('v1', '/feedback'),
      from('v2', '/predict'),
      from('v2', '/feedback'),
    ]).toEqual(['v1', 'v1', 'v2', 'v2']);
    // The app's own timeout is the route's: the mesh never cuts a call the app still waits for.
    for (const name of ['app-v1', 'app-v2']) {
      const container = podSpec(findObject(objects, 'Deployment', name)).containers[0];
      expect(env(container, 'MODEL_SERVICE_TIMEOUT_MS')).toBe('3000');
      expect(env(container, 'MODEL_SERVICE_URL')).toBe(`http://${MODEL_SERVICE}:5001`);
    }
  });

  it('mirrors stable /predict calls to the shadow model when it is enabled, and only those', async () => {
    const objects = await renderChart({
      set: ['shadow.enabled=true', 'shadow.modelService.image.tag=1.2.0', 'shadow.mirrorPercentage=25'],
    });
    const routes = httpRoutes(objects, 'model-service');
    const mirrored = routes.filter((r) => 'mirror' in r);
    expect(mirrored.map((r) => [r.name, r.mirror, r.mirrorPercentage])).toEqual([
      [
        'predict-from-app-v1',
        { host: MODEL_SERVICE, subset: 'shadow', port: { number: 5001 } },
        { value: 25 },
      ],
    ]);
    const rule = findObject(objects, 'DestinationRule', 'model-service').spec as { subsets: unknown[] };
    expect(rule.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'shadow', labels: { version: 'shadow' } },
    ]);
    const shadow = podSpec(findObject(objects, 'Deployment', 'model-service-shadow')).containers[0];
    expect(env(shadow, 'MODEL_VERSION')).toBe('latest');
    // No app serves the shadow, and the app's rule has no shadow subset.
    expect(objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'app-shadow')).toBe(false);
    expect(
      (findObject(objects, 'DestinationRule', 'app').spec as { subsets: unknown[] }).subsets,
    ).toHaveLength(2);
  });
});

describe('STICKY_COOKIE_NAME of the app', () => {
  const stickyCookieNames = (objects: K8sObject[]) =>
    objects
      .filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('app-'))
      .map((d) => [d.metadata.name, env(podSpec(d).containers[0], 'STICKY_COOKIE_NAME')]);

  it('is the cookie the app VirtualService sets, in every app Deployment', async () => {
    const objects = await renderChart({ set: ['routing.sticky.cookieName=rs_arm'] });
    expect(stickyCookieNames(objects)).toEqual([
      ['app-v1', 'rs_arm'],
      ['app-v2', 'rs_arm'],
    ]);
    // Each app knows its own cookie value, the version name.
    expect(
      ['app-v1', 'app-v2'].map((name) =>
        env(podSpec(findObject(objects, 'Deployment', name)).containers[0], 'STICKY_COOKIE_VALUE'),
      ),
    ).toEqual(['v1', 'v2']);
    const weighted = httpRoutes(objects, 'app').find((r) => r.name === 'weighted');
    expect(weighted?.route[1].headers?.response?.add?.['Set-Cookie']).toMatch(/^rs_arm=v2; /);
  });

  it('is not set without the gateway: no VirtualService sets a cookie, so the app counts no visitor', async () => {
    const objects = await renderChart({ set: ['istio.gateway.enabled=false'] });
    expect(objects.some((o) => o.kind === 'VirtualService' && o.metadata.name === 'app')).toBe(false);
    expect(stickyCookieNames(objects)).toEqual([
      ['app-v1', undefined],
      ['app-v2', undefined],
    ]);
  });
});

describe('connection pools and keep-alive', () => {
  it('closes idle upstream connections (30 s) before the Node services do (65 s)', async () => {
    const objects = await renderChart();
    for (const name of ['app', 'model-service']) {
      const spec = findObject(objects, 'DestinationRule', name).spec as {
        trafficPolicy: { connectionPool: { http: { idleTimeout: string } } };
      };
      expect(spec.trafficPolicy.connectionPool.http.idleTimeout).toBe('30s');
    }
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      expect(env(podSpec(deployment).containers[0], 'KEEP_ALIVE_TIMEOUT_MS')).toBe('65000');
    }
  });

  it('refuses an idle timeout at or above the keep-alive timeout', async () => {
    await expect(renderChart({ set: ['istio.connectionPool.idleTimeoutSeconds=65'] })).rejects.toThrow(
      'istio.connectionPool.idleTimeoutSeconds (65 s) must be below keepAliveTimeoutMs (65000 ms)',
    );
  });
});

describe('values checked by the templates', () => {
  it.each([
    [
      ['routing.weights.stable=80', 'routing.weights.canary=10'],
      'routing.weights: stable (80) + canary (10) must add up to 100',
    ],
    [
      ['canary.enabled=false'],
      'routing.weights: with canary.enabled=false stable must be 100 and canary 0 (got 90/10)',
    ],
    [
      ['canary.version=v1'],
      'canary.version: "v1" is also stable.version; the two versions need different names',
    ],
    [
      ['istio.gateway.tls.enabled=true'],
      'istio.gateway.tls.credentialName: name the Secret with the certificate',
    ],
    [
      ['modelService.retries.perTryTimeoutMs=5000'],
      'modelService.retries.perTryTimeoutMs (5000) must not exceed modelService.requestTimeoutMs (3000)',
    ],
    [['canary.version=stable'], 'canary.version: "stable" is the name of another role'],
    [['shadow.version=v2'], 'shadow.version: "v2" is already used by stable or canary'],
    [
      ['modelService.autoscaling.minReplicas=9'],
      'modelService.autoscaling: minReplicas (9) is above maxReplicas (6)',
    ],
    [
      ['modelService.modelSource=local'],
      'modelService.modelSource: local reads releases from a folder the images do not have',
    ],
    [
      ['istio.gateway.enabled=false', 'istio.gateway.rateLimit.enabled=true'],
      "istio.gateway.rateLimit.enabled: the rate limit sits on the gateway's route; it needs istio.gateway.enabled",
    ],
    [['app.replicas=1'], 'podDisruptionBudget.minAvailable (1) must be below the replicas of app (1)'],
    [
      ['modelService.autoscaling.enabled=false', 'modelService.replicas=1'],
      'podDisruptionBudget.minAvailable (1) must be below the replicas of modelService (1)',
    ],
  ])('%j is refused', async (set, message) => {
    const error = await renderChart({ set }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HelmError);
    expect((error as HelmError).stderr).toContain(message);
  });
});

it('refuses a team file with the same member id twice', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-values-'));
  try {
    const member = { name: 'A', role: 'R', bio: 'B', profileUrl: 'https://example.org/a' };
    const file = path.join(dir, 'team.yaml');
    await writeFile(
      file,
      JSON.stringify({
        app: {
          team: [
            { id: 'cook', ...member },
            { id: 'cook', ...member },
          ],
        },
      }),
    );
    const error = await renderChart({ valuesFiles: [file] }).catch((e: unknown) => e);
    expect((error as HelmError).stderr).toContain(
      'app.team: the member id "cook" appears twice; the People page and its click metric need unique ids',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('feedback storage', () => {
  it('mounts one claim in every model-service pod and names each writer after its pod', async () => {
    const objects = await renderChart({
      set: ['shadow.enabled=true', 'shadow.modelService.image.tag=1.2.0'],
    });
    const deployments = objects.filter(
      (o) => o.kind === 'Deployment' && o.metadata.name.startsWith('model-service-'),
    );
    expect(deployments.map((d) => d.metadata.name)).toEqual([
      'model-service-v1',
      'model-service-v2',
      'model-service-shadow',
    ]);
    for (const deployment of deployments) {
      const spec = podSpec(deployment);
      const container = spec.containers[0];
      expect(container.env?.find((e) => e.name === 'FEEDBACK_WRITER_ID')).toEqual({
        name: 'FEEDBACK_WRITER_ID',
        valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
      });
      expect(env(container, 'FEEDBACK_DIR')).toBe('/var/lib/model-service/feedback');
      expect(container.volumeMounts).toContainEqual({
        name: 'feedback',
        mountPath: '/var/lib/model-service/feedback',
      });
      expect(spec.volumes).toContainEqual({
        name: 'feedback',
        persistentVolumeClaim: { claimName: 'model-service-feedback' },
      });
    }
    const claim = findObject(objects, 'PersistentVolumeClaim', 'model-service-feedback');
    expect(claim.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(claim.spec).toEqual({
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: '1Gi' } },
    });
  });

  it('uses an existing claim when one is named, and an emptyDir without persistence', async () => {
    const existing = await renderChart({
      set: ['modelService.feedback.persistence.existingClaim=feedback-nfs'],
    });
    expect(existing.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(podSpec(findObject(existing, 'Deployment', 'model-service-v1')).volumes).toContainEqual({
      name: 'feedback',
      persistentVolumeClaim: { claimName: 'feedback-nfs' },
    });
    const ephemeral = await renderChart({ set: ['modelService.feedback.persistence.enabled=false'] });
    expect(ephemeral.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(podSpec(findObject(ephemeral, 'Deployment', 'model-service-v1')).volumes).toContainEqual({
      name: 'feedback',
      emptyDir: { sizeLimit: '256Mi' },
    });
  });

  it('gives each pod of the shared volume its own file, and prepare reads all of them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-feedback-pvc-'));
    try {
      // Pod names as Kubernetes makes them; FEEDBACK_WRITER_ID comes from metadata.name.
      const pods = [
        'model-service-v1-5d8f7c9b4-x2kqp',
        'model-service-v1-5d8f7c9b4-q7wzn',
        'model-service-v2-7b9c6d5f8-m4ljt',
      ];
      const writers = pods.map((pod) => new FeedbackWriter(dir, 1024 * 1024, { writerId: pod }));
      await Promise.all(
        writers.map((writer, i) =>
          writer.append({
            text: `review from ${pods[i]}`,
            label: 1,
            predictedLabel: 0,
            modelVersion: '1.0.0',
            time: `2026-12-01T10:00:0${i}.000Z`,
          }),
        ),
      );
      await Promise.all(writers.map((writer) => writer.close()));
      expect((await readdir(dir)).sort()).toEqual(pods.map((pod) => `feedback-${pod}.jsonl`).sort());
      const read = await readFeedbackDir(dir);
      expect(read.records.map((r) => [r.file, r.text])).toEqual(
        pods.map((pod) => [`feedback-${pod}.jsonl`, `review from ${pod}`]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('gateway rate limit', () => {
  it("limits only this release's host, per gateway pod, under a name of its own", async () => {
    const objects = await renderChart({
      set: [
        'istio.gateway.rateLimit.enabled=true',
        'istio.gateway.tls.enabled=true',
        'istio.gateway.tls.credentialName=tls',
      ],
    });
    const filter = findObject(objects, 'EnvoyFilter', 'restaurant-sentiment-rs-local-rate-limit');
    expect(filter.metadata.namespace).toBe('istio-system');
    const patches = (
      filter.spec as {
        configPatches: Array<{
          applyTo: string;
          match: Record<string, unknown>;
          patch: { value: Record<string, unknown> };
        }>;
      }
    ).configPatches;
    expect(patches.map((p) => p.applyTo)).toEqual(['HTTP_FILTER', 'HTTP_ROUTE', 'HTTP_ROUTE']);
    // The filter in the chain has no bucket: it limits nothing until a route of ours switches it on.
    expect(patches[0].patch.value).toEqual({
      name: 'envoy.filters.http.local_ratelimit',
      typed_config: {
        '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
        type_url: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
        value: { stat_prefix: 'http_local_rate_limiter' },
      },
    });
    expect(patches.slice(1).map((p) => p.match)).toEqual(
      ['restaurant.local:80', 'restaurant.local:443'].map((name) => ({
        context: 'GATEWAY',
        routeConfiguration: { vhost: { name, route: { action: 'ANY' } } },
      })),
    );
    const perRoute = patches[1].patch.value as {
      typed_per_filter_config: Record<string, { value: { token_bucket: unknown } }>;
    };
    expect(perRoute.typed_per_filter_config['envoy.filters.http.local_ratelimit'].value.token_bucket).toEqual(
      {
        max_tokens: 600,
        tokens_per_fill: 600,
        fill_interval: '60s',
      },
    );
  });
});
