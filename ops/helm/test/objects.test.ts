/**
 * Every object the chart renders, for the default values and every edge case in test/values/: validated
 * against its API schema (kubernetes-models, @kubernetes-models/istio, @kubernetes-models/prometheus-operator),
 * checked for unknown or mistyped fields against the models' TypeScript interfaces (the schemas accept
 * unknown fields), and checked for the invariants that tie the objects together: selectors that select,
 * references that resolve, and the containers' resources, probes and security context the issue asks for.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import type { IGateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { IAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { renderChart, type K8sObject } from '../src/helm/render.js';
import { checkObjectFields } from '../src/validation/fields.js';
import { validateObject } from '../src/validation/models.js';
import { GOOD_CASES, type ValuesCase } from './support/cases.js';

const NAMESPACE = 'restaurant-sentiment';

/** The labels every object carries (rs.labels in _helpers.tpl). */
const CHART_LABELS = {
  'app.kubernetes.io/part-of': 'restaurant-sentiment',
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/instance': 'rs',
  'helm.sh/chart': 'restaurant-sentiment-0.1.0',
};

/** Deployments each case renders (design contract: `<component>-<version>`). */
function expectedDeployments(name: string): string[] {
  const stableOnly = ['app-v1', 'model-service-v1'];
  if (name === 'canary-off' || name === 'minimal') return stableOnly;
  const both = [...stableOnly, 'app-v2', 'model-service-v2'];
  return name === 'shadow' ? [...both, 'model-service-shadow'] : both;
}

/** True when every label of `selector` has the same value in `labels`. */
function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);
}

const ofKind = <T>(objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind) as unknown as T[];
const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';
const podLabels = (d: IDeployment) => d.spec?.template.metadata?.labels ?? {};
const podSpec = (d: IDeployment): IPodSpec => d.spec!.template.spec!;

/** Service name of an Istio host (`app`, `app.<namespace>.svc.cluster.local`) in the release namespace. */
function serviceOfHost(host: string): string | undefined {
  const [name, namespace, ...rest] = host.split('.');
  if (namespace === undefined) return name;
  return namespace === NAMESPACE && rest.join('.') === 'svc.cluster.local' ? name : undefined;
}

describe('the validators', () => {
  const deployment = (name: string, spec: object) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec,
  });
  const spec = () => ({
    selector: { matchLabels: { app: 'app' } },
    template: {
      metadata: { labels: { app: 'app' } },
      spec: { containers: [{ name: 'app', image: 'ghcr.io/restaurant-sentiment/app:1.0.0' }] as object[] },
    },
  });

  it('validateObject names the object and the schema error', () => {
    expect(() => validateObject(deployment('app-v1', spec()))).not.toThrow();
    expect(() => validateObject(deployment('app-v1', { ...spec(), replicas: 'two' }))).toThrow(
      new Error('Deployment/app-v1: /spec/replicas must be integer'),
    );
  });

  it('validateObject refuses an apiVersion/kind without a model instead of skipping it', () => {
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' } })).toThrow(
      new Error(
        'Secret/token: no schema for apiVersion v1 kind Secret (add its model to ops/helm/src/validation/models.ts)',
      ),
    );
  });

  it('checkObjectFields reports an unknown field (which the schemas accept) with its object and path', () => {
    const misspelt = spec();
    misspelt.template.spec.containers[0] = {
      ...misspelt.template.spec.containers[0],
      readinesProbe: { httpGet: { path: '/readyz', port: 'http' } },
    };
    const objects = [deployment('app-v1', spec()), deployment('app-v2', misspelt)];
    expect(() => objects.forEach(validateObject)).not.toThrow();
    expect(checkObjectFields(objects)).toEqual([
      `Deployment/app-v2 spec.template.spec.containers[0].readinesProbe: Object literal may only specify known properties, and '"readinesProbe"' does not exist in type 'IContainer'.`,
    ]);
  });

  it('checkObjectFields reports a mistyped value and unknown fields in Istio objects', () => {
    expect(checkObjectFields([deployment('app-v1', { ...spec(), replicas: '2' })])).toEqual([
      "Deployment/app-v1 spec.replicas: Type 'string' is not assignable to type 'number'.",
    ]);
    const virtualService = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'app' },
      spec: { hosts: ['app'], http: [{ route: [{ destination: { host: 'app' } }], timeoutMs: 3000 }] },
    };
    const [problem, ...others] = checkObjectFields([virtualService]);
    expect(others).toEqual([]);
    expect(problem).toMatch(
      /^VirtualService\/app spec\.http\[0\]\.timeoutMs: Object literal may only specify known properties, and '"timeoutMs"' does not exist in type /,
    );
  });
});

