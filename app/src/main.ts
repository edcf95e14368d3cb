/**
 * `npm start -w app`: the review web app. Exits 2 on an invalid configuration or team file; SIGTERM /
 * SIGINT stop it gracefully (in-flight requests finish).
 */
import type { AddressInfo } from 'node:net';
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
  const server = app.listen(config.port, config.host, (error?: Error) => {
    if (error) {
      process.stderr.write(`app: cannot listen on ${config.host}:${config.port}: ${error.message}\n`);
      process.exit(1);
    }
    const { port } = server.address() as AddressInfo;
    log.info({ port, modelServiceUrl: config.modelServiceUrl, variant: config.variant }, 'listening');
    process.stdout.write(`app ready on http://127.0.0.1:${port}\n`);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  // A closed stdout (the parent went away) must not take the server down.
  process.stdout.on('error', () => {});
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 10_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`app: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
