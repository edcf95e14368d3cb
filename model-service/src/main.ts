/**
 * `npm start -w model-service`: starts model-service with the environment's configuration (see
 * model-service/README.md). Exits 2 with a message when the configuration is invalid, 1 when no usable
 * model can be loaded; SIGTERM/SIGINT/SIGHUP stop it gracefully (lib-service exitOnSignals).
 */
import { exitOnSignals } from '@restaurant-sentiment/lib-service';
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
  const service = await startService(config);
  exitOnSignals(service.stop, service.log);
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
