/** Errors of version handling and release access; each message says what to fix. */

/** A tag or component name that is not one of ours, or a malformed tag or version. */
export class TagError extends Error {
  override name = 'TagError';
}

/** No version satisfies a spec. */
export class VersionNotFoundError extends Error {
  override name = 'VersionNotFoundError';
}

/** A GitHub API failure; `status` is the HTTP status (undefined for network errors). */
export class ReleaseClientError extends Error {
  override name = 'ReleaseClientError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A downloaded asset's sha256 differs from the expected one (the partial file has been deleted). */
export class AssetChecksumError extends Error {
  override name = 'AssetChecksumError';
  constructor(
    readonly asset: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for asset ${asset}: expected sha256 ${expected}, downloaded ${actual}`);
  }
}

/** A required environment variable is not set. */
export class MissingConfigError extends Error {
  override name = 'MissingConfigError';
}
