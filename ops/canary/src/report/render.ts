/**
 * One look as a report for people (Markdown, or plain text for a terminal) and as JSON (the Judgement
 * with the target and the window). Both human forms hold the same facts: the decision and why, the
 * sample-ratio check, one row per guardrail (verdict, estimate, always-valid interval, p-value, margin,
 * counts), and the People experiment, which is reported and never decides.
 */
import type { Target, Window } from '../controller/ports.js';
import type { Judgement, SrmResult } from '../judge/types.js';
import {
  counts,
  estimate,
  GUARDRAIL_TITLES,
  integer,
  interval,
  isoTime,
  margin,
  percent,
  pValue,
  signed,
} from './format.js';

/** What a report is about. */
export interface ReportInput {
  target: Target;
  /** The counts cover this window (ms since the epoch). */
  window: Window;
  judgement: Judgement;
}

const GUARDRAIL_HEADER = [
  'Guardrail',
  'Verdict',
  'Estimate (canary − stable)',
  'Always-valid interval',
  'p-value',
  'Margin',
  'Canary',
  'Stable',
];
const EXPERIMENT_HEADER = ['Arm', 'Views', 'Clicks', 'Click-through', 'Interval'];

function title({ target }: ReportInput): string {
  return `Canary analysis: ${target.component} ${target.canaryVersion} against stable ${target.stableVersion}`;
}

function windowLine({ window, judgement }: ReportInput): string {
  const looks = judgement.state.looks;
  return `Counts from ${isoTime(window.start)} to ${isoTime(window.end)} (look ${looks}).`;
}

/** The SRM check in one sentence. */
export function srmLine(srm: SrmResult): string {
  if (!srm.checked) return 'Sample ratio: not checked (no visitors counted).';
  const total = srm.stableVisitors + srm.canaryVisitors;
  const facts =
    `canary got ${percent(srm.observedShare)} of ${integer(total)} visitors, ${percent(srm.expectedShare)} ` +
    `expected (chi-square ${srm.chiSquare.toFixed(2)}, p = ${pValue(srm.pValue)})`;
  return srm.mismatch
    ? `Sample ratio: ${facts}: MISMATCH. The split is not the configured one, so nothing else can be trusted and the look is held.`
    : `Sample ratio: ${facts}: consistent with the configured split.`;
}

function guardrailRows(j: Judgement): string[][] {
  return j.guardrails.map((g) => [
    GUARDRAIL_TITLES[g.name],
    g.verdict,
    estimate(g),
    interval(g),
    pValue(g.pValue),
    margin(g),
    counts(g, 'canary'),
    counts(g, 'stable'),
  ]);
}

function experimentRows(j: Judgement): string[][] {
  return (['stable', 'canary'] as const).map((arm) => {
    const a = j.experiment[arm];
    return [
      arm,
      integer(a.views),
      integer(a.clicks),
      percent(a.clickThrough),
      `[${percent(a.interval[0])}, ${percent(a.interval[1])}]`,
    ];
  });
}

function experimentLine(j: Judgement): string {
  const e = j.experiment;
  return (
    `Difference (canary − stable): ${signed(e.difference * 100, 2)} pp. ` +
    `Views per arm still needed to detect ${(e.minimumDetectableEffect * 100).toFixed(2)} pp: ` +
    `${integer(e.viewsPerArmNeeded)}.`
  );
}

const EXPERIMENT_NOTE =
  'Reported only: the experiment never blocks a rollback, never promotes, and is compared by rates, never by totals.';

function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The report as Markdown (ends with a newline). */
export function renderMarkdown(input: ReportInput): string {
  const j = input.judgement;
  return [
    `# ${title(input)}`,
    '',
    `**Decision: ${j.decision}.** ${j.summary}`,
    '',
    windowLine(input),
    '',
    srmLine(j.srm),
    '',
    '## Guardrails',
    '',
    markdownTable(GUARDRAIL_HEADER, guardrailRows(j)),
    '',
    ...j.guardrails.map((g) => `- ${GUARDRAIL_TITLES[g.name]}: ${g.reason}`),
    '',
    '## People experiment',
    '',
    EXPERIMENT_NOTE,
    '',
    markdownTable(EXPERIMENT_HEADER, experimentRows(j)),
    '',
    experimentLine(j),
    '',
  ].join('\n');
}

/** Columns padded to their widest cell, separated by two spaces, with a rule under the header. */
function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The report as plain text for a terminal (ends with a newline). */
export function renderText(input: ReportInput): string {
  const j = input.judgement;
  return [
    title(input),
    '',
    `Decision: ${j.decision}. ${j.summary}`,
    windowLine(input),
    srmLine(j.srm),
    '',
    'Guardrails',
    textTable(GUARDRAIL_HEADER, guardrailRows(j)),
    '',
    ...j.guardrails.map((g) => `  ${GUARDRAIL_TITLES[g.name]}: ${g.reason}`),
    '',
    'People experiment',
    EXPERIMENT_NOTE,
    textTable(EXPERIMENT_HEADER, experimentRows(j)),
    experimentLine(j),
    '',
  ].join('\n');
}

/**
 * The report as JSON: the Judgement's fields plus `target` and `window` (ISO 8601 times). NaN becomes
 * null (JSON has no NaN). Ends with a newline.
 */
export function renderJson(input: ReportInput): string {
  const { target, window, judgement } = input;
  const document = {
    target,
    window: { start: isoTime(window.start), end: isoTime(window.end) },
    ...judgement,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
