/**
 * PrometheusClient against a local server speaking /api/v1/query: the request it sends, the values it
 * parses (NaN, ±Inf, exponents, scalars), and one clear PrometheusError for every way a query fails —
 * connection refused, host not found, a dropped connection, no answer or a body that never ends (the
 * timeout), HTTP errors with Prometheus' own message or an HTML page, JSON that is not an answer, a
 * matrix, an unparsable value.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PrometheusClient, PrometheusError, parsePromValue } from '../src/prometheus/index.js';
import { FakePrometheus, type FakeSample } from './support/fake-prometheus.js';

const T = 1_767_268_800_000; // 2026-01-01T12:00:00Z

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PrometheusError);
    return error as PrometheusError;
  }
  throw new Error('expected the query to fail');
}

describe('PrometheusClient', () => {
  let prometheus: FakePrometheus;
  let endpoint: string;
  beforeEach(async () => {
    prometheus = await new FakePrometheus().start();
    endpoint = `${prometheus.baseUrl}/api/v1/query`;
  });
  afterEach(() => prometheus.stop());

  const client = (timeoutMs = 2000) => new PrometheusClient(prometheus.baseUrl, { timeoutMs });

  it('POSTs the expression and the time (s) as a form and parses every value Prometheus prints', async () => {
    const samples: FakeSample[] = [
      { metric: { version: 'v1' }, value: '351.25' },
      { metric: { version: 'v2' }, value: 'NaN' },
      { metric: { le: '+Inf' }, value: '+Inf' },
      { metric: {}, value: '-Inf' },
      { metric: { a: 'b' }, value: '1e3' },
      { metric: { a: 'c' }, value: '-0.5' },
    ];
    prometheus.handler = () => ({ samples });
    expect(await client().query('sum by (version) (up)', T + 123)).toEqual([
      { metric: { version: 'v1' }, value: 351.25 },
      { metric: { version: 'v2' }, value: NaN },
      { metric: { le: '+Inf' }, value: Infinity },
      { metric: {}, value: -Infinity },
      { metric: { a: 'b' }, value: 1000 },
      { metric: { a: 'c' }, value: -0.5 },
    ]);
    expect(prometheus.queries).toEqual([
      {
        method: 'POST',
        path: '/api/v1/query',
        contentType: 'application/x-www-form-urlencoded',
        expr: 'sum by (version) (up)',
        time: '1767268800.123',
      },
    ]);
  });

  it('returns a scalar as one sample without labels, and an empty vector as []', async () => {
    prometheus.handler = (q) =>
      q.expr === 'scalar(up)'
        ? { body: { status: 'success', data: { resultType: 'scalar', result: [T / 1000, '42'] } } }
        : { samples: [] };
    expect(await client().query('scalar(up)', T)).toEqual([{ metric: {}, value: 42 }]);
    expect(await client().query('absent_metric', T)).toEqual([]);
  });

  it('keeps a path prefix of the base URL (Prometheus behind /prometheus)', async () => {
    await new PrometheusClient(`${prometheus.baseUrl}/prometheus`, { timeoutMs: 2000 }).query('up', T);
    expect(prometheus.queries.map((q) => q.path)).toEqual(['/prometheus/api/v1/query']);
  });

  it('refused connection: unreachable, naming the address', async () => {
    const { baseUrl } = prometheus;
    await prometheus.stop();
    const port = new URL(baseUrl).port;
    const error = await failure(new PrometheusClient(baseUrl, { timeoutMs: 2000 }).query('up', T));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(
      `Prometheus at ${baseUrl}/api/v1/query is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('unknown host: unreachable, "host not found (DNS ...)"', async () => {
    const fetchNotFound = (async () => {
      const cause = Object.assign(new Error('getaddrinfo ENOTFOUND prometheus.invalid'), {
        code: 'ENOTFOUND',
      });
      throw new TypeError('fetch failed', { cause });
    }) as typeof fetch;
    const error = await failure(
      new PrometheusClient('http://prometheus.invalid:9090', { timeoutMs: 2000, fetch: fetchNotFound }).query(
        'up',
        T,
      ),
    );
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(
      'Prometheus at http://prometheus.invalid:9090/api/v1/query is unreachable: host not found (DNS: getaddrinfo ENOTFOUND prometheus.invalid)',
    );
  });

  it('connection closed without an answer: unreachable', async () => {
    prometheus.handler = () => ({ destroy: true });
    const error = await failure(client().query('up', T));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(`Prometheus at ${endpoint} is unreachable: other side closed`);
  });

  it('no answer, or a body that never ends: timeout after timeoutMs, never a hang', async () => {
    for (const reply of [{ hang: true }, { hangBody: true, samples: [{ metric: {}, value: 1 }] }]) {
      prometheus.handler = () => reply;
      const started = Date.now();
      const error = await failure(client(300).query('up', T));
      const elapsed = Date.now() - started;
      expect(error.kind).toBe('timeout');
      expect(error.message).toBe(`Prometheus at ${endpoint} did not answer within 300 ms`);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2000);
    }
  });

  it('HTTP 400 with Prometheus error JSON: its errorType and error text', async () => {
    prometheus.handler = () => ({
      status: 400,
      body: {
        status: 'error',
        errorType: 'bad_data',
        error: 'invalid parameter "query": 1:8: parse error: unexpected right parenthesis \')\'',
      },
    });
    const error = await failure(client().query('sum(up))', T));
    expect([error.kind, error.status]).toEqual(['http', 400]);
    expect(error.message).toBe(
      `Prometheus at ${endpoint} answered HTTP 400: (bad_data) invalid parameter "query": 1:8: parse error: unexpected right parenthesis ')'`,
    );
  });

  it('HTTP 503 from a proxy with an HTML page: the status and the start of the page on one line', async () => {
    prometheus.handler = () => ({
      status: 503,
      contentType: 'text/html',
      body: '<html>\n<body>\n<h1>503 Service Unavailable</h1>\nNo server is available.\n</body>\n</html>\n',
    });
    const error = await failure(client().query('up', T));
    expect([error.kind, error.status]).toEqual(['http', 503]);
    expect(error.message).toBe(
      `Prometheus at ${endpoint} answered HTTP 503: "<html> <body> <h1>503 Service Unavailable</h1> No server is available. </body> </html>"`,
    );
  });

  it('HTTP 200 that is not JSON: garbage, with content type and a snippet', async () => {
    prometheus.handler = () => ({ contentType: 'text/plain', body: 'Prometheus is ready.\n' });
    const error = await failure(client().query('up', T));
    expect(error.kind).toBe('garbage');
    expect(error.message).toBe(
      `Prometheus at ${endpoint} answered something that is not JSON (HTTP 200, content-type text/plain): "Prometheus is ready."`,
    );
  });

  it('JSON of the wrong shape: garbage, naming the field', async () => {
    const bodies: unknown[] = [
      { status: 'success', data: { result: [] } },
      { status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 1 }, value: [1, '2'] }] } },
      [1, 2, 3],
      { status: 'fine' },
    ];
    const messages: string[] = [];
    for (const body of bodies) {
      prometheus.handler = () => ({ body });
      const error = await failure(client().query('up', T));
      expect(error.kind).toBe('garbage');
      messages.push(error.message.replace(endpoint, 'URL'));
    }
    expect(messages).toEqual([
      'Prometheus at URL answered JSON that is not a query answer (data.resultType: Invalid option: expected one of "vector"|"scalar"|"matrix"|"string"): "{\\"status\\":\\"success\\",\\"data\\":{\\"result\\":[]}}"',
      'Prometheus at URL answered a malformed vector (result.0.metric.a: Invalid input: expected string, received number)',
      'Prometheus at URL answered JSON that is not a query answer ((root): Invalid input: expected object, received array): "[1,2,3]"',
      'Prometheus at URL answered JSON that is not a query answer (status: Invalid discriminator value. Expected \'success\' | \'error\'): "{\\"status\\":\\"fine\\"}"',
    ]);
  });

  it('a value that is not a number, and a matrix: garbage', async () => {
    prometheus.handler = () => ({ samples: [{ metric: {}, value: 'lots' }] });
    let error = await failure(client().query('up', T));
    expect(error.message).toBe(`Prometheus at ${endpoint} answered the value "lots", which is not a number`);
    prometheus.handler = () => ({
      body: {
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, '1']] }] },
      },
    });
    error = await failure(client().query('up[5m]', T));
    expect(error.kind).toBe('garbage');
    expect(error.message).toBe(
      `Prometheus at ${endpoint} answered a matrix, not an instant vector: the expression must not end in a range selector`,
    );
  });

  it('HTTP 200 with status "error": the query was refused (kind query)', async () => {
    prometheus.handler = () => ({
      body: {
        status: 'error',
        errorType: 'execution',
        error: 'query processing would load too many samples',
      },
    });
    const error = await failure(client().query('up', T));
    expect(error.kind).toBe('query');
    expect(error.message).toBe(
      `Prometheus at ${endpoint} refused the query: (execution) query processing would load too many samples`,
    );
  });

  it('rejects a base URL that is not http(s) and a timeout that is not positive', () => {
    expect(() => new PrometheusClient('prometheus:9090', { timeoutMs: 1000 })).toThrow(
      'Prometheus URL "prometheus:9090" must start with http:// or https://',
    );
    expect(() => new PrometheusClient('not a url', { timeoutMs: 1000 })).toThrow(
      'Prometheus URL "not a url" is not a URL',
    );
    expect(() => new PrometheusClient('http://p:9090', { timeoutMs: 0 })).toThrow(
      'Prometheus timeoutMs must be a positive number of milliseconds (got 0)',
    );
  });
});

describe('parsePromValue', () => {
  it('reads floats, NaN and infinities, and nothing else', () => {
    expect(['0', '12', '0.005', '.5', '1e-3', '+Inf', '-Inf', 'NaN'].map(parsePromValue)).toEqual([
      0,
      12,
      0.005,
      0.5,
      0.001,
      Infinity,
      -Infinity,
      NaN,
    ]);
    expect(['', 'abc', '1,5', '0x10', ' 1'].map(parsePromValue)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
