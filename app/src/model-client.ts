/**
 * HTTP client of model-service (predict, feedback, version), with a timeout and call metrics. Every call
 * carries the `x-request-id` of the page request that caused it, so the logs of both services correlate.
 */
import { REQUEST_ID_HEADER } from '@restaurant-sentiment/lib-service';
import { z } from 'zod';
import type { AppMetrics } from './metrics.js';

const knownFeatures = z.number().int().min(0);
const modelVersion = z.string().min(1);
/**
 * A prediction: either a sentiment with its score, or "unknown" (the text has no feature the model
 * knows: emoji only, another script, invisible characters) with neither label nor score. `knownFeatures`
 * is optional so that a model-service from before it was added is still understood.
 */
const predictionSchema = z.union([
  z
    .object({
      label: z.union([z.literal(0), z.literal(1)]),
      sentiment: z.enum(['positive', 'negative']),
      score: z.number().min(0).max(1),
      knownFeatures: knownFeatures.optional(),
      modelVersion,
    })
    .refine((p) => (p.label === 1) === (p.sentiment === 'positive'), 'label and sentiment disagree'),
  z.object({
    label: z.null(),
    sentiment: z.literal('unknown'),
    score: z.null(),
    knownFeatures: z.literal(0).optional(),
    modelVersion,
  }),
]);

/** How long a model version read from /version is reused by default (ms). */
export const VERSION_TTL_MS = 5_000;

/** A prediction as model-service returns it (`score`: probability of positive, 0–1). */
export type ServicePrediction =
  | {
      label: 0 | 1;
      sentiment: 'positive' | 'negative';
      score: number;
      /** Features of the text the model knows (≥ 1 in practice); absent from older model-services. */
      knownFeatures?: number;
      modelVersion: string;
    }
  | {
      /** The text has no feature the model knows: no label, no score. */
      label: null;
      sentiment: 'unknown';
      score: null;
      knownFeatures?: 0;
      modelVersion: string;
    };

/**
 * model-service could not answer: `status` is what the app answers its user (502 bad answer, 503 down
 * or timed out); `upstreamStatus` is model-service's status when it answered.
 */
export class ModelServiceError extends Error {
  override name = 'ModelServiceError';
  constructor(
    message: string,
    readonly status: 502 | 503,
    readonly upstreamStatus?: number,
  ) {
    super(message);
  }
}

/** Calls model-service. */
export class ModelServiceClient {
  private version: { value: Promise<string>; expires: number } | null = null;

  /**
   * @param timeoutMs timeout of each call.
   * @param versionTtlMs how long the model version is reused before /version is asked again (0: always ask).
   */
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly metrics: AppMetrics,
    private readonly versionTtlMs = VERSION_TTL_MS,
  ) {}

  private async call<T>(
    endpoint: string,
    requestId: string | undefined,
    init: { method?: string; body?: unknown } = {},
  ): Promise<T> {
    const end = this.metrics.modelServiceDuration.startTimer({ endpoint });
    const headers: Record<string, string> = {};
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${endpoint}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      end({ outcome: 'unavailable' });
      this.markUnavailable();
      const reason =
        (error as Error).name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : 'unreachable';
      throw new ModelServiceError(`model-service ${reason}`, 503);
    }
    if (!response.ok) {
      end({ outcome: 'error' });
      this.markUnavailable();
      const detail = await response.text().catch(() => '');
      throw new ModelServiceError(
        `model-service answered ${response.status}${detail ? `: ${detail.slice(0, 200)}` : ''}`,
        response.status === 503 ? 503 : 502,
        response.status,
      );
    }
    try {
      const body = (await response.json()) as T;
      end({ outcome: 'ok' });
      return body;
    } catch {
      end({ outcome: 'error' });
      throw new ModelServiceError('model-service answered something that is not JSON', 502, response.status);
    }
  }

  /**
   * Predicts one review.
   * @param requestId sent as `x-request-id` (the id of the page request).
   * @throws ModelServiceError (502 when the answer is not a prediction).
   */
  async predict(text: string, requestId?: string): Promise<ServicePrediction> {
    const body = await this.call<unknown>('/predict', requestId, { method: 'POST', body: { text } });
    const parsed = predictionSchema.safeParse(body);
    if (!parsed.success)
      throw new ModelServiceError('model-service answered something that is not a prediction', 502);
    return parsed.data;
  }

  /**
   * Forwards feedback: the label the user gives `text`, and the label the model predicted (absent when
   * the model could not tell).
   * @param requestId sent as `x-request-id`.
   * @throws ModelServiceError
   */
  async feedback(
    input: { text: string; label: 0 | 1; predictedLabel?: 0 | 1; modelVersion: string },
    requestId?: string,
  ): Promise<void> {
    await this.call('/feedback', requestId, { method: 'POST', body: input });
  }

  /** After a failed call: pages show "unavailable" for the TTL instead of waiting on /version again. */
  private markUnavailable(): void {
    this.version = { value: Promise.resolve('unavailable'), expires: Date.now() + this.versionTtlMs };
  }

  /**
   * The model version served, or "unavailable" when model-service cannot say. A version read from /version
   * is reused for `versionTtlMs`; after a failed call to model-service "unavailable" is, so page views,
   * error pages and rate-limited answers do not each cost a model-service call. Never throws.
   * @param options.requestId sent as `x-request-id` when /version is asked.
   * @param options.now the current time (ms since the epoch).
   */
  modelVersion(options: { requestId?: string; now?: number } = {}): Promise<string> {
    const now = options.now ?? Date.now();
    if (this.version && now < this.version.expires) return this.version.value;
    const value = this.call<{ model?: unknown }>('/version', options.requestId).then(
      (v) => (typeof v.model === 'string' && v.model !== 'loading' ? v.model : 'unavailable'),
      () => 'unavailable',
    );
    const entry = { value, expires: now + this.versionTtlMs };
    this.version = entry;
    void value.then((v) => {
      if (v === 'unavailable' && this.version === entry) this.version = null;
    });
    return value;
  }
}
