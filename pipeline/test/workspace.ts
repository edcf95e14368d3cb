/** Test workspaces: a temp repository root holding params.yaml (the real one, with overrides). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import YAML from 'yaml';
import { parseParams, type Params } from '../src/params.js';
import type { StageContext } from '../src/stage.js';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The real params.yaml, parsed. */
export async function realParams(): Promise<Params> {
  return parseParams(YAML.parse(await readFile(path.join(REPO_ROOT, 'params.yaml'), 'utf8')));
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge<T>(base: T, patch: DeepPartial<T> | undefined): T {
  if (!patch) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object'
        ? merge(b, v as never)
        : v;
  }
  return out as T;
}

/** A temp root with params.yaml = real params + `patch`; `ctx` is ready for stage functions. */
export async function createWorkspace(patch?: DeepPartial<Params>): Promise<{
  root: string;
  ctx: StageContext;
  cleanup: () => Promise<void>;
}> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rs-pipeline-'));
  const params = merge(await realParams(), patch);
  await writeFile(path.join(root, 'params.yaml'), YAML.stringify(params));
  return {
    root,
    ctx: { root, params, log: pino({ level: 'silent' }) },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
