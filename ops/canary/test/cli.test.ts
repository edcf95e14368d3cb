/**
 * The `canary` command line with fake Prometheus, Kubernetes, judge and clock: usage and exit 2 for bad
 * command lines, one line and exit 2 for bad configuration, each command's output and exit code, and the
 * real launcher (bin/canary.mjs through tsx) for --help and a bad command.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { runCli, type CliDependencies, type CliIo } from '../src/cli/cli.js';
import { USAGE } from '../src/cli/usage.js';
import { REAL_DEPENDENCIES } from '../src/cli/wiring.js';
import type { LookSource, Routes } from '../src/controller/ports.js';
import type { Decision } from '../src/judge/types.js';
import { sampleSizeTwoProportions } from '../src/stats/index.js';
import {
  FIXED_JUDGEMENT,
  fakeClock,
  fakeRoutes,
  lookWith,
  scriptedJudge,
  scriptedLooks,
  TEST_JUDGE_CONFIG,
  versionCounts,
} from './support/judgements.js';
import { FakePrometheus, type FakeSample } from './support/fake-prometheus.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NOW = Date.UTC(2024, 4, 1, 10, 0, 0);

let dir: string;
let configFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'canary-cli-'));
  configFile = path.join(dir, 'canary.yaml');
  await writeFile(
    configFile,
    [
      'prometheus:',
      '  url: http://prom.test:9090',
      'kubernetes:',
      '  namespace: rs',
      'steps: [10, 50, 100]',
      'interval: 30',
      'stepDeadline: 60',
      'metrics:',
      '  port: 0',
      '  host: 127.0.0.1',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI with fakes; returns the exit code and what it wrote. */
async function cli(
  argv: string[],
  options: {
    decisions?: Decision[];
    looks?: LookSource;
    routes?: Routes;
    env?: Record<string, string>;
    signal?: AbortSignal;
    onStdout?: (text: string) => void;
  } = {},
) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const judge = scriptedJudge(options.decisions ?? ['PASS']);
  const looks = scriptedLooks([lookWith(900, 100)]);
  const routes = fakeRoutes({ stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0 });
  let routesUsed = 0;
  const deps: CliDependencies = {
    connect: () => ({
      looks: options.looks ?? looks.source,
      routes: () => {
        routesUsed += 1;
        return options.routes ?? routes.routes;
      },
    }),
    judge: judge.judge,
    defaultJudgeConfig: TEST_JUDGE_CONFIG,
    sampleSize: sampleSizeTwoProportions,
    clock: fakeClock(NOW).clock,
    log: pino({ level: 'silent' }),
  };
  const io: CliIo = {
    stdout: (text) => {
      stdout.push(text);
      options.onStdout?.(text);
    },
    stderr: (text) => stderr.push(text),
    env: options.env ?? {},
    signal: options.signal,
  };
  const code = await runCli(argv, io, deps);
  return {
    code,
    stdout: stdout.join(''),
    stderr: stderr.join(''),
    judge,
    looks,
    routes,
    get routesUsed() {
      return routesUsed;
    },
  };
}

