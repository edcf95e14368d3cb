/**
 * Reads and writes the app VirtualService through @kubernetes/client-node (CustomObjectsApi, group
 * networking.istio.io, version v1, plural virtualservices).
 *
 * A weight change is ONE JSON patch (RFC 6902, `application/json-patch+json`):
 *   [{op: test, path: /metadata/resourceVersion, value: <as read>}, {op: replace, path: /spec/http, value: …}]
 * The API applies a JSON patch atomically, so the routes are either all written or not at all, and the
 * `test` makes it apply only to the object we read: someone else's change in between fails the patch
 * (the API answers 422, or 409) and surfaces as {@link ConflictError} — never overwritten. Server errors
 * (5xx, 429) and network failures are retried with exponential backoff, re-sending the same patch: its
 * `test` guarantees a retry never lands on top of another change. When a retry finds the object changed
 * and already holding exactly our routes, the lost answer was to our own write, which is reported as
 * written.
 */
import type {
  ApiException,
  ConfigurationOptions,
  CustomObjectsApi,
  KubeConfig,
  ObservableMiddleware,
} from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, ForbiddenError, KubernetesError, NotFoundError } from './errors.js';
import {
  checkCanaryWeight,
  planWeight,
  readVirtualServiceState,
  type HttpRoute,
  type VirtualServiceState,
  type Weights,
} from './routes.js';

/** Istio's VirtualService as a custom resource. */
export const VIRTUAL_SERVICE = {
  group: 'networking.istio.io',
  version: 'v1',
  plural: 'virtualservices',
} as const;

type ClientNode = typeof import('@kubernetes/client-node');
let clientNode: Promise<ClientNode> | undefined;

/**
 * Loads @kubernetes/client-node on first use, so that importing this module (for planWeight, helmValues,
 * the errors) costs nothing and works where the client cannot load.
 * @throws KubernetesError saying why it cannot be loaded: 2.x uses undici 8, which needs Node ≥ 22.19.
 */
export function loadClientNode(): Promise<ClientNode> {
  clientNode ??= import('@kubernetes/client-node').catch((error: unknown) => {
    clientNode = undefined;
    const major = Number(process.versions.node.split('.')[0]);
    const hint =
      major < 22
        ? ' (@kubernetes/client-node 2.x runs on undici 8, which needs Node >= 22.19; on Node 20 use @kubernetes/client-node 1.4)'
        : '';
    throw new KubernetesError(
      `@kubernetes/client-node cannot be loaded on Node ${process.version}: ${(error as Error).message}${hint}`,
    );
  });
  return clientNode;
}

/**
 * A KubeConfig from the usual places: $KUBECONFIG, ~/.kube/config, or the pod's service account.
 * @throws KubernetesError when @kubernetes/client-node cannot be loaded.
 */
export async function loadDefaultKubeConfig(): Promise<KubeConfig> {
  const k8s = await loadClientNode();
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** One RFC 6902 operation of the weight patch. */
export type JsonPatchOperation =
  | { op: 'test'; path: '/metadata/resourceVersion'; value: string }
  | { op: 'replace'; path: '/spec/http'; value: HttpRoute[] };

/** What setCanaryWeight did. */
export interface WeightChange {
  /** The patch (sent unless dryRun, or unless nothing would change). */
  patch: JsonPatchOperation[];
  dryRun: boolean;
  /** True when the API accepted the patch. */
  written: boolean;
  /** Weights before and after. */
  from: Weights;
  to: Weights;
  /** resourceVersion read, and after the write (equal when nothing was written). */
  resourceVersion: string;
  newResourceVersion: string;
}

/** A retry about to happen, for logs. */
export interface RetryEvent {
  verb: 'get' | 'patch';
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  /** Why: "HTTP 503 …" or the network error. */
  reason: string;
}

/** Options of {@link VirtualServiceRoutes}. */
export interface VirtualServiceRoutesOptions {
  namespace: string;
  /** The VirtualService's name (the chart's is `app`). */
  name?: string;
  /** Retries after a 5xx, 429 or network error (default 3, so at most 4 attempts). */
  retries?: number;
  /** First backoff delay; doubled each retry (default 200 ms: 200, 400, 800). */
  retryBaseDelayMs?: number;
  /** Bound of one API call (default 10,000 ms). */
  timeoutMs?: number;
  /** Sleep between retries (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (event: RetryEvent) => void;
}

/** The API's Status message of an ApiException (its body is the Status JSON text), or the body. */
function apiMessage(error: ApiException<unknown>): string {
  const body = error.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // not JSON: use the text
    }
    return body.trim().replace(/\s+/g, ' ').slice(0, 300) || '(empty body)';
  }
  return body === undefined ? '(no body)' : JSON.stringify(body);
}

