/** The OpenAPI 3.0 document, generated from the zod schemas. */
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
const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const ok = (description: string, name: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const error = (description: string) => ok(description, 'Error');

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
          requestBody: body('PredictRequest'),
          responses: {
            200: ok('The prediction', 'Prediction'),
            400: error('Invalid body (the detail names the field)'),
            413: error('Body over 64 KiB'),
            415: error('Content-Type is not application/json'),
            503: error('The model is not loaded yet'),
          },
        },
      },
      '/predict/batch': {
        post: {
          summary: 'Predict the sentiment of up to 100 reviews',
          requestBody: body('BatchRequest'),
          responses: {
            200: ok('One prediction per text, same order', 'BatchResponse'),
            400: error('Invalid body'),
            413: error('Body over 64 KiB'),
            415: error('Content-Type is not application/json'),
            503: error('The model is not loaded yet'),
          },
        },
      },
      '/feedback': {
        post: {
          summary: 'Record what the right label was',
          requestBody: body('FeedbackRequest'),
          responses: {
            201: ok('Recorded durably', 'FeedbackResponse'),
            400: error('Invalid body'),
            413: error('Body over 64 KiB'),
            415: error('Content-Type is not application/json'),
          },
        },
      },
      '/version': { get: { summary: 'Versions', responses: { 200: ok('Versions', 'Version') } } },
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
