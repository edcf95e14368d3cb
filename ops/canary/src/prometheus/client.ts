/**
 * A small client of Prometheus' instant-query API (`POST /api/v1/query`,
 * https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries). Every answer is checked
 * with zod before it is used, and every way the call can go wrong — Prometheus down or unknown, slow,
 * answering an HTTP error, or answering something that is not the API's JSON — is one
 * {@link PrometheusError} with a one-line message, so the controller can say why it holds instead of
 * crashing or hanging. Each call is bounded by `timeoutMs` (AbortSignal.timeout), the body included.
 */
import { z } from 'zod';

/** What went wrong with a query; the controller holds on every kind. */
export type PrometheusErrorKind =
  /** Connection refused, host not found (DNS), connection reset. */
  | 'unreachable'
  /** No complete answer within timeoutMs. */
  | 'timeout'
  /** HTTP 4xx/5xx; Prometheus' own `error` text is in the message when it sent one. */
  | 'http'
  /** HTTP 200 with `status: "error"` (Prometheus refused or failed the query). */
  | 'query'
  /** The answer is not JSON, or not the shape the API documents, or not an instant vector. */
  | 'garbage';

/** A query that could not be answered. `message` is one line, naming the URL and the cause. */
export class PrometheusError extends Error {
  override name = 'PrometheusError';
  constructor(
    message: string,
    readonly kind: PrometheusErrorKind,
    /** The endpoint called (no query string). */
    readonly url: string,
    /** HTTP status when Prometheus answered. */
    readonly status?: number,
  ) {
    super(oneLine(message));
  }
}

/** One series of an instant vector: its labels and its value (NaN and ±Infinity are kept as such). */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** Options of {@link PrometheusClient}. */
export interface PrometheusClientOptions {
  /** Upper bound of one query, connection and body included (ms). */
  timeoutMs: number;
  /** fetch implementation (tests); the global fetch by default. */
  fetch?: typeof fetch;
  /** Extra request headers (e.g. `Authorization` for a Prometheus behind a proxy). */
  headers?: Record<string, string>;
}

/** Prometheus prints sample values as strings: a float, "NaN", "+Inf" or "-Inf". */
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a sample value or bucket bound as Prometheus prints it.
 * @returns the number; NaN for "NaN", ±Infinity for "+Inf"/"-Inf"; undefined when it is not a number.
 */
export function parsePromValue(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return FLOAT.test(text) ? Number(text) : undefined;
}

const sampleValueSchema = z.tuple([z.number(), z.string()]);
const successSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.enum(['vector', 'scalar', 'matrix', 'string']),
    result: z.unknown(),
  }),
  warnings: z.array(z.string()).optional(),
});
const errorSchema = z.object({
  status: z.literal('error'),
  errorType: z.string().optional(),
  error: z.string(),
});
const answerSchema = z.discriminatedUnion('status', [successSchema, errorSchema]);
const vectorSchema = z.array(
  z.object({ metric: z.record(z.string(), z.string()), value: sampleValueSchema }),
);

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function snippet(text: string, max = 120): string {
  const line = oneLine(text);
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}

function zodProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${where}: ${issue.message}`;
}

/** Why fetch failed, in words: the cause's code and message when undici gives one. */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') {
    return `host not found (DNS: ${cause.message ?? cause.code})`;
  }
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** Client of one Prometheus server. */
export class PrometheusClient {
  private readonly endpoint: string;
  private readonly fetch: typeof fetch;

  /**
   * @param baseUrl Prometheus' URL, e.g. `http://prometheus.monitoring:9090` (a path prefix such as
   *   `/prometheus` is kept).
   * @throws TypeError when baseUrl is not an http(s) URL, or timeoutMs is not a positive number.
   */
  constructor(
    readonly baseUrl: string,
    private readonly options: PrometheusClientOptions,
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new TypeError(`Prometheus URL ${JSON.stringify(baseUrl)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Prometheus URL ${JSON.stringify(baseUrl)} must start with http:// or https://`);
    }
    if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new TypeError(
        `Prometheus timeoutMs must be a positive number of milliseconds (got ${options.timeoutMs})`,
      );
    }
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.endpoint = new URL('api/v1/query', url).toString();
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Instant query: the value of `expr` at `timeMs`.
   * @param expr PromQL expression giving an instant vector or a scalar.
   * @param timeMs evaluation time, ms since the epoch (sent as seconds with millisecond precision).
   * @returns one entry per series (a scalar is one entry with no labels); values are numbers, NaN and
   *   ±Infinity included.
   * @throws PrometheusError (kinds: unreachable, timeout, http, query, garbage) — never hangs longer
   *   than timeoutMs.
   */
  async query(expr: string, timeMs: number): Promise<PromSample[]> {
    const body = new URLSearchParams({ query: expr, time: String(timeMs / 1000) });
    const where = `Prometheus at ${this.endpoint}`;
    let status: number;
    let contentType: string;
    let text: string;
    try {
      const response = await this.fetch(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...this.options.headers,
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.status;
      contentType = response.headers.get('content-type') ?? '(none)';
      text = await response.text();
    } catch (error) {
      if (isTimeout(error)) {
        throw new PrometheusError(
          `${where} did not answer within ${this.options.timeoutMs} ms`,
          'timeout',
          this.endpoint,
        );
      }
      throw new PrometheusError(
        `${where} is unreachable: ${networkCause(error)}`,
        'unreachable',
        this.endpoint,
      );
    }

    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(text);
    } catch {
      isJson = false;
    }

    if (status < 200 || status > 299) {
      const failure = isJson ? errorSchema.safeParse(json) : undefined;
      const detail = failure?.success
        ? `${failure.data.errorType ? `(${failure.data.errorType}) ` : ''}${failure.data.error}`
        : text.trim()
          ? snippet(text)
          : '(empty body)';
      throw new PrometheusError(`${where} answered HTTP ${status}: ${detail}`, 'http', this.endpoint, status);
    }
    if (!isJson) {
      throw new PrometheusError(
        `${where} answered something that is not JSON (HTTP ${status}, content-type ${contentType}): ${snippet(text)}`,
        'garbage',
        this.endpoint,
        status,
      );
    }
    const answer = answerSchema.safeParse(json);
    if (!answer.success) {
      throw new PrometheusError(
        `${where} answered JSON that is not a query answer (${zodProblem(answer.error)}): ${snippet(text)}`,
        'garbage',
        this.endpoint,
        status,
      );
    }
    if (answer.data.status === 'error') {
      const type = answer.data.errorType ? `(${answer.data.errorType}) ` : '';
      throw new PrometheusError(
        `${where} refused the query: ${type}${answer.data.error}`,
        'query',
        this.endpoint,
        status,
      );
    }
    const { resultType, result } = answer.data.data;
    let samples: Array<{ metric: Record<string, string>; value: [number, string] }>;
    if (resultType === 'vector') {
      const vector = vectorSchema.safeParse(result);
      if (!vector.success) {
        throw new PrometheusError(
          `${where} answered a malformed vector (result.${zodProblem(vector.error)})`,
          'garbage',
          this.endpoint,
          status,
        );
      }
      samples = vector.data;
    } else if (resultType === 'scalar') {
      const scalar = sampleValueSchema.safeParse(result);
      if (!scalar.success) {
        throw new PrometheusError(
          `${where} answered a malformed scalar (result.${zodProblem(scalar.error)})`,
          'garbage',
          this.endpoint,
          status,
        );
      }
      samples = [{ metric: {}, value: scalar.data }];
    } else {
      throw new PrometheusError(
        `${where} answered a ${resultType}, not an instant vector: the expression must not end in a range selector`,
        'garbage',
        this.endpoint,
        status,
      );
    }
    return samples.map(({ metric, value }) => {
      const parsed = parsePromValue(value[1]);
      if (parsed === undefined) {
        throw new PrometheusError(
          `${where} answered the value ${JSON.stringify(value[1])}, which is not a number`,
          'garbage',
          this.endpoint,
          status,
        );
      }
      return { metric, value: parsed };
    });
  }
}
