/** The review pages through supertest, against a fake model-service: form, result, feedback, failures. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { MAX_REVIEW_CHARS } from '../src/http/app.js';
import {
  inputValue,
  makeApp,
  metricValue,
  TEST_APP_VERSION,
  testId,
  unescapeHtml,
  type TestApp,
} from './support/app.js';
import {
  FAKE_MODEL_VERSION,
  startFakeModelService,
  type FakeModelService,
} from './support/fake-model-service.js';

let fake: FakeModelService;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeModelService();
  t = await makeApp(fake.url);
});
afterAll(() => fake.close());
afterEach(async () => {
  fake.mode = 'ok';
  await fake.start();
});

const POSITIVE = 'The pasta was really good and the staff were friendly.';
const NEGATIVE = 'Cold soup, rude waiter, never again.';
const XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>';
const XSS_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;';

const predict = (review: string) => request(t.app).post('/predict').type('form').send({ review });

/** Asserts an HTML error page with the given status, heading and message, and returns it. */
async function expectErrorPage(res: request.Response, status: number, heading: string, message: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.text).toContain('<!doctype html>');
  expect(res.text).toContain(`<p class="eyebrow">Error ${status}</p>`);
  expect(res.text).toContain(`<h1 id="problem-heading">${heading}</h1>`);
  expect(res.text).toContain(`<p role="alert">${message}</p>`);
  expect(res.text).toContain('<a class="button-link" href="/">Back to the review form</a>');
  return res.text;
}

/** Asserts a working round trip: the app still predicts. */
async function expectStillWorks(app = t.app) {
  const res = await request(app).post('/predict').type('form').send({ review: 'good food' }).expect(200);
  expect(testId(res.text, 'sentiment')).toBe('positive');
}

describe('GET /', () => {
  it('renders the review form with the app and model versions in the footer', async () => {
    const res = await request(t.app).get('/').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<form method="post" action="/predict" class="card">');
    expect(res.text).toContain('<label for="review">Your review</label>');
    expect(res.text).toMatch(/<textarea id="review" name="review" rows="6" maxlength="5000" required/);
    expect(res.text).toContain('<button type="submit">Analyze review</button>');
    expect(res.text).not.toContain('role="alert"');
    expect(res.text).toContain('<body data-variant="control">');
    expect(res.text).toContain('<a href="/" aria-current="page">Review</a>');
    expect(testId(res.text, 'app-version')).toBe(TEST_APP_VERSION);
    expect(testId(res.text, 'model-version')).toBe(FAKE_MODEL_VERSION);
  });

  it('still renders (200) with model version "unavailable" while model-service is down', async () => {
    await fake.stop();
    const res = await request(t.app).get('/').expect(200);
    expect(res.text).toContain('<textarea id="review" name="review"');
    expect(testId(res.text, 'app-version')).toBe(TEST_APP_VERSION);
    expect(testId(res.text, 'model-version')).toBe('unavailable');
  });

  it('shows model version "unavailable" while model-service answers 500', async () => {
    fake.mode = 'error';
    const res = await request(t.app).get('/').expect(200);
    expect(testId(res.text, 'model-version')).toBe('unavailable');
  });
});

