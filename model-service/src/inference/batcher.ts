/**
 * Micro-batching: predictions requested in the same event-loop turn (concurrent HTTP requests) are
 * scored together in one tensor operation, which costs little more than scoring one text.
 */
import {
  scoreTextsWithFeatures,
  toPrediction,
  type Prediction,
  type Predictor,
} from '@restaurant-sentiment/lib-ml';

interface Pending {
  texts: readonly string[];
  resolve: (predictions: Prediction[]) => void;
  reject: (error: unknown) => void;
}

/** Figures of one scored batch (for metrics). */
export interface BatchStats {
  /** Texts in the batch. */
  size: number;
  /** Wall time of vectorizing + scoring, seconds. */
  seconds: number;
}

/** Queues prediction requests and scores them in batches of at most `maxBatchSize` texts. */
export class BatchPredictor {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly predictor: Predictor,
    private readonly maxBatchSize: number,
    private readonly onBatch: (stats: BatchStats) => void = () => {},
  ) {}

  /**
   * Predicts the sentiment of `texts` (one request's worth).
   * @returns one prediction per text, same order (`sentiment: "unknown"` for a text without any known
   *   feature); [] for no texts.
   */
  predict(texts: readonly string[]): Promise<Prediction[]> {
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ texts, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Requests waiting to be scored. */
  get pending(): number {
    return this.queue.length;
  }

  private flush(): void {
    this.scheduled = false;
    const batch: Pending[] = [];
    let size = 0;
    while (
      this.queue.length &&
      (batch.length === 0 || size + this.queue[0].texts.length <= this.maxBatchSize)
    ) {
      const next = this.queue.shift()!;
      batch.push(next);
      size += next.texts.length;
    }
    if (this.queue.length) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    const started = performance.now();
    try {
      const { scores, knownFeatures } = scoreTextsWithFeatures(
        this.predictor,
        batch.flatMap((p) => p.texts),
      );
      this.onBatch({ size, seconds: (performance.now() - started) / 1000 });
      let offset = 0;
      for (const p of batch) {
        p.resolve(p.texts.map((_, i) => toPrediction(scores[offset + i], knownFeatures[offset + i])));
        offset += p.texts.length;
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
