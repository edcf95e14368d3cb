/** Resolving a version spec (exact, semver range or "latest") against the versions that exist. */
import semver from 'semver';
import { VersionNotFoundError } from './errors.js';

/** Options of {@link resolve}. */
export interface ResolveOptions {
  /** Consider pre-release versions (default false: only when the spec itself names a pre-release). */
  includePrerelease?: boolean;
}

/**
 * Picks the version to use.
 *
 * @param spec an exact version ("1.2.3", "v1.2.3"), a semver range ("^1.2", "~1.2.3", ">=1.0 <2") or
 *   "latest" (the highest version).
 * @param versions the versions available (any order; entries that are not semver are ignored).
 * @returns the highest matching version.
 * @throws VersionNotFoundError when nothing matches (the message lists what exists), or when the spec is
 *   neither a version, a range nor "latest".
 */
export function resolve(spec: string, versions: readonly string[], options: ResolveOptions = {}): string {
  const valid = versions.filter((v) => semver.valid(v));
  const available = valid.length ? semver.sort([...valid]).join(', ') : 'none';
  const trimmed = spec.trim();
  const exact = semver.valid(semver.clean(trimmed) ?? '');
  if (exact) {
    const found = valid.find((v) => semver.eq(v, exact));
    if (found) return found;
    throw new VersionNotFoundError(`version ${exact} not found (available: ${available})`);
  }
  const includePrerelease = options.includePrerelease ?? false;
  if (trimmed === 'latest') {
    const candidates = valid.filter((v) => includePrerelease || !semver.prerelease(v));
    if (candidates.length) return semver.rsort([...candidates])[0];
    throw new VersionNotFoundError(
      `no ${includePrerelease ? '' : 'stable '}version available for "latest" (available: ${available})`,
    );
  }
  if (semver.validRange(trimmed) === null) {
    throw new VersionNotFoundError(
      `"${spec}" is not a version, a semver range or "latest" (e.g. 1.2.3, ^1.2, ~1.2.3, >=1.0 <2)`,
    );
  }
  const found = semver.maxSatisfying([...valid], trimmed, { includePrerelease });
  if (found) return found;
  throw new VersionNotFoundError(`no version satisfies "${spec}" (available: ${available})`);
}