describe.each(GOOD_CASES.map((c) => [c.name, c] as const))('rendered objects: %s', (caseName, valuesCase) => {
  let objects: K8sObject[];
  let deployments: IDeployment[];
  let services: IService[];

  beforeAll(async () => {
    objects = await renderChart({ valuesFiles: (valuesCase as ValuesCase).valuesFiles });
    deployments = ofKind<IDeployment>(objects, 'Deployment');
    services = ofKind<IService>(objects, 'Service');
  });

  it('validates every object against the schema of its apiVersion/kind', () => {
    const errors: string[] = [];
    for (const object of objects) {
      try {
        validateObject(object);
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    expect(errors).toEqual([]);
    expect(objects.length).toBeGreaterThan(0);
  });

  it('has no unknown or mistyped field in any object', () => {
    expect(checkObjectFields(objects)).toEqual([]);
  });

  it('names each object once, in the release namespace, with the chart labels, and renders no Secret', () => {
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const object of objects) {
      // The rate limit's EnvoyFilter goes where the ingress gateway pods run (istio.gateway.rateLimit.namespace).
      const namespace = object.kind === 'EnvoyFilter' ? 'istio-system' : NAMESPACE;
      expect({ id: `${object.kind}/${object.metadata.name}`, namespace: object.metadata.namespace }).toEqual({
        id: `${object.kind}/${object.metadata.name}`,
        namespace,
      });
      expect(object.metadata.labels).toMatchObject(CHART_LABELS);
    }
    expect(objects.filter((o) => o.kind === 'Secret').map(nameOf)).toEqual([]);
  });

  it('renders the Deployments of the enabled versions with the contract labels', () => {
    expect(deployments.map(nameOf).sort()).toEqual(expectedDeployments(caseName).sort());
    for (const d of deployments) {
      const labels = podLabels(d);
      const component = labels.app;
      const container = podSpec(d).containers.find((c) => c.name === component);
      expect({ name: nameOf(d), component, version: labels.version }).toEqual({
        name: `${component}-${labels.version}`,
        component: expect.stringMatching(/^(app|model-service)$/),
        version: expect.stringMatching(/^[a-z0-9-]+$/),
      });
      expect(labels['app.kubernetes.io/name']).toBe(component);
      expect(labels['app.kubernetes.io/version']).toBe(container?.image?.split(':').pop());
      // The selector picks exactly this Deployment's pods (no two Deployments share a selector).
      expect(selects(d.spec!.selector.matchLabels, labels)).toBe(true);
      const overlapping = deployments.filter((other) =>
        selects(d.spec!.selector.matchLabels, podLabels(other)),
      );
      expect(overlapping.map(nameOf)).toEqual([nameOf(d)]);
    }
  });

  it('gives every container requests, limits, probes and the restricted security context', () => {
    for (const d of deployments) {
      const pod = podSpec(d);
      expect(pod.containers.length).toBeGreaterThan(0);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])] as IContainer[]) {
        const where = `${nameOf(d)}/${c.name}`;
        const ports = (c.ports ?? []).map((p) => p.name);
        expect({ where, resources: c.resources }).toEqual({
          where,
          resources: {
            requests: { cpu: expect.anything(), memory: expect.anything() },
            limits: { cpu: expect.anything(), memory: expect.anything() },
          },
        });
        expect({
          where,
          startup: c.startupProbe?.httpGet?.path,
          liveness: c.livenessProbe?.httpGet?.path,
          readiness: c.readinessProbe?.httpGet?.path,
        }).toEqual({ where, startup: '/healthz', liveness: '/healthz', readiness: '/readyz' });
        for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
          expect(ports).toContain(probe?.httpGet?.port);
        }
        const security = c.securityContext;
        expect({
          where,
          runAsNonRoot: security?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot,
          readOnlyRootFilesystem: security?.readOnlyRootFilesystem,
          allowPrivilegeEscalation: security?.allowPrivilegeEscalation,
          drop: security?.capabilities?.drop,
          seccomp: security?.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type,
        }).toEqual({
          where,
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          drop: ['ALL'],
          seccomp: 'RuntimeDefault',
        });
        const volumes = (pod.volumes ?? []).map((v) => v.name);
        for (const mount of c.volumeMounts ?? []) expect(volumes).toContain(mount.name);
      }
    }
  });

  it('renders every ConfigMap, PersistentVolumeClaim and ServiceAccount a pod refers to; Secrets only by name', () => {
    const rendered = (kind: string) => objects.filter((o) => o.kind === kind).map(nameOf);
    const claims = ofKind<IPersistentVolumeClaim>(objects, 'PersistentVolumeClaim').map(nameOf);
    for (const d of deployments) {
      const pod = podSpec(d);
      expect(rendered('ServiceAccount')).toContain(pod.serviceAccountName);
      for (const volume of pod.volumes ?? []) {
        if (volume.configMap) expect(rendered('ConfigMap')).toContain(volume.configMap.name);
        if (volume.persistentVolumeClaim) {
          // An existingClaim is the user's; any other claim must be the chart's.
          const claim = volume.persistentVolumeClaim.claimName;
          if (caseName === 'existing-claim') expect(claim).toBe('shared-feedback');
          else expect(claims).toContain(claim);
        }
        expect(volume.secret).toBeUndefined();
      }
      for (const c of pod.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) expect(rendered('ConfigMap')).toContain(from.configMapRef.name);
        }
        for (const env of c.env ?? []) {
          const configMap = env.valueFrom?.configMapKeyRef;
          if (configMap) expect(rendered('ConfigMap')).toContain(configMap.name);
          const secret = env.valueFrom?.secretKeyRef;
          if (secret) {
            // The only Secret a pod reads is the GitHub token, and only when values name it.
            expect({ env: env.name, secret }).toEqual({
              env: 'GITHUB_TOKEN',
              secret: { name: 'model-service-github', key: 'token' },
            });
            expect(caseName).toBe('secrets');
          }
        }
      }
    }
    if (caseName === 'secrets') {
      const modelService = deployments.filter((d) => podLabels(d).app === 'model-service');
      for (const d of modelService) {
        expect(podSpec(d).containers[0].env?.find((e) => e.name === 'GITHUB_TOKEN')?.valueFrom).toEqual({
          secretKeyRef: { name: 'model-service-github', key: 'token' },
        });
      }
    }
  });

  it('selects pods with every Service, PodDisruptionBudget, HPA and ServiceMonitor', () => {
    for (const s of services) {
      expect(Object.keys(s.spec?.selector ?? {}).length).toBeGreaterThan(0);
      const pods = deployments.filter((d) => selects(s.spec?.selector, podLabels(d)));
      expect({ service: nameOf(s), selects: pods.length > 0 }).toEqual({ service: nameOf(s), selects: true });
      for (const port of s.spec?.ports ?? []) {
        expect(port.name).toBeTruthy();
        for (const d of pods) {
          const named = podSpec(d)
            .containers.flatMap((c) => c.ports ?? [])
            .map((p) => p.name);
          expect(named).toContain(port.targetPort);
        }
      }
    }
    for (const pdb of ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
      const pods = deployments.filter((d) => selects(pdb.spec?.selector?.matchLabels, podLabels(d)));
      expect({ pdb: nameOf(pdb), selects: pods.map(nameOf) }).toEqual({
        pdb: nameOf(pdb),
        selects: [nameOf(pdb)],
      });
    }
    const hpas = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    for (const hpa of hpas) {
      const target = deployments.find((d) => nameOf(d) === hpa.spec.scaleTargetRef.name);
      expect({
        hpa: nameOf(hpa),
        target: target && nameOf(target),
        replicas: target?.spec?.replicas,
      }).toEqual({
        hpa: nameOf(hpa),
        target: hpa.spec.scaleTargetRef.name,
        replicas: undefined, // the HPA owns the replica count
      });
    }
    const modelService = deployments.filter((d) => podLabels(d).app === 'model-service');
    if (caseName === 'hpa-off' || caseName === 'minimal') {
      expect(hpas).toEqual([]);
      expect(modelService.map((d) => d.spec?.replicas)).toEqual(
        modelService.map(() => (caseName === 'hpa-off' ? 3 : 1)),
      );
    } else {
      expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(modelService.map(nameOf).sort());
    }
    for (const monitor of ofKind<IServiceMonitor>(objects, 'ServiceMonitor')) {
      const selected = services.filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata?.labels));
      expect({ monitor: nameOf(monitor), selected: selected.map(nameOf) }).toEqual({
        monitor: nameOf(monitor),
        selected: [nameOf(monitor)],
      });
      const portNames = selected.flatMap((s) => s.spec?.ports ?? []).map((p) => p.name);
      for (const endpoint of monitor.spec.endpoints ?? []) expect(portNames).toContain(endpoint.port);
      expect(monitor.spec.namespaceSelector?.matchNames).toEqual([NAMESPACE]);
    }
  });

  it('routes only to Services, subsets and pods that exist', () => {
    const destinationRules = ofKind<IDestinationRule>(objects, 'DestinationRule');
    const subsetsOf = new Map<string, string[]>();
    for (const rule of destinationRules) {
      const service = services.find((s) => nameOf(s) === serviceOfHost(rule.spec?.host ?? ''));
      expect({ rule: nameOf(rule), service: service && nameOf(service) }).toEqual({
        rule: nameOf(rule),
        service: serviceOfHost(rule.spec?.host ?? ''),
      });
      for (const subset of rule.spec?.subsets ?? []) {
        // A subset's pods are the Service's pods that also carry the subset's labels.
        const pods = deployments.filter(
          (d) => selects(service?.spec?.selector, podLabels(d)) && selects(subset.labels, podLabels(d)),
        );
        expect({ rule: nameOf(rule), subset: subset.name, pods: pods.length }).toEqual({
          rule: nameOf(rule),
          subset: subset.name,
          pods: 1,
        });
      }
      subsetsOf.set(
        nameOf(service!),
        (rule.spec?.subsets ?? []).map((s) => s.name),
      );
    }
    const gateways = ofKind<IGateway>(objects, 'Gateway').map(nameOf);
    for (const vs of ofKind<IVirtualService>(objects, 'VirtualService')) {
      for (const gateway of vs.spec?.gateways ?? []) {
        if (gateway !== 'mesh') expect(gateways).toContain(gateway);
      }
      for (const route of vs.spec?.http ?? []) {
        for (const match of route.match ?? []) {
          if (match.sourceLabels) {
            expect(deployments.some((d) => selects(match.sourceLabels, podLabels(d)))).toBe(true);
          }
        }
        const destinations = [...(route.route ?? []).map((r) => r.destination), route.mirror].filter(
          (d): d is NonNullable<typeof d> => d !== undefined,
        );
        for (const destination of destinations) {
          const service = serviceOfHost(destination.host);
          expect({ vs: nameOf(vs), route: route.name, host: destination.host, service }).toEqual({
            vs: nameOf(vs),
            route: route.name,
            host: destination.host,
            service: expect.stringMatching(/^(app|model-service)$/),
          });
          expect(services.map(nameOf)).toContain(service);
          if (destination.subset) expect(subsetsOf.get(service!) ?? []).toContain(destination.subset);
          const port = destination.port?.number;
          if (port !== undefined) {
            const ports = services.find((s) => nameOf(s) === service)?.spec?.ports?.map((p) => p.port);
            expect(ports).toContain(port);
          }
        }
      }
    }
    for (const policy of ofKind<IAuthorizationPolicy>(objects, 'AuthorizationPolicy')) {
      expect(deployments.some((d) => selects(policy.spec?.selector?.matchLabels, podLabels(d)))).toBe(true);
      const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map(nameOf);
      for (const rule of policy.spec?.rules ?? []) {
        for (const from of rule.from ?? []) {
          for (const principal of from.source?.principals ?? []) {
            const [, , namespace, , account] = principal.split('/');
            if (namespace === NAMESPACE) expect(accounts).toContain(account);
          }
        }
      }
    }
  });

  it('renders the optional objects exactly when the case enables them', () => {
    const names = (kind: string) => objects.filter((o) => o.kind === kind).map(nameOf);
    const minimal = caseName === 'minimal';
    expect(names('PeerAuthentication')).toEqual(caseName === 'mtls-off' || minimal ? [] : ['default']);
    expect(names('EnvoyFilter')).toEqual(
      caseName === 'rate-limit' ? ['restaurant-sentiment-rs-local-rate-limit'] : [],
    );
    expect(names('Gateway')).toEqual(minimal ? [] : ['restaurant-sentiment']);
    expect(names('Service').sort()).toEqual(['app', 'model-service']);
    expect(names('DestinationRule').sort()).toEqual(['app', 'model-service']);
    // Without a Gateway the app's VirtualService has nothing to bind to.
    expect(names('VirtualService').sort()).toEqual(minimal ? ['model-service'] : ['app', 'model-service']);
    expect(names('AuthorizationPolicy')).toEqual(minimal ? [] : ['model-service']);
    expect(names('PodDisruptionBudget').sort()).toEqual(minimal ? [] : expectedDeployments(caseName).sort());
    expect(names('PersistentVolumeClaim')).toEqual(
      minimal || caseName === 'existing-claim' ? [] : ['model-service-feedback'],
    );
    if (caseName === 'secrets') {
      const claim = objects.find(
        (o) => o.kind === 'PersistentVolumeClaim',
      ) as unknown as IPersistentVolumeClaim;
      expect(claim.spec?.storageClassName).toBe('nfs-client');
    }
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig']) {
      if (minimal) expect(names(kind)).toEqual([]);
    }
    if (minimal) expect(names('ConfigMap')).toEqual(['app-team']);
    if (caseName === 'tls') {
      const gateway = objects.find((o) => o.kind === 'Gateway') as unknown as IGateway;
      const https = gateway.spec?.servers?.find((s) => s.port.number === 443);
      expect(https).toMatchObject({
        port: { number: 443, protocol: 'HTTPS' },
        hosts: ['reviews.example.org'],
        tls: { mode: 'SIMPLE', credentialName: 'reviews-example-org-tls' },
      });
    }
  });
});
