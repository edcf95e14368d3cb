/**
 * The real implementations behind the CLI: Prometheus (PrometheusClient + readLook), the VirtualService
 * (@kubernetes/client-node through VirtualServiceRoutes, Helm values), the judge and its defaults, the
 * sample-size formula and the system clock.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import type { CanaryConfig } from '../config/schema.js';
import { SYSTEM_CLOCK, type Routes } from '../controller/ports.js';
import { DEFAULT_JUDGE_CONFIG } from '../judge/defaults.js';
import { judge } from '../judge/judge.js';
import { helmValues } from '../kubernetes/helm-values.js';
import { loadClientNode, VirtualServiceRoutes } from '../kubernetes/virtual-service.js';
import { PrometheusClient, readLook } from '../prometheus/index.js';
import { sampleSizeTwoProportions } from '../stats/index.js';
import type { CliDependencies, Connections } from './cli.js';

/**
 * Credentials and API server of the configuration: a kubeconfig file, in-cluster, or the default chain
 * ($KUBECONFIG, ~/.kube/config, in-cluster). @kubernetes/client-node is loaded here, on first use, so
 * commands that never talk to Kubernetes work even where it cannot load.
 * @throws ConfigError when the credentials cannot be loaded; KubernetesError when the client cannot.
 */
async function kubeConfigOf(config: CanaryConfig): Promise<KubeConfig> {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  const { kubeconfig, inCluster } = config.kubernetes;
  try {
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else if (inCluster) kc.loadFromCluster();
    else {
      // client-node's default chain falls back to http://localhost when it finds nothing: say so instead.
      const files = (process.env.KUBECONFIG ?? path.join(os.homedir(), '.kube', 'config'))
        .split(path.delimiter)
        .filter((file) => file !== '');
      if (!files.some((file) => existsSync(file)) && !process.env.KUBERNETES_SERVICE_HOST) {
        throw new ConfigError(
          `kubernetes: no kubeconfig found (${files.join(', ') || 'KUBECONFIG is empty'}) and not in a cluster: pass --kubeconfig, set KUBECONFIG, or set kubernetes.inCluster: true`,
        );
      }
      kc.loadFromDefault();
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const where = kubeconfig
      ? `kubeconfig ${kubeconfig}`
      : inCluster
        ? 'the in-cluster service account'
        : 'the default kubeconfig';
    throw new ConfigError(`kubernetes: cannot load ${where}: ${(error as Error).message.split('\n')[0]}`);
  }
  return kc;
}

/** The VirtualService of `config` as the controller's {@link Routes}, built on the first call. */
function virtualServiceRoutes(config: CanaryConfig, log: Logger): Routes {
  let client: Promise<VirtualServiceRoutes> | undefined;
  const vs = () =>
    (client ??= kubeConfigOf(config)
      .then(
        (kc) =>
          new VirtualServiceRoutes(kc, {
            namespace: config.kubernetes.namespace,
            name: config.kubernetes.virtualService,
            onRetry: (event) => log.warn(event, 'Kubernetes API call failed; retrying'),
          }),
      )
      .catch((error: unknown) => {
        client = undefined;
        throw error;
      }));
  return {
    read: async () => {
      const state = await (await vs()).read();
      return {
        stableVersion: state.stableVersion,
        canaryVersion: state.canaryVersion,
        canaryWeight: state.weights.canary,
      };
    },
    setCanaryWeight: async (weight, options) => (await vs()).setCanaryWeight(weight, options),
    helmValues: (weight, state, { promote }) =>
      promote
        ? helmValues({ promote: true, canaryVersion: state.canaryVersion })
        : helmValues({ canaryWeight: weight }),
  };
}

/** Prometheus and the VirtualService of `config`. */
export function connect(config: CanaryConfig, log: Logger): Connections {
  const client = new PrometheusClient(config.prometheus.url, { timeoutMs: config.prometheus.timeoutMs });
  let routes: Routes | undefined;
  return {
    looks: {
      // canaryWeight is set by the caller from what it knows of the weights; 0 is a placeholder.
      read: (target, window) => readLook(client, { ...target, canaryWeight: 0 }, window),
    },
    routes: () => (routes ??= virtualServiceRoutes(config, log)),
  };
}

/** Everything the CLI needs, for real. */
export const REAL_DEPENDENCIES: CliDependencies = {
  connect,
  judge,
  defaultJudgeConfig: DEFAULT_JUDGE_CONFIG,
  sampleSize: sampleSizeTwoProportions,
  clock: SYSTEM_CLOCK,
};