describe('POST /predict', () => {
  it('shows a positive prediction with its confidence and the feedback form', async () => {
    const before = fake.predicted.length;
    const res = await predict(POSITIVE).expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(fake.predicted.slice(before)).toEqual([POSITIVE]);
    expect(testId(res.text, 'sentiment')).toBe('positive');
    expect(res.text).toContain('class="sentiment positive"');
    expect(testId(res.text, 'confidence')).toBe('93%');
    expect(testId(res.text, 'review')).toBe(POSITIVE);
    expect(testId(res.text, 'model-version')).toBe(FAKE_MODEL_VERSION);
    expect(testId(res.text, 'app-version')).toBe(TEST_APP_VERSION);
    expect(res.text).toContain('<form method="post" action="/feedback" class="card feedback">');
    expect(inputValue(res.text, 'review')).toBe(POSITIVE);
    expect(inputValue(res.text, 'predicted')).toBe('1');
    expect(inputValue(res.text, 'model_version')).toBe(FAKE_MODEL_VERSION);
    expect(res.text).toContain('<button type="submit" name="verdict" value="correct">Correct</button>');
    expect(res.text).toContain(
      '<button type="submit" name="verdict" value="wrong" class="secondary">Wrong</button>',
    );
  });

  it('shows a negative prediction (score 0.2) with confidence 80%', async () => {
    const res = await predict(NEGATIVE).expect(200);
    expect(testId(res.text, 'sentiment')).toBe('negative');
    expect(res.text).toContain('class="sentiment negative"');
    expect(testId(res.text, 'confidence')).toBe('80%');
    expect(inputValue(res.text, 'predicted')).toBe('0');
    expect(testId(res.text, 'review')).toBe(NEGATIVE);
  });

  it('accepts a review of exactly the maximum length', async () => {
    const review = 'good '.repeat(MAX_REVIEW_CHARS / 5);
    expect(review).toHaveLength(5000);
    const before = fake.predicted.length;
    await predict(review).expect(200);
    expect(fake.predicted.slice(before)).toEqual([review]);
  });

  it('escapes a script-injecting review everywhere it is echoed', async () => {
    const res = await predict(XSS).expect(200);
    expect(fake.predicted.at(-1)).toBe(XSS);
    expect(testId(res.text, 'review')).toBe(XSS_ESCAPED);
    expect(inputValue(res.text, 'review')).toBe(XSS_ESCAPED);
    expect(res.text.split(XSS_ESCAPED)).toHaveLength(3); // the quote and the hidden field, nowhere else
    expect(res.text).not.toMatch(/<script/i);
    expect(res.text).not.toMatch(/<img/i);
    expect(res.text).not.toContain('alert("x")');
  });

  it('escapes quotes so a review cannot break out of the hidden field', async () => {
    const review = `it's good" autofocus onfocus="alert(1)`;
    const res = await predict(review).expect(200);
    const escaped = 'it&#39;s good&quot; autofocus onfocus=&quot;alert(1)';
    expect(inputValue(res.text, 'review')).toBe(escaped);
    expect(res.text).toContain(`<input type="hidden" name="review" value="${escaped}">`);
    expect(res.text).not.toContain('onfocus="alert(1)"');
  });
});

