/** HTTP client of model-service (predict, feedback, version), with a timeout and call metrics. */
import type { AppMetrics } from './metrics.js';

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
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly metrics: AppMetrics,
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
      const reason =
        (error as Error).name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : 'unreachable';
      throw new ModelServiceError(`model-service ${reason}`, 503);
    }
    if (!response.ok) {
      end({ outcome: 'error' });
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

  /** Predicts one review. @throws ModelServiceError */
  predict(text: string): Promise<ServicePrediction> {
    return this.call('/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
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

  /** The model version served, or "unavailable" when model-service cannot say. Never throws. */
  async modelVersion(): Promise<string> {
    try {
      const v = await this.call<{ model?: string }>('/version');
      return typeof v.model === 'string' ? v.model : 'unavailable';
    } catch {
      return 'unavailable';
    }
  }
}
