/**
 * The panel kinds the Restaurant Sentiment dashboards are made of, built with
 * @grafana/grafana-foundation-sdk: every panel reads Prometheus through the dashboard's `datasource`
 * variable, gives each query a refId (A, B, ...) and a legend, and carries a unit and a description that
 * says what the numbers mean (rate window, ratio or count) so nobody has to read the PromQL.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Name of the datasource variable every dashboard has. */
export const DATASOURCE_VARIABLE = 'datasource';

/** The Prometheus datasource chosen in the dashboard's `datasource` variable. */
export const PROMETHEUS: common.DataSourceRef = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

/** One PromQL query of a panel. */
export interface PromQuery {
  /** The PromQL expression; may use the dashboard variables ($namespace, ...) and $__rate_interval/$__range. */
  expr: string;
  /** Grafana legend template, e.g. `{{component}} {{version}}`. */
  legend: string;
}

/** What every panel has. */
export interface PanelSpec {
  /** Unique within the dashboard. */
  title: string;
  /** Shown in the panel's (i) tooltip: what is measured, over which window, and how to read it. */
  description: string;
  /** Grafana unit id, e.g. `s`, `percentunit`, `reqps` (see @grafana/grafana-foundation-sdk/units). */
  unit: string;
  /** One target per query, refIds A, B, ... in this order; at least one. */
  queries: PromQuery[];
  /** Grid width in columns (of 24; default 12). */
  width?: number;
  /** Grid height in rows (default 8). */
  height?: number;
}

const DEFAULT_WIDTH = 12;
const DEFAULT_HEIGHT = 8;

/** Options of time series panels. */
export interface TimeSeriesSpec extends PanelSpec {
  /** Lower/upper bound of the y axis (e.g. 0 and 1 for shares). */
  min?: number;
  max?: number;
  decimals?: number;
}

/**
 * The Prometheus targets of a panel: refIds A, B, C, ... in query order, the datasource variable set.
 * @param mode `range` for graphs, `instant` for single values/tables, `heatmap` for cumulative `le`
 *   buckets that Grafana turns into per-bucket counts (Prometheus query format "heatmap").
 * @throws Error when `queries` is empty or holds more than 26 queries.
 */
export function prometheusTargets(
  queries: PromQuery[],
  mode: 'range' | 'instant' | 'table' | 'heatmap',
): prometheus.DataqueryBuilder[] {
  if (queries.length === 0 || queries.length > 26) {
    throw new Error(`a panel needs 1 to 26 queries, got ${queries.length}`);
  }
  return queries.map((query, index) => {
    const target = new prometheus.DataqueryBuilder()
      .refId(String.fromCharCode(65 + index))
      .datasource(PROMETHEUS)
      .editorMode(prometheus.QueryEditorMode.Code)
      .expr(query.expr)
      .legendFormat(query.legend);
    if (mode === 'instant') target.instant();
    else if (mode === 'table') target.instant().format(prometheus.PromQueryFormat.Table);
    else if (mode === 'heatmap') target.range().format(prometheus.PromQueryFormat.Heatmap);
    else target.range();
    return target;
  });
}

function last(): common.ReduceDataOptionsBuilder {
  return new common.ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']).fields('');
}

/** A graph over time; legend as a table with the last and the mean value, tooltip with every series. */
export function timeSeriesPanel(spec: TimeSeriesSpec): cog.Builder<dashboard.Panel> {
  const panel = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .targets(prometheusTargets(spec.queries, 'range'))
    .span(spec.width ?? DEFAULT_WIDTH)
    .height(spec.height ?? DEFAULT_HEIGHT)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'mean']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  if (spec.decimals !== undefined) panel.decimals(spec.decimals);
  return panel;
}

/** One big number per series: the value at the end of the time range (instant queries). */
export function statPanel(spec: PanelSpec): cog.Builder<dashboard.Panel> {
  return new stat.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .targets(prometheusTargets(spec.queries, 'instant'))
    .span(spec.width ?? DEFAULT_WIDTH)
    .height(spec.height ?? DEFAULT_HEIGHT)
    .reduceOptions(last())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.None)
    .textMode(common.BigValueTextMode.ValueAndName);
}