describe('POST /predict with bad input', () => {
  /** Asserts the 400 form page with `message`, and that nothing reached model-service. */
  async function expectRejected(send: () => Promise<request.Response>, message: string) {
    const predicted = fake.predicted.length;
    const submitted = await metricValue(t.metrics, 'reviews_submitted_total');
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain(`<p id="review-error" class="error" role="alert">${message}</p>`);
    expect(res.text).toContain('aria-describedby="review-error review-hint"');
    expect(res.text).toContain('aria-invalid="true">');
    expect(res.text).toContain('<form method="post" action="/predict" class="card">');
    expect(res.text).toContain('<label for="review">Your review</label>');
    expect(testId(res.text, 'app-version')).toBe(TEST_APP_VERSION);
    expect(fake.predicted.length).toBe(predicted);
    expect(await metricValue(t.metrics, 'reviews_submitted_total')).toBe(submitted);
    return res.text;
  }

  it('rejects an empty review', async () => {
    await expectRejected(() => predict(''), 'Please type a review first.');
  });

  it('rejects a blank review and echoes it back', async () => {
    const html = await expectRejected(() => predict('   \n\t  '), 'Please type a review first.');
    expect(html).toContain('aria-invalid="true">   \n\t  </textarea>');
  });

  it('rejects a review over 5000 characters, echoing it escaped', async () => {
    const review = `</textarea><script>x</script>${'a'.repeat(MAX_REVIEW_CHARS)}`;
    const html = await expectRejected(
      () => predict(review),
      `Your review is ${review.length} characters long; the limit is 5000.`,
    );
    expect(html).toContain('>&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;aaa');
    expect(html).not.toMatch(/<script/i);
  });

  it('rejects a review of 5001 characters', async () => {
    await expectRejected(
      () => predict('good '.repeat(1000) + '!'),
      'Your review is 5001 characters long; the limit is 5000.',
    );
  });

  it('rejects a form without the review field', async () => {
    await expectRejected(
      () => request(t.app).post('/predict').type('form').send('comment=good'),
      'Please type a review first.',
    );
  });

  it('rejects a request without a body', async () => {
    await expectRejected(() => request(t.app).post('/predict'), 'Please type a review first.');
  });

  it('rejects a JSON body (only the form encoding is read)', async () => {
    await expectRejected(
      () => request(t.app).post('/predict').send({ review: 'good' }),
      'Please type a review first.',
    );
  });

  it('rejects a repeated review field', async () => {
    await expectRejected(
      () => request(t.app).post('/predict').type('form').send('review=good&review=food'),
      'Please type a review first.',
    );
  });

  it('answers a body over the form limit (32 kB) with a 413 page', async () => {
    const predicted = fake.predicted.length;
    const res = await request(t.app)
      .post('/predict')
      .type('form')
      .send(`review=${'a'.repeat(40 * 1024)}`);
    await expectErrorPage(res, 413, 'Request not accepted', 'That was more text than the form accepts.');
    expect(fake.predicted.length).toBe(predicted);
    await expectStillWorks();
  });

  it('answers a multi-megabyte body with a 413 page', async () => {
    const res = await request(t.app)
      .post('/predict')
      .type('form')
      .send(`review=${'a'.repeat(8 * 1024 * 1024)}`);
    await expectErrorPage(res, 413, 'Request not accepted', 'That was more text than the form accepts.');
  });

  it('answers a form with too many fields with a 413 page', async () => {
    const fields = Array.from({ length: 30 }, (_, i) => `f${i}=x`).join('&');
    const res = await request(t.app).post('/predict').type('form').send(`review=good&${fields}`);
    await expectErrorPage(res, 413, 'Request not accepted', 'That was more text than the form accepts.');
  });

  it('answers a form in an unsupported charset with a 415 page', async () => {
    const res = await request(t.app)
      .post('/predict')
      .set('content-type', 'application/x-www-form-urlencoded; charset=koi8-r')
      .send('review=good');
    await expectErrorPage(res, 415, 'Request not accepted', 'The request could not be understood.');
  });
});

describe('POST /predict while model-service fails', () => {
  const unavailableHeading = 'The sentiment service is not available';
  const unavailableMessage = 'We could not analyze your review right now. Please try again in a moment.';

  it('answers 503 with a friendly page when model-service is down (connection refused)', async () => {
    const outcome = { endpoint: '/predict', outcome: 'unavailable' };
    const calls = await metricValue(t.metrics, 'model_service_request_duration_seconds_count', outcome);
    const predictions = await metricValue(t.metrics, 'predictions_total');
    await fake.stop();
    const html = await expectErrorPage(await predict(POSITIVE), 503, unavailableHeading, unavailableMessage);
    expect(testId(html, 'model-version')).toBe('unavailable');
    expect(html).not.toContain('ECONNREFUSED');
    expect(await metricValue(t.metrics, 'model_service_request_duration_seconds_count', outcome)).toBe(
      calls + 1,
    );
    expect(await metricValue(t.metrics, 'predictions_total')).toBe(predictions);
    await fake.start();
    await expectStillWorks();
  });

  it('answers 502 when model-service answers 500', async () => {
    const outcome = { endpoint: '/predict', outcome: 'error' };
    const calls = await metricValue(t.metrics, 'model_service_request_duration_seconds_count', outcome);
    fake.mode = 'error';
    const html = await expectErrorPage(await predict(POSITIVE), 502, unavailableHeading, unavailableMessage);
    expect(html).not.toContain('fake failure');
    expect(await metricValue(t.metrics, 'model_service_request_duration_seconds_count', outcome)).toBe(
      calls + 1,
    );
    fake.mode = 'ok';
    await expectStillWorks();
  });

  it('answers 503 after the timeout when model-service hangs, and recovers', async () => {
    const quick = await makeApp(fake.url, { timeoutMs: 200 });
    fake.mode = 'hang';
    const started = Date.now();
    const res = await request(quick.app).post('/predict').type('form').send({ review: POSITIVE });
    const elapsed = Date.now() - started;
    await expectErrorPage(res, 503, unavailableHeading, unavailableMessage);
    expect(testId(res.text, 'model-version')).toBe('unavailable');
    // /predict and then /version (for the footer) each time out after 200 ms
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1900);
    expect(
      await metricValue(quick.metrics, 'model_service_request_duration_seconds_count', {
        endpoint: '/predict',
        outcome: 'unavailable',
      }),
    ).toBe(1);
    fake.mode = 'ok';
    await expectStillWorks(quick.app);
  });
});

