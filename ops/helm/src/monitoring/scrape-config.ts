/**
 * A Prometheus scrape configuration that reproduces, without a cluster, what prometheus-operator makes of
 * the chart's ServiceMonitors: for local processes standing in for pods it builds `static_configs` whose
 * targets carry the `__meta_kubernetes_*` labels Kubernetes endpoints discovery would give them (from the
 * rendered Services and Deployments), and one job per ServiceMonitor endpoint whose `relabel_configs` are
 * the ones prometheus-operator generates (selector and port `keep`s, then `namespace`, `service`, `pod`,
 * `container`, `job`, `endpoint`) followed by the ServiceMonitor's own `relabelings`, and whose
 * `metric_relabel_configs` are its `metricRelabelings`. Prometheus itself then applies the chart's
 * relabeling, so a test that scrapes with this configuration sees the labels a cluster would.
 *
 * Source of the generated relabelings: prometheus-operator `pkg/prometheus/promcfg.go`
 * (`generateServiceMonitorConfig`, role `endpoints`); the meta labels: Prometheus documentation,
 * `kubernetes_sd_config`, roles `endpoints` and `pod`. Left out because they do not apply to one
 * unsharded Prometheus with plain-HTTP targets: the `__tmp_hash` sharding pair, TLS and authorization.
 */
import type { IRelabelConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RelabelConfig';
import type { IServiceMonitorSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitorSpec';
import type { K8sObject } from '../helm/render.js';

/** One relabel step in Prometheus' own configuration format (snake_case keys). */
export interface PrometheusRelabelConfig {
  source_labels?: string[];
  separator?: string;
  target_label?: string;
  regex?: string;
  modulus?: number;
  replacement?: string;
  action?: string;
}

/** One `scrape_configs` entry as written to prometheus.yml. */
export interface PrometheusScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  metrics_path: string;
  scheme: string;
  honor_labels: boolean;
  honor_timestamps: boolean;
  static_configs: Array<{ targets: string[]; labels: Record<string, string> }>;
  relabel_configs: PrometheusRelabelConfig[];
  metric_relabel_configs?: PrometheusRelabelConfig[];
}

/** A local process standing in for one pod of a rendered Deployment. */
export interface PodTarget {
  /** Name of the rendered Deployment whose pod template the process runs, e.g. `app-v1`. */
  deployment: string;
  /** `host:port` where the process serves (stands in for the pod IP and the container port). */
  address: string;
  /** Pod name (default `<deployment>-0`). */
  pod?: string;
}

/** Options of {@link serviceMonitorScrapeConfigs}. */
export interface ScrapeConfigOptions {
  /** Namespace of the release (objects rendered without `metadata.namespace` live there). */
  namespace: string;
  /** Replaces every endpoint's `interval` (e.g. `1s` in tests); the ServiceMonitor's otherwise. */
  scrapeInterval?: string;
  /**
   * Scrape plain HTTP whatever the endpoint's `scheme`/`tlsConfig` say. On a cluster with Istio mTLS the
   * endpoints scrape https with the mesh's certificates and the pod's sidecar hands plain HTTP to the
   * service; local processes have no sidecar, so the test scrapes what the sidecar would have passed on.
   */
  plainHttp?: boolean;
}

interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[] };
}
interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

/**
 * Prometheus' label-name sanitizing of Kubernetes label keys (`strutil.SanitizeLabelName`): every
 * character outside `[a-zA-Z0-9_]` becomes `_`, e.g. `app.kubernetes.io/name` → `app_kubernetes_io_name`.
 */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** `__meta_kubernetes_<kind>_label_<k>` and `..._labelpresent_<k>` (and annotations) of an object. */
function objectMeta(
  kind: 'pod' | 'service',
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    meta[`__meta_kubernetes_${kind}_label_${sanitizeLabelName(key)}`] = value;
    meta[`__meta_kubernetes_${kind}_labelpresent_${sanitizeLabelName(key)}`] = 'true';
  }
  for (const [key, value] of Object.entries(annotations)) {
    meta[`__meta_kubernetes_${kind}_annotation_${sanitizeLabelName(key)}`] = value;
    meta[`__meta_kubernetes_${kind}_annotationpresent_${sanitizeLabelName(key)}`] = 'true';
  }
  return meta;
}

function namespaceOf(object: K8sObject, fallback: string): string {
  return object.metadata.namespace ?? fallback;
}

