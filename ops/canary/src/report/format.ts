/**
 * Number formats of the reports. Fixed locale (en-US) so the output is the same on every machine.
 * Differences of proportions are shown in percentage points (pp), shares in percent.
 */
import type { GuardrailName, GuardrailResult } from '../judge/types.js';

/** Person-facing guardrail names. */
export const GUARDRAIL_TITLES: Record<GuardrailName, string> = {
  error_rate: 'error rate (5xx)',
  latency_slo: 'slower than SLO',
  latency_rank: 'latency rank (AUC − 0.5)',
  agreement: 'wrong feedback',
};

/** 12345 → "12,345"; non-finite → "n/a". */
export function integer(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

/** A share 0–1 as percent with 2 decimals: 0.021 → "2.10%"; NaN → "n/a". */
export function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(2)}%` : 'n/a';
}

/** A signed number with `digits` decimals and a true minus sign: -0.5 → "−0.50". */
export function signed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const text = Math.abs(x).toFixed(digits);
  if (Number(text) === 0) return text;
  return `${x < 0 ? '−' : '+'}${text}`;
}

/** A p-value: below 0.0001 as "<0.0001", else 4 decimals. */
export function pValue(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  return p < 0.0001 ? '<0.0001' : p.toFixed(4);
}

/** Whether a guardrail's estimate is a difference of proportions (shown in pp) or the rank statistic. */
function inPoints(name: GuardrailName): boolean {
  return name !== 'latency_rank';
}

/** A guardrail's estimate: "+1.60 pp", or "+0.032" for latency_rank. */
export function estimate(g: GuardrailResult): string {
  return inPoints(g.name) ? `${signed(g.estimate * 100, 2)} pp` : signed(g.estimate, 3);
}

/** A guardrail's always-valid interval: "[+0.20, +3.00] pp", or "[−0.010, +0.050]" for latency_rank. */
export function interval(g: GuardrailResult): string {
  const [lo, hi] = g.interval;
  return inPoints(g.name)
    ? `[${signed(lo * 100, 2)}, ${signed(hi * 100, 2)}] pp`
    : `[${signed(lo, 3)}, ${signed(hi, 3)}]`;
}

/** A guardrail's non-inferiority margin: "0.50 pp", or "0.050" for latency_rank. */
export function margin(g: GuardrailResult): string {
  return inPoints(g.name) ? `${(g.margin * 100).toFixed(2)} pp` : g.margin.toFixed(3);
}

/** One arm's counts: "21 / 1,000" (events / trials), or "n = 1,000" for latency_rank. */
export function counts(g: GuardrailResult, arm: 'stable' | 'canary'): string {
  const { n, x } = g[arm];
  return g.name === 'latency_rank' ? `n = ${integer(n)}` : `${integer(x)} / ${integer(n)}`;
}

/** A time as ISO 8601 UTC. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
