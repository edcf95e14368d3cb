/** Builds the web app for tests against a fake model-service, and reads its metrics and pages. */
import path from 'node:path';
import { pino } from 'pino';
import { APP_DIR, loadConfig, type AppConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createMetrics, type AppMetrics } from '../../src/metrics.js';
import { ModelServiceClient } from '../../src/model-client.js';
import { loadTeam, type TeamMember } from '../../src/team.js';

/** The app version every test app reports. */
export const TEST_APP_VERSION = '9.9.9';

/** The example team file shipped with the app. */
export const EXAMPLE_TEAM_FILE = path.join(APP_DIR, 'config', 'team.example.json');

/** A test app and what it was built with. */
export interface TestApp {
  app: ReturnType<typeof createApp>;
  metrics: AppMetrics;
  team: TeamMember[];
  config: AppConfig;
}

/** Creates an app (own metrics registry) talking to model-service at `url`. */
export async function makeApp(
  url: string,
  options: {
    variant?: 'control' | 'treatment';
    rateLimitPerMinute?: number;
    timeoutMs?: number;
    /** Team file of the People page (default: the example). */
    teamFile?: string;
    /** STICKY_COOKIE_NAME (default: unset, so no visitor is counted). */
    stickyCookieName?: string;
    /** STICKY_COOKIE_VALUE (default: unset, so only a missing cookie counts). */
    stickyCookieValue?: string;
  } = {},
): Promise<TestApp> {
  const config: AppConfig = {
    ...loadConfig({}),
    modelServiceUrl: url,
    variant: options.variant ?? 'control',
    rateLimitPerMinute: options.rateLimitPerMinute ?? 10_000,
    stickyCookieName: options.stickyCookieName,
    stickyCookieValue: options.stickyCookieValue,
  };
  const team = await loadTeam(options.teamFile ?? EXAMPLE_TEAM_FILE);
  const metrics = createMetrics(TEST_APP_VERSION, false);
  // versionTtlMs 0: every page asks /version, so tests see model-service going down at once.
  const modelService = new ModelServiceClient(url, options.timeoutMs ?? 2000, metrics, 0);
  const app = createApp({
    config,
    metrics,
    modelService,
    team,
    log: pino({ level: 'silent' }),
    appVersion: TEST_APP_VERSION,
  });
  return { app, metrics, team, config };
}

/**
 * Sum of the samples of `name` whose labels include `labels` (0 when there is none). Histogram samples
 * are named like `x_count`, `x_sum`, `x_bucket`.
 */
export async function metricValue(
  metrics: AppMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const samples = (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
  );
  return samples
    .filter((v) => v.name === name && Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))
    .reduce((sum, v) => sum + Number(v.value), 0);
}

/** Text of the element with `data-testid="<id>"` (no nested tags), or undefined. */
export function testId(html: string, id: string): string | undefined {
  return new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];
}

/** Raw (still escaped) value attribute of the input named `name`, or undefined. */
export function inputValue(html: string, name: string): string | undefined {
  return new RegExp(`<input [^>]*name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

/** Undoes the HTML escaping of Eta (&amp; &lt; &gt; &quot; &#39;). */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
