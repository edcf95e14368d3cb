/**
 * `npx tsx scripts/release/bump-prerelease.ts <component> [--date ISO]`: after a release, sets the
 * component's version on main to the next pre-release (lib-version `nextPrerelease`: patch + 1 with
 * `-pre.<YYYYMMDD>.<HHMM>`) and prints it. Libraries and services keep their version in
 * `<component>/package.json`; the model's is `publish.version` in params.yaml (comments kept).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertComponent, nextPrerelease, type Component } from '@restaurant-sentiment/lib-version';
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
): Promise<{ file: string; previous: string; version: string }> {
  assertComponent(component);
  const file = versionFile(component);
  const full = path.join(root, file);
  const text = await readFile(full, 'utf8');
  if (component === 'model') {
    const doc = YAML.parseDocument(text);
    const previous = String(doc.getIn(['publish', 'version']) ?? '');
    const version = nextPrerelease(previous, date);
    doc.setIn(['publish', 'version'], version);
    await writeFileAtomic(full, doc.toString({ flowCollectionPadding: false }));
    return { file, previous, version };
  }
  const pkg = JSON.parse(text);
  const previous = String(pkg.version ?? '');
  const version = nextPrerelease(previous, date);
  pkg.version = version;
  await writeFileAtomic(full, JSON.stringify(pkg, null, 2) + '\n');
  return { file, previous, version };
}

async function main(argv: string[]): Promise<void> {
  const [component, flag, iso] = argv;
  if (!component || (flag && flag !== '--date')) {
    throw new Error(
      'usage: bump-prerelease.ts <lib-ml|lib-version|model|model-service|app> [--date ISO-8601]',
    );
  }
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) throw new Error(`--date: "${iso}" is not a date`);
  const result = await bumpPrerelease(process.cwd(), component, date);
  process.stderr.write(`${result.file}: ${result.previous} → ${result.version}\n`);
  process.stdout.write(`${result.version}\n`);
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bump-prerelease: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
