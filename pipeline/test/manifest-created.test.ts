/** The manifest's `created` time honours SOURCE_DATE_EPOCH (reproducible builds), and refuses a malformed one. */
import { describe, expect, it } from '@jest/globals';
import { manifestCreated } from '../src/stages/publish.js';

const NOW = new Date('2026-12-01T12:34:56.789Z');
const now = () => NOW;

describe('manifestCreated', () => {
  it('is the current time without SOURCE_DATE_EPOCH (unset or empty)', () => {
    expect(manifestCreated({}, now)).toBe('2026-12-01T12:34:56.789Z');
    expect(manifestCreated({ SOURCE_DATE_EPOCH: '' }, now)).toBe('2026-12-01T12:34:56.789Z');
  });

  it('is SOURCE_DATE_EPOCH (seconds since the epoch) as an ISO time in UTC', () => {
    expect(manifestCreated({ SOURCE_DATE_EPOCH: '1764547200' }, now)).toBe('2025-12-01T00:00:00.000Z');
    expect(manifestCreated({ SOURCE_DATE_EPOCH: '0' }, now)).toBe('1970-01-01T00:00:00.000Z');
    // The largest time a Date holds: 8.64e15 ms.
    expect(manifestCreated({ SOURCE_DATE_EPOCH: '8640000000000' }, now)).toBe('+275760-09-13T00:00:00.000Z');
  });

  it.each(['1764547200.5', '-1', ' 1764547200', '1e9', 'yesterday', '8640000000001'])(
    'refuses SOURCE_DATE_EPOCH=%j',
    (value) => {
      expect(() => manifestCreated({ SOURCE_DATE_EPOCH: value }, now)).toThrow(
        `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01T00:00:00Z (got "${value}")`,
      );
    },
  );
});
