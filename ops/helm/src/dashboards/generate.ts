/**
 * The chart's Grafana dashboards as files: every dashboard model serialized to
 * `restaurant-sentiment/files/dashboards/<uid>.json`, which `templates/monitoring/dashboards.yaml` packs
 * into one ConfigMap each. The JSON is deterministic (no timestamps, versions or random ids: the same
 * TypeScript gives the same bytes), so a check can compare the committed files with a fresh render.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { writeFileAtomic } from '@restaurant-sentiment/lib-ml';
import { CHART_DIR } from '../helm/render.js';
import { canaryDashboard } from './canary.js';
import { experimentDashboard } from './experiment.js';
import { modelDashboard } from './model.js';
import { serviceOverviewDashboard } from './service-overview.js';

/** Where the generated dashboard JSON files live in the chart. */
export const DASHBOARDS_DIR = path.join(CHART_DIR, 'files', 'dashboards');

/** Every dashboard of the chart, in the order of the design contract. */
export function buildDashboards(): dashboard.Dashboard[] {
  return [serviceOverviewDashboard(), modelDashboard(), experimentDashboard(), canaryDashboard()];
}

/**
 * A dashboard model as its file content: JSON indented by 2 spaces with a trailing newline. Functions
 * the SDK leaves on query objects are dropped by JSON.stringify.
 */
export function dashboardJson(model: dashboard.Dashboard): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}

/**
 * The files the dashboards render to: file name (`<uid>.json`) → content, sorted by file name.
 * @throws Error when a dashboard has no uid or two share one.
 */
export function renderDashboardFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const model of buildDashboards()) {
    if (!model.uid) throw new Error(`dashboard "${model.title}" has no uid`);
    const name = `${model.uid}.json`;
    if (files.has(name)) throw new Error(`two dashboards have the uid ${model.uid}`);
    files.set(name, dashboardJson(model));
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** What a check found: file names relative to the dashboards folder, sorted. */
export interface DashboardCheck {
  /** Committed files whose bytes differ from a fresh render. */
  stale: string[];
  /** Files the TypeScript renders that are not in the folder. */
  missing: string[];
  /** `.json` files in the folder that no dashboard renders to (e.g. after a uid changed). */
  orphaned: string[];
}

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.filter((name) => name.endsWith('.json')).sort();
}

/** Compares the `.json` files of `dir` with a fresh render, byte for byte; writes nothing. */
export async function checkDashboardFiles(dir: string = DASHBOARDS_DIR): Promise<DashboardCheck> {
  const rendered = renderDashboardFiles();
  const present = await jsonFiles(dir);
  const check: DashboardCheck = { stale: [], missing: [], orphaned: [] };
  for (const [name, content] of rendered) {
    if (!present.includes(name)) check.missing.push(name);
    else if ((await readFile(path.join(dir, name), 'utf8')) !== content) check.stale.push(name);
  }
  check.orphaned = present.filter((name) => !rendered.has(name));
  return check;
}

/**
 * Writes every dashboard whose file is missing or differs (atomically: a killed run leaves the old or the
 * new file, never half of one) and deletes orphaned `.json` files, so the folder holds exactly the
 * rendered dashboards.
 * @returns file names written and removed, sorted (both empty when everything was up to date).
 */
export async function writeDashboardFiles(
  dir: string = DASHBOARDS_DIR,
): Promise<{ written: string[]; removed: string[] }> {
  const check = await checkDashboardFiles(dir);
  const rendered = renderDashboardFiles();
  const written = [...check.stale, ...check.missing].sort();
  for (const name of written) await writeFileAtomic(path.join(dir, name), rendered.get(name) as string);
  for (const name of check.orphaned) await rm(path.join(dir, name));
  return { written, removed: check.orphaned };
}

/**
 * The lines a failed check prints, one per problem (empty when everything is current).
 * @param folder prefix of the file names, e.g. `ops/helm/restaurant-sentiment/files/dashboards`.
 */
export function describeDashboardCheck(check: DashboardCheck, folder: string): string[] {
  return [
    ...check.stale.map(
      (f) => `stale: ${folder}/${f} differs from the TypeScript (run npm run dashboards -w ops/helm)`,
    ),
    ...check.missing.map(
      (f) => `missing: ${folder}/${f} is not generated yet (run npm run dashboards -w ops/helm)`,
    ),
    ...check.orphaned.map(
      (f) => `orphaned: ${folder}/${f} belongs to no dashboard (run npm run dashboards -w ops/helm)`,
    ),
  ];
}
