/**
 * src/monitoring/scrape-config.ts on small hand-written objects: the meta labels a target gets, the
 * relabel steps prometheus-operator generates around a ServiceMonitor's own, and the errors for what it
 * cannot reproduce. (prometheus.test.ts runs it against the rendered chart and a real Prometheus.)
 */
import { describe, expect, it } from '@jest/globals';
import type { K8sObject } from '../src/helm/render.js';
import {
  discoveredTargets,
  sanitizeLabelName,
  serviceMonitorScrapeConfigs,
  toPrometheusRelabel,
} from '../src/monitoring/scrape-config.js';

const NS = 'shop';

function deployment(name: string, labels: Record<string, string>, portName = 'http'): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'web', ports: [{ name: portName, containerPort: 8080 }] }] },
      },
    },
  };
}

const service: K8sObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'web' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

function monitor(endpoint: Record<string, unknown>, spec: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'web', namespace: NS },
    spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'http', ...endpoint }], ...spec },
  };
}

const relabel = [
  { action: 'Replace', sourceLabels: ['__meta_kubernetes_pod_label_version'], targetLabel: 'version' },
];

describe('sanitizeLabelName', () => {
  it('turns every character outside [a-zA-Z0-9_] into _', () => {
    expect(sanitizeLabelName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
    expect(sanitizeLabelName('helm.sh/chart-x')).toBe('helm_sh_chart_x');
  });
});

describe('toPrometheusRelabel', () => {
  it('renames the keys to snake_case and lowercases the action', () => {
    expect(
      toPrometheusRelabel({
        action: 'LabelMap',
        sourceLabels: ['a', 'b'],
        separator: ';',
        regex: '(.*)',
        replacement: '$1',
        targetLabel: 't',
        modulus: 3,
      }),
    ).toEqual({
      action: 'labelmap',
      source_labels: ['a', 'b'],
      separator: ';',
      regex: '(.*)',
      replacement: '$1',
      target_label: 't',
      modulus: 3,
    });
  });
});

describe('discoveredTargets', () => {
  it('gives a selected pod the endpoint, Service, pod and container meta labels', () => {
    const objects = [service, deployment('web-v1', { app: 'web', version: 'v1' })];
    expect(discoveredTargets(objects, [{ deployment: 'web-v1', address: '127.0.0.1:4000' }], NS)).toEqual([
      {
        address: '127.0.0.1:4000',
        labels: {
          __meta_kubernetes_namespace: NS,
          __meta_kubernetes_endpoints_name: 'web',
          __meta_kubernetes_endpoint_port_name: 'http',
          __meta_kubernetes_endpoint_port_protocol: 'TCP',
          __meta_kubernetes_endpoint_ready: 'true',
          __meta_kubernetes_endpoint_address_target_kind: 'Pod',
          __meta_kubernetes_endpoint_address_target_name: 'web-v1-0',
          __meta_kubernetes_service_name: 'web',
          __meta_kubernetes_service_label_app: 'web',
          __meta_kubernetes_service_labelpresent_app: 'true',
          __meta_kubernetes_service_label_app_kubernetes_io_name: 'web',
          __meta_kubernetes_service_labelpresent_app_kubernetes_io_name: 'true',
          __meta_kubernetes_pod_name: 'web-v1-0',
          __meta_kubernetes_pod_ip: '127.0.0.1',
          __meta_kubernetes_pod_ready: 'true',
          __meta_kubernetes_pod_phase: 'Running',
          __meta_kubernetes_pod_node_name: 'node-0',
          __meta_kubernetes_pod_host_ip: '127.0.0.1',
          __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
          __meta_kubernetes_pod_controller_name: 'web-v1-0',
          __meta_kubernetes_pod_container_name: 'web',
          __meta_kubernetes_pod_container_port_name: 'http',
          __meta_kubernetes_pod_container_port_number: '8080',
          __meta_kubernetes_pod_container_port_protocol: 'TCP',
          __meta_kubernetes_pod_label_app: 'web',
          __meta_kubernetes_pod_labelpresent_app: 'true',
          __meta_kubernetes_pod_label_version: 'v1',
          __meta_kubernetes_pod_labelpresent_version: 'true',
        },
      },
    ]);
  });

  it('finds no endpoint for a pod the Service does not select', () => {
    const objects = [service, deployment('db', { app: 'db' })];
    expect(discoveredTargets(objects, [{ deployment: 'db', address: '127.0.0.1:1' }], NS)).toEqual([]);
  });

  it('rejects a Service whose targetPort names no container port, and a Deployment that is not rendered', () => {
    const objects = [service, deployment('web-v1', { app: 'web' }, 'metrics')];
    expect(() => discoveredTargets(objects, [{ deployment: 'web-v1', address: '127.0.0.1:1' }], NS)).toThrow(
      'Service web port http targets http, which is no container port of Deployment web-v1',
    );
    expect(() => discoveredTargets(objects, [{ deployment: 'web-v9', address: '127.0.0.1:1' }], NS)).toThrow(
      'no Deployment web-v9 in the rendered chart (present: web-v1)',
    );
  });
});

describe('serviceMonitorScrapeConfigs', () => {
  const objects = (m: K8sObject) => [service, deployment('web-v1', { app: 'web', version: 'v1' }), m];
  const targets = [{ deployment: 'web-v1', address: '127.0.0.1:4000' }];

  it('wraps the ServiceMonitor relabelings in the steps prometheus-operator generates', () => {
    const [config] = serviceMonitorScrapeConfigs(
      objects(monitor({ path: '/m', interval: '30s', relabelings: relabel })),
      targets,
      { namespace: NS },
    );
    expect({ ...config, static_configs: config.static_configs.map((c) => c.targets) }).toEqual({
      job_name: 'serviceMonitor/shop/web/0',
      metrics_path: '/m',
      scheme: 'http',
      honor_labels: false,
      honor_timestamps: true,
      scrape_interval: '30s',
      static_configs: [['127.0.0.1:4000']],
      relabel_configs: [
        { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
        {
          action: 'keep',
          source_labels: [
            '__meta_kubernetes_service_label_app',
            '__meta_kubernetes_service_labelpresent_app',
          ],
          regex: '(web);true',
        },
        { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: 'http' },
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
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
        { target_label: 'endpoint', replacement: 'http' },
        {
          action: 'replace',
          source_labels: ['__meta_kubernetes_pod_label_version'],
          target_label: 'version',
        },
      ],
    });
  });

  it('translates matchExpressions, jobLabel and metricRelabelings; the interval option wins', () => {
    const [config] = serviceMonitorScrapeConfigs(
      objects(
        monitor(
          { interval: '30s', scrapeTimeout: '10s', metricRelabelings: [{ action: 'Drop', regex: 'go_.*' }] },
          {
            selector: {
              matchExpressions: [
                { key: 'app', operator: 'In', values: ['web', 'api'] },
                { key: 'tier', operator: 'DoesNotExist' },
              ],
            },
            jobLabel: 'app.kubernetes.io/name',
          },
        ),
      ),
      targets,
      { namespace: NS, scrapeInterval: '1s' },
    );
    expect(config.scrape_interval).toBe('1s');
    expect(config.scrape_timeout).toBeUndefined();
    expect(config.relabel_configs.slice(1, 3)).toEqual([
      {
        action: 'keep',
        source_labels: ['__meta_kubernetes_service_label_app', '__meta_kubernetes_service_labelpresent_app'],
        regex: '(web|api);true',
      },
      { action: 'drop', source_labels: ['__meta_kubernetes_service_labelpresent_tier'], regex: 'true' },
    ]);
    expect(config.relabel_configs).toContainEqual({
      source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name'],
      target_label: 'job',
      regex: '(.+)',
      replacement: '${1}',
    });
    expect(config.metric_relabel_configs).toEqual([{ action: 'drop', regex: 'go_.*' }]);
  });

  it('lists no target of a namespace the namespaceSelector leaves out', () => {
    const [config] = serviceMonitorScrapeConfigs(
      objects(monitor({}, { namespaceSelector: { matchNames: ['elsewhere'] } })),
      targets,
      { namespace: NS },
    );
    expect(config.static_configs).toEqual([]);
  });

  it('scrapes https endpoints only as plain HTTP when asked to, and needs a ServiceMonitor', () => {
    const https = objects(monitor({ scheme: 'https' }));
    expect(() => serviceMonitorScrapeConfigs(https, targets, { namespace: NS })).toThrow(
      'ServiceMonitor web endpoint 0 scrapes https, not http',
    );
    expect(serviceMonitorScrapeConfigs(https, targets, { namespace: NS, plainHttp: true })[0].scheme).toBe(
      'http',
    );
    expect(() => serviceMonitorScrapeConfigs([service], targets, { namespace: NS })).toThrow(
      'the rendered chart has no ServiceMonitor',
    );
  });
});
