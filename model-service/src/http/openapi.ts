/**
 * The OpenAPI 3.0 document, generated from the zod schemas, with examples of real use: the review texts
 * are reviews of the project's dataset (the UCI "Sentiment Labelled Sentences" Yelp set), and the answers
 * are what model-v1.0.0 answers them, trained by `npm run pipeline` with the committed params.yaml
 * (test accuracy 0.888); scores rounded to 6 decimals.
 */
import { z } from 'zod';
import {
  batchRequest,
  batchResponse,
  errorResponse,
  feedbackRequest,
  feedbackResponse,
  predictRequest,
  prediction,
  versionResponse,
} from './schemas.js';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A named example of an OpenAPI media type. */
interface Example {
  summary: string;
  value: unknown;
}

/** Example requests and answers (see the module doc for where they come from). */
export const EXAMPLES = {
  predictRequest: {
    positive: {
      summary: 'A positive review',
      value: { text: 'The selection on the menu was great and so were the prices.' },
    },
    negative: { summary: 'A negative review', value: { text: 'Crust is not good.' } },
    unknown: { summary: 'Emoji only: nothing the model knows', value: { text: '🍕🍕🍕' } },
  },
  prediction: {
    positive: {
      summary: 'Positive',
      value: {
        label: 1,
        sentiment: 'positive',
        score: 0.997358,
        knownFeatures: 149,
        modelVersion: '1.0.0',
      },
    },
    negative: {
      summary: 'Negative',
      value: { label: 0, sentiment: 'negative', score: 0.005153, knownFeatures: 72, modelVersion: '1.0.0' },
    },
    unknown: {
      summary: 'The model cannot tell',
      value: { label: null, sentiment: 'unknown', score: null, knownFeatures: 0, modelVersion: '1.0.0' },
    },
  },
  batchRequest: {
    mixed: {
      summary: 'Three reviews',
      value: { texts: ['Wow... Loved this place.', 'Would not go back.', 'Очень вкусно!'] },
    },
  },
  batchResponse: {
    mixed: {
      summary: 'Positive, negative, and "unknown" for a script the model was not trained on',
      value: [
        { label: 1, sentiment: 'positive', score: 0.994073, knownFeatures: 69, modelVersion: '1.0.0' },
        { label: 0, sentiment: 'negative', score: 0.03658, knownFeatures: 75, modelVersion: '1.0.0' },
        { label: null, sentiment: 'unknown', score: null, knownFeatures: 0, modelVersion: '1.0.0' },
      ],
    },
  },
  feedbackRequest: {
    correction: {
      summary: 'A user correcting a wrong prediction',
      value: { text: 'Service was very prompt.', label: 1, predictedLabel: 0, modelVersion: '1.0.0' },
    },
    agreement: {
      summary: 'A user agreeing',
      value: { text: 'Would not go back.', label: 0, predictedLabel: 0, modelVersion: '1.0.0' },
    },
  },
  feedbackResponse: { recorded: { summary: "Stored and fsync'ed", value: { status: 'recorded' } } },
  version: {
    serving: {
      summary: 'Serving model 1.0.0',
      value: { service: '0.1.0', model: '1.0.0', libMl: '0.1.0', bundleLibMlRange: '>=0.1.0-0 <0.2.0-0' },
    },
  },
  invalidRequest: {
    blank: {
      summary: 'A blank text',
      value: { error: 'invalid_request', detail: 'text: must not be blank' },
    },
  },
  notReady: {
    loading: {
      summary: 'Still loading',
      value: { error: 'not_ready', detail: 'the model is still loading; retry shortly' },
    },
  },
  feedbackUnavailable: {
    diskFull: {
      summary: 'The disk is full',
      value: {
        error: 'feedback_unavailable',
        detail: 'feedback could not be stored (ENOSPC); nothing was recorded, retry later',
      },
    },
  },
} satisfies Record<string, Record<string, Example>>;

const content = (name: string, examples?: Record<string, Example>) => ({
  'application/json': { schema: ref(name), ...(examples ? { examples } : {}) },
});
const body = (name: string, examples: Record<string, Example>) => ({
  required: true,
  content: content(name, examples),
});
const ok = (description: string, name: string, examples?: Record<string, Example>) => ({
  description,
  content: content(name, examples),
});
const error = (description: string, examples?: Record<string, Example>) => ok(description, 'Error', examples);

/**
 * Builds the OpenAPI document.
 * @param version the service version (info.version).
 */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Restaurant Sentiment model-service',
      version,
      description: 'Sentiment predictions for restaurant reviews from a released model bundle.',
    },
    paths: {
      '/predict': {
        post: {
          summary: 'Predict the sentiment of one review',
          requestBody: body('PredictRequest', EXAMPLES.predictRequest),
          responses: {
            200: ok(
              'The prediction; `sentiment: "unknown"` (label and score null) when the text has no feature the model knows',
              'Prediction',
              EXAMPLES.prediction,
            ),
            400: error('Invalid body (the detail names the field)', EXAMPLES.invalidRequest),
            413: error('Body over 64 KiB'),
            415: error('Content-Type is not application/json'),
            503: error('The model is not loaded yet', EXAMPLES.notReady),
          },
        },
      },
      '/predict/batch': {
        post: {
          summary: 'Predict the sentiment of up to 100 reviews',
          requestBody: body('BatchRequest', EXAMPLES.batchRequest),
          responses: {
            200: ok('One prediction per text, same order', 'BatchResponse', EXAMPLES.batchResponse),
            400: error('Invalid body'),
            413: error('Body over 64 KiB'),
            415: error('Content-Type is not application/json'),
            503: error('The model is not loaded yet', EXAMPLES.notReady),
          },
        },
      },
      '/feedback': {
        post: {
          summary: 'Record what the right label was',
          requestBody: body('FeedbackRequest', EXAMPLES.feedbackRequest),
          responses: {
            201: ok('Recorded durably', 'FeedbackResponse', EXAMPLES.feedbackResponse),
            400: error('Invalid body'),
            413: error('Body over 64 KiB'),
            415: error('Content-Type is not application/json'),
            503: error(
              'Not recorded: the feedback file cannot be written (disk full, I/O error); retry later',
              EXAMPLES.feedbackUnavailable,
            ),
          },
        },
      },
      '/version': {
        get: { summary: 'Versions', responses: { 200: ok('Versions', 'Version', EXAMPLES.version) } },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'The process is up' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness',
          responses: { 200: { description: 'Model loaded' }, 503: error('Model not loaded yet') },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Text exposition' } } },
      },
    },
    components: {
      schemas: {
        PredictRequest: json(predictRequest),
        BatchRequest: json(batchRequest),
        Prediction: json(prediction),
        BatchResponse: json(batchResponse),
        FeedbackRequest: json(feedbackRequest),
        FeedbackResponse: json(feedbackResponse),
        Version: json(versionResponse),
        Error: json(errorResponse),
      },
    },
  };
}
