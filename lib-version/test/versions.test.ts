import { describe, expect, it } from '@jest/globals';
import semver from 'semver';
import {
  formatTag,
  getVersion,
  isPrerelease,
  nextPrerelease,
  parseTag,
  resolve,
  stableBase,
  TagError,
  VersionNotFoundError,
} from '../src/index.js';

describe('parseTag', () => {
  it.each([
    ['model-v1.2.3', 'model', '1.2.3'],
    ['lib-ml-v0.1.0', 'lib-ml', '0.1.0'],
    ['lib-version-v2.0.0-rc.1', 'lib-version', '2.0.0-rc.1'],
    ['model-service-v1.4.3-pre.20261130.1015', 'model-service', '1.4.3-pre.20261130.1015'],
    ['app-v10.20.30', 'app', '10.20.30'],
  ])('%s → %s %s', (tag, component, version) => {
    expect(parseTag(tag)).toEqual({ component, version });
    expect(formatTag(component, version)).toBe(tag);
  });

  it.each([
    [
      'web-v1.0.0',
      'unknown component in tag "web-v1.0.0": expected one of lib-ml, lib-version, model, model-service, app',
    ],
    ['model-1.0.0', 'malformed tag "model-1.0.0": expected <component>-v<semver>, e.g. model-v1.2.3'],
    ['model-v1.0', 'malformed tag "model-v1.0": "1.0" is not a semver version'],
    ['model-vx', 'malformed tag "model-vx": expected <component>-v<semver>, e.g. model-v1.2.3'],
    ['', 'malformed tag "": expected <component>-v<semver>, e.g. model-v1.2.3'],
  ])('rejects %j', (tag, message) => {
    expect(() => parseTag(tag)).toThrow(TagError);
    expect(() => parseTag(tag)).toThrow(message);
  });

  it('rejects unknown components and bad versions when formatting', () => {
    expect(() => formatTag('web', '1.0.0')).toThrow('unknown component "web"');
    expect(() => formatTag('model', 'latest')).toThrow('"latest" is not a semver version');
  });
});

describe('nextPrerelease', () => {
  it.each([
    ['1.4.2', '2026-11-30T10:15:00Z', '1.4.3-pre.20261130.1015'],
    ['0.1.0', '2026-01-02T03:04:59Z', '0.1.1-pre.20260102.304'],
    ['1.4.2', '2026-11-30T00:07:00Z', '1.4.3-pre.20261130.7'],
    ['1.4.3-pre.20261129.800', '2026-11-30T23:59:00Z', '1.4.3-pre.20261130.2359'],
    ['1.2.3-alpha.1', '2026-11-30T10:15:00Z', '1.2.3-pre.20261130.1015'],
    ['1.0.0-pre.1', '2026-11-30T10:15:00Z', '1.0.0-pre.20261130.1015'],
    // "pre" sorts below "rc": the stamp goes after the input's identifiers.
    ['1.2.3-rc.1', '2026-11-30T10:15:00Z', '1.2.3-rc.1.pre.20261130.1015'],
    ['2.0.0-rc.1', '2026-12-31T12:00:00Z', '2.0.0-rc.1.pre.20261231.1200'],
    ['2.0.0-rc.1.pre.20261231.1200', '2026-12-31T12:05:00Z', '2.0.0-rc.1.pre.20261231.1205'],
    // Same minute again, or a clock behind the input's stamp: a counter.
    ['1.4.3-pre.20261130.1015', '2026-11-30T10:15:59Z', '1.4.3-pre.20261130.1015.1'],
    ['1.4.3-pre.20261130.1015.1', '2026-11-30T10:15:00Z', '1.4.3-pre.20261130.1015.2'],
    ['1.4.3-pre.20261201.5', '2026-11-30T10:15:00Z', '1.4.3-pre.20261201.5.1'],
  ])('%s at %s → %s (sorts higher)', (version, at, expected) => {
    const next = nextPrerelease(version, new Date(at));
    expect(next).toBe(expected);
    expect(semver.gt(next, version)).toBe(true);
  });

  it('sorts strictly higher than the input when called repeatedly within the same second', () => {
    const date = new Date('2026-11-30T10:15:30.500Z');
    for (const start of [
      '1.2.3',
      '1.2.3-rc.1',
      '1.2.3-pre.20261130.1015',
      '1.2.3-beta',
      '1.2.3-pre.20270101.0',
    ]) {
      const chain = [start];
      for (let i = 0; i < 5; i++) chain.push(nextPrerelease(chain[chain.length - 1], date));
      for (let i = 1; i < chain.length; i++) expect(semver.gt(chain[i], chain[i - 1])).toBe(true);
      expect(new Set(chain).size).toBe(chain.length);
    }
    expect(
      [
        '1.2.3-rc.1',
        '1.2.3-rc.1.pre.20261130.1015',
        '1.2.3-rc.1.pre.20261130.1015.1',
        '1.2.3-rc.1.pre.20261130.1015.2',
      ].every((v, i, all) => i === 0 || nextPrerelease(all[i - 1], date) === v),
    ).toBe(true);
  });

  it('defaults to now and orders bumps at later times', () => {
    const now = nextPrerelease('1.2.3-rc.1');
    expect(now).toMatch(/^1\.2\.3-rc\.1\.pre\.\d{8}\.\d{1,4}$/);
    expect(semver.gt(now, '1.2.3-rc.1')).toBe(true);
    const a = nextPrerelease('1.0.0', new Date('2026-11-30T09:05:00Z'));
    const b = nextPrerelease('1.0.0', new Date('2026-11-30T10:15:00Z'));
    expect(resolve('latest', [a, b], { includePrerelease: true })).toBe(b);
    expect(() => nextPrerelease('dev', new Date())).toThrow('"dev" is not a semver version');
  });
});

