/**
 * Reading the request's `Cookie` header. The app sets no cookies of its own; it only needs to know whether
 * the browser sent the mesh's version cookie (see `STICKY_COOKIE_NAME` in config.ts).
 */

/**
 * Cookie names are RFC 7230 tokens (RFC 6265 §4.1.1: `cookie-name = token`): visible ASCII except the
 * separators `()<>@,;:\"/[]?={}`, space and tab.
 */
export const COOKIE_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The value of the cookie named exactly `name` in a `Cookie` header (names are case-sensitive), or
 * undefined when there is none; the first one wins when a name repeats (RFC 6265 §5.4 orders the more
 * specific path first). Parsing as {@link hasCookie}.
 * @param header the request's `Cookie` header, undefined when it has none.
 * @param name the cookie name (a token, see {@link COOKIE_NAME_PATTERN}).
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether the `Cookie` header value has a cookie named exactly `name` (names are case-sensitive; the value
 * may be anything, empty included). The header is `name=value` pairs separated by `;` with optional
 * whitespace around them (RFC 6265 §4.2.1 and §5.4; Node joins repeated `Cookie` headers with "; "); a pair
 * without `=` names no cookie (RFC 6265bis §5.6 reads it as a value with an empty name). So `xrs-version=v1`
 * or `rs-version2=v1` do not count as `rs-version`.
 * @param header the request's `Cookie` header, undefined when it has none.
 * @param name the cookie name (a token, see {@link COOKIE_NAME_PATTERN}).
 */
export function hasCookie(header: string | undefined, name: string): boolean {
  return cookieValue(header, name) !== undefined;
}
