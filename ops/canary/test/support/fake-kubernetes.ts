/**
 * A local HTTP server speaking the Kubernetes API for Istio VirtualServices
 * (`GET|PATCH /apis/networking.istio.io/v1/namespaces/<ns>/virtualservices/<name>`), for tests of the
 * controller's writer, as the real API server behaves:
 * - a bearer token is required (401 Status otherwise);
 * - PATCH takes `application/json-patch+json` (415 otherwise) and applies the operations atomically with
 *   fast-json-patch: a failed `test` operation answers 422 with a Status body and changes nothing;
 * - every write bumps metadata.resourceVersion (one counter for the whole server, like etcd's revision)
 *   and, when the spec changes, metadata.generation.
 * Faults can be injected per method (403, 404, 409, 5xx, a dropped connection, or a write applied whose
 * answer is lost), another client's change can be made between two requests, and every request is
 * recorded for exact assertions.
 * Status bodies: https://kubernetes.io/docs/reference/using-api/api-concepts/ (Status kind).
 */
import { text } from 'node:stream/consumers';
import type { KubeConfig } from '@kubernetes/client-node';
import fastJsonPatch from 'fast-json-patch';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { loadClientNode } from '../../src/kubernetes/index.js';

/** A recorded request. */
export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  url: string;
  contentType?: string;
  authorization?: string;
  /** Parsed JSON body (PATCH). */
  body?: unknown;
}

/** A canned answer served instead of the real one. */
export interface Fault {
  status: number;
  /** Status message (a default per status otherwise). */
  message?: string;
  /** Apply the request for real first, then answer with the fault (the answer to a write got lost). */
  afterApplying?: boolean;
  /** Close the connection without answering. */
  destroy?: boolean;
  /** Never answer (the client's timeout must end the call). */
  hang?: boolean;
}

