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

/** Identifiers of a pre-release ("pre.20261130.1015.2" → ["pre", 20261130, 1015, 2]). */
type Identifiers = ReadonlyArray<string | number>;

/**
 * Index where a trailing bump stamp `pre.<YYYYMMDD>.<HHMM>[.<n>]` starts in pre-release identifiers, or
 * -1 when they do not end with one.
 */
function stampIndex(ids: Identifiers): number {
  for (const at of [ids.length - 3, ids.length - 4]) {
    if (at >= 0 && ids[at] === 'pre' && ids.slice(at + 1).every((x) => typeof x === 'number')) return at;
  }
  return -1;
}

/**
 * The pre-release version committed after a release: patch + 1 with `-pre.<YYYYMMDD>.<HHMM>` in UTC
 * (1.4.2 → 1.4.3-pre.20261130.1015). The result always sorts strictly higher (semver precedence) than the
 * input, so repeated bumps keep increasing even within the same minute or with a clock that went back:
 *
 * - a stable input bumps the patch: 1.4.2 → 1.4.3-pre.20261130.1015;
 * - a pre-release input keeps its base: 1.4.3-pre.20261129.800 → 1.4.3-pre.20261130.1015, and
 *   1.2.3-alpha.1 → 1.2.3-pre.20261130.1015;
 * - when `pre.<stamp>` would not sort higher (e.g. 1.2.3-rc.1, as "pre" < "rc"), the stamp is appended to
 *   the input's identifiers: 1.2.3-rc.1 → 1.2.3-rc.1.pre.20261130.1015;
 * - when the input already carries the same or a later stamp (a second bump in the same minute), a counter
 *   is added or increased: 1.4.3-pre.20261130.1015 → 1.4.3-pre.20261130.1015.1 → ….1015.2.
 *
 * Semver forbids leading zeros in numeric identifiers, so HHMM is written as a number: 09:05 → "905",
 * 00:07 → "7". Numbers compare correctly (905 < 1015), so later bumps sort higher.
 *
 * @param date the bump time (its UTC fields are used); default now.
 * @throws TagError when `version` is not semver.
 */
export function nextPrerelease(version: string, date: Date = new Date()): string {
  const parsed = semver.parse(version);
  if (!parsed) throw new TagError(`"${version}" is not a semver version`);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = Number(`${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`);
  const time = date.getUTCHours() * 100 + date.getUTCMinutes();
  const ids: Identifiers = parsed.prerelease;
  if (ids.length === 0) return `${parsed.major}.${parsed.minor}.${parsed.patch + 1}-pre.${day}.${time}`;
  const base = `${parsed.major}.${parsed.minor}.${parsed.patch}`;
  const format = (next: Identifiers) => `${base}-${next.join('.')}`;
  const at = stampIndex(ids);
  const prefix = at >= 0 ? ids.slice(0, at) : ids;
  for (const candidate of [
    ['pre', day, time],
    [...prefix, 'pre', day, time],
  ]) {
    if (semver.gt(format(candidate), parsed)) return format(candidate);
  }
  // The input ends with a stamp at or after this one: keep it and count up.
  const [stampDay, stampTime, count = 0] = ids.slice(at + 1) as number[];
  return format([...prefix, 'pre', stampDay, stampTime, count + 1]);
}