describe('resolve', () => {
  const versions = ['1.0.0', '1.2.0', '1.2.5', '1.3.0-pre.20261130.1015', '2.0.0', '2.1.0-rc.1', 'junk'];
  it.each([
    ['1.2.0', {}, '1.2.0'],
    ['v1.2.5', {}, '1.2.5'],
    ['^1.2', {}, '1.2.5'],
    ['~1.2.0', {}, '1.2.5'],
    ['>=1.0 <2', {}, '1.2.5'],
    ['>=1.0 <2', { includePrerelease: true }, '1.3.0-pre.20261130.1015'],
    ['latest', {}, '2.0.0'],
    ['latest', { includePrerelease: true }, '2.1.0-rc.1'],
    ['1.3.0-pre.20261130.1015', {}, '1.3.0-pre.20261130.1015'],
    ['*', {}, '2.0.0'],
  ])('%s %j → %s', (spec, options, expected) => {
    expect(resolve(spec, versions, options)).toBe(expected);
  });

  it.each([
    [
      '^3',
      'no version satisfies "^3" (available: 1.0.0, 1.2.0, 1.2.5, 1.3.0-pre.20261130.1015, 2.0.0, 2.1.0-rc.1)',
    ],
    ['1.9.9', 'version 1.9.9 not found (available: 1.0.0, 1.2.0, 1.2.5'],
    ['newest', '"newest" is not a version, a semver range or "latest"'],
  ])('fails for %s', (spec, message) => {
    expect(() => resolve(spec, versions)).toThrow(VersionNotFoundError);
    expect(() => resolve(spec, versions)).toThrow(message);
  });

  it('says when nothing is available', () => {
    expect(() => resolve('latest', [])).toThrow('no stable version available for "latest" (available: none)');
  });
});

describe('getVersion', () => {
  const pkg = new URL('../package.json', import.meta.url);
  it('prefers APP_VERSION, then package.json, then "dev"', () => {
    expect(getVersion(pkg, { APP_VERSION: '1.4.3-pre.20261130.1015' })).toBe('1.4.3-pre.20261130.1015');
    expect(getVersion(pkg, { APP_VERSION: 'v2.0.0' })).toBe('2.0.0');
    expect(getVersion(pkg, {})).toBe('0.1.0');
    expect(getVersion(new URL('file:///nonexistent/package.json'), {})).toBe('dev');
    expect(getVersion(undefined, {})).toBe('dev');
  });

  it('gives the stable base of pre-releases', () => {
    expect(stableBase('1.4.3-pre.20261130.1015')).toBe('1.4.3');
    expect(stableBase('1.4.3')).toBe('1.4.3');
    expect(stableBase('dev')).toBe('dev');
    expect(isPrerelease('1.4.3-pre.1')).toBe(true);
    expect(isPrerelease('1.4.3')).toBe(false);
  });
});
