/** What every stage script shares: its context, logging, and the CLI wrapper that turns errors into exits. */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BundleError, VectorizerStateError } from '@restaurant-sentiment/lib-ml';
import {
  AssetChecksumError,
  MissingConfigError,
  ReleaseClientError,
  TagError,
  VersionNotFoundError,
} from '@restaurant-sentiment/lib-version';
import { pino, type Logger } from 'pino';
import { PipelineError } from './errors.js';
import { loadParams, type Params } from './params.js';

/** Inputs of a stage function. */
export interface StageContext {
  /** Repository root: every path in dvc.yaml is relative to it. */
  root: string;
  params: Params;
  log: Logger;
}

/** Absolute path of a repo-relative path. */
export function resolvePath(ctx: Pick<StageContext, 'root'>, relative: string): string {
  return path.resolve(ctx.root, relative);
}

/** The pipeline's structured logger (pino, JSON lines on stdout; LOG_LEVEL sets the level). */
export function createLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'info', base: { component: 'pipeline' } });
}

/**
 * True when the module at `moduleUrl` is the script node was started with (symlinks resolved), i.e. a
 * stage file run as a CLI rather than imported.
 */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** True for errors whose message is the whole story (no stack trace needed). */
function isExpected(error: unknown): error is Error {
  return [
    PipelineError,
    BundleError,
    VectorizerStateError,
    MissingConfigError,
    ReleaseClientError,
    AssetChecksumError,
    TagError,
    VersionNotFoundError,
  ].some((type) => error instanceof type);
}

/**
 * Runs a stage as a CLI: loads params.yaml from the working directory, runs `body`, logs the wall time,
 * and exits 0, or 1 with a one-line message on stderr. Never lets an error escape (the wasm backend turns
 * uncaught exceptions into a dump of its minified source).
 */
export async function runStageCli(name: string, body: (ctx: StageContext) => Promise<void>): Promise<never> {
  const log = createLogger().child({ stage: name });
  const started = performance.now();
  let code = 0;
  try {
    const root = process.cwd();
    const params = await loadParams(root);
    await body({ root, params, log });
    log.info(
      {
        wallMs: Math.round(performance.now() - started),
        // Peak resident set size of this process so far (resourceUsage reports kilobytes).
        maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      },
      `${name} done`,
    );
  } catch (error) {
    code = 1;
    const message = error instanceof Error ? error.message : String(error);
    log.error({ err: isExpected(error) ? undefined : error }, `${name} failed: ${message}`);
    process.stderr.write(`\n${name}: error: ${message}\n`);
  }
  log.flush();
  process.exit(code);
}