/** Horizontal bars, one per series, at the end of the time range (instant queries). */
export function barGaugePanel(
  spec: PanelSpec & { min?: number; max?: number },
): cog.Builder<dashboard.Panel> {
  const panel = new bargauge.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .targets(prometheusTargets(spec.queries, 'instant'))
    .span(spec.width ?? DEFAULT_WIDTH)
    .height(spec.height ?? DEFAULT_HEIGHT)
    .reduceOptions(last())
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .orientation(common.VizOrientation.Horizontal)
    .showUnfilled(true);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  return panel;
}

/** A column of a {@link tablePanel}: the value of one query, with its header and unit. */
export interface TableColumn {
  header: string;
  unit: string;
  /** Leave the column out (for info-style series whose value is always 1: the labels are the data). */
  hidden?: boolean;
}

/**
 * A table with one row per label set: instant queries in table format, merged on their labels (Grafana's
 * `merge` transformation), the value of query i shown under `columns[i].header`; the Time column is hidden.
 * @throws Error when `columns` and `queries` differ in length.
 */
export function tablePanel(spec: PanelSpec & { columns: TableColumn[] }): cog.Builder<dashboard.Panel> {
  if (spec.columns.length !== spec.queries.length) {
    throw new Error(`${spec.title}: ${spec.queries.length} queries but ${spec.columns.length} columns`);
  }
  const single = spec.queries.length === 1;
  const renames: Record<string, string> = {};
  const excluded: Record<string, boolean> = { Time: true };
  spec.columns.forEach((column, index) => {
    const field = single ? 'Value' : `Value #${String.fromCharCode(65 + index)}`;
    if (column.hidden) excluded[field] = true;
    else renames[field] = column.header;
  });
  const panel = new table.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .targets(prometheusTargets(spec.queries, 'table'))
    .span(spec.width ?? DEFAULT_WIDTH)
    .height(spec.height ?? DEFAULT_HEIGHT)
    .transformations([
      ...(single ? [] : [{ id: 'merge', options: {} }]),
      { id: 'organize', options: { excludeByName: excluded, renameByName: renames } },
    ]);
  for (const column of spec.columns.filter((c) => !c.hidden)) {
    panel.overrideByName(column.header, [{ id: 'unit', value: column.unit }]);
  }
  return panel;
}

/**
 * A heatmap of a Prometheus histogram over time: the query returns cumulative `le` buckets (legend
 * `{{le}}`), Grafana turns them into per-bucket values (heatmap query format), the y axis shows the
 * bucket bounds in `yUnit`, `unit` is the unit of a cell's value. `repeat` names a variable: one panel
 * per selected value, two per row.
 */
export function heatmapPanel(
  spec: PanelSpec & { yUnit: string; repeat?: string },
): cog.Builder<dashboard.Panel> {
  const panel = new heatmap.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS)
    .unit(spec.unit)
    .targets(prometheusTargets(spec.queries, 'heatmap'))
    .span(spec.width ?? DEFAULT_WIDTH)
    .height(spec.height ?? DEFAULT_HEIGHT)
    .calculate(false)
    .rowsFrame(new heatmap.RowsHeatmapOptionsBuilder().layout(common.HeatmapCellLayout.Le))
    .yAxis(new heatmap.YAxisConfigBuilder().unit(spec.yUnit).decimals(1))
    .cellValues(new heatmap.CellValuesBuilder().unit(spec.unit))
    .color(
      new heatmap.HeatmapColorOptionsBuilder()
        .mode(heatmap.HeatmapColorMode.Scheme)
        .scheme('Oranges')
        .fill('dark-orange')
        .scale(heatmap.HeatmapColorScale.Exponential)
        .exponent(0.5)
        .steps(64)
        .reverse(false),
    )
    .showLegend()
    .tooltip(new heatmap.HeatmapTooltipBuilder().mode(common.TooltipDisplayMode.Single).yHistogram(true));
  if (spec.repeat) panel.repeat(spec.repeat).repeatDirection('h').maxPerRow(2);
  return panel;
}
