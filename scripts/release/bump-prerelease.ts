/**
 * `npx tsx scripts/release/bump-prerelease.ts <component> [--released VERSION] [--date ISO]`: after a
 * release, sets the component's version on main to the next pre-release (lib-version `nextPrerelease`:
 * patch + 1 with `-pre.<YYYYMMDD>.<HHMM>`, always sorting higher than the version it starts from, also on
 * a second bump in the same minute or from a release candidate) and prints it. With `--released`, the bump starts from the
 * higher of the released version and the one on main, so main always moves past what was released
 * (main 1.0.1-pre.X, released 1.0.1 → 1.0.2-pre.Y). Libraries and services keep their version in
 * `<component>/package.json`; the model's is `publish.version` in params.yaml (comments kept).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertComponent, nextPrerelease, TagError, type Component } from '@restaurant-sentiment/lib-version';
import semver from 'semver';
import { writeFileAtomic } from '@restaurant-sentiment/lib-ml';
import YAML from 'yaml';
import { isMain } from '../../pipeline/src/stage.js';

/** The file that holds a component's version, relative to the repo root. */
export function versionFile(component: Component): string {
  return component === 'model' ? 'params.yaml' : path.join(component, 'package.json');
}

/**
 * Bumps a component's version in `root` to the next pre-release.
 * @returns the previous and new versions and the file changed.
 * @throws TagError for an unknown component; Error when the file or version cannot be read.
 */
export async function bumpPrerelease(
  root: string,
  component: string,
  date: Date,
  released?: string,
): Promise<{ file: string; previous: string; version: string }> {
  assertComponent(component);
  if (released !== undefined && !semver.valid(released)) {
    throw new TagError(`--released: "${released}" is not a semver version`);
  }
  /** The version to bump from: the higher of main's and the released one. */
  const base = (previous: string) =>
    released && semver.valid(previous) && semver.gt(released, previous) ? released : previous;
  const file = versionFile(component);
  const full = path.join(root, file);
  const text = await readFile(full, 'utf8');
  if (component === 'model') {
    const doc = YAML.parseDocument(text);
    const previous = String(doc.getIn(['publish', 'version']) ?? '');
    const version = nextPrerelease(base(previous), date);
    doc.setIn(['publish', 'version'], version);
    await writeFileAtomic(full, doc.toString({ flowCollectionPadding: false }));
    return { file, previous, version };
  }
  const pkg = JSON.parse(text);
  const previous = String(pkg.version ?? '');
  const version = nextPrerelease(base(previous), date);
  pkg.version = version;
  await writeFileAtomic(full, JSON.stringify(pkg, null, 2) + '\n');
  return { file, previous, version };
}

const USAGE =
  'usage: bump-prerelease.ts <lib-ml|lib-version|model|model-service|app> [--released VERSION] [--date ISO-8601]';

async function main(argv: string[]): Promise<void> {
  const [component, ...rest] = argv;
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    if (!['--released', '--date'].includes(rest[i]) || rest[i + 1] === undefined) throw new Error(USAGE);
    options.set(rest[i], rest[i + 1]);
  }
  if (!component) throw new Error(USAGE);
  const iso = options.get('--date');
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) throw new Error(`--date: "${iso}" is not a date`);
  const result = await bumpPrerelease(process.cwd(), component, date, options.get('--released'));
  process.stderr.write(`${result.file}: ${result.previous} → ${result.version}\n`);
  process.stdout.write(`${result.version}\n`);
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bump-prerelease: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
