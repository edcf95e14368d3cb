/**
 * The configuration file: defaults, the committed example, every rejected value with the exact message
 * naming the key (and the flag it came from), unreadable files and YAML errors, the judge overrides, and
 * `--since`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseConfig, type ConfigOverride } from '../src/config/load.js';
import { resolveJudgeConfig } from '../src/config/schema.js';
import { parseSince } from '../src/config/since.js';
import { DEFAULT_JUDGE_CONFIG } from '../src/judge/defaults.js';
import { TEST_JUDGE_CONFIG } from './support/judgements.js';

const EXAMPLE = fileURLToPath(new URL('../canary.example.yaml', import.meta.url));
const MINIMAL = { prometheus: { url: 'http://prom:9090' }, kubernetes: { namespace: 'rs' } };

/** The ConfigError message of parsing `raw`. */
function problem(raw: unknown, overrides: ConfigOverride[] = []): string {
  try {
    parseConfig(raw, 'canary.yaml', overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'canary-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the minimal file gets every default', () => {
    expect(parseConfig(MINIMAL, 'canary.yaml')).toEqual({
      prometheus: { url: 'http://prom:9090', timeoutMs: 10_000 },
      kubernetes: { namespace: 'rs', virtualService: 'app', inCluster: false },
      target: { component: 'app', source: 'service' },
      steps: [10, 25, 50, 100],
      interval: 60,
      stepDeadline: 1800,
      onDeadline: 'rollback',
      judge: {},
    });
  });

  test('the committed example file is valid and its judge values are the defaults', async () => {
    const config = await loadConfig(EXAMPLE);
    expect(config.kubernetes).toEqual({
      namespace: 'restaurant-sentiment',
      virtualService: 'app',
      inCluster: false,
    });
    expect(config.judge).toEqual({
      alpha: 0.05,
      errorRate: { margin: 0.01 },
      latency: { sloSeconds: 0.25 },
      agreement: { enabled: true },
      passRequires: ['error_rate', 'latency_slo'],
    });
    expect(config.metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(resolveJudgeConfig(DEFAULT_JUDGE_CONFIG, config.judge)).toEqual(DEFAULT_JUDGE_CONFIG);
  });

  test.each([
    [{ ...MINIMAL, stpes: [10, 100] }, 'canary.yaml: stpes: unknown key'],
    [{ ...MINIMAL, judge: { errorRat: { margin: 0.01 } } }, 'canary.yaml: judge.errorRat: unknown key'],
    [
      { ...MINIMAL, judge: { passRequires: ['error_rate', 'speed'] } },
      'canary.yaml: judge.passRequires.1: Invalid option: expected one of "error_rate"|"latency_slo"|"latency_rank"|"agreement"',
    ],
    [{ kubernetes: { namespace: 'rs' } }, 'canary.yaml: prometheus: is required'],
    [
      { ...MINIMAL, prometheus: { url: 'ftp://prom' } },
      'canary.yaml: prometheus.url: must be an http:// or https:// URL',
    ],
    [
      { ...MINIMAL, steps: [10, 50, 25, 100] },
      'canary.yaml: steps.2: must be above the step before it (50): steps go up',
    ],
    [{ ...MINIMAL, steps: [10, 50] }, 'canary.yaml: steps: the last step must be 100 (the promotion)'],
    [{ ...MINIMAL, steps: [100] }, 'canary.yaml: steps: needs at least one weight below 100 and then 100'],
    [{ ...MINIMAL, steps: [0, 100] }, 'canary.yaml: steps.0: must be at least 1'],
    [
      { ...MINIMAL, steps: [10.5, 100] },
      'canary.yaml: steps.0: Invalid input: expected int, received number',
    ],
    [
      { ...MINIMAL, interval: 120, stepDeadline: 60 },
      'canary.yaml: stepDeadline: must be at least interval (120 s): a step needs one look',
    ],
    [
      { ...MINIMAL, onDeadline: 'wait' },
      'canary.yaml: onDeadline: Invalid option: expected one of "rollback"|"hold-and-exit"',
    ],
    [
      { ...MINIMAL, kubernetes: { namespace: 'rs', kubeconfig: '/k', inCluster: true } },
      'canary.yaml: kubernetes.inCluster: set either kubeconfig or inCluster: true, not both',
    ],
    [
      { ...MINIMAL, kubernetes: { namespace: 'Bad_NS' } },
      'canary.yaml: kubernetes.namespace: must be lower-case letters, digits and "-" (an RFC 1123 name)',
    ],
    [
      { ...MINIMAL, target: { canaryVersion: 'v2"}' } },
      'canary.yaml: target.canaryVersion: must start with a letter and hold only letters, digits, ".", "_" or "-" (at most 63 characters)',
    ],
    [
      { ...MINIMAL, target: { stableVersion: 'v1', canaryVersion: 'v1' } },
      'canary.yaml: target.canaryVersion: must differ from stableVersion',
    ],
    [{ ...MINIMAL, judge: { alpha: 0.7 } }, 'canary.yaml: judge.alpha: must be at most 0.5'],
    [
      { ...MINIMAL, judge: { errorRate: { margin: 0 } } },
      'canary.yaml: judge.errorRate.margin: must be above 0',
    ],
    [
      { ...MINIMAL, grafana: { url: 'https://g', tokenEnv: 'my token' } },
      'canary.yaml: grafana.tokenEnv: must be an environment variable name',
    ],
    [{ ...MINIMAL, metrics: { port: 70000 } }, 'canary.yaml: metrics.port: must be 0–65535'],
    [[1, 2], 'canary.yaml: must be a YAML mapping of keys (prometheus, kubernetes, ...)'],
  ])('rejects %j: %s', (raw, message) => {
    expect(problem(raw)).toBe(message);
  });

  test('several problems are one line, separated by "; "', () => {
    expect(problem({ ...MINIMAL, interval: 0, onDeadline: 'x', extra: 1 })).toBe(
      'canary.yaml: interval: must be at least 1 (second); ' +
        'onDeadline: Invalid option: expected one of "rollback"|"hold-and-exit"; extra: unknown key',
    );
  });

  test('flags override the file, and a bad flag value names the flag', () => {
    const overrides: ConfigOverride[] = [
      { path: ['prometheus', 'url'], value: 'http://other:9090', flag: '--prometheus-url' },
      { path: ['target', 'canaryVersion'], value: 'v3', flag: '--canary' },
      { path: ['metrics', 'port'], value: 8080, flag: '--port' },
    ];
    const config = parseConfig(MINIMAL, 'canary.yaml', overrides);
    expect(config.prometheus.url).toBe('http://other:9090');
    expect(config.target.canaryVersion).toBe('v3');
    expect(config.metrics).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(problem(MINIMAL, [{ path: ['metrics', 'port'], value: 'eighty', flag: '--port' }])).toBe(
      'canary.yaml: metrics.port (--port): Invalid input: expected number, received string',
    );
  });

  test('a missing file, a YAML syntax error and an empty file', async () => {
    await expect(loadConfig(path.join(dir, 'missing.yaml'))).rejects.toThrow(
      `cannot read the configuration file ${path.join(dir, 'missing.yaml')}: no such file`,
    );
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, 'prometheus:\n  url: [http://x\n');
    await expect(loadConfig(broken)).rejects.toThrow(/^.*broken\.yaml: not valid YAML: /);
    const empty = path.join(dir, 'empty.yaml');
    await writeFile(empty, '');
    await expect(loadConfig(empty)).rejects.toThrow(
      `${empty}: prometheus: is required; kubernetes: is required`,
    );
  });

  test('judge overrides go on top of the defaults, key by key', () => {
    const config = parseConfig({ ...MINIMAL, judge: { alpha: 0.01, latency: { sloSeconds: 1 } } }, 'c');
    expect(resolveJudgeConfig(TEST_JUDGE_CONFIG, config.judge)).toEqual({
      ...TEST_JUDGE_CONFIG,
      alpha: 0.01,
      latency: { ...TEST_JUDGE_CONFIG.latency, sloSeconds: 1 },
    });
  });
});

describe('parseSince', () => {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0);
  test('minutes before now, or an ISO time with a zone', () => {
    expect(parseSince('90', now)).toBe(now - 90 * 60_000);
    expect(parseSince('2024-05-01T09:00:00Z', now)).toBe(Date.UTC(2024, 4, 1, 9, 0, 0));
    expect(parseSince('2024-05-01T11:00:00+02:00', now)).toBe(Date.UTC(2024, 4, 1, 9, 0, 0));
  });
  test.each([
    ['0', '"0" must be more than 0 minutes'],
    [
      'yesterday',
      '"yesterday" is neither a number of minutes nor an ISO 8601 time such as 2024-05-01T09:00:00Z',
    ],
    [
      '2024-05-01T09:00:00',
      '"2024-05-01T09:00:00" is neither a number of minutes nor an ISO 8601 time such as 2024-05-01T09:00:00Z',
    ],
    ['2024-05-02T09:00:00Z', '"2024-05-02T09:00:00Z" is not in the past'],
  ])('rejects %s', (text, message) => {
    expect(() => parseSince(text, now)).toThrow(message);
  });
});
