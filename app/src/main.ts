/**
 * `npm start -w app`: the review web app. Exits 2 on an invalid configuration or team file, 1 when it
 * cannot listen; SIGTERM / SIGINT / SIGHUP stop it gracefully (in-flight requests finish).
 */
import { exitOnSignals, gracefulStop, listen } from '@restaurant-sentiment/lib-service';
import { getVersion } from '@restaurant-sentiment/lib-version';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createMetrics } from './metrics.js';
import { ModelServiceClient } from './model-client.js';
import { loadTeam } from './team.js';

/** This app's version: APP_VERSION, else app/package.json, else "dev". */
export const APP_VERSION = getVersion(new URL('../package.json', import.meta.url));

async function main(): Promise<void> {
  let config;
  let team;
  try {
    config = loadConfig();
    team = await loadTeam(config.teamFile);
  } catch (error) {
    process.stderr.write(`app: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const log = pino({ level: config.logLevel, base: { service: 'app', version: APP_VERSION } });
  const metrics = createMetrics(APP_VERSION);
  const modelService = new ModelServiceClient(config.modelServiceUrl, config.modelServiceTimeoutMs, metrics);
  const app = createApp({ config, metrics, modelService, team, log, appVersion: APP_VERSION });
  const { server, url, port } = await listen(app, {
    port: config.port,
    host: config.host,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  exitOnSignals(gracefulStop(server, { timeoutMs: config.shutdownTimeoutMs, log }), log);
  log.info({ port, modelServiceUrl: config.modelServiceUrl, variant: config.variant }, 'listening');
  process.stdout.write(`app ready on ${url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`app: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
