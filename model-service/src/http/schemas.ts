/**
 * Request/response schemas (zod). They validate requests and generate the OpenAPI document, so the
 * documentation cannot drift from what the service accepts.
 */
import { z } from 'zod';

/** Longest review accepted, in characters (UTF-16 code units, as JavaScript counts). */
export const MAX_TEXT_CHARS = 5000;
/** Most texts in one batch request. */
export const MAX_BATCH_TEXTS = 100;

const reviewText = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty')
  // zod's max counts code points (and gives the OpenAPI maxLength); the refine counts UTF-16 code units,
  // as JavaScript's length and the browser's maxlength do, so both limits agree with the app's.
  .max(MAX_TEXT_CHARS, { error: `must be at most ${MAX_TEXT_CHARS} characters`, abort: true })
  .refine((t) => t.length <= MAX_TEXT_CHARS, `must be at most ${MAX_TEXT_CHARS} characters`)
  .refine((t) => t.length === 0 || t.trim().length > 0, 'must not be blank')
  .describe('Review text');
const label = z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' });

export const predictRequest = z.object({ text: reviewText }).describe('One review');
export const batchRequest = z
  .object({
    texts: z
      .array(reviewText, {
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array of strings'),
      })
      .min(1, 'must hold at least one text')
      .max(MAX_BATCH_TEXTS, `must hold at most ${MAX_BATCH_TEXTS} texts`),
  })
  .describe('Several reviews');
const modelVersion = z.string().describe('Version of the model that made the prediction');
export const knownPrediction = z
  .object({
    label: label.describe('1 = positive, 0 = negative'),
    sentiment: z.enum(['positive', 'negative']),
    score: z.number().min(0).max(1).describe('Probability of the positive class'),
    knownFeatures: z
      .number()
      .int()
      .min(1)
      .describe('Features of the text the model knows (vocabulary n-grams and lexicon features that fire)'),
    modelVersion,
  })
  .describe('A prediction');
export const unknownPrediction = z
  .object({
    label: z.null().describe('No label: the model cannot tell'),
    sentiment: z.literal('unknown'),
    score: z.null().describe('No score: the model would only return its bias'),
    knownFeatures: z.literal(0).describe('No feature of the text is known to the model'),
    modelVersion,
  })
  .describe(
    'The model cannot tell: no word, character n-gram or lexicon entry of the text is known to it (emoji only, a script it was not trained on, invisible characters)',
  );
export const prediction = z
  .union([knownPrediction, unknownPrediction])
  .describe('A prediction, or "unknown" when the text has no feature the model knows');
export const batchResponse = z.array(prediction);
export const feedbackRequest = z
  .object({
    text: reviewText,
    label: label.describe('The correct label: 1 = positive, 0 = negative'),
    predictedLabel: label.optional().describe('The label the model predicted'),
    modelVersion: z.string().max(100).optional().describe('The model version that predicted it'),
  })
  .describe('A user saying what the right label was');
export const feedbackResponse = z.object({ status: z.literal('recorded') });
export const versionResponse = z.object({
  service: z.string().describe('model-service version'),
  model: z.string().describe('model version being served'),
  libMl: z.string().describe('lib-ml version'),
  bundleLibMlRange: z.string().describe('lib-ml versions the model bundle can be read by'),
});
export const errorResponse = z
  .object({ error: z.string().describe('Short error code'), detail: z.string().describe('What is wrong') })
  .describe('An error');

/** Formats zod issues as "field: problem; ..." (top-level problems as "body: ..."). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'body';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
