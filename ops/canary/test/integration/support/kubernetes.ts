/**
 * The Kubernetes side of the canary integration test: the fake API server of test/support (which speaks
 * the VirtualService API the controller's @kubernetes/client-node client calls) holding the chart's app
 * VirtualService, a kubeconfig file naming it (what `canary run -c` configs point at), the routes the
 * simulated users are routed by (always the stored object's current `spec.http`), and the weights of the
 * patches it received.
 */
import { writeFile } from 'node:fs/promises';
import type { HttpRoute } from '../../../../helm/test/support/mesh.js';
import type { K8sObject } from '../../../../helm/src/helm/render.js';
import { FakeKubernetes, type KubeObject } from '../../support/fake-kubernetes.js';

/** The fake API server with the app VirtualService. */
export interface KubernetesHarness {
  server: FakeKubernetes;
  /** A kubeconfig (JSON, which is YAML) with the server's URL and bearer token. */
  kubeconfigFile: string;
  /** The stored VirtualService's `spec.http` now (a copy). */
  routes(): HttpRoute[];
  /**
   * Puts the VirtualService back as it was rendered (another client's write: new resourceVersion) and
   * forgets the patches received so far.
   */
  reset(): void;
  /**
   * Canary weight of every JSON patch received since the last reset, in order: the weight of the canary
   * destination of the route `weighted` in its `replace /spec/http` operation.
   * @throws Error when a patch has no such operation (the controller must write the whole route list).
   */
  writtenWeights(): number[];
  /** The canary weight the stored VirtualService has now. */
  currentWeight(): number;
  close(): Promise<void>;
}

/** The weight of subset `canary` in the route `weighted` of `routes`. */
function canaryWeightOf(routes: HttpRoute[], canary: string): number {
  const weighted = routes.find((r) => r.name === 'weighted');
  const destination = weighted?.route.find((d) => d.destination.subset === canary);
  if (!destination)
    throw new Error(`no weighted destination for subset ${canary} in ${JSON.stringify(routes)}`);
  return destination.weight ?? 0;
}

/**
 * Starts the fake API server holding `virtualService` (as rendered, e.g. at canary weight 0) and writes
 * `kubeconfigFile`.
 * @param canarySubset the canary's subset (default `v2`).
 */
export async function startKubernetes(
  virtualService: K8sObject,
  kubeconfigFile: string,
  canarySubset = 'v2',
): Promise<KubernetesHarness> {
  const server = await new FakeKubernetes().start();
  const initial = structuredClone(virtualService) as KubeObject;
  const { namespace, name } = initial.metadata;
  server.create(initial);
  await writeFile(kubeconfigFile, (await server.kubeConfig()).exportConfig());
  let from = server.requests.length;
  let cached: { resourceVersion: string; routes: HttpRoute[] } | null = null;
  const stored = () => {
    const object = server.get(namespace, name);
    if (!object) throw new Error(`VirtualService ${namespace}/${name} is gone`);
    return object;
  };
  return {
    server,
    kubeconfigFile,
    routes() {
      const object = stored();
      const resourceVersion = object.metadata.resourceVersion ?? '';
      if (cached?.resourceVersion !== resourceVersion) {
        cached = { resourceVersion, routes: (object.spec as { http: HttpRoute[] }).http };
      }
      return cached.routes;
    },
    reset() {
      server.update(namespace, name, (object) => {
        object.spec = structuredClone(initial.spec);
      });
      from = server.requests.length;
    },
    writtenWeights() {
      return server.requests
        .slice(from)
        .filter((r) => r.method === 'PATCH')
        .map((r) => {
          const operations = r.body as Array<{ op: string; path: string; value?: unknown }>;
          const replace = operations.find((o) => o.op === 'replace' && o.path === '/spec/http');
          if (!replace) throw new Error(`a patch without "replace /spec/http": ${JSON.stringify(r.body)}`);
          return canaryWeightOf(replace.value as HttpRoute[], canarySubset);
        });
    },
    currentWeight: () => canaryWeightOf((stored().spec as { http: HttpRoute[] }).http, canarySubset),
    close: () => server.stop(),
  };
}
