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
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
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
    expect(await client.modelVersion(1_000)).toBe('2.0.0');
    expect(await client.modelVersion(2_000)).toBe('2.0.0');
    expect(await client.modelVersion(5_999)).toBe('2.0.0');
    expect(versionCalls).toBe(1);
    expect(await client.modelVersion(6_001)).toBe('2.0.0');
    expect(versionCalls).toBe(2);
    predictStatus = 500;
    await expect(client.predict('x')).rejects.toThrow(ModelServiceError);
    predictStatus = 200;
    expect(await client.modelVersion(Date.now())).toBe('unavailable'); // no second wait on a failing service
    expect(versionCalls).toBe(2);
    expect(await client.modelVersion(Date.now() + 6_000)).toBe('2.0.0');
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
