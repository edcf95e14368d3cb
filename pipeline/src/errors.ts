/**
 * An expected failure of a pipeline stage (bad data, bad params, failed gate): the CLI prints its message
 * and exits non-zero without a stack trace.
 */
export class PipelineError extends Error {
  override name = 'PipelineError';
}
