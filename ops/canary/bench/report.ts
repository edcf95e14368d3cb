/**
 * The printed results of `npm run bench:canary`: Markdown tables and the PASS/MISS lines of issue #10's
 * targets.
 */
import { wilsonInterval } from '../src/stats/proportions.js';
import {
  MONITORING_METHODS,
  median,
  type BenchSettings,
  type MonitoringMethod,
  type ScenarioResult,
  type Tally,
} from './scenarios.js';

/** Issue #10's targets: false rollbacks at most 5 %, 0.5 % → 2 % detected in at least 95 % of runs. */
export const MAX_FALSE_ROLLBACKS = 0.05;
export const MIN_DETECTION = 0.95;

export const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
const count = (x: number) => (Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en-US'));

/** "rate (95 % Wilson interval) · median canary requests" of one tally. */
function cell(tally: Tally): string {
  const k = tally.rollbackRequests.length;
  const [lo, hi] = wilsonInterval(k, tally.runs, 0.05);
  const interval = `(${(100 * lo).toFixed(1)}–${(100 * hi).toFixed(1)})`;
  return `${percent(k / tally.runs)} ${interval} · ${count(median(tally.rollbackRequests))}`;
}

const METHOD_TITLES: Record<MonitoringMethod, string> = {
  ours: 'Ours (always-valid, look every min)',
  flaggerHeld: 'Flagger-style held at the weight',
  kayenta: 'Kayenta-style (run every M min)',
  flagger: 'Flagger-style own flow 10 → 50 %',
};

/** The monitoring table: rollback rate (interval) · median canary requests to rollback, per method. */
export function monitoringTable(results: ScenarioResult[], settings: BenchSettings): string {
  const titles = MONITORING_METHODS.map((m) =>
    METHOD_TITLES[m].replace('every M min', `every ${settings.kayenta.intervalMinutes} min`),
  );
  const lines = [
    `| Scenario | ${titles.join(' | ')} |`,
    `|---|${MONITORING_METHODS.map(() => '---').join('|')}|`,
  ];
  for (const r of results) {
    const cells = MONITORING_METHODS.map((m) => cell(r.monitoring[m]));
    lines.push(`| ${r.scenario.title} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The rollout table of our controller's flow. */
export function rolloutTable(results: ScenarioResult[]): string {
  const lines = [
    '| Scenario | Promoted | Rolled back on FAIL · median canary requests | Rolled back at a step deadline |',
    '|---|---|---|---|',
  ];
  for (const r of results) {
    const t = r.rollout;
    lines.push(
      `| ${r.scenario.title} | ${percent(t.promoted / t.runs)} | ${cell(t)} | ${percent(t.deadline / t.runs)} |`,
    );
  }
  return lines.join('\n');
}

/** The PASS/MISS lines of the targets for our judge. */
export function targetLines(
  results: ScenarioResult[],
  settings: BenchSettings,
): { line: string; met: boolean }[] {
  const lines: { line: string; met: boolean }[] = [];
  const aa = results.find((r) => !r.scenario.regression);
  if (aa) {
    const monitoring = aa.monitoring.ours.rollbackRequests.length / aa.monitoring.ours.runs;
    lines.push({
      met: monitoring <= MAX_FALSE_ROLLBACKS,
      line: `false rollbacks on A/A, monitoring ${settings.horizonCanaryRequests.toLocaleString('en-US')} canary requests: ${percent(monitoring)} (target ≤ ${percent(MAX_FALSE_ROLLBACKS)})`,
    });
    const rollout = aa.rollout.rollbackRequests.length / aa.rollout.runs;
    lines.push({
      met: rollout <= MAX_FALSE_ROLLBACKS,
      line: `false rollbacks on A/A (FAIL), rollout 10 → 25 → 50 → 100: ${percent(rollout)} (target ≤ ${percent(MAX_FALSE_ROLLBACKS)})`,
    });
  }
  const severe = results.find((r) => r.scenario.id === 'error-2');
  if (severe) {
    const t = severe.monitoring.ours;
    const detected = t.rollbackRequests.filter((n) => n <= 5000).length / t.runs;
    lines.push({
      met: detected >= MIN_DETECTION,
      line: `5xx 0.5 % → 2 % detected within 5,000 canary requests: ${percent(detected)} (target ≥ ${percent(MIN_DETECTION)})`,
    });
  }
  return lines;
}

/**
 * A loud note when healthy (A/A) canaries do not get promoted by our controller's flow, e.g. because no
 * PASS comes before the step deadline at this traffic: not one of the targets, but a rollback of a
 * good canary all the same.
 * @returns the note, or null when at least 95 % of A/A rollouts were promoted.
 */
export function rolloutNote(results: ScenarioResult[], settings: BenchSettings): string | null {
  const aa = results.find((r) => !r.scenario.regression);
  if (!aa) return null;
  const t = aa.rollout;
  if (t.promoted / t.runs >= MIN_DETECTION) return null;
  return (
    `only ${percent(t.promoted / t.runs)} of A/A rollouts were promoted; ${percent(t.deadline / t.runs)} ` +
    `found no PASS within the ${settings.rollout.stepDeadlineMinutes}-min step deadline and were rolled back ` +
    '(onDeadline: rollback)'
  );
}
