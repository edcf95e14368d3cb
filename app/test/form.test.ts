/** Form details found in a browser trial: CRLF line breaks, and the feedback rate limit. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeApp } from './support/app.js';
import { startFakeModelService, type FakeModelService } from './support/fake-model-service.js';

let fake: FakeModelService;
beforeAll(async () => {
  fake = await startFakeModelService();
});
afterAll(() => fake.close());

describe('review form', () => {
  it('counts a CRLF line break as one character, as the textarea does', async () => {
    const t = await makeApp(fake.url);
    // 100 lines of 49 characters + 99 line breaks: 4999 characters typed, 5098 bytes as CRLF on the wire.
    const review = Array.from({ length: 100 }, () => 'good '.repeat(10).slice(0, 49)).join('\r\n');
    const res = await request(t.app).post('/predict').type('form').send({ review }).expect(200);
    expect(res.text).toContain('data-testid="sentiment">positive<');
    expect(fake.predicted.at(-1)).toBe(review.replace(/\r\n/g, '\n'));
  });

  it('rate-limits feedback like reviews', async () => {
    const t = await makeApp(fake.url, { rateLimitPerMinute: 2 });
    const form = { review: 'good food', predicted: '1', model_version: '1.2.0', verdict: 'wrong' };
    await request(t.app).post('/feedback').type('form').send(form).expect(200);
    await request(t.app).post('/feedback').type('form').send(form).expect(200);
    const limited = await request(t.app).post('/feedback').type('form').send(form).expect(429);
    expect(limited.text).toContain('Too much feedback');
  });
});
