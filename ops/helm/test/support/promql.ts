/**
 * A small PromQL lexer for the chart's tests: which metrics and selectors an expression uses. Not a
 * parser: promtool and a real Prometheus check that expressions parse; these helpers only read names.
 */

/** PromQL words that are not metric names. */
export const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
]);

/**
 * The metric names of a PromQL expression: identifiers that are not functions (followed by `(`), label
 * names (inside `{}` or a by/on/ignoring/group list), strings, durations or keywords.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (match[2] || PROMQL_KEYWORDS.has(match[1])) continue;
    names.add(match[1]);
  }
  return [...names].sort();
}

/**
 * The vector selectors of a PromQL expression: each metric name with its `{...}` matchers (`null` when it
 * has none), and each `{...}` that follows no name (`name` null). Functions (an identifier followed by
 * `(`), keywords, label lists of by/on/ignoring/group_*, strings and range durations are not selectors.
 * Label values must not contain `{` or `}` (none of the chart's do).
 */
export function vectorSelectors(expr: string): Array<{ name: string | null; matchers: string | null }> {
  const blocks: string[] = [];
  const text = expr
    .replace(/\{[^}]*\}/g, (block) => `{${blocks.push(block) - 1}}`)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const selectors: Array<{ name: string | null; matchers: string | null }> = [];
  const used = new Set<number>();
  for (const match of text.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\{(\d+)\})?(\s*\()?/g)) {
    if (match[4] || PROMQL_KEYWORDS.has(match[1])) continue;
    if (match[3] !== undefined) used.add(Number(match[3]));
    selectors.push({ name: match[1], matchers: match[3] === undefined ? null : blocks[Number(match[3])] });
  }
  blocks.forEach((block, index) => {
    if (!used.has(index)) selectors.push({ name: null, matchers: block });
  });
  return selectors;
}
