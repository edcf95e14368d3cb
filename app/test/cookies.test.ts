/** hasCookie: whether a Cookie header holds a cookie of exactly the given name (RFC 6265). */
import { describe, expect, it } from '@jest/globals';
import { COOKIE_NAME_PATTERN, cookieValue, hasCookie } from '../src/http/cookies.js';

describe('hasCookie', () => {
  it.each([
    ['rs-version=v1', true],
    ['theme=dark; rs-version=v2; lang=en', true],
    ['theme=dark;rs-version=v2', true],
    ['  rs-version = v2 ', true],
    ['rs-version=', true],
    ['rs-version="v1"', true],
    [undefined, false],
    ['', false],
    ['xrs-version=v1', false],
    ['rs-version2=v1', false],
    ['rs-versio=v1', false],
    ['RS-VERSION=v1', false],
    ['rs-version', false],
    ['theme=rs-version=v1', false],
    ['a=1; b=rs-version', false],
  ])('Cookie: %j has rs-version: %j', (header, expected) => {
    expect(hasCookie(header, 'rs-version')).toBe(expected);
  });

  it('takes the name literally, not as a pattern', () => {
    expect(hasCookie('rsXversion=v1', 'rs.version')).toBe(false);
    expect(hasCookie('rs.version=v1', 'rs.version')).toBe(true);
  });
});

describe('COOKIE_NAME_PATTERN', () => {
  it('accepts RFC 7230 tokens and refuses separators, spaces and non-ASCII', () => {
    const accepted = ['rs-version', 'RS_v2', "a!#$%&'*+-.^_`|~9"];
    const refused = ['', 'a b', 'a;b', 'a=b', 'a,b', '"a"', 'a/b', 'a(b)', 'é', 'a\tb'];
    expect(accepted.filter((name) => COOKIE_NAME_PATTERN.test(name))).toEqual(accepted);
    expect(refused.filter((name) => COOKIE_NAME_PATTERN.test(name))).toEqual([]);
  });
});

describe('cookieValue', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['rs-version=v2', 'v2'],
    ['theme=dark;  rs-version = v1 ; lang=en', 'v1'],
    ['rs-version=', ''],
    ['rs-version=v2; rs-version=v1', 'v2'],
    ['xrs-version=v2', undefined],
    ['rs-version', undefined],
  ])('cookieValue(%j, "rs-version") is %j', (header, expected) => {
    expect(cookieValue(header, 'rs-version')).toBe(expected);
  });
});
