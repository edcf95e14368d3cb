/**
 * The accuracy gate's record: what evaluate decided, read by publish without loading the evaluation code
 * (tfjs, data frames), so refusing to publish stays fast.
 */

/** The gate's outcome, recorded in reports/evaluated.json. */
export interface GateOutcome {
  /** The metric gated on. */
  metric: 'test.accuracy';
  accuracy: number;
  /** evaluate.min_accuracy when evaluate ran. */
  min_accuracy: number;
  passed: boolean;
}

/** Contents of reports/evaluated.json: what the current metrics.json describes, and the gate. */
export interface EvaluatedRecord {
  weights_sha256: string;
  train_sha256: string;
  /** sha256 of the metrics.json written with this record. */
  metrics_sha256: string;
  gate: GateOutcome;
}

/** The message of a failed gate (evaluate's error, and publish's refusal). */
export function gateFailedMessage(gate: Pick<GateOutcome, 'accuracy' | 'min_accuracy'>): string {
  return `gate failed: test accuracy ${gate.accuracy} is below evaluate.min_accuracy ${gate.min_accuracy}; the model is not published`;
}
