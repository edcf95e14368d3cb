/**
 * `npm start`: the main job on the embedded default. If no model release exists under
 * `<publish.registry_dir>/model-v*` it runs the pipeline (prepare → train → evaluate → publish on the
 * Yelp reviews shipped by the `sentiment` package) and reports where the release is.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { loadParams } from '../pipeline/src/params.js';
import { runPipeline } from '../pipeline/src/runner/dvc.js';

const log = pino({ base: { component: 'start' } });

/** Model release folders (`model-v*`) under `dir`, or [] when it does not exist. */
async function releases(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => /^model-v\d/.test(name)).sort();
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const root = process.cwd();
  const params = await loadParams(root);
  const registry = path.resolve(root, params.publish.registry_dir);
  let found = await releases(registry);
  if (found.length === 0) {
    log.info({ registry }, 'no model release found: running the training pipeline');
    await runPipeline(root, [], (stage) => log.info({ stage: stage.name }, 'stage'));
    found = await releases(registry);
  }
  log.info({ registry, releases: found }, 'model releases available');
  process.stdout.write(`\nModel releases in ${registry}: ${found.join(', ')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`start: error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
