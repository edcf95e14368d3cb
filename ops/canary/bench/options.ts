/**
 * The command line of `npm run bench:canary`: flags, defaults and their validation.
 */
import { parseArgs } from 'node:util';
import { FLAGGER_DOCS_CONFIG } from './flagger.js';
import { KAYENTA_DEFAULT_CONFIG } from './kayenta.js';
import type { BenchSettings } from './scenarios.js';

/** Usage text printed with a flag error. */
export const USAGE = `usage: npm run bench:canary -- [--runs N] [--seed S] [--requests-per-minute R] [--canary-weight W]
       [--horizon H] [--kayenta-interval M] [--step-deadline M]
  --runs N                 simulated runs per scenario (default 1000)
  --seed S                 seed of run 0; run r uses S + r (default 1)
  --requests-per-minute R  requests per minute, both versions (default 200)
  --canary-weight W        canary share of the monitoring runs, percent (default 10)
  --horizon H              canary requests a monitoring run lasts (default 5000)
  --kayenta-interval M     minutes between Kayenta-style runs (default 30)
  --step-deadline M        our rollout's step deadline, minutes (default 30)`;

/**
 * Parses the flags into settings; the defaults are the bench of issue #10 (1,000 runs, 200 requests/min,
 * 10 % canary, 5,000 canary requests, Kayenta runs every 30 min, 30-min step deadline).
 * @throws Error naming the flag on an unknown flag or a value that is not an integer in range.
 */
export function parseSettings(argv: string[]): BenchSettings {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      runs: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      'requests-per-minute': { type: 'string', default: '200' },
      'canary-weight': { type: 'string', default: '10' },
      horizon: { type: 'string', default: '5000' },
      'kayenta-interval': { type: 'string', default: '30' },
      'step-deadline': { type: 'string', default: '30' },
    },
  });
  const integer = (name: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = values[name as keyof typeof values] as string;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
  return {
    runs: integer('runs', 1, 1_000_000),
    seed: integer('seed', 0, 2 ** 31),
    requestsPerMinute: integer('requests-per-minute', 1, 1_000_000),
    visitorsPerMinute: 20,
    canaryWeight: integer('canary-weight', 1, 99),
    horizonCanaryRequests: integer('horizon', 1, 10_000_000),
    flagger: FLAGGER_DOCS_CONFIG,
    kayenta: { ...KAYENTA_DEFAULT_CONFIG, intervalMinutes: integer('kayenta-interval', 1, 10_000) },
    rollout: { steps: [10, 25, 50, 100], stepDeadlineMinutes: integer('step-deadline', 1, 10_000) },
  };
}
