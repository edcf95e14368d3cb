/**
 * The gates' records: what evaluate decided, read by publish without loading the evaluation code (data
 * frames, the datasets), so refusing to publish stays fast.
 *
 * Two gates: the accuracy gate (`evaluate.min_accuracy` on the test accuracy) and the champion gate
 * (publish refuses a model significantly worse than the released champion by McNemar's exact test; see
 * evaluate/champion.ts and evaluate/mcnemar.ts). The champion is resolved when evaluate runs: DVC cannot
 * make evaluate depend on the releases folder, which is publish's output (a cycle), so publish resolves
 * it again and refuses when it is no longer the release evaluate compared with.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalRegistry, resolve, VersionNotFoundError } from '@restaurant-sentiment/lib-version';
import { PipelineError } from '../errors.js';
import type { Params } from '../params.js';
import type { McNemarVerdict } from './mcnemar.js';
import type { BehaviouralGateOutcome } from './behavioural.js';

/** The gate's outcome, recorded in reports/evaluated.json. */
export interface GateOutcome {
  /** The metric gated on. */
  metric: 'test.accuracy';
  accuracy: number;
  /** evaluate.min_accuracy when evaluate ran. */
  min_accuracy: number;
  passed: boolean;
}

/** The champion comparison's verdict on the new model; "no_champion" when there was nothing to compare. */
export type ChampionVerdict = McNemarVerdict | 'no_champion';

/**
 * The champion comparison as recorded in reports/evaluated.json (flat; the full figures are metrics.json's
 * `champion`). Without a champion, version, weights_sha256 and every figure are null and `reason` says why.
 */
export interface ChampionOutcome {
  /** evaluate.champion.version when evaluate ran ("latest", "none", a version or a range). */
  spec: string;
  /** The champion's version (semver, without "v"), or null. */
  version: string | null;
  /** sha256 of the champion's weights.bin as its manifest lists it, or null. */
  weights_sha256: string | null;
  /** Why there is no champion (null when there is one). */
  reason: string | null;
  /** Rows both models were scored on (test + fresh); 0 without a champion. */
  rows: number;
  /** Accuracies on those rows, in [0, 1] (6 decimals). */
  champion_accuracy: number | null;
  challenger_accuracy: number | null;
  /** McNemar's discordant counts: b = the champion alone right, c = the new model alone right. */
  b: number | null;
  c: number | null;
  /** McNemar's exact two-sided p-value (6 significant digits). */
  p_value: number | null;
  /** evaluate.champion.alpha when evaluate ran. */
  alpha: number;
  verdict: ChampionVerdict;
}

/** Contents of reports/evaluated.json: what the current metrics.json describes, and the gates. */
export interface EvaluatedRecord {
  weights_sha256: string;
  train_sha256: string;
  /** sha256 of the metrics.json written with this record. */
  metrics_sha256: string;
  gate: GateOutcome;
  /** Absent in records of pipelines older than the champion gate (read as "no champion"). */
  champion?: ChampionOutcome;
  /** The behavioural gate (evaluate.behavioural.min_pass_rate); absent in records of older pipelines. */
  behavioural?: BehaviouralGateOutcome;
}

/** The message of a failed gate (evaluate's error, and publish's refusal). */
export function gateFailedMessage(gate: Pick<GateOutcome, 'accuracy' | 'min_accuracy'>): string {
  return `gate failed: test accuracy ${gate.accuracy} is below evaluate.min_accuracy ${gate.min_accuracy}; the model is not published`;
}

/** The local releases folder the champion comes from. */
export interface ChampionRegistry {
  /** Absolute path. */
  dir: string;
  /** As configured (PUBLISH_REGISTRY_DIR or publish.registry_dir, usually relative): for messages. */
  label: string;
}

/**
 * The releases folder the champion is looked up in: the same as publish writes to (PUBLISH_REGISTRY_DIR
 * from the environment, else publish.registry_dir; relative to the repository root).
 */
export function championRegistry(
  ctx: { root: string; params: Pick<Params, 'publish'> },
  env: NodeJS.ProcessEnv = process.env,
): ChampionRegistry {
  const label = env.PUBLISH_REGISTRY_DIR || ctx.params.publish.registry_dir; // empty = not set
  return { dir: path.resolve(ctx.root, label), label };
}

/** A champion release found in the registry. */
export interface ChampionRelease {
  version: string;
  /** Absolute path of its release folder. */
  dir: string;
  /** sha256 of its weights.bin, from its manifest. */
  weights_sha256: string;
}

/** {@link resolveChampion}'s answer: a release, or none and why. */
export type ResolvedChampion = ChampionRelease | { version: null; reason: string };

/**
 * Resolves evaluate.champion.version against the local releases (lib-version's LocalRegistry and resolve,
 * as model-service does): "latest" is the newest stable release, as model-service's default
 * MODEL_VERSION=latest serves; an exact version or a range must match a release. Release folders without
 * a usable manifest are not releases (LocalRegistry.scan).
 * @param spec "latest", "none", a version ("1.2.3") or a semver range ("^1.2").
 * @returns the release, or `{version: null, reason}` for "none" and for "latest" with no stable release.
 * @throws PipelineError when an exact version or range matches no release, or the release's manifest does
 *   not list weights.bin.
 */