describe('POST /feedback', () => {
  const feedbackForm = (fields: Record<string, string>) =>
    request(t.app).post('/feedback').type('form').send(fields);
  const valid = { review: POSITIVE, predicted: '1', model_version: FAKE_MODEL_VERSION };

  it('forwards "correct" on a positive prediction as label 1 and thanks the user', async () => {
    const before = await metricValue(t.metrics, 'feedback_total', { outcome: 'correct' });
    const sent = fake.feedback.length;
    const res = await feedbackForm({ ...valid, verdict: 'correct' }).expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<h1 id="thanks-heading">Thank you</h1>');
    expect(testId(res.text, 'thanks-summary')).toBe('You confirmed that this review reads as ');
    expect(res.text).toContain('reads as <strong>positive</strong>.</p>');
    expect(fake.feedback.slice(sent)).toEqual([
      { text: POSITIVE, label: 1, predictedLabel: 1, modelVersion: FAKE_MODEL_VERSION },
    ]);
    expect(await metricValue(t.metrics, 'feedback_total', { outcome: 'correct' })).toBe(before + 1);
  });

  it('forwards "wrong" on a positive prediction as label 0', async () => {
    const before = await metricValue(t.metrics, 'feedback_total', { outcome: 'wrong' });
    const sent = fake.feedback.length;
    const res = await feedbackForm({ ...valid, verdict: 'wrong' }).expect(200);
    expect(res.text).toContain(
      'You corrected the model: this review reads as <strong>negative</strong>, not positive.</p>',
    );
    expect(fake.feedback.slice(sent)).toEqual([
      { text: POSITIVE, label: 0, predictedLabel: 1, modelVersion: FAKE_MODEL_VERSION },
    ]);
    expect(await metricValue(t.metrics, 'feedback_total', { outcome: 'wrong' })).toBe(before + 1);
  });

  it('forwards "wrong" on a negative prediction as label 1', async () => {
    const sent = fake.feedback.length;
    await feedbackForm({ review: NEGATIVE, predicted: '0', model_version: '1.1.0', verdict: 'wrong' }).expect(
      200,
    );
    expect(fake.feedback.slice(sent)).toEqual([
      { text: NEGATIVE, label: 1, predictedLabel: 0, modelVersion: '1.1.0' },
    ]);
  });

  it('round-trips the hidden fields of a result page, script-like text included', async () => {
    const result = await predict(XSS).expect(200);
    const fields = {
      review: unescapeHtml(inputValue(result.text, 'review') ?? ''),
      predicted: inputValue(result.text, 'predicted') ?? '',
      model_version: inputValue(result.text, 'model_version') ?? '',
      verdict: 'correct',
    };
    const sent = fake.feedback.length;
    await feedbackForm(fields).expect(200);
    expect(fake.feedback.slice(sent)).toEqual([
      { text: XSS, label: 0, predictedLabel: 0, modelVersion: FAKE_MODEL_VERSION },
    ]);
  });

  it.each([
    ['an unknown verdict', { ...valid, verdict: 'maybe' }],
    ['no verdict', { ...valid }],
    ['predicted 2', { ...valid, predicted: '2', verdict: 'correct' }],
    ['predicted "positive"', { ...valid, predicted: 'positive', verdict: 'correct' }],
    ['no predicted', { review: POSITIVE, model_version: FAKE_MODEL_VERSION, verdict: 'correct' }],
    ['no model version', { review: POSITIVE, predicted: '1', verdict: 'correct' }],
    ['a blank review', { ...valid, review: '  ', verdict: 'correct' }],
    ['a review over 5000 characters', { ...valid, review: 'a'.repeat(5001), verdict: 'correct' }],
  ])('rejects %s with a 400 page and forwards nothing', async (_case, fields) => {
    const sent = fake.feedback.length;
    const counted = await metricValue(t.metrics, 'feedback_total');
    await expectErrorPage(
      await feedbackForm(fields as Record<string, string>),
      400,
      'Feedback not understood',
      'The feedback form was incomplete. Please analyze the review again.',
    );
    expect(fake.feedback.length).toBe(sent);
    expect(await metricValue(t.metrics, 'feedback_total')).toBe(counted);
  });

  it('answers 503 when model-service is down, counting nothing', async () => {
    const counted = await metricValue(t.metrics, 'feedback_total');
    await fake.stop();
    const html = await expectErrorPage(
      await feedbackForm({ ...valid, verdict: 'correct' }),
      503,
      'The sentiment service is not available',
      'We could not analyze your review right now. Please try again in a moment.',
    );
    expect(testId(html, 'model-version')).toBe('unavailable');
    expect(await metricValue(t.metrics, 'feedback_total')).toBe(counted);
    await fake.start();
    await feedbackForm({ ...valid, verdict: 'correct' }).expect(200);
  });
});