/** Does a `matchLabels`/`matchExpressions` selector (or a plain `spec.selector` map) select `labels`? */
function selects(
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  },
  labels: Record<string, string>,
): boolean {
  const matchLabels = selector.matchLabels ?? {};
  if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) return false;
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown label selector operator ${operator}`);
    }
  });
}

/**
 * The targets Kubernetes endpoints discovery would find for `targets`: one per (Service port, pod) where
 * the Service (in the pod's namespace) selects the pod's labels, each `address` with the meta labels of
 * the Service, the endpoint, the pod and the container whose port the Service port's `targetPort` names.
 * @throws Error when a target's Deployment is not rendered, or a selecting Service's `targetPort` names no
 *   container port of the pod (on a cluster that endpoint would have no address).
 */
export function discoveredTargets(
  objects: K8sObject[],
  targets: PodTarget[],
  namespace: string,
): Array<{ address: string; labels: Record<string, string> }> {
  const services = objects.filter((o) => o.kind === 'Service');
  const found: Array<{ address: string; labels: Record<string, string> }> = [];
  for (const target of targets) {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === target.deployment);
    if (!deployment) {
      const present = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
      throw new Error(
        `no Deployment ${target.deployment} in the rendered chart (present: ${present.join(', ')})`,
      );
    }
    const podNamespace = namespaceOf(deployment, namespace);
    const template = (deployment.spec as { template: PodTemplate }).template;
    const podLabels = template.metadata?.labels ?? {};
    const pod = target.pod ?? `${target.deployment}-0`;
    const host = target.address.replace(/:\d+$/, '');
    for (const service of services) {
      const spec = service.spec as { selector?: Record<string, string>; ports?: ServicePort[] };
      if (namespaceOf(service, namespace) !== podNamespace) continue;
      if (!spec.selector || !selects({ matchLabels: spec.selector }, podLabels)) continue;
      for (const port of spec.ports ?? []) {
        const targetPort = port.targetPort ?? port.port;
        const match = template.spec.containers
          .flatMap((container) => (container.ports ?? []).map((p) => ({ container, port: p })))
          .find(({ port: p }) => (typeof targetPort === 'number' ? p.containerPort : p.name) === targetPort);
        if (!match) {
          throw new Error(
            `Service ${service.metadata.name} port ${port.name ?? port.port} targets ${targetPort}, which is no container port of Deployment ${target.deployment}`,
          );
        }
        found.push({
          address: target.address,
          labels: {
            __meta_kubernetes_namespace: podNamespace,
            __meta_kubernetes_endpoints_name: service.metadata.name,
            __meta_kubernetes_endpoint_port_name: port.name ?? '',
            __meta_kubernetes_endpoint_port_protocol: port.protocol ?? 'TCP',
            __meta_kubernetes_endpoint_ready: 'true',
            __meta_kubernetes_endpoint_address_target_kind: 'Pod',
            __meta_kubernetes_endpoint_address_target_name: pod,
            __meta_kubernetes_service_name: service.metadata.name,
            ...objectMeta('service', service.metadata.labels, service.metadata.annotations),
            __meta_kubernetes_pod_name: pod,
            __meta_kubernetes_pod_ip: host,
            __meta_kubernetes_pod_ready: 'true',
            __meta_kubernetes_pod_phase: 'Running',
            __meta_kubernetes_pod_node_name: 'node-0',
            __meta_kubernetes_pod_host_ip: host,
            __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
            __meta_kubernetes_pod_controller_name: `${target.deployment}-0`,
            __meta_kubernetes_pod_container_name: match.container.name,
            __meta_kubernetes_pod_container_port_name: match.port.name ?? '',
            __meta_kubernetes_pod_container_port_number: String(match.port.containerPort),
            __meta_kubernetes_pod_container_port_protocol: match.port.protocol ?? 'TCP',
            ...objectMeta('pod', podLabels, template.metadata?.annotations),
          },
        });
      }
    }
  }
  return found;
}

/** A ServiceMonitor relabeling in Prometheus' format (prometheus-operator lowercases the action). */
export function toPrometheusRelabel(config: IRelabelConfig): PrometheusRelabelConfig {
  const out: PrometheusRelabelConfig = {};
  if (config.sourceLabels) out.source_labels = [...config.sourceLabels];
  if (config.separator !== undefined) out.separator = config.separator;
  if (config.targetLabel !== undefined) out.target_label = config.targetLabel;
  if (config.regex !== undefined) out.regex = config.regex;
  if (config.modulus !== undefined) out.modulus = config.modulus;
  if (config.replacement !== undefined) out.replacement = config.replacement;
  if (config.action !== undefined) out.action = config.action.toLowerCase();
  return out;
}

/** The `keep`/`drop` steps prometheus-operator generates from a ServiceMonitor's `selector`. */
function selectorRelabelings(selector: IServiceMonitorSpec['selector']): PrometheusRelabelConfig[] {
  const steps: PrometheusRelabelConfig[] = [];
  const label = (key: string) => `__meta_kubernetes_service_label_${sanitizeLabelName(key)}`;
  const present = (key: string) => `__meta_kubernetes_service_labelpresent_${sanitizeLabelName(key)}`;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    steps.push({ action: 'keep', source_labels: [label(key), present(key)], regex: `(${value});true` });
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    switch (operator) {
      case 'In':
        steps.push({
          action: 'keep',
          source_labels: [label(key), present(key)],
          regex: `(${values.join('|')});true`,
        });
        break;
      case 'NotIn':
        steps.push({
          action: 'drop',
          source_labels: [label(key), present(key)],
          regex: `(${values.join('|')});true`,
        });
        break;
      case 'Exists':
        steps.push({ action: 'keep', source_labels: [present(key)], regex: 'true' });
        break;
      case 'DoesNotExist':
        steps.push({ action: 'drop', source_labels: [present(key)], regex: 'true' });
        break;
      default:
        throw new Error(`unknown label selector operator ${operator}`);
    }
  }
  return steps;
}

/**
 * One Prometheus job per endpoint of every rendered ServiceMonitor (named as prometheus-operator names
 * them, `serviceMonitor/<namespace>/<name>/<endpoint index>`), scraping `targets` as
 * {@link discoveredTargets} describes them, with prometheus-operator's relabelings and the
 * ServiceMonitor's own. Every job lists every discovered target; its `keep` steps select the ones the
 * ServiceMonitor selects, as on a cluster.
 * @returns one entry per ServiceMonitor endpoint (2 for the chart: app and model-service, one port each).
 * @throws Error when no ServiceMonitor is rendered, an endpoint uses `targetPort`, or it scrapes https
 *   without `options.plainHttp` (TLS settings are not reproduced), or from {@link discoveredTargets}.
 */
export function serviceMonitorScrapeConfigs(
  objects: K8sObject[],
  targets: PodTarget[],
  options: ScrapeConfigOptions,
): PrometheusScrapeConfig[] {
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  if (monitors.length === 0) throw new Error('the rendered chart has no ServiceMonitor');
  const discovered = discoveredTargets(objects, targets, options.namespace);
  return monitors.flatMap((monitor) => {
    const spec = monitor.spec as IServiceMonitorSpec;
    const monitorNamespace = namespaceOf(monitor, options.namespace);
    const selector = spec.namespaceSelector;
    const namespaces = selector?.any ? null : (selector?.matchNames ?? [monitorNamespace]);
    const inNamespaces = discovered.filter(
      (t) => namespaces === null || namespaces.includes(t.labels.__meta_kubernetes_namespace),
    );
    return spec.endpoints.map((endpoint, index): PrometheusScrapeConfig => {
      if (!endpoint.port) {
        throw new Error(
          `ServiceMonitor ${monitor.metadata.name} endpoint ${index} has no port name (targetPort is not reproduced)`,
        );
      }
      const scheme = options.plainHttp ? 'http' : (endpoint.scheme ?? 'http');
      if (scheme !== 'http') {
        throw new Error(
          `ServiceMonitor ${monitor.metadata.name} endpoint ${index} scrapes ${scheme}, not http`,
        );
      }
      const relabelings: PrometheusRelabelConfig[] = [
        { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
        ...selectorRelabelings(spec.selector),
        { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: endpoint.port },
        {
          source_labels: [
            '__meta_kubernetes_endpoint_address_target_kind',
            '__meta_kubernetes_endpoint_address_target_name',
          ],
          separator: ';',
          regex: 'Node;(.*)',
          replacement: '${1}',
          target_label: 'node',
        },
        {
          source_labels: [
            '__meta_kubernetes_endpoint_address_target_kind',
            '__meta_kubernetes_endpoint_address_target_name',
          ],
          separator: ';',
          regex: 'Pod;(.*)',
          replacement: '${1}',
          target_label: 'pod',
        },
        ...(endpoint.filterRunning === false
          ? []
          : [
              {
                action: 'drop',
                source_labels: ['__meta_kubernetes_pod_phase'],
                regex: '(Failed|Succeeded)',
              },
            ]),
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
        ...(spec.targetLabels ?? []).map((name) => ({
          source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(name)}`],
          target_label: sanitizeLabelName(name),
          regex: '(.+)',
          replacement: '${1}',
        })),
        ...(spec.podTargetLabels ?? []).map((name) => ({
          source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(name)}`],
          target_label: sanitizeLabelName(name),
          regex: '(.+)',
          replacement: '${1}',
        })),
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
        ...(spec.jobLabel
          ? [
              {
                source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(spec.jobLabel)}`],
                target_label: 'job',
                regex: '(.+)',
                replacement: '${1}',
              },
            ]
          : []),
        { target_label: 'endpoint', replacement: endpoint.port },
        ...(endpoint.relabelings ?? []).map(toPrometheusRelabel),
      ];
      const config: PrometheusScrapeConfig = {
        job_name: `serviceMonitor/${monitorNamespace}/${monitor.metadata.name}/${index}`,
        metrics_path: endpoint.path ?? '/metrics',
        scheme,
        honor_labels: endpoint.honorLabels ?? false,
        honor_timestamps: endpoint.honorTimestamps ?? true,
        static_configs: inNamespaces.map((t) => ({ targets: [t.address], labels: t.labels })),
        relabel_configs: relabelings,
      };
      const interval = options.scrapeInterval ?? endpoint.interval;
      if (interval) config.scrape_interval = interval;
      if (endpoint.scrapeTimeout && !options.scrapeInterval) config.scrape_timeout = endpoint.scrapeTimeout;
      if (endpoint.metricRelabelings?.length) {
        config.metric_relabel_configs = endpoint.metricRelabelings.map(toPrometheusRelabel);
      }
      return config;
    });
  });
}
