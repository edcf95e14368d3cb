/**
 * `--since` / `since=`: when the counts of a look start.
 */

/**
 * Parses a start time: an ISO 8601 date-time with a time zone (`2024-05-01T09:00:00Z`), or a positive
 * number of minutes before `now` (`90`).
 * @param now ms since the epoch.
 * @returns ms since the epoch, before `now`.
 * @throws Error saying what is accepted, when `text` is neither or lies in the future.
 */
export function parseSince(text: string, now: number): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const minutes = Number(trimmed);
    if (minutes <= 0) throw new Error(`"${text}" must be more than 0 minutes`);
    return now - Math.round(minutes * 60_000);
  }
  const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  const ms = Date.parse(trimmed);
  if (!isoWithZone.test(trimmed) || Number.isNaN(ms)) {
    throw new Error(
      `"${text}" is neither a number of minutes nor an ISO 8601 time such as 2024-05-01T09:00:00Z`,
    );
  }
  if (ms >= now) throw new Error(`"${text}" is not in the past`);
  return ms;
}
