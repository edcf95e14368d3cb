/**
 * The chart's AlertmanagerConfig: converted into the alertmanager.yml prometheus-operator would generate
 * from it (ops/helm/src/monitoring/alertmanager.ts), the configuration is exactly the expected one, passes
 * `amtool check-config`, and `amtool config routes test` sends a critical ServiceDown and a warning to
 * the right receivers (and alerts of other namespaces nowhere); the inhibition rules are exact and their
 * source, ServiceDown, is one alert per whole component and version (so one dead pod of several never
 * hides its version's errors); the SMTP password is only ever a Secret reference.
 *
 * Needs /usr/bin/amtool (Debian `prometheus-alertmanager`, or AMTOOL_PATH): the amtool tests are skipped
 * with a warning when it is missing, and fail when CI=true.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { OPS_HELM_DIR } from '../src/helm/binary.js';
import { findObject, HelmError, renderChart, type K8sObject } from '../src/helm/render.js';
import {
  alertmanagerConfigFile,
  matcherString,
  type AlertmanagerConfigFile,
  type SecretKeyReference,
} from '../src/monitoring/alertmanager.js';
import { alertRules, ruleFileOf } from '../src/monitoring/rule-file.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const run = promisify(execFile);

const AMTOOL = process.env.AMTOOL_PATH ?? '/usr/bin/amtool';
const haveAmtool = toolAvailable(
  existsSync(AMTOOL) ? undefined : `${AMTOOL} not found`,
  'the amtool tests',
  'apt-get install prometheus-alertmanager, or set AMTOOL_PATH',
);
const itWithAmtool = haveAmtool ? it : it.skip;

const NS = 'restaurant-sentiment';
const PREFIX = `${NS}/restaurant-sentiment/`;

/**
 * Runs amtool; resolves with its exit code and stdout (stderr only carries notes such as "--config.file
 * flag overrides the --alertmanager.url", and error details, which are appended when it fails).
 */
