/**
 * GitHub releases through @octokit/rest, with a configurable API base URL (GitHub Enterprise, or a local
 * server that speaks the same API in tests) and an optional token.
 *
 * Faults: 5xx and network errors are retried with exponential backoff (1 s, 2 s, 4 s, ... by default);
 * rate limits (403/429 with `retry-after`, or `x-ratelimit-remaining: 0` and `x-ratelimit-reset`) are
 * waited out up to `maxRateLimitWaitMs`; 401 and 404 fail at once with a message saying what to fix.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Octokit } from '@octokit/rest';
import { AssetChecksumError, MissingConfigError, ReleaseClientError } from './errors.js';
import { tagPrefix, type Component } from './tags.js';

/** Default API base URL. */
export const GITHUB_API_URL = 'https://api.github.com';

/** A release asset. */
export interface ReleaseAsset {
  id: number;
  name: string;
  /** Size in bytes. */
  size: number;
  /** API URL of the asset (downloads go through it with Accept: application/octet-stream). */
  url: string;
}

/** A release. */
export interface Release {
  id: number;
  tag: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  /** Hypermedia upload URL template (`.../assets{?name,label}`). */
  uploadUrl: string;
  assets: ReleaseAsset[];
}

/** What {@link GitHubReleaseClient} reports before each retry or rate-limit wait. */
export interface RetryEvent {
  operation: string;
  attempt: number;
  /** Wait before the next attempt, ms. */
  delayMs: number;
  reason: string;
}

/** Options of {@link GitHubReleaseClient}. */
export interface ReleaseClientOptions {
  /** "owner/name". */
  repository: string;
  /** API base URL (default https://api.github.com; env GITHUB_API_URL in the services). */
  baseUrl?: string;
  /** Token for private repositories and for creating releases; optional for reading public ones. */
  token?: string;
  /** Retries after a 5xx or network error (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 1000). */
  retryBaseDelayMs?: number;
  /** Longest rate-limit wait accepted, ms (default 15 min); longer → error. */
  maxRateLimitWaitMs?: number;
  /** Injectable clock and sleep (tests use fakes). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called before every retry or rate-limit wait (for logging). */
  onRetry?: (event: RetryEvent) => void;
  /** Per-request timeout, ms (default 30 s; downloads: per response, body excluded). */
  timeoutMs?: number;
}

interface OctokitErrorLike {
  status?: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

function toRelease(r: {
  id: number;
  tag_name: string;
  name?: string | null;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
  upload_url: string;
  assets?: Array<{ id: number; name: string; size: number; url: string }>;
}): Release {
  return {
    id: r.id,
    tag: r.tag_name,
    name: r.name ?? r.tag_name,
    body: r.body ?? '',
    draft: r.draft,
    prerelease: r.prerelease,
    uploadUrl: r.upload_url,
    assets: (r.assets ?? []).map((a) => ({ id: a.id, name: a.name, size: a.size, url: a.url })),
  };
}

/** The innermost cause of a failed request: a system error code (ECONNREFUSED) or message. */
function describeCause(error: unknown): string {
  let current = error as { cause?: unknown; code?: string; message?: string } | undefined;
  let best = current?.message ?? String(error);
  for (let depth = 0; current && depth < 5; depth++) {
    if (current.code) return current.message ? `${current.code}: ${current.message}` : current.code;
    if (current.message && current.message !== 'Unknown Error') best = current.message;
    current = current.cause as typeof current;
  }
  return best;
}

/**
 * Parses "owner/name".
 * @throws MissingConfigError when it is not of that form.
 */
export function parseRepository(repository: string | undefined): { owner: string; repo: string } {
  const match = /^([\w.-]+)\/([\w.-]+)$/.exec(repository ?? '');
  if (!match) {
    throw new MissingConfigError(
      `GITHUB_REPOSITORY must be "owner/name" (got ${repository ? `"${repository}"` : 'nothing'})`,
    );
  }
  return { owner: match[1], repo: match[2] };
}

/** A client for one repository's releases. */
export class GitHubReleaseClient {
  readonly owner: string;
  readonly repo: string;
  readonly baseUrl: string;
  private readonly octokit: Octokit;
  private readonly token?: string;
  private readonly retries: number;
  private readonly retryBaseDelayMs: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry: (event: RetryEvent) => void;
  private readonly timeoutMs: number;

