/** ModelServiceClient: the model-version cache and the check of prediction answers. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createMetrics } from '../src/metrics.js';
import { ModelServiceClient, ModelServiceError } from '../src/model-client.js';

let url: string;
let versionCalls = 0;
let predictBody: unknown = { label: 1, sentiment: 'positive', score: 0.9, modelVersion: '2.0.0' };
let predictStatus = 200;
/** `x-request-id` of every request received, as "<method> <url> <id>". */
const received: string[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  received.push(`${req.method} ${req.url} ${req.headers['x-request-id'] ?? '-'}`);
  req.resume();
  req.on('end', () => {
    if (req.url === '/version') {
      versionCalls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model: '2.0.0' }));
    } else {
      res.writeHead(predictStatus, { 'content-type': 'application/json' }).end(JSON.stringify(predictBody));
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ModelServiceClient', () => {
  it('reuses the model version for the TTL, and says "unavailable" for the TTL after a failed call', async () => {
    const client = new ModelServiceClient(url, 1000, createMetrics('t', false), 5000);
    versionCalls = 0;
    expect(await client.modelVersion({ now: 1_000 })).toBe('2.0.0');
    expect(await client.modelVersion({ now: 2_000 })).toBe('2.0.0');
    expect(await client.modelVersion({ now: 5_999 })).toBe('2.0.0');
    expect(versionCalls).toBe(1);
    expect(await client.modelVersion({ now: 6_001 })).toBe('2.0.0');
    expect(versionCalls).toBe(2);
    predictStatus = 500;
    await expect(client.predict('x')).rejects.toThrow(ModelServiceError);
    predictStatus = 200;
    expect(await client.modelVersion({ now: Date.now() })).toBe('unavailable'); // no second wait on a failing service
    expect(versionCalls).toBe(2);
    expect(await client.modelVersion({ now: Date.now() + 6_000 })).toBe('2.0.0');
    expect(versionCalls).toBe(3);
  });

  it('refuses an answer that is not a prediction with a 502 error', async () => {
    const client = new ModelServiceClient(url, 1000, createMetrics('t', false));
    predictBody = { label: 1 };
    const error = await client.predict('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelServiceError);
    expect(error).toMatchObject({
      status: 502,
      message: 'model-service answered something that is not a prediction',
    });
    predictBody = { label: 1, sentiment: 'positive', score: 0.9, modelVersion: '2.0.0' };
    expect(await client.predict('x')).toEqual(predictBody);
  });
});

describe('ModelServiceClient: unknown predictions and request ids', () => {
  const positive = { label: 1, sentiment: 'positive', score: 0.9, knownFeatures: 7, modelVersion: '2.0.0' };
  const unknown = { label: null, sentiment: 'unknown', score: null, knownFeatures: 0, modelVersion: '2.0.0' };

  it('accepts a prediction with knownFeatures, and an "unknown" one without label or score', async () => {
    const client = new ModelServiceClient(url, 1000, createMetrics('t', false));
    predictBody = positive;
    expect(await client.predict('good')).toEqual(positive);
    predictBody = unknown;
    expect(await client.predict('🍕🍕')).toEqual(unknown);
    const older = { label: 1, sentiment: 'positive', score: 0.9, modelVersion: '2.0.0' }; // before knownFeatures
    predictBody = older;
    expect(await client.predict('good')).toEqual(older);
  });

  it.each([
    ['unknown with a score', { ...unknown, score: 0.51 }],
    ['unknown with a label', { ...unknown, label: 1 }],
    ['unknown with known features', { ...unknown, knownFeatures: 3 }],
    ['a label without a score', { ...positive, score: null }],
    ['label 1 read as negative', { ...positive, sentiment: 'negative' }],
    ['label null with a sentiment', { ...positive, label: null }],
    ['negative knownFeatures', { ...positive, knownFeatures: -1 }],
    ['fractional knownFeatures', { ...positive, knownFeatures: 1.5 }],
  ])('refuses %s with a 502 error', async (_case, body) => {
    const client = new ModelServiceClient(url, 1000, createMetrics('t', false));
    predictBody = body;
    await expect(client.predict('x')).rejects.toMatchObject({
      name: 'ModelServiceError',
      status: 502,
      message: 'model-service answered something that is not a prediction',
    });
    predictBody = positive;
  });

  it('sends the request id as x-request-id on /predict, /feedback and /version', async () => {
    const client = new ModelServiceClient(url, 1000, createMetrics('t', false), 0);
    predictBody = positive;
    received.length = 0;
    await client.predict('good', 'req-1');
    await client.feedback({ text: 'good', label: 1, modelVersion: '2.0.0' }, 'req-2');
    expect(await client.modelVersion({ requestId: 'req-3' })).toBe('2.0.0');
    await client.predict('good');
    expect(received).toEqual([
      'POST /predict req-1',
      'POST /feedback req-2',
      'GET /version req-3',
      'POST /predict -',
    ]);
  });
});
