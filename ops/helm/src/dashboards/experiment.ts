/**
 * `rs-experiment`: the People page experiment (app v1 serves variant `control`, v2 `treatment`): views,
 * profile clicks and click-through per variant and version, and the number of users behind each arm.
 *
 * The arms differ in size (the canary gets a small share of new users), so raw click totals of two arms
 * say nothing about which variant works better; every comparison here is a ratio (clicks per view), and
 * the views per arm are shown only as the sample size behind each ratio. The app keeps no user identity:
 * users are counted when the mesh assigns them an arm, as page views that reach the app without the
 * sticky version cookie, or with one naming another version than the app's own (`visitors_total`, app
 * settings STICKY_COOKIE_NAME and STICKY_COOKIE_VALUE, which the chart sets to `routing.sticky.cookieName`
 * and the version); the mesh's answer to that request sets the cookie, so a browser counts once per
 * assignment. Every ratio divides by a count that is greater than 0, so an arm with clicks but no view in
 * range (a bookmarked card link) shows no value rather than +Inf.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { buildDashboard, IN_NAMESPACE } from './dashboard.js';
import { barGaugePanel, statPanel, tablePanel, timeSeriesPanel, type PromQuery } from './panels.js';

/** The dashboard's uid. */
export const EXPERIMENT_UID = 'rs-experiment';

const ARM = '{{variant}} ({{version}})';

/**
 * Users assigned to each arm over the selected time range: page views that arrived without the version
 * cookie, i.e. browsers the mesh's weighted route assigned a version (and set the cookie) just then.
 */
const USERS_IN_RANGE = `sum by (version, variant) (increase(visitors_total{${IN_NAMESPACE}}[$__range]))`;
/** People page views per arm over the selected time range. */
const VIEWS_IN_RANGE = `sum by (version, variant) (increase(people_page_views_total{${IN_NAMESPACE}}[$__range]))`;
/** Profile clicks per arm over the selected time range. */
const CLICKS_IN_RANGE = `sum by (version, variant) (increase(profile_clicks_total{${IN_NAMESPACE}}[$__range]))`;
/** People page views per arm over the selected time range, only where there were any (a divisor). */
const SOME_VIEWS_IN_RANGE = `(${VIEWS_IN_RANGE} > 0)`;

const RATIO_NOTE =
  'Compare arms by this ratio, never by raw totals: the arms differ in size (canary weight), so the bigger arm always has more clicks.';

/** Builds the experiment dashboard model. */
export function experimentDashboard(): dashboard.Dashboard {
  const users: PromQuery = { expr: USERS_IN_RANGE, legend: ARM };
  const views: PromQuery = { expr: VIEWS_IN_RANGE, legend: ARM };
  const clicks: PromQuery = { expr: CLICKS_IN_RANGE, legend: ARM };
  const clickThrough: PromQuery = { expr: `${CLICKS_IN_RANGE} / ${SOME_VIEWS_IN_RANGE}`, legend: ARM };
  return buildDashboard({
    uid: EXPERIMENT_UID,
    title: 'Restaurant Sentiment / People page experiment',
    description:
      'People page experiment per variant and version: users assigned to each arm by the mesh, People page views, clicks and click-through (clicks per view). Arms differ in size, so compare click-through ratios, never click totals.',
    from: 'now-24h',
    rows: [
      {
        title: 'Arms over the selected time range',
        panels: [
          statPanel({
            title: 'Users assigned per arm',
            description:
              'Users the mesh assigned to each arm (variant and version) over the selected time range (visitors_total): GETs of / or /people that reached the arm without the sticky version cookie, or with one naming another version. The mesh sets the cookie on that very answer, so a browser is counted once, when it is assigned. A browser that refuses cookies is counted on every page view, one whose cookie expired (routing.sticky.maxAgeSeconds) once more; one moved here by a rollback or promotion (weight 0 or 100) still sends the cookie of the version it left, names another version than this one and is counted once more, here. Likewise a tester who forces this version with the override header (routing.overrideHeader) while holding the other version’s cookie is counted on every page view. 0 without the Istio gateway. The arms differ in size by design (canary weight); do not compare their click totals.',
            unit: units.Short,
            queries: [users],
            width: 8,
          }),
          statPanel({
            title: 'People page views per arm',
            description:
              'People page views per arm (variant and version) over the selected time range (people_page_views_total): the sample size of its click-through, whose unit is a view, not a user (a user who opens the page twice counts twice). The arms differ in size by design (canary weight); do not compare their click totals.',
            unit: units.Short,
            queries: [views],
            width: 8,
          }),
          statPanel({
            title: 'Click-through per arm',
            description: `Profile clicks per People page view of each arm over the selected time range (ratio of the two increases; no value for an arm without a view in range). ${RATIO_NOTE}`,
            unit: units.PercentUnit,
            queries: [clickThrough],
            width: 8,
          }),
          tablePanel({
            title: 'Views, clicks and click-through per arm',
            description: `One row per arm over the selected time range: People page views, profile clicks, and clicks per view. ${RATIO_NOTE}`,
            unit: units.Short,
            queries: [views, clicks, clickThrough],
            columns: [
              { header: 'People page views', unit: units.Short },
              { header: 'Profile clicks', unit: units.Short },
              { header: 'Click-through', unit: units.PercentUnit },
            ],
            width: 24,
          }),
        ],
      },
      {
        title: 'Over time (1 hour windows)',
        panels: [
          timeSeriesPanel({
            title: 'Click-through over time',
            description: `Profile clicks per People page view of each arm over the last hour (ratio, version_variant:profile_clicks_per_view:ratio_rate1h). ${RATIO_NOTE}`,
            unit: units.PercentUnit,
            queries: [
              { expr: `version_variant:profile_clicks_per_view:ratio_rate1h{${IN_NAMESPACE}}`, legend: ARM },
            ],
            min: 0,
          }),
          timeSeriesPanel({
            title: 'People page views',
            description:
              'People page views per minute of each arm, averaged over the last hour (60 × version_variant:people_page_views:rate1h): the traffic behind each arm over time, following the canary weight (views, not users). Not a measure of success; click totals are deliberately not graphed per arm.',
            unit: units.CountsPerMinute,
            queries: [
              {
                expr: `60 * sum by (version, variant) (version_variant:people_page_views:rate1h{${IN_NAMESPACE}})`,
                legend: ARM,
              },
            ],
            min: 0,
          }),
        ],
      },
      {
        title: 'Team members',
        panels: [
          barGaugePanel({
            title: 'Click-through per team member',
            description: `Clicks on each team member's card per People page view of the arm, over the selected time range (ratio). ${RATIO_NOTE}`,
            unit: units.PercentUnit,
            queries: [
              {
                expr: `sum by (version, variant, member) (increase(profile_clicks_total{${IN_NAMESPACE}}[$__range])) / ignoring (member) group_left () ${SOME_VIEWS_IN_RANGE}`,
                legend: `{{member}}: ${ARM}`,
              },
            ],
            min: 0,
            width: 24,
          }),
        ],
      },
    ],
  });
}
