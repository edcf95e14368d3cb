/** Test configurations of model-service: temp folders, ephemeral port, quiet logs. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';

/** A config rooted in a fresh temp folder (registry, cache and feedback under it). */
export async function testConfig(env: NodeJS.ProcessEnv = {}): Promise<{ config: Config; root: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rs-model-service-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    MODEL_REGISTRY_DIR: path.join(root, 'releases'),
    MODEL_CACHE_DIR: path.join(root, 'cache'),
    FEEDBACK_DIR: path.join(root, 'feedback'),
    ...env,
  });
  return { config, root };
}
