/**
 * Listening on a port, and closing again (used by `canary serve` and by `canary run`'s /metrics).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** A listening server. */
export interface Listening {
  /** `http://<host>:<port>` with the port actually bound. */
  url: string;
  port: number;
  /** Stops accepting connections, closes idle ones, and resolves when the server is closed. */
  close(): Promise<void>;
}

/**
 * Starts `app` on `host:port` (port 0: any free port).
 * @throws Error `cannot listen on <host>:<port>: <reason>` (port taken, permission denied).
 */
export async function listen(app: Express, port: number, host: string): Promise<Listening> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) =>
      error ? reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`)) : resolve(s),
    );
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
