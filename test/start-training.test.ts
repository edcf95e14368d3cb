/**
 * `npm start` with no model release: it trains the model (the whole pipeline on the real data, ~20–60 s)
 * and publishes the release into MODEL_REGISTRY_DIR, where model-service then finds and serves it; what it
 * prints is the README's "Set-up" block (ports, durations and metric values aside).
 *
 * It runs in a scratch copy of the repository (scripts/ copied, the rest linked) so the pipeline's
 * outputs (data/, models/, metrics.json, ...) land there and not in the working tree.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { markdownNodes } from './support/markdown.js';
import {
  commandLine,
  descendants,
  launch,
  normalizeStartOutput,
  ROOT,
  waitGone,
  type Launched,
  type Running,
} from './support/start.js';

/** What the scratch copy links to the repository (read-only for the pipeline and the builds). */
const LINKED = [
  'node_modules',
  'package.json',
  'tsconfig.json',
  'params.yaml',
  'dvc.yaml',
  'lib-ml',
  'lib-version',
  'lib-service',
  'pipeline',
  'model-service',
  'app',
];

/**
 * A scratch copy of the repository in a new temp folder, as `<tmp>/repo`: scripts/ copied (so start.ts
 * takes it as its root), the rest linked.
 * @returns the temp folder.
 */
async function scratchRepository(): Promise<string> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'rs-start-train-'));
  const repo = path.join(scratch, 'repo');
  await mkdir(path.join(repo, 'scripts'), { recursive: true });
  for (const entry of LINKED) {
    if (existsSync(path.join(ROOT, entry))) await symlink(path.join(ROOT, entry), path.join(repo, entry));
  }
  await cp(path.join(ROOT, 'scripts/start.ts'), path.join(repo, 'scripts/start.ts'));
  await cp(path.join(ROOT, 'scripts/start'), path.join(repo, 'scripts/start'), { recursive: true });
  await cp(path.join(ROOT, 'scripts/build-service.mjs'), path.join(repo, 'scripts/build-service.mjs'));
  return scratch;
}

/** The environment of `npm start` in a scratch repository: free ports, its own feedback folder. */
function startEnv(scratch: string, registry: string): Record<string, string> {
  return {
    MODEL_REGISTRY_DIR: registry,
    FEEDBACK_DIR: path.join(scratch, 'feedback'),
    APP_PORT: '0',
    MODEL_SERVICE_PORT: '0',
  };
}

/** The code block of README.md's set-up section that shows what `npm start` prints. */
async function readmeStartBlock(): Promise<string> {
  const nodes = await markdownNodes(await readFile(path.join(ROOT, 'README.md'), 'utf8'));
  const block = nodes.find((n) => n.type === 'code' && n.value!.includes('Restaurant Sentiment is running'));
  if (!block) throw new Error('README.md has no code block with "Restaurant Sentiment is running"');
  return `${block.value}\n`;
}

describe('npm start without a model release', () => {
  let scratch: string;
  let registry: string;
  let run: Launched;
  let running: Running;

  beforeAll(async () => {
    scratch = await scratchRepository();
    registry = path.join(scratch, 'registry'); // outside the repository, as MODEL_REGISTRY_DIR may be
    run = launch('npm', ['start', '--silent'], startEnv(scratch, registry), path.join(scratch, 'repo'));
    running = await run.running;
  }, 300_000);

  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.exited;
    await rm(scratch, { recursive: true, force: true });
  });

  it('publishes the trained model into MODEL_REGISTRY_DIR (not ./releases) and serves it', async () => {
    const manifest = JSON.parse(await readFile(path.join(registry, 'model-v1.0.0/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'restaurant-sentiment', version: '1.0.0' });
    expect(existsSync(path.join(scratch, 'repo/releases'))).toBe(false);
    const version = await (await fetch(`${running.modelServiceUrl}/version`)).json();
    expect(version).toMatchObject({ model: '1.0.0' });
    const prediction = await fetch(`${running.modelServiceUrl}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'The food was delicious and the staff were lovely.' }),
    });
    expect(prediction.status).toBe(200);
    expect(await prediction.json()).toMatchObject({ label: 1, sentiment: 'positive', modelVersion: '1.0.0' });
  });

  it('prints what the README shows (ports, durations and metric values aside)', async () => {
    // Kept for the README: the real numbers of this run.
    await mkdir(path.join(ROOT, 'test-output'), { recursive: true });
    await writeFile(path.join(ROOT, 'test-output/npm-start.txt'), running.output);
    const printed = normalizeStartOutput(running.output, [[`${registry}/`, 'releases/']]);
    expect(printed).toBe(normalizeStartOutput(await readmeStartBlock()));
  });
});

describe('npm start stopped while it trains', () => {
  it('SIGTERM to npm stops the running stage (its whole process group), publishes nothing, exit 0', async () => {
    const scratch = await scratchRepository();
    const registry = path.join(scratch, 'registry');
    const run = launch('npm', ['start', '--silent'], startEnv(scratch, registry), path.join(scratch, 'repo'));
    try {
      let stage: number | undefined;
      for (let i = 0; i < 600 && stage === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        stage = descendants(run.child.pid!).find((pid) => / pipeline\/src\/stages\//.test(commandLine(pid)));
      }
      expect(stage).toBeDefined();
      const tree = descendants(run.child.pid!);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      await run.closed;
      expect(await waitGone(tree, 20_000)).toEqual([]);
      expect(run.output()).toBe(
        `Training the model (no release in ${registry}/) … \nStopping (SIGTERM) … done\n`,
      );
      expect(existsSync(registry)).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
      await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