export async function resolveChampion(registry: ChampionRegistry, spec: string): Promise<ResolvedChampion> {
  if (spec === 'none') return { version: null, reason: 'evaluate.champion.version is "none"' };
  const local = new LocalRegistry(registry.dir);
  const { versions } = await local.scan();
  let version: string;
  try {
    version = resolve(spec, versions);
  } catch (error) {
    if (!(error instanceof VersionNotFoundError)) throw error;
    if (spec === 'latest') {
      return { version: null, reason: `no release to compare with in ${registry.label}: ${error.message}` };
    }
    throw new PipelineError(
      `evaluate.champion.version "${spec}": ${error.message} in ${registry.label}; name a release that exists, or set it to latest or none`,
    );
  }
  const dir = local.pathOf(version);
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as {
    files: Record<string, { sha256: string }>;
  };
  const weights = manifest.files['weights.bin']?.sha256;
  if (!weights) {
    throw new PipelineError(
      `champion model-v${version} in ${registry.label}: manifest.json does not list weights.bin`,
    );
  }
  return { version, dir, weights_sha256: weights };
}

/** "model-v1.2.3", or "no release" for null. */
function releaseName(version: string | null): string {
  return version === null ? 'no release' : `model-v${version}`;
}

/**
 * publish's refusal of a model significantly worse than the champion: versions, accuracies, b, c, p and
 * alpha.
 * @param version the version being published.
 */
export function championWorseMessage(
  outcome: Pick<
    ChampionOutcome,
    'version' | 'rows' | 'champion_accuracy' | 'challenger_accuracy' | 'b' | 'c' | 'p_value'
  >,
  version: string,
  alpha: number,
): string {
  return (
    `publish refused: model-v${version} is significantly worse than the champion ${releaseName(outcome.version)}: ` +
    `accuracy ${outcome.challenger_accuracy} vs ${outcome.champion_accuracy} on the same ${outcome.rows} test and fresh rows; ` +
    `the champion alone is right on b = ${outcome.b} rows, the new model alone on c = ${outcome.c}; ` +
    `McNemar's exact p = ${outcome.p_value} < alpha ${alpha} (evaluate.champion.alpha); the model is not published`
  );
}

/**
 * The champion gate, run by publish before it writes anything: resolves evaluate.champion.version again
 * and checks that
 * - it is the release evaluate compared with (same version and weights.bin), else the comparison is stale;
 * - the new model is not significantly worse than it: refused when evaluate's verdict was "worse", or
 *   when b > c and p < the current evaluate.champion.alpha.
 * Passes without a champion (no release yet, or "none"), and when the champion is the model being
 * published itself (same weights.bin: publishing it again).
 * @param evaluated the parsed reports/evaluated.json (a record without `champion` reads as "no champion").
 * @param current what publish knows now: the version it publishes and the sha256 of models/weights.bin.
 * @throws PipelineError with the reason (see {@link championWorseMessage}), or from {@link resolveChampion}.
 */
export async function requireNotWorseThanChampion(
  ctx: { root: string; params: Pick<Params, 'publish' | 'evaluate'> },
  evaluated: Partial<EvaluatedRecord>,
  current: { version: string; weightsSha256: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const { version: spec, alpha } = ctx.params.evaluate.champion;
  const registry = championRegistry(ctx, env);
  const now = await resolveChampion(registry, spec);
  if (now.version !== null && now.weights_sha256 === current.weightsSha256) return;
  const recorded = evaluated.champion;
  const recordedVersion = recorded?.version ?? null;
  const sameRelease =
    recordedVersion === now.version &&
    (now.version === null || recorded?.weights_sha256 === now.weights_sha256);
  if (!sameRelease) {
    const was = recorded
      ? releaseName(recordedVersion)
      : 'no release (the record predates the champion gate)';
    const is = now.version === null ? `no release (${now.reason})` : releaseName(now.version);
    throw new PipelineError(
      `publish refused: the champion changed since evaluate ran: evaluate compared the model with ${was}, ` +
        `evaluate.champion.version "${spec}" now gives ${is} in ${registry.label}; run the evaluate stage before publish`,
    );
  }
  if (now.version === null || !recorded) return;
  const { b, c, p_value: p } = recorded;
  if (typeof b !== 'number' || typeof c !== 'number' || typeof p !== 'number') {
    throw new PipelineError(
      'reports/evaluated.json records a champion without its McNemar figures; run the evaluate stage before publish',
    );
  }
  if (recorded.verdict === 'worse') {
    throw new PipelineError(championWorseMessage(recorded, current.version, recorded.alpha));
  }
  if (b > c && p < alpha) {
    throw new PipelineError(
      `${championWorseMessage(recorded, current.version, alpha)} (evaluate.champion.alpha was ${recorded.alpha} when evaluate ran)`,
    );
  }
}