describe('command line', () => {
  test('--help prints the usage on stdout and exits 0', async () => {
    const result = await cli(['--help']);
    expect(result).toMatchObject({ code: 0, stdout: USAGE, stderr: '' });
    expect((await cli(['run', '--help'])).stdout).toBe(USAGE);
  });

  test.each([
    [[], 'canary: no command given\n'],
    [['deploy'], 'canary: unknown command "deploy"\n'],
    [['run', '-c', 'x.yaml', '--force'], "canary run: Unknown option '--force'\n"],
    [['analyze', '-c', 'x.yaml', '--dry-run'], "canary analyze: Unknown option '--dry-run'\n"],
    [['run', '-c', 'x.yaml', 'extra'], "canary run: Unexpected argument 'extra'\n"],
    [['plan', '-c'], "canary plan: Option '-c, --config <value>' argument missing\n"],
    [['serve'], 'canary serve: -c <config.yaml> is required\n'],
  ])('%j → usage on stderr, exit 2', async (argv, first) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${first}${USAGE}`);
    expect(result.stdout).toBe('');
  });

  test('configuration and flag errors: one line, exit 2', async () => {
    expect(await cli(['run', '-c', path.join(dir, 'missing.yaml')])).toMatchObject({
      code: 2,
      stderr: `canary run: cannot read the configuration file ${path.join(dir, 'missing.yaml')}: no such file\n`,
    });
    expect(await cli(['analyze', '-c', configFile, '--canary', 'v2 x'])).toMatchObject({
      code: 2,
      stderr: `canary analyze: ${configFile}: target.canaryVersion (--canary): must start with a letter and hold only letters, digits, ".", "_" or "-" (at most 63 characters)\n`,
    });
    expect(await cli(['serve', '-c', configFile, '--port', 'http'])).toMatchObject({
      code: 2,
      stderr: `canary serve: ${configFile}: metrics.port (--port): Invalid input: expected number, received string\n`,
    });
    expect(await cli(['run', '-c', configFile, '--dry-run', '--helm-values'])).toMatchObject({
      code: 2,
      stderr: 'canary run: --dry-run and --helm-values: choose one\n',
    });
    expect(await cli(['analyze', '-c', configFile, '--since', 'last week'])).toMatchObject({
      code: 2,
      stderr:
        'canary analyze: --since: "last week" is neither a number of minutes nor an ISO 8601 time such as 2024-05-01T09:00:00Z\n',
    });
    expect(await cli(['plan', '-c', configFile, '--mde', '2'])).toMatchObject({
      code: 2,
      stderr: 'canary plan: --mde: must be a number between 0 and 1, e.g. 0.01 (got "2")\n',
    });
    expect(await cli(['plan', '-c', configFile, '--power', '1.5'])).toMatchObject({
      code: 2,
      stderr: 'canary plan: --power: must be a number between 0 and 1, e.g. 0.8 (got "1.5")\n',
    });
    expect(await cli(['analyze', '-c', configFile, '--weight', '101'])).toMatchObject({
      code: 2,
      stderr: 'canary analyze: --weight: must be a number of percent, 0–100 (got "101")\n',
    });
  });

  test('grafana configured without its token in the environment: exit 2 before anything is written', async () => {
    const withGrafana = path.join(dir, 'grafana.yaml');
    await writeFile(
      withGrafana,
      'prometheus: { url: http://p:9090 }\nkubernetes: { namespace: rs }\ngrafana: { url: http://g, tokenEnv: GRAFANA_TOKEN }\n',
    );
    const result = await cli(['run', '-c', withGrafana]);
    expect(result).toMatchObject({
      code: 2,
      stderr: 'canary run: grafana.tokenEnv: the environment variable GRAFANA_TOKEN is not set\n',
    });
    expect(result.routes.writes).toEqual([]);
  });
});

describe('canary run', () => {
  test('a healthy canary: 10, 50, 100 written, exit 0', async () => {
    const result = await cli(['run', '-c', configFile]);
    expect(result.code).toBe(0);
    expect(result.routes.writes).toEqual([10, 50, 100]);
    expect(result.stdout).toBe(
      [
        'canary v2 (stable v1): weight 10% (step 1 of 2)',
        'look 1 at 10%: PASS: summary PASS',
        'canary v2 (stable v1): weight 50% (step 2 of 2)',
        'look 2 at 50%: PASS: summary PASS',
        'canary v2 (stable v1): weight 100% (promotion)',
        'canary v2 (stable v1) promoted: it gets every new user now. Make it permanent with these Helm values:',
        'stable:',
        '  version: v2',
        'canary:',
        '  enabled: false',
        '',
      ].join('\n'),
    );
    // The judge got the configured overrides on top of the defaults, and the interval is in seconds.
    expect(result.looks.calls.map((c) => c.window.end - c.window.start)).toEqual([30_000, 60_000]);
  });

  test('FAIL → exit 1; --dry-run writes nothing', async () => {
    const failed = await cli(['run', '-c', configFile], { decisions: ['FAIL'] });
    expect(failed.code).toBe(1);
    expect(failed.routes.writes).toEqual([10, 0]);
    const dry = await cli(['run', '-c', configFile, '--dry-run'], { decisions: ['FAIL'] });
    expect(dry.code).toBe(1);
    expect(dry.routes.writes).toEqual([]);
    expect(dry.routes.dryRuns).toEqual([10, 0]);
  });
});

describe('canary analyze', () => {
  const flags = ['--stable', 'v1', '--canary', 'v2', '--weight', '10'];

  test('text by default; versions and weight from the flags, so Kubernetes is not asked', async () => {
    const result = await cli(['analyze', '-c', configFile, ...flags, '--since', '2024-05-01T09:00:00Z']);
    expect(result.code).toBe(0);
    expect(result.routesUsed).toBe(0);
    expect(result.stdout.split('\n').slice(0, 4)).toEqual([
      'Canary analysis: app v2 against stable v1',
      '',
      'Decision: PASS. summary PASS',
      'Counts from 2024-05-01T09:00:00.000Z to 2024-05-01T10:00:00.000Z (look 1).',
    ]);
    expect(result.looks.calls[0].window).toEqual({ start: Date.UTC(2024, 4, 1, 9), end: NOW });
    expect(result.judge.calls[0].look.canaryWeight).toBe(10);
    expect(result.judge.calls[0].state).toBeUndefined();
  });

  test('--json: the Judgement with target and window; --markdown; versions from the VirtualService', async () => {
    const json = await cli(['analyze', '-c', configFile, '--json', '--since', '90']);
    expect(json.routesUsed).toBe(1);
    const document = JSON.parse(json.stdout);
    expect(document).toEqual({
      target: {
        namespace: 'rs',
        stableVersion: 'v1',
        canaryVersion: 'v2',
        component: 'app',
        source: 'service',
      },
      window: { start: '2024-05-01T08:30:00.000Z', end: '2024-05-01T10:00:00.000Z' },
      ...FIXED_JUDGEMENT,
      decision: 'PASS',
      summary: 'summary PASS',
      state: { pValues: {}, looks: 1 },
    });
    const markdown = await cli(['analyze', '-c', configFile, ...flags, '--markdown']);
    expect(
      markdown.stdout.startsWith(
        '# Canary analysis: app v2 against stable v1\n\n**Decision: PASS.** summary PASS\n',
      ),
    ).toBe(true);
  });

  test('Prometheus down: the message and exit 4', async () => {
    const down = scriptedLooks([
      new Error('Prometheus at http://prom.test:9090/api/v1/query is unreachable: getaddrinfo ENOTFOUND'),
    ]);
    const result = await cli(['analyze', '-c', configFile, ...flags], { looks: down.source });
    expect(result).toMatchObject({
      code: 4,
      stdout: '',
      stderr:
        'canary analyze: Prometheus at http://prom.test:9090/api/v1/query is unreachable: getaddrinfo ENOTFOUND\n',
    });
  });
});

describe('canary plan', () => {
  test('needs per arm and durations at the current weight and the steps', async () => {
    const look = {
      stable: versionCounts(9000, 4500, 45),
      canary: versionCounts(1000, 500, 10),
      canaryWeight: 0,
      time: 0,
    };
    const result = await cli(
      ['plan', '-c', configFile, '--mde', '0.01', '--power', '0.8', '--window', '60'],
      {
        looks: scriptedLooks([look]).source,
      },
    );
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      'To detect an increase of 1.00 percentage points with power 0.8 (traffic and baselines of the last 60 min):',
    );
    // The routes say the canary is at 0 %: at that weight it never gets the requests, whatever the
    // window's canary traffic was.
    expect(lines[2]).toBe(
      'Comparison            Counted           Stable now  Needed per arm        At 0% (now)         At 10%     At 50%',
    );
    expect(lines[4]).toBe(
      'error rate (5xx)      requests          0.50%       1,881                 never (no traffic)  1.9 h      23 min',
    );
  });
});

describe('canary serve', () => {
  test('listens, answers /healthz and the Argo endpoint, and stops with exit 0 on the signal', async () => {
    const stop = new AbortController();
    let url: string | undefined;
    const served = cli(['serve', '-c', configFile], {
      signal: stop.signal,
      onStdout: (text) => {
        url = /listening on (\S+)/.exec(text)?.[1];
      },
    });
    while (!url) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const argo = await fetch(`${url}/argo/judge?stable=v1&canary=v2&weight=10&since=30`);
    expect(argo.status).toBe(200);
    expect(await argo.json()).toMatchObject({ decision: 'PASS', pass: true });
    stop.abort();
    const result = await served;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`canary serve: listening on ${url}\n`);
  });
});

describe('the real wiring', () => {
  test('analyze --json against a local Prometheus with the real readLook and judge: a 4 % 5xx canary FAILs', async () => {
    const prometheus = await new FakePrometheus().start();
    const perVersion = (v1: number, v2: number): FakeSample[] => [
      { metric: { version: 'v1' }, value: v1 },
      { metric: { version: 'v2' }, value: v2 },
    ];
    prometheus.handler = ({ expr }) => {
      if (expr.includes('_bucket')) {
        return {
          samples: [
            { metric: { version: 'v1', le: '0.25' }, value: 8900 },
            { metric: { version: 'v1', le: '+Inf' }, value: 9000 },
            { metric: { version: 'v2', le: '0.25' }, value: 990 },
            { metric: { version: 'v2', le: '+Inf' }, value: 1000 },
          ],
        };
      }
      if (expr.includes('status=~')) return { samples: perVersion(45, 40) };
      if (expr.includes('http_requests_total')) return { samples: perVersion(9000, 1000) };
      if (expr.includes('visitors_total')) return { samples: perVersion(4500, 500) };
      return { samples: [] }; // no feedback, no People page: no traffic, never a failure
    };
    try {
      const configWithProm = path.join(dir, 'real.yaml');
      await writeFile(
        configWithProm,
        `prometheus: { url: '${prometheus.baseUrl}' }\nkubernetes: { namespace: rs }\n`,
      );
      const stdout: string[] = [];
      const stderr: string[] = [];
      const code = await runCli(
        ['analyze', '-c', configWithProm, '--json', '--stable', 'v1', '--canary', 'v2', '--weight', '10'],
        { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {} },
        { ...REAL_DEPENDENCIES, clock: fakeClock(NOW).clock, log: pino({ level: 'silent' }) },
      );
      expect(stderr).toEqual([]);
      expect(code).toBe(0);
      const report = JSON.parse(stdout.join(''));
      expect(report.decision).toBe('FAIL');
      const errorRate = report.guardrails.find((g: { name: string }) => g.name === 'error_rate');
      expect(errorRate).toMatchObject({
        verdict: 'FAIL',
        stable: { n: 9000, x: 45 },
        canary: { n: 1000, x: 40 },
      });
      expect(report.srm).toMatchObject({
        checked: true,
        expectedShare: 0.1,
        stableVisitors: 4500,
        canaryVisitors: 500,
      });
      expect(prometheus.queries).toHaveLength(8);
    } finally {
      await prometheus.stop();
    }
  });
});

describe('bin/canary.mjs', () => {
  test('says at once that no kubeconfig exists, instead of retrying http://localhost (exit 2)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'canary-nokube-'));
    try {
      const config = path.join(dir, 'c.yaml');
      await writeFile(config, 'prometheus: { url: http://127.0.0.1:9090 }\nkubernetes: { namespace: rs }\n');
      const missing = path.join(dir, 'no-such-kubeconfig');
      const run = spawnSync(
        process.execPath,
        ['ops/canary/bin/canary.mjs', 'analyze', '-c', config, '--weight', '10'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, KUBECONFIG: missing, KUBERNETES_SERVICE_HOST: '', HOME: dir },
        },
      );
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(
        `canary analyze: kubernetes: no kubeconfig found (${missing}) and not in a cluster: pass --kubeconfig, set KUBECONFIG, or set kubernetes.inCluster: true\n`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('runs the CLI through tsx: --help exits 0, an unknown command exits 2', () => {
    const help = spawnSync(process.execPath, ['ops/canary/bin/canary.mjs', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(USAGE);
    const bad = spawnSync(process.execPath, ['ops/canary/bin/canary.mjs', 'deploy'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`canary: unknown command "deploy"\n${USAGE}`);
  });
});
