/** Errors thrown when a model bundle cannot be used. Each names the file or versions at fault. */

/** Base class: `file` is the bundle file concerned, when there is one. */
export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** A file's sha256 differs from the one in manifest.json. */
export class ChecksumMismatchError extends BundleError {
  override name = 'ChecksumMismatchError';
  constructor(
    file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for ${file}: manifest says sha256 ${expected}, file has ${actual}`, file);
  }
}

/** A file listed in (or required by) the bundle is missing, or the manifest is unreadable. */
export class BundleFileError extends BundleError {
  override name = 'BundleFileError';
}

/** The bundle was written by a lib-ml whose compatibility range excludes this lib-ml version. */
export class IncompatibleBundleError extends BundleError {
  override name = 'IncompatibleBundleError';
  constructor(
    readonly bundleLibMlVersion: string,
    readonly requiredRange: string,
    readonly runningLibMlVersion: string,
  ) {
    super(
      `bundle written by lib-ml ${bundleLibMlVersion} needs lib-ml ${requiredRange}; this is lib-ml ${runningLibMlVersion}`,
      'manifest.json',
    );
  }
}