async function amtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(AMTOOL, args);
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('AlertmanagerConfig restaurant-sentiment', () => {
  let object: K8sObject;
  let dir: string;
  let configPath: string;
  let passwordFile: string;
  let config: AlertmanagerConfigFile;
  const references: SecretKeyReference[] = [];

  beforeAll(async () => {
    object = findObject(await renderChart(), 'AlertmanagerConfig', 'restaurant-sentiment');
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-alertmanager-'));
    passwordFile = path.join(dir, 'smtp-password');
    await writeFile(passwordFile, 'placeholder-not-a-password\n', { mode: 0o600 });
    config = alertmanagerConfigFile(object, {
      secretFile(reference) {
        references.push(reference);
        return passwordFile;
      },
    });
    configPath = path.join(dir, 'alertmanager.yml');
    await writeFile(configPath, stringify(config));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('carries the chart labels and the monitoring labels, in the release namespace', () => {
    expect(object.apiVersion).toBe('monitoring.coreos.com/v1alpha1');
    expect(object.metadata.namespace).toBe(NS);
    expect(object.metadata.labels).toEqual({
      'app.kubernetes.io/part-of': 'restaurant-sentiment',
      'app.kubernetes.io/managed-by': 'Helm',
      'app.kubernetes.io/instance': 'rs',
      'helm.sh/chart': 'restaurant-sentiment-0.1.0',
      release: 'kube-prometheus-stack',
    });
  });

  it('references the SMTP password by Secret name and key only', () => {
    const receivers = (object.spec as { receivers: Array<{ emailConfigs: Array<Record<string, unknown>> }> })
      .receivers;
    expect(receivers.map((r) => r.emailConfigs.map((e) => e.authPassword))).toEqual([
      [{ name: 'alertmanager-smtp', key: 'password' }],
      [{ name: 'alertmanager-smtp', key: 'password' }],
    ]);
    expect(references).toEqual([
      { namespace: NS, name: 'alertmanager-smtp', key: 'password' },
      { namespace: NS, name: 'alertmanager-smtp', key: 'password' },
    ]);
  });

  it('converts to the alertmanager.yml prometheus-operator generates (namespace matcher, prefixed receivers)', () => {
    const email = (severity: string) => ({
      send_resolved: true,
      to: 'oncall@example.org',
      from: 'alerts@example.org',
      smarthost: 'smtp.example.org:587',
      auth_username: 'alerts@example.org',
      auth_password_file: passwordFile,
      headers: { Subject: `[${severity}] {{ template "email.default.subject" . }}` },
      require_tls: true,
    });
    expect(config).toEqual({
      route: {
        receiver: 'null',
        routes: [
          {
            receiver: `${PREFIX}email-warning`,
            group_by: ['namespace', 'alertname', 'component', 'version'],
            group_wait: '30s',
            group_interval: '5m',
            repeat_interval: '12h',
            matchers: [`namespace="${NS}"`],
            continue: true,
            routes: [
              {
                receiver: `${PREFIX}email-critical`,
                matchers: ['severity="critical"'],
                group_wait: '10s',
                group_interval: '5m',
                repeat_interval: '1h',
              },
              { receiver: `${PREFIX}email-warning`, matchers: ['severity="warning"'] },
            ],
          },
        ],
      },
      receivers: [
        { name: 'null' },
        { name: `${PREFIX}email-critical`, email_configs: [email('CRITICAL')] },
        { name: `${PREFIX}email-warning`, email_configs: [email('WARNING')] },
      ],
      inhibit_rules: [
        {
          source_matchers: ['alertname="ServiceDown"', `namespace="${NS}"`],
          target_matchers: [
            'alertname=~"HighErrorRatio|HighLatencyP95|CanaryErrorRatioWorse|CanaryLatencyWorse"',
            `namespace="${NS}"`,
          ],
          equal: ['namespace', 'component', 'version'],
        },
      ],
      templates: [],
    });
  });

  it('inhibits the errors, latency and canary alerts of a version whose every pod is down, nothing else', () => {
    expect((object.spec as { inhibitRules: unknown }).inhibitRules).toEqual([
      {
        sourceMatch: [{ name: 'alertname', value: 'ServiceDown', matchType: '=' }],
        targetMatch: [
          {
            name: 'alertname',
            value: 'HighErrorRatio|HighLatencyP95|CanaryErrorRatioWorse|CanaryLatencyWorse',
            matchType: '=~',
          },
        ],
        equal: ['namespace', 'component', 'version'],
      },
    ]);
  });

  it("inhibits only on a ServiceDown of a whole version: the alert's labels are exactly the equal labels", async () => {
    // With a shadow, so that both ServiceDown rules (critical, and warning for the shadow) are checked.
    const shadowValues = path.join(OPS_HELM_DIR, 'test', 'values', 'shadow.yaml');
    const rules = alertRules(
      ruleFileOf(
        findObject(
          await renderChart({ valuesFiles: [shadowValues] }),
          'PrometheusRule',
          'restaurant-sentiment',
        ),
      ),
    );
    const equal = (object.spec as { inhibitRules: Array<{ equal: string[] }> }).inhibitRules[0].equal;
    const serviceDown = rules.filter((rule) => rule.alert === 'ServiceDown');
    expect(serviceDown.map((rule) => rule.labels?.severity)).toEqual(['critical', 'warning']);
    for (const rule of serviceDown) {
      // One series per namespace, component and version (no pod label): every target of it is down.
      const by = /^max by \(([^)]*)\) \(up\{[^}]*\}\) == 0$/.exec(rule.expr.trim());
      expect([rule.expr, by?.[1].split(/,\s*/)]).toEqual([rule.expr, equal]);
    }
  });

  itWithAmtool('is a valid Alertmanager configuration (amtool check-config)', async () => {
    expect(await amtool(['check-config', configPath])).toEqual({
      code: 0,
      output: [
        `Checking '${configPath}'  SUCCESS`,
        'Found:',
        ' - global config',
        ' - route',
        ' - 1 inhibit rules',
        ' - 3 receivers',
        ' - 0 templates',
        '',
        '',
      ].join('\n'),
    });
  });

  describe('routing (amtool config routes test)', () => {
    const cases: Array<{ name: string; labels: string[]; receiver: string }> = [
      {
        name: 'a critical ServiceDown goes to the critical e-mail receiver',
        labels: [
          'alertname=ServiceDown',
          'severity=critical',
          `namespace=${NS}`,
          'component=model-service',
          'version=v2',
        ],
        receiver: `${PREFIX}email-critical`,
      },
      {
        name: "the shadow's ServiceDown (a warning: no user sees the shadow) goes to the warning e-mail receiver",
        labels: [
          'alertname=ServiceDown',
          'severity=warning',
          `namespace=${NS}`,
          'component=model-service',
          'version=shadow',
        ],
        receiver: `${PREFIX}email-warning`,
      },
      {
        name: 'a warning goes to the warning e-mail receiver',
        labels: [
          'alertname=CanaryLatencyWorse',
          'severity=warning',
          `namespace=${NS}`,
          'component=app',
          'version=v2',
        ],
        receiver: `${PREFIX}email-warning`,
      },
      {
        name: 'an alert without severity goes to the warning receiver (the route default)',
        labels: ['alertname=Unexpected', `namespace=${NS}`],
        receiver: `${PREFIX}email-warning`,
      },
      {
        name: "another namespace's alert is not ours (root receiver)",
        labels: [
          'alertname=ServiceDown',
          'severity=critical',
          'namespace=staging',
          'component=app',
          'version=v1',
        ],
        receiver: 'null',
      },
    ];
    for (const { name, labels, receiver } of cases) {
      itWithAmtool(name, async () => {
        const result = await amtool([
          'config',
          'routes',
          'test',
          `--config.file=${configPath}`,
          `--verify.receivers=${receiver}`,
          ...labels,
        ]);
        expect(result).toEqual({ code: 0, output: `${receiver}\n` });
      });
    }
  });

  it('is not rendered when monitoring.alertmanager.enabled is false', async () => {
    const objects = await renderChart({ set: ['monitoring.alertmanager.enabled=false'] });
    expect(objects.filter((o) => o.kind === 'AlertmanagerConfig')).toEqual([]);
  });

  it('is refused without the Secret name of the SMTP password', async () => {
    const failure = await renderChart({
      set: ['monitoring.alertmanager.email.authPassword.secretName='],
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HelmError);
    expect((failure as HelmError).stderr).toContain('monitoring.alertmanager.email.authPassword.secretName');
  });
});

describe('alertmanagerConfigFile', () => {
  const base = (spec: Record<string, unknown>): K8sObject => ({
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'AlertmanagerConfig',
    metadata: { name: 'amc', namespace: 'ns' },
    spec,
  });
  const options = { secretFile: () => '/run/secret' };

  it('writes matchers as Alertmanager strings, escaping quotes and backslashes', () => {
    expect(matcherString({ name: 'a', value: 'x"y\\z', matchType: '!=' })).toBe('a!="x\\"y\\\\z"');
    expect(matcherString({ name: 'a', value: 'b|c', regex: true })).toBe('a=~"b|c"');
    expect(matcherString({ name: 'a', value: 'b' })).toBe('a="b"');
    expect(() => matcherString({ name: 'a', value: 'b', matchType: '==' as '=' })).toThrow(
      'matcher a: unknown matchType "=="',
    );
  });

  it('keeps a namespace matcher an inhibit rule already has, as the operator does', () => {
    const file = alertmanagerConfigFile(
      base({
        route: { receiver: 'r' },
        receivers: [{ name: 'r' }],
        inhibitRules: [
          { sourceMatch: [{ name: 'namespace', value: 'ns', matchType: '=' }], targetMatch: [] },
        ],
      }),
      options,
    );
    expect(file.inhibit_rules).toEqual([
      { source_matchers: ['namespace="ns"'], target_matchers: ['namespace="ns"'] },
    ]);
  });

  it('rejects a route to an undefined receiver, unsupported receivers and objects of another kind', () => {
    expect(() =>
      alertmanagerConfigFile(base({ route: { receiver: 'missing' }, receivers: [] }), options),
    ).toThrow('AlertmanagerConfig/amc: route receiver ns/amc/missing is not defined');
    expect(() =>
      alertmanagerConfigFile(
        base({ route: { receiver: 'r' }, receivers: [{ name: 'r', slackConfigs: [{}] }] }),
        options,
      ),
    ).toThrow('receiver r: slackConfigs not supported by this converter');
    expect(() => alertmanagerConfigFile({ ...base({}), kind: 'PrometheusRule' }, options)).toThrow(
      'monitoring.coreos.com/v1alpha1 PrometheusRule/amc is not a v1alpha1 AlertmanagerConfig',
    );
    expect(() => alertmanagerConfigFile(base({}), options)).toThrow(
      'AlertmanagerConfig/amc has no spec.route',
    );
  });
});
