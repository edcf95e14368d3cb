/** The version of this lib-ml package and the bundle compatibility rule. */
import { readFileSync } from 'node:fs';

/** This package's version (from lib-ml/package.json), written into every bundle manifest. */
export const LIB_ML_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/**
 * The semver range of lib-ml versions that can read a bundle written by lib-ml `version`: the same
 * minor line before 1.0 (`^0.M.0` → >=0.M.0 <0.(M+1).0), the same major after (`^M.0.0`). Preprocessing
 * or format changes bump the minor (0.x) or major version.
 */
export function compatibleRange(version: string = LIB_ML_VERSION): string {
  const [major, minor] = version.split('.').map(Number);
  return major === 0 ? `^0.${minor}.0` : `^${major}.0.0`;
}
