/**
 * `npm start -w model-service`: starts model-service with the environment's configuration (see
 * model-service/README.md). Exits non-zero with a message when the configuration is invalid or no usable
 * model can be loaded; SIGTERM/SIGINT stop it gracefully.
 */
import { loadConfig } from './config.js';
import { startService } from './service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`model-service: ${(error as Error).message}\n`);
    process.exit(2);
  }
  // A closed stdout (the parent went away) must not take the service down or block its shutdown.
  process.stdout.on('error', () => {});
  const service = await startService(config);
  const shutdown = (signal: string) => {
    service.log.info({ signal }, 'signal received');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        service.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await service.ready;
    process.stdout.write(
      `model-service ready on ${service.url} serving model ${service.state.model?.version}\n`,
    );
  } catch (error) {
    const message = (error as Error).message;
    service.log.fatal({ err: message }, 'cannot load a model');
    process.stderr.write(`model-service: cannot load a model: ${message}\n`);
    service.log.flush();
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`model-service: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
