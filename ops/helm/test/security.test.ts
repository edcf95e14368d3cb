/**
 * Who may call model-service: the AuthorizationPolicy with and without mTLS, PeerAuthentication, and how
 * Prometheus scrapes in each mode (ServiceMonitor scheme and certificates).
 */
import { describe, expect, it } from '@jest/globals';
import { findObject, renderChart } from '../src/helm/render.js';

const APP_RULE = {
  from: [{ source: { principals: ['cluster.local/ns/restaurant-sentiment/sa/app'] } }],
  to: [
    { operation: { methods: ['POST'], paths: ['/predict', '/feedback'] } },
    { operation: { methods: ['GET'], paths: ['/version'] } },
  ],
};
const METRICS = [{ operation: { methods: ['GET'], paths: ['/metrics'] } }];

describe('model-service access', () => {
  it('with mTLS: the app may predict, give feedback and read the version; Prometheus may read /metrics', async () => {
    const objects = await renderChart();
    expect(findObject(objects, 'AuthorizationPolicy', 'model-service').spec).toEqual({
      selector: { matchLabels: { app: 'model-service' } },
      action: 'ALLOW',
      rules: [
        APP_RULE,
        {
          from: [
            { source: { principals: ['cluster.local/ns/monitoring/sa/kube-prometheus-stack-prometheus'] } },
          ],
          to: METRICS,
        },
      ],
    });
    expect(findObject(objects, 'PeerAuthentication', 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
    const endpoint = (findObject(objects, 'ServiceMonitor', 'model-service').spec as { endpoints: unknown[] })
      .endpoints[0];
    expect(endpoint).toMatchObject({
      scheme: 'https',
      tlsConfig: {
        caFile: '/etc/prom-certs/root-cert.pem',
        certFile: '/etc/prom-certs/cert-chain.pem',
        keyFile: '/etc/prom-certs/key.pem',
        insecureSkipVerify: true,
      },
    });
  });

  it('without mTLS: no PeerAuthentication, plain-HTTP scrapes, and /metrics open since Prometheus has no identity', async () => {
    const objects = await renderChart({ set: ['istio.mtls.enabled=false'] });
    expect(objects.some((o) => o.kind === 'PeerAuthentication')).toBe(false);
    expect(
      (findObject(objects, 'AuthorizationPolicy', 'model-service').spec as { rules: unknown[] }).rules,
    ).toEqual([APP_RULE, { to: METRICS }]);
    const endpoint = (
      findObject(objects, 'ServiceMonitor', 'app').spec as { endpoints: Array<Record<string, unknown>> }
    ).endpoints[0];
    expect(endpoint.scheme).toBeUndefined();
    expect(endpoint.tlsConfig).toBeUndefined();
    const rule = findObject(objects, 'DestinationRule', 'model-service').spec as {
      trafficPolicy: Record<string, unknown>;
    };
    expect(rule.trafficPolicy.tls).toBeUndefined();
  });

  it('renders no policy when authorization is off', async () => {
    const objects = await renderChart({ set: ['istio.authorization.enabled=false'] });
    expect(objects.some((o) => o.kind === 'AuthorizationPolicy')).toBe(false);
  });
});
