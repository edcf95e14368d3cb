/**
 * A local HTTP server that speaks the GitHub REST endpoints the release client uses, for tests:
 * list releases (paginated with Link headers), get a release by tag, create a release, upload an asset
 * (through the release's upload_url), and download an asset (302 redirect to a storage URL, as GitHub
 * does). It records every request and can inject faults.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A recorded request. */
export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  url: string;
  authorization?: string;
  accept?: string;
  contentType?: string;
  /** Request body size in bytes. */
  bodyBytes: number;
}

/** A canned response served instead of the real one. */
export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** For downloads: send this many bytes of the real content, then destroy the socket. */
  truncateAfterBytes?: number;
}

interface StoredAsset {
  id: number;
  name: string;
  contentType: string;
  data: Buffer;
}

interface StoredRelease {
  id: number;
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: StoredAsset[];
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The fake GitHub API for one repository. */
export class FakeGitHubServer {
  readonly requests: RecordedRequest[] = [];
  readonly releases: StoredRelease[] = [];
  /** Faults served, in order, to requests whose path matches the pattern. */
  private readonly faults: Array<{ pattern: RegExp; fault: Fault }> = [];
  private server: Server | null = null;
  private nextId = 1;
  baseUrl = '';

  constructor(
    readonly owner = 'acme',
    readonly repo = 'restaurant-sentiment',
    /** When set, every request must carry `Authorization: token <token>` (or Bearer), else 401. */
    readonly requiredToken?: string,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  /** Serve `fault` to the next request whose path (with query) matches `pattern`. */
  injectFault(pattern: RegExp, fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ pattern, fault });
  }

  /** Adds a release with assets directly (test setup). */
  addRelease(
    tag: string,
    assets: Record<string, Buffer> = {},
    options: { draft?: boolean } = {},
  ): StoredRelease {
    const release: StoredRelease = {
      id: this.nextId++,
      tag_name: tag,
      name: tag,
      body: '',
      draft: options.draft ?? false,
      prerelease: tag.includes('-pre'),
      assets: Object.entries(assets).map(([name, data]) => ({
        id: this.nextId++,
        name,
        contentType: 'application/octet-stream',
        data,
      })),
    };
    this.releases.unshift(release);
    return release;
  }

  /** Requests as "METHOD path" lines, for exact assertions. */
  requestLines(): string[] {
    return this.requests.map((r) => `${r.method} ${r.url}`);
  }

  private repoPath(): string {
    return `/repos/${this.owner}/${this.repo}`;
  }

  private releaseJson(r: StoredRelease) {
    return {
      id: r.id,
      tag_name: r.tag_name,
      name: r.name,
      body: r.body,
      draft: r.draft,
      prerelease: r.prerelease,
      upload_url: `${this.baseUrl}/uploads${this.repoPath()}/releases/${r.id}/assets{?name,label}`,
      assets: r.assets.map((a) => ({
        id: a.id,
        name: a.name,
        size: a.data.length,
        content_type: a.contentType,
        url: `${this.baseUrl}${this.repoPath()}/releases/assets/${a.id}`,
        browser_download_url: `${this.baseUrl}/download/${a.id}`,
      })),
    };
  }

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = req.url ?? '/';
    this.requests.push({
      method: req.method ?? 'GET',
      url,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      contentType: req.headers['content-type'],
      bodyBytes: body.length,
    });
    const faultIndex = this.faults.findIndex((f) => f.pattern.test(url));
    const fault = faultIndex >= 0 ? this.faults.splice(faultIndex, 1)[0].fault : null;
    if (fault && fault.truncateAfterBytes === undefined) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ message: `injected ${fault.status}` }));
      return;
    }
    const isDownload = url.startsWith('/download/');
    if (this.requiredToken && !isDownload) {
      const auth = req.headers.authorization ?? '';
      if (
        auth !== `token ${this.requiredToken}` &&
        auth !== `bearer ${this.requiredToken}` &&
        auth !== `Bearer ${this.requiredToken}`
      ) {
        return this.json(res, 401, { message: 'Bad credentials' });
      }
    }
    const { pathname, searchParams } = new URL(url, 'http://localhost');
    const repo = this.repoPath();

    if (isDownload) {
      const asset = this.releases
        .flatMap((r) => r.assets)
        .find((a) => a.id === Number(pathname.split('/')[2]));
      if (!asset) return this.json(res, 404, { message: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': asset.data.length });
      if (fault?.truncateAfterBytes !== undefined) {
        res.write(asset.data.subarray(0, fault.truncateAfterBytes));
        res.socket?.destroy();
        return;
      }
      res.end(asset.data);
      return;
    }
    if (req.method === 'GET' && pathname === `${repo}/releases`) {
      const perPage = Number(searchParams.get('per_page') ?? 30);
      const page = Number(searchParams.get('page') ?? 1);
      const pageItems = this.releases.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < this.releases.length) {
        headers.link = `<${this.baseUrl}${repo}/releases?per_page=${perPage}&page=${page + 1}>; rel="next"`;
      }
      return this.json(
        res,
        200,
        pageItems.map((r) => this.releaseJson(r)),
        headers,
      );
    }
    const byTag = pathname.match(new RegExp(`^${repo}/releases/tags/(.+)$`));
    if (req.method === 'GET' && byTag) {
      const release = this.releases.find((r) => r.tag_name === decodeURIComponent(byTag[1]));
      return release
        ? this.json(res, 200, this.releaseJson(release))
        : this.json(res, 404, { message: 'Not Found' });
    }
    if (req.method === 'POST' && pathname === `${repo}/releases`) {
      const input = JSON.parse(body.toString('utf8'));
      if (this.releases.some((r) => r.tag_name === input.tag_name)) {
        return this.json(res, 422, { message: 'Validation Failed', errors: [{ code: 'already_exists' }] });
      }
      const release = this.addRelease(input.tag_name);
      release.name = input.name ?? input.tag_name;
      release.body = input.body ?? '';
      release.prerelease = Boolean(input.prerelease);
      return this.json(res, 201, this.releaseJson(release));
    }
    const upload = pathname.match(new RegExp(`^/uploads${repo}/releases/(\\d+)/assets$`));
    if (req.method === 'POST' && upload) {
      const release = this.releases.find((r) => r.id === Number(upload[1]));
      const name = searchParams.get('name');
      if (!release || !name) return this.json(res, 404, { message: 'Not Found' });
      if (release.assets.some((a) => a.name === name)) {
        return this.json(res, 422, { message: 'Validation Failed', errors: [{ code: 'already_exists' }] });
      }
      const asset = { id: this.nextId++, name, contentType: req.headers['content-type'] ?? '', data: body };
      release.assets.push(asset);
      return this.json(
        res,
        201,
        this.releaseJson(release).assets.find((a) => a.id === asset.id),
      );
    }
    const assetMatch = pathname.match(new RegExp(`^${repo}/releases/assets/(\\d+)$`));
    if (req.method === 'GET' && assetMatch) {
      const id = Number(assetMatch[1]);
      const asset = this.releases.flatMap((r) => r.assets).find((a) => a.id === id);
      if (!asset) return this.json(res, 404, { message: 'Not Found' });
      if ((req.headers.accept ?? '').includes('application/octet-stream')) {
        res.writeHead(302, { location: `${this.baseUrl}/download/${id}` });
        res.end();
        return;
      }
      return this.json(
        res,
        200,
        this.releaseJson(this.releases.find((r) => r.assets.includes(asset))!).assets.find(
          (a) => a.id === id,
        ),
      );
    }
    return this.json(res, 404, { message: 'Not Found' });
  }
}
