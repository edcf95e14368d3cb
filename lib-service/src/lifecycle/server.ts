/**
 * Listening and graceful shutdown of an HTTP service.
 *
 * Stop (SIGTERM from Kubernetes, Ctrl-C): the listener closes at once (no new connections), idle
 * keep-alive connections are closed, in-flight requests finish, and after `timeoutMs` whatever is left is
 * cut; then the service's own clean-up runs (flush files, free the model) and the process exits 0.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';

/** Options of {@link listen}. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  host: string;
  /**
   * How long an idle keep-alive connection stays open (ms). Proxies in front (Envoy in the mesh) must
   * close idle upstream connections sooner, or they reuse sockets Node already closed and answer 503
   * (istio/istio#13848). Default 65 000 ms.
   */
  keepAliveTimeoutMs?: number;
  /** Longest time to receive a whole request (ms); a trickling body is cut off. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Longest time to receive the request headers (ms). Default 15 000 ms. */
  headersTimeoutMs?: number;
}

/** A listening server and its loopback URL. */
export interface Listening {
  server: Server;
  /** `http://127.0.0.1:<port>` (the port actually bound). */
  url: string;
  port: number;
}

/**
 * Starts `app` listening.
 * @throws Error `cannot listen on <host>:<port>: <reason>` (port taken, permission denied).
 */
export async function listen(app: Express, options: ListenOptions): Promise<Listening> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, (error?: Error) =>
      error
        ? reject(new Error(`cannot listen on ${options.host}:${options.port}: ${error.message}`))
        : resolve(s),
    );
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = options.headersTimeoutMs ?? 15_000;
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

/** Options of {@link gracefulStop}. */
export interface StopOptions {
  /** How long in-flight requests may take before their connections are cut (ms). */
  timeoutMs: number;
  log: Logger;
  /** The service's own clean-up, run after the server has closed (flush files, dispose the model). */
  cleanUp?: () => Promise<void> | void;
}

/**
 * Returns a stop function for `server` (see module doc). Calling it again returns the same promise.
 * @returns resolves when the server is closed and `cleanUp` has run; rejects when `cleanUp` throws.
 */
export function gracefulStop(server: Server, options: StopOptions): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () =>
    (stopping ??= (async () => {
      const { log, timeoutMs } = options;
      log.info('stopping: no new connections; finishing in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A keep-alive connection whose request finishes after close() would stay open until the
      // keep-alive timeout: close connections as soon as they turn idle.
      server.closeIdleConnections();
      const sweeper = setInterval(() => server.closeIdleConnections(), 50);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      if ((await Promise.race([closed, timeout])) === 'timeout') {
        log.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing them');
        server.closeAllConnections();
        await closed;
      }
      clearTimeout(timer);
      clearInterval(sweeper);
      await options.cleanUp?.();
      log.info('stopped');
    })());
}

/**
 * Stops the process gracefully on SIGTERM, SIGINT and SIGHUP: runs `stop`, then exits 0 (1 when stop
 * fails). A second signal while stopping is logged and ignored; `stop` has its own time limit.
 * Also ignores errors on a closed stdout (the parent went away), which must not take the service down.
 */
export function exitOnSignals(stop: () => Promise<void>, log: Logger): void {
  process.stdout.on('error', () => {});
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'signal received');
    stop().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        log.flush();
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, onSignal);
}
