/**
 * `npm run bench:canary [-- --runs N --seed S ...]`: thousands of simulated canary runs on synthetic count
 * streams (see traffic.ts and scenarios.ts), scoring our judge side by side with a Flagger-style threshold
 * check (flagger.ts) and a Kayenta-style per-minute Mann–Whitney (kayenta.ts), and printing two Markdown
 * tables, a PASS/MISS line per target of issue #10 (false rollbacks ≤ 5 %; 5xx 0.5 % → 2 % detected in
 * ≥ 95 % of runs within 5,000 canary requests) and the timings. A MISS is printed loudly but the exit
 * code stays 0: this is a measurement. Bad flags exit 2 with a message.
 */
import os from 'node:os';
import { DEFAULT_JUDGE_CONFIG } from '../src/judge/defaults.js';
import { judge } from '../src/judge/judge.js';
import { parseSettings, USAGE } from './options.js';
import { monitoringTable, rolloutNote, rolloutTable, targetLines } from './report.js';
import { SCENARIOS, runScenario, type BenchSettings, type ScenarioResult } from './scenarios.js';

function main(): void {
  let settings: BenchSettings;
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  try {
    settings = parseSettings(process.argv.slice(2));
  } catch (error) {
    console.error(`bench:canary: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const started = performance.now();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `# bench:canary — ${settings.runs} runs per scenario, seed ${settings.seed}, ` +
      `${settings.requestsPerMinute} requests/min, canary ${settings.canaryWeight} % ` +
      `(monitoring up to ${settings.horizonCanaryRequests.toLocaleString('en-US')} canary requests)`,
  );
  console.log(`${new Date().toISOString()} · ${os.cpus().length} cores (${cpu}) · node ${process.version}\n`);
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    const result = runScenario(scenario, settings, judge, DEFAULT_JUDGE_CONFIG, (done) => {
      if (done % 100 === 0 || done === settings.runs) {
        process.stderr.write(`\r${scenario.title}: ${done}/${settings.runs} runs`);
      }
    });
    process.stderr.write(` (${result.seconds.toFixed(1)} s)\n`);
    results.push(result);
  }
  console.log(
    `## Monitoring at a fixed ${settings.canaryWeight} % canary share\n\n` +
      'Each cell: share of runs rolled back (95 % Wilson interval) · median canary requests answered at the ' +
      'rollback. On A/A every rollback is a false rollback; on a regression it is a detection.\n',
  );
  console.log(monitoringTable(results, settings));
  console.log(
    `\n## Our controller's rollout (${settings.rollout.steps.join(' → ')}, a look every minute, ` +
      `step deadline ${settings.rollout.stepDeadlineMinutes} min)\n`,
  );
  console.log(rolloutTable(results));
  console.log('\n## Targets (issue #10)\n');
  for (const { line, met } of targetLines(results, settings)) {
    console.log(met ? `PASS  ${line}` : `!!! MISS !!!  ${line}`);
  }
  const note = rolloutNote(results, settings);
  if (note) console.log(`!!! NOTE !!!  ${note}`);
  const timings = results.map((r) => `${r.scenario.id} ${r.seconds.toFixed(1)} s`).join(', ');
  console.log(`\ntiming: ${timings}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main();
