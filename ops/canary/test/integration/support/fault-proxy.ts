/**
 * A small HTTP fault proxy for the canary integration test (node:http, 127.0.0.1 only). It sits between an
 * app and its model-service and forwards every request unchanged, except that the requests it is told to
 * fault (by default the model calls a user waits on: `POST /predict` and `POST /feedback`) can, by the mode
 * switched at run time, be answered with a 5xx for a seeded share of them, or be delayed by a fixed number
 * of milliseconds. The app then answers its users what it answers when model-service fails (502/503) or is
 * slow, so the app's own `http_requests_total` and `http_request_duration_seconds` record what the users
 * saw, and the canary judge reads exactly those series.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRandom, type Random } from '@restaurant-sentiment/lib-ml';

/**
 * What the proxy does to a faulted request:
 * - `pass`: nothing (forwards it);
 * - `errors`: answers `status` (default 500) with a JSON body for a seeded `share` (0–1) of them and
 *   forwards the others;
 * - `latency`: waits `addedMs` (ms) before forwarding it.
 */
export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'errors'; share: number; status?: number }
  | { kind: 'latency'; addedMs: number };

/** What the proxy did since it started (or since {@link FaultProxy.resetCounts}). */
export interface FaultCounts {
  /** Requests forwarded upstream (delayed or not). */
  forwarded: number;
  /** Faulted requests answered with an injected 5xx. */
  injectedErrors: number;
  /** Faulted requests forwarded after an added delay. */
  delayed: number;
  /** Requests the upstream could not be reached for (answered 502). */
  upstreamFailures: number;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Base URL of the service behind the proxy, e.g. `http://127.0.0.1:5001`. */
  upstream: string;
  /** Seed of the generator that picks which faulted requests fail in `errors` mode. */
  seed: number;
  /** Which requests a fault applies to (default: `POST /predict` and `POST /feedback`). */
  faulted?: (method: string, path: string) => boolean;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** Base URL to give the client instead of the upstream's, `http://127.0.0.1:<port>`. */
  url: string;
  /** The current mode. */
  mode(): FaultMode;
  /**
   * Switches the mode for requests arriving from now on.
   * @throws RangeError when `share` is outside [0, 1], `status` is not 500–599 or `addedMs` is negative.
   */
  setMode(mode: FaultMode): void;
  counts(): FaultCounts;
  resetCounts(): void;
  /** Stops listening and closes idle and open connections. */
  close(): Promise<void>;
}

const defaultFaulted = (method: string, path: string) =>
  method === 'POST' && (path === '/predict' || path === '/feedback');

function checkMode(mode: FaultMode): void {
  if (mode.kind === 'errors') {
    if (!(mode.share >= 0 && mode.share <= 1))
      throw new RangeError(`error share ${mode.share} is not in [0, 1]`);
    const status = mode.status ?? 500;
    if (!Number.isInteger(status) || status < 500 || status > 599)
      throw new RangeError(`injected status ${status} is not a 5xx`);
  } else if (mode.kind === 'latency' && !(mode.addedMs >= 0)) {
    throw new RangeError(`added latency ${mode.addedMs} ms is negative`);
  }
}

/**
 * Starts a fault proxy in `pass` mode on 127.0.0.1 and a port of the system's choosing.
 * @returns the running proxy once it listens.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const faulted = options.faulted ?? defaultFaulted;
  const random: Random = createRandom(options.seed);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let mode: FaultMode = { kind: 'pass' };
  let counts: FaultCounts = { forwarded: 0, injectedErrors: 0, delayed: 0, upstreamFailures: 0 };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    counts.forwarded++;
    const upstreamReq = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', (error) => {
      counts.upstreamFailures++;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `fault proxy: upstream unreachable: ${error.message}` }));
      } else {
        res.destroy();
      }
    });
    req.pipe(upstreamReq);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const current = mode;
    if (current.kind === 'pass' || !faulted(req.method ?? 'GET', path)) {
      forward(req, res);
      return;
    }
    if (current.kind === 'errors') {
      // One draw per faulted request, in arrival order: the seed fixes the sequence of failures.
      if (random() < current.share) {
        counts.injectedErrors++;
        req.resume();
        req.once('end', () => {
          res.writeHead(current.status ?? 500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'injected fault' }));
        });
        return;
      }
      forward(req, res);
      return;
    }
    counts.delayed++;
    req.pause();
    setTimeout(() => forward(req, res), current.addedMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    mode: () => mode,
    setMode(next) {
      checkMode(next);
      mode = next;
    },
    counts: () => ({ ...counts }),
    resetCounts() {
      counts = { forwarded: 0, injectedErrors: 0, delayed: 0, upstreamFailures: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
