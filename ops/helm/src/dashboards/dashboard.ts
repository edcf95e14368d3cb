/**
 * What every Restaurant Sentiment dashboard shares: the `datasource` and `namespace` variables, the
 * version pickers, the tag and the links between the dashboards, and the assembly of rows of panels into
 * a Grafana dashboard model with deterministic panel ids (so the generated JSON only changes when the
 * TypeScript does).
 */
import * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE_VARIABLE, PROMETHEUS } from './panels.js';

/** Tag of every dashboard of the chart; the dashboards link to each other through it. */
export const DASHBOARD_TAG = 'restaurant-sentiment';

/** Label matcher of the namespace picked in the `namespace` variable; every query of every panel has it. */
export const IN_NAMESPACE = 'namespace="$namespace"';

/** The query of the `namespace` variable: namespaces with a scraped target that has a `component` label. */
export const NAMESPACE_QUERY = 'label_values(up{component!=""}, namespace)';

/** The query of the version pickers: `version` labels of the namespace's scraped targets. */
export const VERSION_QUERY = 'label_values(up{namespace="$namespace", component!=""}, version)';

/** The Prometheus datasource picker (`$datasource`); Grafana preselects the default Prometheus. */
export function datasourceVariable(): cog.Builder<dashboard.VariableModel> {
  return new dashboard.DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Prometheus').type('prometheus');
}

/** The namespace picker (`$namespace`): one release of the chart per namespace. */
export function namespaceVariable(): cog.Builder<dashboard.VariableModel> {
  return new dashboard.QueryVariableBuilder('namespace')
    .label('Namespace')
    .description('Namespace the chart is installed in (one release per namespace)')
    .datasource(PROMETHEUS)
    .query(NAMESPACE_QUERY)
    .definition(NAMESPACE_QUERY)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/**
 * A single-value version picker (e.g. `$stable`): the values of the `version` label (the chart's
 * `stable.version`/`canary.version`) of the namespace's scraped targets, any of which can be picked.
 * @param defaultVersion the version selected when the dashboard opens (text and value of `current`); the
 *   canary dashboard passes a placeholder the chart's template replaces with the version from values.
 */
export function versionVariable(
  name: string,
  label: string,
  defaultVersion: string,
): cog.Builder<dashboard.VariableModel> {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .description(
      `Value of the version label of the ${label.toLowerCase()} pods (chart value ${name}.version)`,
    )
    .datasource(PROMETHEUS)
    .query(VERSION_QUERY)
    .definition(VERSION_QUERY)
    .current({ selected: true, text: defaultVersion, value: defaultVersion })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** A multi-value version picker with "All" selected by default, for panels repeated per version. */
export function versionsVariable(name: string, query: string): cog.Builder<dashboard.VariableModel> {
  return new dashboard.QueryVariableBuilder(name)
    .label('Version')
    .description('Versions to show (one panel per version where a panel repeats)')
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .multi(true)
    .includeAll(true)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** A titled row of panels; the panels fill the row left to right and wrap after 24 columns. */
export interface DashboardRow {
  title: string;
  panels: cog.Builder<dashboard.Panel>[];
}

/** A whole dashboard. */
export interface DashboardSpec {
  /** Stable uid: Grafana URLs and links use it. */
  uid: string;
  title: string;
  description: string;
  /** Default start of the time range, e.g. `now-6h` (the end is `now`). */
  from: string;
  /** Variables after `datasource` and `namespace`, in picker order. */
  variables?: cog.Builder<dashboard.VariableModel>[];
  rows: DashboardRow[];
}

/** Grafana's built-in "Annotations & Alerts" query, which Grafana adds to every dashboard it saves. */
function builtInAnnotations(): cog.Builder<dashboard.AnnotationQuery> {
  return new dashboard.AnnotationQueryBuilder()
    .builtIn(1)
    .name('Annotations & Alerts')
    .type('dashboard')
    .datasource({ type: 'grafana', uid: '-- Grafana --' })
    .enable(true)
    .hide(true)
    .iconColor('rgba(0, 211, 255, 1)');
}

/**
 * Builds the dashboard model: variables `datasource`, `namespace`, then `spec.variables`; rows and their
 * panels in order; panel ids 1, 2, ... in that order (rows included); a dropdown in the header linking
 * the other dashboards with the same tag, keeping the time range and variables.
 * @throws Error when two panels share a title or a panel has no query (a dashboard that would
 *   show an empty or ambiguous panel).
 */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([DASHBOARD_TAG])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: spec.from, to: 'now' })
    .timezone('browser')
    .refresh('1m')
    .annotation(builtInAnnotations())
    .link(
      new dashboard.DashboardLinkBuilder('Restaurant Sentiment')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true)
        .targetBlank(false)
        .icon('external link')
        .tooltip('')
        .url(''),
    )
    .variables([datasourceVariable(), namespaceVariable(), ...(spec.variables ?? [])]);
  for (const row of spec.rows) {
    builder.withRow(new dashboard.RowBuilder(row.title));
    for (const panel of row.panels) builder.withPanel(panel);
  }
  const model = builder.build();
  // The SDK defaults links to Grafana 12's "in the controls menu" placement; without it the link shows in
  // the dashboard's header, where every Grafana version puts it.
  for (const link of model.links ?? []) delete link.placement;
  const titles = new Set<string>();
  (model.panels ?? []).forEach((panel, index) => {
    panel.id = index + 1;
    if (panel.type === 'row') return;
    const title = panel.title ?? '';
    if (titles.has(title)) throw new Error(`${spec.uid}: two panels are titled "${title}"`);
    titles.add(title);
    if (!('targets' in panel) || !panel.targets?.length)
      throw new Error(`${spec.uid}: panel "${title}" has no query`);
  });
  return model;
}
