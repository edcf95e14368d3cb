/**
 * A stand-in for model-service on 127.0.0.1 (random port): POST /predict, POST /feedback, GET /version.
 * Records the `x-request-id` of every request. Switchable to answer 500, to hang (never answer), or to be stopped (connection refused) and restarted
 * on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers: normally, with a 500, never, or not at all (stopped). */
export type FakeMode = 'ok' | 'error' | 'hang';

/** The model version the fake serves. */
export const FAKE_MODEL_VERSION = '1.2.0';

/** A running fake model-service. */
export interface FakeModelService {
  /** Base URL, e.g. http://127.0.0.1:40123 (stays the same across stop/start). */
  url: string;
  /** JSON bodies received by POST /feedback, in order. */
  feedback: unknown[];
  /** Texts received by POST /predict, in order. */
  predicted: string[];
  /** Every request received, as "<METHOD> <url> <x-request-id or ->", in order. */
  requests: string[];
  mode: FakeMode;
  /** Stops listening and drops every connection: the next call is refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

/**
 * What the fake predicts for a text. Its "features" are its words of Latin letters (`knownFeatures` counts
 * them). None (emoji only, another script, zero-width characters): "unknown", as model-service answers.
 * Otherwise the score is the number after "score=" if the text has one (e.g. "score=0.998"), else 0.93
 * when it contains "good", else 0.2; label 1 from 0.5 up.
 */
export function fakePrediction(text: string) {
  const knownFeatures = text.match(/[a-z]+/gi)?.length ?? 0;
  if (knownFeatures === 0) {
    return {
      label: null,
      sentiment: 'unknown',
      score: null,
      knownFeatures,
      modelVersion: FAKE_MODEL_VERSION,
    };
  }
  const given = /score=([01](?:\.\d+)?)/.exec(text);
  const score = given ? Number(given[1]) : /good/i.test(text) ? 0.93 : 0.2;
  const label = score >= 0.5 ? 1 : 0;
  const sentiment = label === 1 ? 'positive' : 'negative';
  return { label, sentiment, score, knownFeatures, modelVersion: FAKE_MODEL_VERSION };
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts the fake on 127.0.0.1 and a random port. */
export async function startFakeModelService(): Promise<FakeModelService> {
  const hanging = new Set<http.ServerResponse>();
  const fake = {
    feedback: [] as unknown[],
    predicted: [] as string[],
    requests: [] as string[],
    mode: 'ok' as FakeMode,
  };
  const server = http.createServer((req, res) => {
    fake.requests.push(`${req.method} ${req.url} ${req.headers['x-request-id'] ?? '-'}`);
    void (async () => {
      const body = req.method === 'POST' ? await readJson(req).catch(() => undefined) : undefined;
      if (fake.mode === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (fake.mode === 'error') {
        send(res, 500, { error: 'internal', message: 'fake failure' });
        return;
      }
      if (req.method === 'POST' && req.url === '/predict') {
        const text = (body as { text?: unknown } | undefined)?.text;
        if (typeof text !== 'string') return send(res, 400, { error: 'bad_request' });
        fake.predicted.push(text);
        return send(res, 200, fakePrediction(text));
      }
      if (req.method === 'POST' && req.url === '/feedback') {
        fake.feedback.push(body);
        return send(res, 201, { status: 'recorded' });
      }
      if (req.method === 'GET' && req.url === '/version') {
        return send(res, 200, { model: FAKE_MODEL_VERSION, service: '0.1.0', libMl: '0.1.0' });
      }
      send(res, 404, { error: 'not_found' });
    })();
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      for (const res of hanging) res.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    stop,
    start: () => (server.listening ? Promise.resolve() : listen(port)),
    close: stop,
  });
}
