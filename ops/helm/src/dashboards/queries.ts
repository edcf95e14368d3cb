/**
 * Every PromQL expression of every dashboard, with the dashboard variables replaced by concrete values,
 * so a test can run them against a real Prometheus (the Grafana variables are not PromQL). The version
 * pickers' defaults (placeholders the chart fills in from values) play no part: queries read `$stable` and
 * `$canary`, whose values the caller gives, as a user picks them in Grafana.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { VERSION_PLACEHOLDERS } from './canary.js';
import { buildDashboards } from './generate.js';

/** Values for the dashboard variables and Grafana's built-in interval variables. */
export interface QueryVariables {
  /** Replaces `$namespace`. */
  namespace: string;
  /** Replace `$stable` and `$canary` (version label values, e.g. v1 and v2). */
  stable: string;
  canary: string;
  /**
   * Replaces `$version` (the model dashboard's multi-value picker, used as `version=~"$version"`);
   * default `<stable>|<canary>`, i.e. "All" of a stable/canary pair.
   */
  version?: string;
  /** Replaces `$__rate_interval` (default `1m`). */
  rateInterval?: string;
  /** Replaces `$__range` (default `5m`). */
  range?: string;
  /** Replaces `$__interval` (default `15s`). */
  interval?: string;
}

/** One query of one panel. */
export interface DashboardQuery {
  /** The dashboard's uid, e.g. `rs-canary`. */
  dashboard: string;
  /** The panel's title as in the dashboard (variables in titles are left as they are). */
  panel: string;
  /** The PromQL expression, every variable replaced. */
  expr: string;
}

/**
 * Replaces the Grafana variables of a PromQL expression (`$name` and `${name}` forms).
 * @throws Error naming the variable when the expression uses one that `variables` has no value for.
 */
export function substituteVariables(expr: string, variables: QueryVariables): string {
  const values: Record<string, string> = {
    namespace: variables.namespace,
    stable: variables.stable,
    canary: variables.canary,
    version: variables.version ?? `${variables.stable}|${variables.canary}`,
    __rate_interval: variables.rateInterval ?? '1m',
    __range: variables.range ?? '5m',
    __interval: variables.interval ?? '15s',
  };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (match, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const value = values[name];
      if (value === undefined) throw new Error(`unknown dashboard variable ${match} in: ${expr}`);
      return value;
    },
  );
}

function panelsOf(model: dashboard.Dashboard): dashboard.Panel[] {
  return (model.panels ?? []).flatMap((panel) =>
    panel.type === 'row' ? ((panel as dashboard.RowPanel).panels ?? []) : [panel as dashboard.Panel],
  );
}

/**
 * Every PromQL expression of every dashboard panel, in dashboard then panel then refId order, with the
 * variables replaced (see {@link QueryVariables}). A panel with three queries gives three entries.
 * @returns one entry per panel target (a repeated panel counts once).
 * @throws Error when an expression uses an unknown variable, or holds a version placeholder (those are
 *   only defaults of the pickers; the chart replaces them in the ConfigMap, not in queries).
 */
export function dashboardQueries(
  variables: QueryVariables,
): Array<{ dashboard: string; panel: string; expr: string }> {
  const queries: DashboardQuery[] = [];
  for (const model of buildDashboards()) {
    for (const panel of panelsOf(model)) {
      for (const target of panel.targets ?? []) {
        const expr = (target as { expr?: unknown }).expr;
        if (typeof expr !== 'string') continue;
        for (const placeholder of Object.values(VERSION_PLACEHOLDERS)) {
          if (expr.includes(placeholder))
            throw new Error(`${model.uid} / ${panel.title}: ${placeholder} in a query: ${expr}`);
        }
        queries.push({
          dashboard: model.uid ?? '',
          panel: panel.title ?? '',
          expr: substituteVariables(expr, variables),
        });
      }
    }
  }
  return queries;
}