  /** @throws MissingConfigError for a malformed repository. */
  constructor(options: ReleaseClientOptions) {
    ({ owner: this.owner, repo: this.repo } = parseRepository(options.repository));
    this.baseUrl = (options.baseUrl ?? GITHUB_API_URL).replace(/\/$/, '');
    this.token = options.token || undefined;
    this.retries = options.retries ?? 4;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.onRetry = options.onRetry ?? (() => {});
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.octokit = new Octokit({
      baseUrl: this.baseUrl,
      auth: this.token,
      userAgent: 'restaurant-sentiment-lib-version',
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  /** Runs one API call with the retry and rate-limit policy. */
  private async call<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let retried = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(AbortSignal.timeout(this.timeoutMs));
      } catch (caught) {
        if (caught instanceof AssetChecksumError) throw caught; // corrupt content: retrying will not help
        const error = caught as OctokitErrorLike;
        const status = error.status;
        const headers = error.response?.headers ?? {};
        if (status === 401) {
          throw new ReleaseClientError(
            `${operation}: GitHub rejected the credentials (401 Unauthorized): set GITHUB_TOKEN to a valid token`,
            401,
          );
        }
        if (status === 404) {
          throw new ReleaseClientError(
            `${operation}: not found (404) in ${this.owner}/${this.repo} at ${this.baseUrl}${this.token ? '' : '; for a private repository set GITHUB_TOKEN'}`,
            404,
          );
        }
        const wait = this.rateLimitWait(status, headers);
        if (wait !== null) {
          if (wait > this.maxRateLimitWaitMs) {
            throw new ReleaseClientError(
              `${operation}: GitHub rate limit exceeded; it resets in ${Math.ceil(wait / 1000)} s, longer than the ${Math.round(this.maxRateLimitWaitMs / 1000)} s allowed`,
              status,
            );
          }
          this.onRetry({ operation, attempt, delayMs: wait, reason: `rate limited (${status})` });
          await this.sleep(wait);
          continue;
        }
        // @octokit/request reports a failed fetch (refused, reset, timeout) as status 500 without a response.
        const network = status === undefined || (status === 500 && !error.response);
        const transient = network || (status !== undefined && status >= 500);
        if (transient && retried < this.retries) {
          const delayMs = this.retryBaseDelayMs * 2 ** retried;
          retried++;
          this.onRetry({ operation, attempt, delayMs, reason: network ? 'network error' : `HTTP ${status}` });
          await this.sleep(delayMs);
          continue;
        }
        const what = network ? `network error: ${describeCause(caught)}` : `HTTP ${status}: ${error.message}`;
        throw new ReleaseClientError(
          `${operation}: ${what}${transient ? ` (after ${retried + 1} attempts)` : ''}`,
          network ? undefined : status,
        );
      }
    }
  }

  /** ms to wait for a rate limit to reset, or null when the error is not a rate limit. */
  private rateLimitWait(
    status: number | undefined,
    headers: Record<string, string | number | undefined>,
  ): number | null {
    if (status !== 403 && status !== 429) return null;
    const retryAfter = Number(headers['retry-after']);
    if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return retryAfter * 1000;
    if (String(headers['x-ratelimit-remaining']) === '0') {
      const reset = Number(headers['x-ratelimit-reset']) * 1000;
      return Number.isFinite(reset) ? Math.max(reset - this.now(), 0) + 1000 : 60_000;
    }
    return status === 429 ? 60_000 : null;
  }

  private requireToken(operation: string): void {
    if (!this.token) throw new MissingConfigError(`${operation} needs a GitHub token: set GITHUB_TOKEN`);
  }