/**
 * Equal as JSON documents (object key order ignored): the API server returns a custom object's fields in
 * its own order.
 */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/** An answer of the API other than 2xx (client-node's ApiException: code, body = the Status JSON text). */
function isApiException(error: unknown): error is ApiException<unknown> {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'body' in error;
}

function isRetryable(error: unknown): boolean {
  if (isApiException(error)) return error.code >= 500 || error.code === 429;
  return !(error instanceof KubernetesError);
}

function describeFailure(error: unknown): string {
  if (isApiException(error)) return `HTTP ${error.code}: ${apiMessage(error)}`;
  const e = error as { name?: string; message?: string; cause?: { message?: string } };
  // Only our per-request timeout aborts a call (undici says TimeoutError, node-fetch AbortError).
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer within the timeout';
  return e.cause?.message ?? e.message ?? String(error);
}

/** Every attempt failed with a 5xx, 429 or network error. */
class RetriesExhaustedError extends KubernetesError {
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastFailure: string,
    status?: number,
  ) {
    super(message, status);
  }
}

/** A middleware bounding each request by a fresh AbortSignal.timeout and setting one header. */
function requestOptions(k8s: ClientNode, timeoutMs: number, header: [string, string]): ConfigurationOptions {
  const setHeader = k8s.setHeaderMiddleware(header[0], header[1]);
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      return setHeader.pre(context);
    },
    post: (context) => setHeader.post(context),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** The app VirtualService of one namespace. */
