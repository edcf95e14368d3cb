/** The running component's own version. */
import { readFileSync } from 'node:fs';
import semver from 'semver';

/**
 * Version of the running component: the build-time value `APP_VERSION` (baked into images), else the
 * `version` of the component's package.json, else "dev". Pre-release versions are returned as they are.
 *
 * @param packageJson URL or path of the component's package.json (e.g.
 *   `new URL('../package.json', import.meta.url)`); omitted → only APP_VERSION or "dev".
 * @param env environment to read APP_VERSION from (default process.env).
 */
export function getVersion(packageJson?: URL | string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.APP_VERSION?.trim();
  if (fromEnv) return fromEnv.replace(/^v/, '');
  if (packageJson) {
    try {
      const version = JSON.parse(readFileSync(packageJson, 'utf8')).version;
      if (typeof version === 'string' && version) return version;
    } catch {
      /* fall through to "dev" */
    }
  }
  return 'dev';
}

/**
 * The stable base of a version: "1.4.3-pre.20261130.1015" → "1.4.3"; stable versions are returned
 * unchanged; anything that is not semver (e.g. "dev") is returned unchanged.
 */
export function stableBase(version: string): string {
  const parsed = semver.parse(version);
  return parsed ? `${parsed.major}.${parsed.minor}.${parsed.patch}` : version;
}

/** True when `version` is a semver pre-release ("1.2.3-pre.1"). */
export function isPrerelease(version: string): boolean {
  return (semver.prerelease(version)?.length ?? 0) > 0;
}
