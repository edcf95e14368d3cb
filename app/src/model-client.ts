/** HTTP client of model-service (predict, feedback, version), with a timeout and call metrics. */
import { z } from 'zod';
import type { AppMetrics } from './metrics.js';

const predictionSchema = z.object({
  label: z.union([z.literal(0), z.literal(1)]),
  sentiment: z.enum(['positive', 'negative']),
  score: z.number().min(0).max(1),
  modelVersion: z.string().min(1),
});

/** How long a model version read from /version is reused by default (ms). */
export const VERSION_TTL_MS = 5_000;

/** A prediction as model-service returns it. */
export interface ServicePrediction {
  label: 0 | 1;
  sentiment: 'positive' | 'negative';
  score: number;
  modelVersion: string;
}

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

  private async call<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
    const end = this.metrics.modelServiceDuration.startTimer({ endpoint });
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${endpoint}`, {
        ...init,
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
   * @throws ModelServiceError (502 when the answer is not a prediction).
   */
  async predict(text: string): Promise<ServicePrediction> {
    const body = await this.call<unknown>('/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    const parsed = predictionSchema.safeParse(body);
    if (!parsed.success)
      throw new ModelServiceError('model-service answered something that is not a prediction', 502);
    return parsed.data;
  }

  /** Forwards feedback. @throws ModelServiceError */
  async feedback(input: {
    text: string;
    label: 0 | 1;
    predictedLabel: 0 | 1;
    modelVersion: string;
  }): Promise<void> {
    await this.call('/feedback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
  }

  /** After a failed call: pages show "unavailable" for the TTL instead of waiting on /version again. */
  private markUnavailable(): void {
    this.version = { value: Promise.resolve('unavailable'), expires: Date.now() + this.versionTtlMs };
  }

  /**
   * The model version served, or "unavailable" when model-service cannot say. A version read from /version
   * is reused for `versionTtlMs`; after a failed call to model-service "unavailable" is, so page views,
   * error pages and rate-limited answers do not each cost a model-service call. Never throws.
   */
  modelVersion(now = Date.now()): Promise<string> {
    if (this.version && now < this.version.expires) return this.version.value;
    const value = this.call<{ model?: unknown }>('/version').then(
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