export class VirtualServiceRoutes {
  readonly namespace: string;
  readonly name: string;
  private api: Promise<{ k8s: ClientNode; api: CustomObjectsApi }> | undefined;
  private readonly retries: number;
  private readonly retryBaseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  /**
   * @param kubeConfig credentials and API server (e.g. `kc.loadFromDefault()`, or in a pod
   *   `kc.loadFromCluster()`).
   * @throws RangeError for a negative retry count or a non-positive timeout.
   */
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: VirtualServiceRoutesOptions,
  ) {
    this.namespace = options.namespace;
    this.name = options.name ?? 'app';
    this.retries = options.retries ?? 3;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(this.retries) || this.retries < 0) {
      throw new RangeError(`retries must be a non-negative integer (got ${this.retries})`);
    }
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive (got ${this.timeoutMs})`);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private client(): Promise<{ k8s: ClientNode; api: CustomObjectsApi }> {
    this.api ??= loadClientNode().then((k8s) => ({
      k8s,
      api: this.kubeConfig.makeApiClient(k8s.CustomObjectsApi),
    }));
    return this.api;
  }

  /**
   * Reads the VirtualService (GET, retried on 5xx/network).
   * @returns its resourceVersion, the stable and canary versions, their weights and the whole spec.http.
   * @throws VirtualServiceShapeError when it is not shaped like the chart's (naming what is missing);
   *   ForbiddenError (403), NotFoundError (404), KubernetesError (other answers, or retries exhausted).
   */
  async read(): Promise<VirtualServiceState> {
    const { k8s, api } = await this.client();
    const object = await this.withRetries('get', () =>
      api.getNamespacedCustomObject(
        { ...VIRTUAL_SERVICE, namespace: this.namespace, name: this.name },
        requestOptions(k8s, this.timeoutMs, ['Accept', 'application/json']),
      ),
    );
    return readVirtualServiceState(object, this.namespace, this.name);
  }

  /**
   * Moves `canaryWeight` percent of new users to the canary: reads the VirtualService, plans the routes
   * the chart would render for that weight ({@link planWeight}) and writes them in one JSON patch
   * guarded by the resourceVersion read. Nothing is sent when the routes would not change.
   * @param canaryWeight integer percent 0–100 (0: roll back, 100: all new users to the canary).
   * @param options.dryRun read and plan only; the returned patch is what would be sent.
   * @throws RangeError for a weight that is not an integer 0–100; ConflictError when the object changed
   *   since it was read (nothing written); ForbiddenError (403); NotFoundError (404);
   *   VirtualServiceShapeError; KubernetesError when every attempt failed (the object is read again to
   *   say whether nothing was written — the patch applies whole or not at all); KubernetesError (422)
   *   when the API rejects the routes themselves.
   */
  async setCanaryWeight(canaryWeight: number, options: { dryRun?: boolean } = {}): Promise<WeightChange> {
    checkCanaryWeight(canaryWeight);
    const state = await this.read();
    const http = planWeight(state, canaryWeight);
    const patch: JsonPatchOperation[] = [
      { op: 'test', path: '/metadata/resourceVersion', value: state.resourceVersion },
      { op: 'replace', path: '/spec/http', value: http },
    ];
    const change: WeightChange = {
      patch,
      dryRun: options.dryRun ?? false,
      written: false,
      from: state.weights,
      to: { stable: 100 - canaryWeight, canary: canaryWeight },
      resourceVersion: state.resourceVersion,
      newResourceVersion: state.resourceVersion,
    };
    if (change.dryRun || sameJson(http, state.routes)) return change;

    const { k8s, api } = await this.client();
    let attempts = 0;
    try {
      const written = await this.withRetries('patch', () => {
        attempts++;
        return api.patchNamespacedCustomObject(
          { ...VIRTUAL_SERVICE, namespace: this.namespace, name: this.name, body: patch },
          requestOptions(k8s, this.timeoutMs, ['Content-Type', k8s.PatchStrategy.JsonPatch]),
        );
      });
      const newVersion = (written as { metadata?: { resourceVersion?: unknown } })?.metadata?.resourceVersion;
      return {
        ...change,
        written: true,
        newResourceVersion: typeof newVersion === 'string' ? newVersion : '',
      };
    } catch (error) {
      if (error instanceof RetriesExhaustedError) {
        const outcome = await this.afterLostWrite(state, http, error);
        if (outcome instanceof KubernetesError) throw outcome;
        return { ...change, written: true, newResourceVersion: outcome };
      }
      const status = isApiException(error) ? error.code : undefined;
      if (status !== 409 && status !== 422) throw error;
      // The test op failed (422) or the API saw a conflict (409): who changed the object?
      const current = await this.read().catch(() => undefined);
      if (current && current.resourceVersion !== state.resourceVersion) {
        if (attempts > 1 && sameJson(current.routes, http)) {
          // An earlier attempt was applied and only its answer was lost.
          return { ...change, written: true, newResourceVersion: current.resourceVersion };
        }
        throw new ConflictError(state.resourceVersion, current.resourceVersion, status);
      }
      if (status === 409 || !current) {
        throw new ConflictError(state.resourceVersion, current?.resourceVersion ?? 'unknown', status);
      }
      throw new KubernetesError(
        `the API rejected the routes for VirtualService ${this.namespace}/${this.name} (HTTP 422: ${apiMessage(error as ApiException<unknown>)}); nothing was written`,
        422,
      );
    }
  }

  /**
   * The patch's retries are exhausted: was any attempt applied before its answer was lost? Reads the
   * object once more to find out.
   * @returns the new resourceVersion when the object holds exactly our routes (an attempt applied), else
   *   the error to throw: nothing written (resourceVersion unchanged), a ConflictError (someone else's
   *   change), or unknown (the object cannot be read).
   */
  private async afterLostWrite(
    state: VirtualServiceState,
    http: HttpRoute[],
    error: RetriesExhaustedError,
  ): Promise<string | KubernetesError> {
    const current = await this.read().catch(() => undefined);
    const prefix = `could not patch VirtualService ${this.namespace}/${this.name} after ${error.attempts} attempts (last: ${error.lastFailure})`;
    if (!current) {
      return new KubernetesError(
        `${prefix}; it could not be read again either: the patch applies whole or not at all, check which with kubectl`,
        error.status,
      );
    }
    if (current.resourceVersion === state.resourceVersion) {
      return new KubernetesError(`${prefix}; nothing was written`, error.status);
    }
    if (sameJson(current.routes, http)) return current.resourceVersion;
    return new ConflictError(state.resourceVersion, current.resourceVersion, error.status);
  }

  /** Runs `call`, retrying 5xx/429/network failures; maps 403/404 to their errors. */
  private async withRetries<T>(verb: 'get' | 'patch', call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (isApiException(error)) {
          if (error.code === 403)
            throw new ForbiddenError(verb, this.namespace, this.name, apiMessage(error));
          if (error.code === 404) throw new NotFoundError(this.namespace, this.name, apiMessage(error));
          if (error.code === 401) {
            throw new KubernetesError(
              `the Kubernetes API refused the credentials (HTTP 401) when trying to ${verb} VirtualService ${this.namespace}/${this.name}: check the kubeconfig's token or certificate`,
              401,
            );
          }
        }
        if (!isRetryable(error)) throw error;
        if (attempt >= this.retries) {
          throw new RetriesExhaustedError(
            `could not ${verb} VirtualService ${this.namespace}/${this.name} after ${attempt + 1} attempts (last: ${describeFailure(error)})`,
            attempt + 1,
            describeFailure(error),
            isApiException(error) ? error.code : undefined,
          );
        }
        const delayMs = this.retryBaseDelayMs * 2 ** attempt;
        this.options.onRetry?.({ verb, attempt: attempt + 1, delayMs, reason: describeFailure(error) });
        await this.sleep(delayMs);
      }
    }
  }
}