describe('headers, static files and unknown paths', () => {
  it('sets a Content-Security-Policy without scripts and without upgrade-insecure-requests', async () => {
    const res = await request(t.app).get('/').expect(200);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sets the security headers on error pages too', async () => {
    const res = await predict('').expect(400);
    expect(res.headers['content-security-policy']).toContain("script-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves /static/styles.css cached for an hour', async () => {
    const res = await request(t.app).get('/static/styles.css').expect(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.text).toContain(':root');
  });

  it('answers an unknown path with a 404 HTML page', async () => {
    const res = await request(t.app).get('/no/such/page');
    await expectErrorPage(res, 404, 'Page not found', 'There is nothing at this address.');
    expect(testId(res.text, 'app-version')).toBe(TEST_APP_VERSION);
  });

  it('answers an unknown static file with a 404 HTML page', async () => {
    const res = await request(t.app).get('/static/missing.css');
    await expectErrorPage(res, 404, 'Page not found', 'There is nothing at this address.');
  });

  it.each(['/predict', '/feedback'])(
    'redirects GET %s (a reloaded result or thank-you page) to the form with a 303',
    async (path) => {
      const res = await request(t.app).get(path).expect(303);
      expect(res.headers.location).toBe('/');
      const followed = await request(t.app).get(res.headers.location).expect(200);
      expect(followed.text).toContain('<form method="post" action="/predict" class="card">');
    },
  );

  it('answers PUT /predict with a 405 page naming the methods allowed', async () => {
    const res = await request(t.app).put('/predict');
    await expectErrorPage(res, 405, 'Method not allowed', 'This address does not accept PUT requests.');
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
  });

  it('GET /healthz reports the app version', async () => {
    const res = await request(t.app).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok', version: TEST_APP_VERSION });
  });

  it('GET /readyz is 200 even when model-service is unreachable (readiness must not cascade)', async () => {
    await fake.stop();
    const res = await request(t.app).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ready', version: TEST_APP_VERSION });
  });
});

describe('identity: brand mark and favicon', () => {
  it('every page has the inline logo, the wordmark, the SVG favicon link and lang="en"', async () => {
    for (const res of [
      await request(t.app).get('/'),
      await predict(POSITIVE),
      await request(t.app).get('/x'),
    ]) {
      expect(res.text).toContain('<html lang="en">');
      expect(res.text).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">');
      expect(res.text).toContain(
        '<svg class="logo" viewBox="0 0 32 32" width="36" height="36" aria-hidden="true"',
      );
      expect(res.text).toContain(
        '<span class="brand-name">Restaurant <span class="brand-accent">Sentiment</span></span>',
      );
      // nothing from elsewhere: no external stylesheet, font, image or script
      expect(res.text).not.toMatch(/(href|src)="(https?:)?\/\//);
      expect(res.text).not.toMatch(/<script|\sstyle=/i);
    }
  });

  it('serves /static/favicon.svg as SVG', async () => {
    const res = await request(t.app).get('/static/favicon.svg').expect(200);
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(res.body.toString()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 32 32">/);
  });

  it('answers /favicon.ico with the same SVG (200, cached a day), not a 404 page', async () => {
    const svg = await request(t.app).get('/static/favicon.svg').expect(200);
    const res = await request(t.app).get('/favicon.ico').expect(200);
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(res.headers['cache-control']).toBe('public, max-age=86400');
    expect(res.body.toString()).toBe(svg.body.toString());
    expect(
      await metricValue(t.metrics, 'http_requests_total', { route: '/favicon.ico', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('the result page shows the score', () => {
  /** The gauge's attributes and marker position of a result page. */
  function gauge(html: string) {
    const meter = /<div class="gauge" role="meter" ([^>]*)>/.exec(html)?.[1];
    return {
      valueNow: /aria-valuenow="([^"]*)"/.exec(meter ?? '')?.[1],
      valueText: /aria-valuetext="([^"]*)"/.exec(meter ?? '')?.[1],
      marker: /<circle class="gauge-marker" cx="([^"]*)"/.exec(html)?.[1],
    };
  }
  const headline = (html: string) =>
    /<h1 id="verdict-heading">(.*?)<\/h1>/.exec(html)?.[1].replace(/<[^>]+>/g, '');

  it.each([
    // [review, headline, chance, aria-valuenow, aria-valuetext, marker position]
    [POSITIVE, 'Clearly positive', '93%', '93.0', '93% chance positive', '93.0%'],
    [NEGATIVE, 'Probably negative', '80%', '20.0', '80% chance negative', '20.0%'],
    ['score=0.998 lovely', 'Clearly positive', 'over 99%', '99.8', 'over 99% chance positive', '99.8%'],
    ['score=0.001 awful', 'Clearly negative', 'over 99%', '0.1', 'over 99% chance negative', '0.1%'],
    ['score=0.53 fine', 'Leaning positive', '53%', '53.0', '53% chance positive', '53.0%'],
    [
      'score=0.503 fine',
      'Leaning positive',
      'just over 50%',
      '50.3',
      'just over 50% chance positive',
      '50.3%',
    ],
    ['score=0.41 meh', 'Leaning negative', '59%', '41.0', '59% chance negative', '41.0%'],
    ['score=0.7 nice', 'Probably positive', '70%', '70.0', '70% chance positive', '70.0%'],
  ])('%s: "%s", %s, gauge at %s', async (review, title, chance, valueNow, valueText, marker) => {
    const res = await predict(review).expect(200);
    expect(headline(res.text)).toBe(title);
    expect(testId(res.text, 'confidence')).toBe(chance);
    expect(gauge(res.text)).toEqual({ valueNow, valueText, marker });
    expect(res.text).toContain(
      'aria-label="How positive the review reads" aria-valuemin="0" aria-valuemax="100"',
    );
    expect(res.text).toContain(
      '<section class="verdict card tone-' +
        title.split(' ')[1] +
        '" aria-live="polite" aria-labelledby="verdict-heading">',
    );
    expect(res.text).not.toMatch(/>100%<|100% chance/);
  });

  it('says a leaning prediction is too close to call', async () => {
    const res = await predict('score=0.53 fine').expect(200);
    expect(res.text).toContain(
      'The model gives this review only a <strong data-testid="confidence">53%</strong> chance of being positive: too close to call with confidence.',
    );
    const clear = await predict(POSITIVE).expect(200);
    expect(clear.text).toContain(
      'The model gives this review a <strong data-testid="confidence">93%</strong> chance of being positive.',
    );
  });
});

describe('"can\'t tell": a text with no feature the model knows', () => {
  const EMOJI = '🍕🍕🔥👍';

  it('says it cannot tell and why, with no score, no gauge value and label buttons', async () => {
    const counted = await metricValue(t.metrics, 'predictions_total', { sentiment: 'unknown' });
    const res = await predict(EMOJI).expect(200);
    expect(fake.predicted.at(-1)).toBe(EMOJI);
    expect(res.text).toContain('<title>Can’t tell · Restaurant Sentiment</title>');
    expect(res.text).toContain('<section class="verdict card tone-unknown" aria-live="polite"');
    expect(testId(res.text, 'verdict')).toBe('Can’t tell');
    expect(testId(res.text, 'explanation')).toBe(
      'The model found nothing in this review that it has learned to read, so it has nothing to go on. It reads English restaurant reviews: emoji, other alphabets, bare numbers and invisible characters mean nothing to it. Rather than guess, it says so.',
    );
    expect(testId(res.text, 'review')).toBe(EMOJI);
    expect(res.text).not.toContain('role="meter"');
    expect(res.text).not.toContain('data-testid="confidence"');
    expect(res.text).not.toContain('%</strong>');
    expect(res.text).not.toMatch(/\bpositive<\/span>|\bnegative<\/span>/);
    // the user is asked for the label instead of correct / wrong
    expect(res.text).toContain(
      '<legend><h2>Can you tell us?</h2> How does this review read to you?</legend>',
    );
    expect(res.text).toContain(
      '<button type="submit" name="label" value="1" class="secondary">Positive</button>',
    );
    expect(res.text).toContain(
      '<button type="submit" name="label" value="0" class="secondary">Negative</button>',
    );
    expect(res.text).not.toContain('name="verdict"');
    expect(inputValue(res.text, 'predicted')).toBeUndefined();
    expect(inputValue(res.text, 'review')).toBe(EMOJI);
    expect(inputValue(res.text, 'model_version')).toBe(FAKE_MODEL_VERSION);
    expect(testId(res.text, 'model-version')).toBe(FAKE_MODEL_VERSION);
    expect(await metricValue(t.metrics, 'predictions_total', { sentiment: 'unknown' })).toBe(counted + 1);
    expect(
      await metricValue(t.metrics, 'predictions_total', {
        sentiment: 'unknown',
        model_version: FAKE_MODEL_VERSION,
      }),
    ).toBe(counted + 1);
  });

  it.each([
    ['zero-width characters', '\u200b\u200c\u200d'],
    ['another script', 'очень вкусно'],
    ['digits and punctuation', '10/10 !!!'],
  ])('says "can\'t tell" for %s', async (_case, review) => {
    const res = await predict(review).expect(200);
    expect(testId(res.text, 'verdict')).toBe('Can’t tell');
  });

  it('forwards the label the user gives without predictedLabel, counted as "labelled"', async () => {
    const result = await predict(EMOJI).expect(200);
    const before = await metricValue(t.metrics, 'feedback_total', { outcome: 'labelled' });
    const sent = fake.feedback.length;
    const res = await request(t.app)
      .post('/feedback')
      .type('form')
      .send({
        review: unescapeHtml(inputValue(result.text, 'review') ?? ''),
        model_version: inputValue(result.text, 'model_version') ?? '',
        label: '1',
      })
      .expect(200);
    expect(fake.feedback.slice(sent)).toEqual([{ text: EMOJI, label: 1, modelVersion: FAKE_MODEL_VERSION }]);
    expect(await metricValue(t.metrics, 'feedback_total', { outcome: 'labelled' })).toBe(before + 1);
    expect(res.text).toContain(
      'The model could not read this review; you labelled it <strong>positive</strong>.',
    );
  });

  it('forwards label 0 as negative', async () => {
    const sent = fake.feedback.length;
    const res = await request(t.app)
      .post('/feedback')
      .type('form')
      .send({ review: EMOJI, model_version: '1.1.0', label: '0' })
      .expect(200);
    expect(fake.feedback.slice(sent)).toEqual([{ text: EMOJI, label: 0, modelVersion: '1.1.0' }]);
    expect(res.text).toContain('you labelled it <strong>negative</strong>.');
  });

  it('exposes feedback_total{outcome="labelled"} at 0 from start-up', async () => {
    const fresh = await makeApp(fake.url);
    const exposition = (await request(fresh.app).get('/metrics').expect(200)).text;
    expect(exposition).toContain(`feedback_total{outcome="labelled",app_version="${TEST_APP_VERSION}"} 0`);
  });

  it.each([
    ['a label with predicted', { label: '1', predicted: '1' }],
    ['a label with a verdict', { label: '1', verdict: 'correct' }],
    ['a label with predicted and a verdict', { label: '0', predicted: '1', verdict: 'wrong' }],
    ['label 2', { label: '2' }],
    ['label "positive"', { label: 'positive' }],
    ['a repeated label', 'label=1&label=0'],
  ])('rejects %s with a 400 page and forwards nothing', async (_case, fields) => {
    const sent = fake.feedback.length;
    const counted = await metricValue(t.metrics, 'feedback_total');
    const body =
      typeof fields === 'string'
        ? `review=x&model_version=${FAKE_MODEL_VERSION}&${fields}`
        : { review: EMOJI, model_version: FAKE_MODEL_VERSION, ...fields };
    await expectErrorPage(
      await request(t.app).post('/feedback').type('form').send(body),
      400,
      'Feedback not understood',
      'The feedback form was incomplete. Please analyze the review again.',
    );
    expect(fake.feedback.length).toBe(sent);
    expect(await metricValue(t.metrics, 'feedback_total')).toBe(counted);
  });
});

describe('the thank-you page', () => {
  it('says what happens to the feedback, with the model version it was given on', async () => {
    const res = await request(t.app)
      .post('/feedback')
      .type('form')
      .send({ review: NEGATIVE, predicted: '0', verdict: 'correct', model_version: '1.1.0' })
      .expect(200);
    expect(res.text).toContain('<title>Thank you · Restaurant Sentiment</title>');
    expect(res.text).toContain('You confirmed that this review reads as <strong>negative</strong>.');
    expect(testId(res.text, 'review')).toBe(NEGATIVE);
    expect(res.text).toContain('<h2 id="what-happens-heading">What happens to your feedback</h2>');
    expect(testId(res.text, 'feedback-model-version')).toBe('1.1.0');
    expect(testId(res.text, 'model-version')).toBe(FAKE_MODEL_VERSION); // the footer: the model served now
    const facts = [...res.text.matchAll(/<li><strong>([^<]*)<\/strong>/g)].map((m) => m[1]);
    expect(facts).toEqual([
      'It is stored:',
      'It can teach the next model.',
      'It only ever trains.',
      'It stays private.',
    ]);
    expect(res.text).toContain('Nothing about you goes with it: no name, no IP address, no cookie.');
    expect(res.text).toContain('Feedback goes into the training set, never the test set');
    expect(res.text).toContain('Feedback is never shown to other visitors or published.');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('escapes the review it quotes', async () => {
    const res = await request(t.app)
      .post('/feedback')
      .type('form')
      .send({ review: XSS, predicted: '0', verdict: 'wrong', model_version: '1.1.0' })
      .expect(200);
    expect(testId(res.text, 'review')).toBe(XSS_ESCAPED);
    expect(res.text).not.toMatch(/<script|<img/i);
  });
});

describe('x-request-id reaches model-service', () => {
  const since = (n: number) => fake.requests.slice(n);

  it('POST /predict sends the id of the app response to /predict', async () => {
    const n = fake.requests.length;
    const res = await predict(POSITIVE).expect(200);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(since(n)).toEqual([`POST /predict ${id}`]);
  });

  it('reuses a valid incoming x-request-id on every call a request makes', async () => {
    const n = fake.requests.length;
    const res = await request(t.app)
      .post('/feedback')
      .set('x-request-id', 'edge-4711.a_b')
      .type('form')
      .send({ review: POSITIVE, predicted: '1', verdict: 'correct', model_version: FAKE_MODEL_VERSION })
      .expect(200);
    expect(res.headers['x-request-id']).toBe('edge-4711.a_b');
    expect(since(n)).toEqual(['POST /feedback edge-4711.a_b', 'GET /version edge-4711.a_b']);
  });

  it('replaces an invalid incoming id, and sends the new one', async () => {
    const n = fake.requests.length;
    const res = await request(t.app).get('/').set('x-request-id', 'bad id\twith spaces').expect(200);
    const id = res.headers['x-request-id'];
    expect(id).not.toBe('bad id\twith spaces');
    expect(since(n)).toEqual([`GET /version ${id}`]);
  });

  it('sends the id on the /version call of an error page too', async () => {
    const n = fake.requests.length;
    const res = await request(t.app).get('/no/such/page').expect(404);
    expect(since(n)).toEqual([`GET /version ${res.headers['x-request-id']}`]);
  });
});
