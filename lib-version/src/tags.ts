/**
 * Release tags: `<component>-v<semver>` for each released component, and the pre-release bump done after
 * each release.
 */
import semver from 'semver';
import { TagError } from './errors.js';

/** Components that are released, each under its own tag prefix. */
export const COMPONENTS = ['lib-ml', 'lib-version', 'model', 'model-service', 'app'] as const;
export type Component = (typeof COMPONENTS)[number];

/** A parsed release tag. */
export interface ReleaseTag {
  component: Component;
  /** The semver version without the "v". */
  version: string;
}

/**
 * Checks a component name.
 * @throws TagError naming the known components.
 */
export function assertComponent(component: string): asserts component is Component {
  if (!(COMPONENTS as readonly string[]).includes(component)) {
    throw new TagError(`unknown component "${component}": expected one of ${COMPONENTS.join(', ')}`);
  }
}

/**
 * Formats a tag: formatTag("model", "1.2.3") → "model-v1.2.3".
 * @throws TagError for an unknown component or a version that is not semver.
 */
export function formatTag(component: string, version: string): string {
  assertComponent(component);
  if (!semver.valid(version)) throw new TagError(`"${version}" is not a semver version`);
  return `${component}-v${version}`;
}

/**
 * Parses a tag: "model-service-v1.4.3-pre.20261130.1015" → {component: "model-service", version: ...}.
 * The longest matching component prefix wins ("lib-ml-v..." is lib-ml, never "lib").
 * @throws TagError for an unknown component or a malformed tag or version.
 */
export function parseTag(tag: string): ReleaseTag {
  const match = /^(.+?)-v(\d.*)$/.exec(tag);
  if (!match) throw new TagError(`malformed tag "${tag}": expected <component>-v<semver>, e.g. model-v1.2.3`);
  const candidates = COMPONENTS.filter((c) => tag.startsWith(`${c}-v`)).sort((a, b) => b.length - a.length);
  if (candidates.length === 0) {
    throw new TagError(`unknown component in tag "${tag}": expected one of ${COMPONENTS.join(', ')}`);
  }
  const component = candidates[0];
  const version = tag.slice(component.length + 2);
  if (!semver.valid(version))
    throw new TagError(`malformed tag "${tag}": "${version}" is not a semver version`);
  return { component, version };
}

/** Tag prefix of a component's releases ("model-v"). */
export function tagPrefix(component: Component): string {
  return `${component}-v`;
}

/**
 * The pre-release version committed after a release: patch + 1 with `-pre.<YYYYMMDD>.<HHMM>` in UTC
 * (1.4.2 → 1.4.3-pre.20261130.1015). A pre-release input keeps its base and gets a new stamp
 * (1.4.3-pre.20261129.0800 → 1.4.3-pre.20261130.1015).
 *
 * Semver forbids leading zeros in numeric identifiers, so HHMM is written as a number: 09:05 → "905",
 * 00:07 → "7". Numbers compare correctly (905 < 1015), so later bumps always sort higher.
 *
 * @param date the bump time (its UTC fields are used).
 * @throws TagError when `version` is not semver.
 */
export function nextPrerelease(version: string, date: Date): string {
  const parsed = semver.parse(version);
  if (!parsed) throw new TagError(`"${version}" is not a semver version`);
  const base = parsed.prerelease.length
    ? `${parsed.major}.${parsed.minor}.${parsed.patch}`
    : `${parsed.major}.${parsed.minor}.${parsed.patch + 1}`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  const time = date.getUTCHours() * 100 + date.getUTCMinutes();
  return `${base}-pre.${day}.${time}`;
}