  /**
   * Releases of the repository (all pages), newest first as GitHub returns them.
   * @param component only releases whose tag starts with `<component>-v`.
   */
  async listReleases(component?: Component): Promise<Release[]> {
    const releases = await this.call(`list releases of ${this.owner}/${this.repo}`, (signal) =>
      this.octokit.paginate(this.octokit.rest.repos.listReleases, {
        owner: this.owner,
        repo: this.repo,
        per_page: 100,
        request: { signal },
      }),
    );
    const all = releases.map(toRelease);
    return component ? all.filter((r) => r.tag.startsWith(tagPrefix(component))) : all;
  }

  /** The release with this tag, or null when there is none. */
  async getRelease(tag: string): Promise<Release | null> {
    try {
      const { data } = await this.call(`get release ${tag}`, (signal) =>
        this.octokit.rest.repos.getReleaseByTag({
          owner: this.owner,
          repo: this.repo,
          tag,
          request: { signal },
        }),
      );
      return toRelease(data);
    } catch (error) {
      if (error instanceof ReleaseClientError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Creates a published release for an existing or new tag (on the default branch's head).
   * @throws MissingConfigError without a token.
   */
  async createRelease(input: {
    tag: string;
    name?: string;
    body: string;
    prerelease?: boolean;
  }): Promise<Release> {
    this.requireToken(`creating release ${input.tag}`);
    const { data } = await this.call(`create release ${input.tag}`, (signal) =>
      this.octokit.rest.repos.createRelease({
        owner: this.owner,
        repo: this.repo,
        tag_name: input.tag,
        name: input.name ?? input.tag,
        body: input.body,
        prerelease: input.prerelease ?? false,
        request: { signal },
      }),
    );
    return toRelease(data);
  }

  /**
   * Uploads one asset to a release.
   * @param data the file content (size in bytes = data.byteLength).
   * @throws MissingConfigError without a token.
   */
  async uploadAsset(
    release: Release,
    name: string,
    data: Uint8Array,
    contentType = 'application/octet-stream',
  ): Promise<ReleaseAsset> {
    this.requireToken(`uploading ${name} to ${release.tag}`);
    const { data: asset } = await this.call(`upload asset ${name} to ${release.tag}`, (signal) =>
      this.octokit.request({
        method: 'POST',
        url: release.uploadUrl,
        name,
        data: Buffer.from(data),
        headers: { 'content-type': contentType, 'content-length': data.byteLength },
        request: { signal },
      }),
    );
    return { id: asset.id, name: asset.name, size: asset.size, url: asset.url };
  }

  /**
   * Downloads an asset to `dest` while hashing it (sha256). The bytes go to a temp file beside `dest`,
   * renamed into place only when complete (and matching `expectedSha256` when given); on any failure
   * the temp file is deleted and nothing is left at `dest`.
   * @returns sha256 (hex) and size in bytes of the downloaded file.
   * @throws AssetChecksumError, ReleaseClientError.
   */
  async downloadAsset(
    asset: ReleaseAsset,
    dest: string,
    expectedSha256?: string,
  ): Promise<{ sha256: string; bytes: number }> {
    await mkdir(path.dirname(dest), { recursive: true });
    return this.call(`download asset ${asset.name}`, async (signal) => {
      const partial = `${dest}.partial-${randomBytes(4).toString('hex')}`;
      try {
        const response = await this.octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
          owner: this.owner,
          repo: this.repo,
          asset_id: asset.id,
          headers: { accept: 'application/octet-stream' },
          request: { parseSuccessResponseBody: false, signal },
        });
        const hash = createHash('sha256');
        let bytes = 0;
        const body = Readable.fromWeb(response.data as unknown as WebReadableStream<Uint8Array>);
        const hashing = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(body, hashing, createWriteStream(partial));
        const sha256 = hash.digest('hex');
        if (expectedSha256 && sha256 !== expectedSha256) {
          throw new AssetChecksumError(asset.name, expectedSha256, sha256);
        }
        await rename(partial, dest);
        return { sha256, bytes };
      } catch (error) {
        await rm(partial, { force: true });
        if (error instanceof AssetChecksumError) throw error;
        // A body cut mid-stream surfaces as an error without a status: `call` retries it as a network error.
        throw error;
      }
    });
  }
}