/** A stored object. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    generation?: number;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
};

const PREFIX = '/apis/networking.istio.io/v1/namespaces/';
const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** The fake API server. */
export class FakeKubernetes {
  readonly requests: RecordedRequest[] = [];
  readonly token = 'canary-test-token';
  baseUrl = '';
  /** Runs after each request has been answered (e.g. another client's write between our read and patch). */
  afterRequest: ((request: RecordedRequest) => void) | undefined;
  private readonly objects = new Map<string, KubeObject>();
  private readonly faults: Array<{ method: string; fault: Fault }> = [];
  private revision = 4100;
  private server: Server | null = null;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.status(res, 500, String(error)));
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

  /**
   * A KubeConfig pointing at this server with its token (what the controller is constructed from).
   * @throws KubernetesError when @kubernetes/client-node cannot be loaded (2.x on Node < 22.19).
   */
  async kubeConfig(token = this.token): Promise<KubeConfig> {
    const { KubeConfig } = await loadClientNode();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.baseUrl, skipTLSVerify: true }],
      users: [{ name: 'canary', token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'canary', namespace: 'restaurant-sentiment' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Stores `object` as created (new resourceVersion, generation 1); returns the stored copy. */
  create(
    object: Omit<KubeObject, 'metadata'> & { metadata: { name: string; namespace: string } },
  ): KubeObject {
    const stored = structuredClone(object) as KubeObject;
    stored.metadata.resourceVersion = String(++this.revision);
    stored.metadata.generation = 1;
    this.objects.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    return structuredClone(stored);
  }

  /** The stored object (a copy), or undefined. */
  get(namespace: string, name: string): KubeObject | undefined {
    const stored = this.objects.get(`${namespace}/${name}`);
    return stored ? structuredClone(stored) : undefined;
  }

  /** Another client's write: applies `change` to the stored object and bumps its versions. */
  update(namespace: string, name: string, change: (object: KubeObject) => void): KubeObject {
    const stored = this.objects.get(`${namespace}/${name}`);
    if (!stored) throw new Error(`no ${namespace}/${name}`);
    const next = structuredClone(stored);
    change(next);
    this.store(stored, next);
    return structuredClone(next);
  }

  /** Serve `fault` to the next `times` requests of `method`. */
  injectFault(method: 'GET' | 'PATCH', fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ method, fault });
  }

  /** Requests as "METHOD path" lines. */
  requestLines(): string[] {
    return this.requests.map((r) => `${r.method} ${r.url}`);
  }

  private store(previous: KubeObject, next: KubeObject): void {
    next.metadata.resourceVersion = String(++this.revision);
    const generation = previous.metadata.generation ?? 1;
    next.metadata.generation = isDeepStrictEqual(previous.spec, next.spec) ? generation : generation + 1;
    this.objects.set(`${next.metadata.namespace}/${next.metadata.name}`, next);
  }

  private status(
    res: ServerResponse,
    code: number,
    message: string,
    details?: Record<string, unknown>,
  ): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        reason: REASONS[code] ?? 'Unknown',
        ...(details ? { details } : {}),
        code,
      }),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await text(req);
    const method = req.method ?? 'GET';
    const record: RecordedRequest = {
      method,
      url: req.url ?? '/',
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      ...(raw ? { body: safeJson(raw) } : {}),
    };
    this.requests.push(record);
    res.on('finish', () => this.afterRequest?.(record));

    if (req.headers.authorization !== `Bearer ${this.token}`) {
      this.status(res, 401, 'Unauthorized');
      return;
    }
    const path = new URL(record.url, 'http://localhost').pathname;
    const match = path.startsWith(PREFIX)
      ? /^([^/]+)\/virtualservices\/([^/]+)$/.exec(path.slice(PREFIX.length))
      : null;
    if (!match) {
      this.status(res, 404, 'the server could not find the requested resource');
      return;
    }
    const [, namespace, name] = match;
    const resource = `virtualservices.networking.istio.io "${name}"`;
    const faultIndex = this.faults.findIndex((f) => f.method === method);
    const fault = faultIndex >= 0 ? this.faults.splice(faultIndex, 1)[0].fault : undefined;
    if (fault?.destroy) {
      req.socket.destroy();
      return;
    }
    if (fault?.hang) return;
    const stored = this.objects.get(`${namespace}/${name}`);
    const answerFault = (f: Fault) => {
      const verb = method === 'GET' ? 'get' : 'patch';
      const defaults: Record<number, string> = {
        403: `${resource} is forbidden: User "system:serviceaccount:${namespace}:canary" cannot ${verb} resource "virtualservices" in API group "networking.istio.io" in the namespace "${namespace}"`,
        404: `${resource} not found`,
        409: `Operation cannot be fulfilled on ${resource}: the object has been modified; please apply your changes to the latest version and try again`,
        500: 'Internal error occurred: etcdserver: request timed out',
        503: 'the server is currently unable to handle the request',
      };
      this.status(res, f.status, f.message ?? defaults[f.status] ?? `fault ${f.status}`);
    };
    if (fault && !fault.afterApplying) {
      answerFault(fault);
      return;
    }
    if (!stored) {
      this.status(res, 404, `${resource} not found`, {
        name,
        group: 'networking.istio.io',
        kind: 'virtualservices',
      });
      return;
    }
    if (method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stored));
      return;
    }
    if (method !== 'PATCH') {
      this.status(res, 405, `method ${method} not allowed`);
      return;
    }
    if (record.contentType !== 'application/json-patch+json') {
      this.status(
        res,
        415,
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
      return;
    }
    if (!Array.isArray(record.body)) {
      this.status(res, 400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
      return;
    }
    let next: KubeObject;
    try {
      next = fastJsonPatch.applyPatch(structuredClone(stored), record.body, true, false).newDocument;
    } catch (error) {
      const e = error as { name?: string; message?: string; operation?: { path?: string } };
      const reason =
        e.name === 'TEST_OPERATION_FAILED'
          ? `testing value ${e.operation?.path} failed: test failed`
          : (e.message ?? String(error)).split('\n')[0];
      this.status(res, 422, 'the server rejected our request due to an error in our request', {
        causes: [{ reason: 'UnexpectedServerResponse', message: reason }],
      });
      return;
    }
    this.store(stored, next);
    if (fault?.afterApplying) {
      answerFault(fault);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(next));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
