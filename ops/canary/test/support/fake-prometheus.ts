/**
 * A local HTTP server speaking Prometheus' instant-query endpoint (`GET|POST /api/v1/query`), for unit
 * tests of the client and of readLook: each query is answered by a handler (a vector by default, or any
 * status, body, delay, a hang or a dropped connection), and every request is recorded.
 * Answer format: https://prometheus.io/docs/prometheus/latest/querying/api/#expression-query-result-formats
 */
import { text } from 'node:stream/consumers';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A recorded query. */
export interface RecordedQuery {
  method: string;
  path: string;
  contentType?: string;
  expr: string;
  /** The `time` parameter as sent (unix seconds). */
  time?: string;
}

/** A series of a vector answer; the value is printed as Prometheus does ("NaN", "+Inf" allowed as strings). */
export interface FakeSample {
  metric: Record<string, string>;
  value: number | string;
}

/** How to answer one query. */
export interface FakeReply {
  status?: number;
  /** A string is sent as is; anything else as JSON. Default: a vector of `samples`. */
  body?: unknown;
  contentType?: string;
  samples?: FakeSample[];
  /** Wait this long before answering (ms). */
  delayMs?: number;
  /** Send the headers, then never finish the body. */
  hangBody?: boolean;
  /** Never answer at all. */
  hang?: boolean;
  /** Close the connection without an answer. */
  destroy?: boolean;
}

/** Prints a number as Prometheus prints sample values. */
export function promValue(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** The JSON of a successful vector answer at `time` (s). */
export function vectorBody(samples: FakeSample[], time: number): unknown {
  return {
    status: 'success',
    data: {
      resultType: 'vector',
      result: samples.map((s) => ({ metric: s.metric, value: [time, promValue(s.value)] })),
    },
  };
}

/** The fake Prometheus. `handler` decides each answer (default: an empty vector). */
export class FakePrometheus {
  readonly queries: RecordedQuery[] = [];
  baseUrl = '';
  handler: (query: RecordedQuery) => FakeReply | Promise<FakeReply> = () => ({ samples: [] });
  private server: Server | null = null;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const raw = await text(req);
        const params = req.method === 'POST' ? new URLSearchParams(raw) : url.searchParams;
        if (url.pathname !== '/api/v1/query' && !url.pathname.endsWith('/api/v1/query')) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('404 page not found\n');
          return;
        }
        const query: RecordedQuery = {
          method: req.method ?? 'GET',
          path: url.pathname,
          contentType: req.headers['content-type'],
          expr: params.get('query') ?? '',
          time: params.get('time') ?? undefined,
        };
        this.queries.push(query);
        const reply = await this.handler(query);
        if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
        if (reply.hang) return;
        if (reply.destroy) {
          req.socket.destroy();
          return;
        }
        const body =
          reply.body === undefined
            ? JSON.stringify(vectorBody(reply.samples ?? [], Number(query.time ?? 0)))
            : typeof reply.body === 'string'
              ? reply.body
              : JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
        if (reply.hangBody) {
          res.write(body.slice(0, Math.floor(body.length / 2)));
          return;
        }
        res.end(body);
      })().catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
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
}
