/** The version of this lib-ml package and the bundle compatibility rule. */
import { createRequire } from 'node:module';
import semver from 'semver';

/**
 * This package's version (from lib-ml/package.json, resolved as a package so it is right also when lib-ml
 * is bundled into a service), written into every bundle manifest.
 */
export const LIB_ML_VERSION: string = createRequire(import.meta.url)(
  '@restaurant-sentiment/lib-ml/package.json',
).version;

/**
 * The semver range of lib-ml versions that can read a bundle written by lib-ml `version`: the same
 * minor line before 1.0 (0.M.x), the same major line after (M.x.y), pre-releases of that line included
 * (e.g. 0.2.0-beta.1 → `>=0.2.0-0 <0.3.0-0`). Preprocessing or format changes bump the minor (0.x) or
 * major version.
 * @throws Error when `version` is not semver.
 */
export function compatibleRange(version: string = LIB_ML_VERSION): string {
  const parsed = semver.parse(version);
  if (!parsed) throw new Error(`lib-ml version "${version}" is not semver`);
  return parsed.major === 0
    ? `>=0.${parsed.minor}.0-0 <0.${parsed.minor + 1}.0-0`
    : `>=${parsed.major}.0.0-0 <${parsed.major + 1}.0.0-0`;
}
