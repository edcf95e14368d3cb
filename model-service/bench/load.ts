/**
 * `npm run bench:model-service`: load-tests model-service against a bare Express JSON endpoint on the
 * same machine, in the same run, and measures start-up from the cache.
 *
 * model-service runs as it is deployed: the esbuild bundle (scripts/build-service.mjs), plain node.
 * 1. Start-up: model-service with MODEL_SOURCE=github against a local GitHub-speaking server holding the
 *    newest local release: a cold start (download + verify + load) and a start from the cache; each is
 *    the time from spawning the process to /readyz answering 200 (ms).
 * 2. Load: autocannon, 50 connections, POST /predict with the 1000 real Yelp reviews in turn, against
 *    model-service and the bare endpoint in alternating rounds (BENCH_ROUNDS, default 3, of
 *    BENCH_DURATION_S, default 5 s, each): on a shared 2-core VM the speed of the machine drifts by ±30 %
 *    within a minute, so one long run of each compares two different machines. Prints every round, the
 *    medians of requests/s and latency percentiles (ms), the median of the per-round throughput ratios,
 *    and the peak RSS of model-service under load (MiB, sampled from /proc every 100 ms).
 * Targets (issues #4, #8): ratio ≥ 0.8, p99 ≤ 25 ms, ready from cache ≤ 2000 ms, RSS ≤ 250 MB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { FakeGitHubServer } from '../../lib-version/test/support/fake-github-server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const require = createRequire(import.meta.url);
const TSX = require.resolve('tsx');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
/** V8 flags of `npm start -w model-service` (see model-service/package.json). */
const SERVICE_NODE_FLAGS = (process.env.SERVICE_NODE_FLAGS ?? '--max-old-space-size=160')
  .split(' ')
  .filter(Boolean);

function start(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  // The bundle runs with the flags of model-service's "start" script (package.json).
  const args = script.endsWith('.ts') ? ['--import', TSX, script] : [...SERVICE_NODE_FLAGS, script];
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function load(url: string, bodies: string[], pid?: number) {
  let peak = 0;
  const sampler = pid
    ? setInterval(() => {
        void rssMiB(pid).then((mb) => (peak = Math.max(peak, mb)));
      }, 100)
    : null;
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }),
      },
    ],
  });
  if (sampler) clearInterval(sampler);
  return { result, peakRssMiB: peak };
}

async function main(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    spawn(process.execPath, [path.join(ROOT, 'scripts/build-service.mjs'), 'model-service'], {
      stdio: 'inherit',
    }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error('build failed')))),
  );
  const releases = path.join(ROOT, 'releases');
  const versions = (await readdir(releases).catch(() => [] as string[]))
    .filter((n) => n.startsWith('model-v'))
    .sort();
  if (!versions.length)
    throw new Error('no model release in releases/: run `npm run pipeline` (or `npm start`) first');
  const release = versions[versions.length - 1];
  const reviews: Array<{ text: string }> = require('sentiment/test/fixtures/yelp.json').slice(0, 1000);
  const bodies = reviews.map((r) => JSON.stringify({ text: r.text }));

  // 1. Start-up, through a local GitHub-speaking server.
  const github = await new FakeGitHubServer('bench', 'restaurant-sentiment').start();
  const files = await readdir(path.join(releases, release));
  github.addRelease(
    release,
    Object.fromEntries(
      await Promise.all(files.map(async (f) => [f, await readFile(path.join(releases, release, f))])),
    ),
  );
  const cache = await mkdtemp(path.join(os.tmpdir(), 'rs-bench-cache-'));
  const env = {
    PORT: '5101',
    MODEL_SOURCE: 'github',
    GITHUB_REPOSITORY: 'bench/restaurant-sentiment',
    GITHUB_API_URL: github.baseUrl,
    MODEL_CACHE_DIR: cache,
    FEEDBACK_DIR: path.join(cache, 'feedback'),
  };
  const startup: number[] = [];
  let service: ChildProcess | null = null;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    service = start('model-service/dist/main.js', env);
    await waitFor('http://127.0.0.1:5101/readyz');
    startup.push(performance.now() - t0);
    if (i === 0) await stop(service);
  }

  // 2. Load: model-service (still running, started from the cache) and the bare endpoint, in turns.
  const bare = start('model-service/bench/bare-server.ts', { PORT: '5102' });
  await waitFor('http://127.0.0.1:5102/predict').catch(() => {});
  await new Promise((r) => setTimeout(r, 500));
  const rounds: Array<{ svc: autocannon.Result; base: autocannon.Result }> = [];
  let peakRssMiB = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const svc = await load('http://127.0.0.1:5101/predict', bodies, service!.pid);
    peakRssMiB = Math.max(peakRssMiB, svc.peakRssMiB);
    const base = await load('http://127.0.0.1:5102/predict', bodies);
    rounds.push({ svc: svc.result, base: base.result });
  }
  const idleRss = await rssMiB(service!.pid!);
  await stop(service!);
  await stop(bare);
  await github.stop();
  await rm(cache, { recursive: true, force: true });

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const summary = (results: autocannon.Result[]) => ({
    rps: median(results.map((r) => r.requests.average)),
    p50: median(results.map((r) => r.latency.p50)),
    p90: median(results.map((r) => r.latency.p90)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
  });
  const svcSummary = summary(rounds.map((r) => r.svc));
  const baseSummary = summary(rounds.map((r) => r.base));
  const ratio = median(rounds.map((r) => r.svc.requests.average / r.base.requests.average));
  const row = (name: string, r: ReturnType<typeof summary>) =>
    `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(8)} ${String(r.p50).padStart(6)} ${String(r.p90).padStart(6)} ${String(r.p99).padStart(6)} ${String(r.errors).padStart(7)}`;
  console.log(
    `\nmodel-service benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s, ${bodies.length} real reviews, ${os.cpus().length} cores, release ${release}`,
  );
  console.log(
    `${'endpoint'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50'.padStart(6)} ${'p90'.padStart(6)} ${'p99'.padStart(6)} ${'errors'.padStart(7)}   (latency ms)`,
  );
  rounds.forEach((r, k) => {
    console.log(row(`model-service round ${k + 1}`, summary([r.svc])));
    console.log(row(`bare express round ${k + 1}`, summary([r.base])));
  });
  console.log(row('model-service median', svcSummary));
  console.log(row('bare express median', baseSummary));
  const checks: Array<[string, string, string, boolean]> = [
    ['throughput ratio', ratio.toFixed(2), '≥ 0.8', ratio >= 0.8],
    ['p99 latency (ms)', String(svcSummary.p99), '≤ 25', svcSummary.p99 <= 25],
    ['bare express p99 (ms)', String(baseSummary.p99), '', true],
    ['cold start, download (ms)', startup[0].toFixed(0), '', true],
    ['ready from cache (ms)', startup[1].toFixed(0), '≤ 2000', startup[1] <= 2000],
    ['peak RSS under load (MB)', (peakRssMiB * 1.048576).toFixed(0), '≤ 250', peakRssMiB * 1.048576 <= 250],
    ['RSS after load (MB)', (idleRss * 1.048576).toFixed(0), '', true],
    ['errors / non-2xx', String(svcSummary.errors), '0', svcSummary.errors === 0],
  ];
  console.log('');
  for (const [name, value, target, ok] of checks) {
    console.log(
      `${name.padEnd(28)} ${value.padStart(8)}  ${target.padEnd(8)} ${target ? (ok ? 'ok' : 'MISSED') : ''}`,
    );
  }
  if (checks.some(([, , target, ok]) => target && !ok)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`bench:model-service: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
