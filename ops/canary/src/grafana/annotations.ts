/**
 * Grafana annotations of canary decisions: `POST <url>/api/annotations` with
 * `{time, tags, text[, dashboardUID]}` and `Authorization: Bearer <token>` (Grafana HTTP API,
 * https://grafana.com/docs/grafana/latest/developers/http_api/annotations/). A failure is logged and
 * swallowed: annotations never stop the controller. The token is never logged.
 */
import type { Logger } from 'pino';
import type { Annotations } from '../controller/ports.js';

/** Settings of {@link GrafanaAnnotations}. */
export interface GrafanaOptions {
  /** Grafana's base URL, e.g. https://grafana.example.org (a trailing slash is fine). */
  url: string;
  /** API token (service account token). */
  token: string;
  /** Pins the annotations to this dashboard; without it they are organization-wide. */
  dashboardUid?: string;
  /** Longest wait for Grafana (ms). Default 5000. */
  timeoutMs?: number;
  log: Logger;
  /** Replaceable for tests; default global fetch. */
  fetch?: typeof fetch;
}

/** Posts annotations to Grafana (see module doc). */
export class GrafanaAnnotations implements Annotations {
  private readonly endpoint: string;

  constructor(private readonly options: GrafanaOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/annotations`;
  }

  /**
   * @param time ms since the epoch.
   * @param tags e.g. `['canary', 'FAIL']`.
   * @returns when Grafana answered or the attempt failed (logged at warn, never thrown).
   */
  async annotate(time: number, tags: string[], text: string): Promise<void> {
    const { log, dashboardUid } = this.options;
    const body = {
      time: Math.round(time),
      tags,
      text,
      ...(dashboardUid ? { dashboardUID: dashboardUid } : {}),
    };
    try {
      const response = await (this.options.fetch ?? fetch)(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (!response.ok) {
        const detail = (await response.text().catch(() => '')).slice(0, 200);
        log.warn({ status: response.status, detail, endpoint: this.endpoint }, 'grafana annotation refused');
        return;
      }
      await response.body?.cancel();
      log.debug({ tags }, 'grafana annotation posted');
    } catch (error) {
      log.warn({ error: (error as Error).message, endpoint: this.endpoint }, 'grafana annotation failed');
    }
  }
}
