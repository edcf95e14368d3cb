/**
 * The chart's PrometheusRule as a plain Prometheus rule file, for `promtool check rules` / `promtool test
 * rules` and for anyone who runs Prometheus without prometheus-operator: prometheus-operator writes
 * `spec.groups` unchanged into the rule file it mounts into Prometheus, so the file is exactly `{groups}`
 * (format: https://prometheus.io/docs/prometheus/2.42/configuration/recording_rules/).
 */
import { stringify } from 'yaml';
import type { K8sObject } from '../helm/render.js';

/** One rule of a group: a recording rule (`record`) or an alert (`alert`). */
export interface Rule {
  record?: string;
  alert?: string;
  /** PromQL. */
  expr: string;
  /** How long the alert's condition must hold before it fires, e.g. `5m`. */
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A rule group: rules evaluated in order, every `interval` (Prometheus' global one when absent). */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** The contents of a rule file. */
export interface RuleFile {
  groups: RuleGroup[];
}

/**
 * The rule file of a rendered PrometheusRule: its `spec.groups`.
 * @throws Error when `object` is not a PrometheusRule, has no groups, or a rule has neither `record`
 *   nor `alert` or no `expr`.
 */
export function ruleFileOf(object: K8sObject): RuleFile {
  if (object.kind !== 'PrometheusRule') {
    throw new Error(`${object.kind}/${object.metadata.name} is not a PrometheusRule`);
  }
  const groups = (object.spec as { groups?: RuleGroup[] } | undefined)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new Error(`PrometheusRule/${object.metadata.name} has no spec.groups`);
  }
  for (const group of groups) {
    for (const [index, rule] of group.rules.entries()) {
      if ((rule.record === undefined) === (rule.alert === undefined) || typeof rule.expr !== 'string') {
        throw new Error(
          `PrometheusRule/${object.metadata.name} group ${group.name} rule ${index}: needs exactly one of record and alert, and an expr`,
        );
      }
    }
  }
  return { groups };
}

/**
 * YAML text of a rule file, multi-line expressions as literal blocks so that the file reads like the
 * template it came from.
 */
export function ruleFileText(file: RuleFile): string {
  return stringify(file, { blockQuote: 'literal', lineWidth: 0 });
}

/** The alerting rules of a rule file, in file order (an alert name may occur more than once). */
export function alertRules(file: RuleFile): Array<Rule & { alert: string }> {
  return file.groups.flatMap((group) =>
    group.rules.filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined),
  );
}

/** The recording rules' names of a rule file, in file order. */
export function recordNames(file: RuleFile): string[] {
  return file.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])));
}

/**
 * The anchor GitHub gives the Markdown heading `## <alertName>` (lower case; letters, digits, `-` and
 * `_` kept, spaces to `-`), e.g. `ServiceDown` → `servicedown`.
 */
export function runbookAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The `## ` headings of a Markdown text (level 2 only), trimmed, in order; fenced code is skipped. */
export function levelTwoHeadings(markdown: string): string[] {
  const headings: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced && line.startsWith('## ')) headings.push(line.slice(3).trim());
  }
  return headings;
}
