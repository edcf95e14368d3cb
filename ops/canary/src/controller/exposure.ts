/**
 * The canary weight new users were exposed to over a cumulative window. Looks count visitors since the
 * canary started, while the weight moves 10 → 25 → 50: the sample-ratio-mismatch check must compare the
 * observed split with the visitor-weighted average of the weights, not with the current weight alone
 * (`Look.canaryWeight`). Each weight change is recorded with the cumulative number of visitors counted
 * when it happened; a segment's share is the visitors counted while it lasted.
 */
export class WeightHistory {
  /** Weight (percent) and cumulative visitors when it took effect; visitorsAtStart is non-decreasing. */
  private readonly segments: { weight: number; visitorsAtStart: number }[];

  /** @param initialWeight canary weight (percent, 0–100) when the window starts. */
  constructor(initialWeight: number) {
    this.segments = [{ weight: initialWeight, visitorsAtStart: 0 }];
  }

  /** The weight in effect now (percent). */
  get current(): number {
    return this.segments[this.segments.length - 1].weight;
  }

  /**
   * Records a weight change.
   * @param weight new canary weight, percent 0–100.
   * @param visitorsSoFar visitors (both versions) counted since the window started, as of the change;
   *   a smaller number than the previous change's is treated as equal (counters only grow).
   */
  change(weight: number, visitorsSoFar: number): void {
    const last = this.segments[this.segments.length - 1];
    const at = Math.max(visitorsSoFar, last.visitorsAtStart);
    if (at === last.visitorsAtStart) last.weight = weight;
    else this.segments.push({ weight, visitorsAtStart: at });
  }

  /**
   * Visitor-weighted average canary weight over the window:
   * Σ weight_i × visitors_i / Σ visitors_i, where visitors_i were counted while weight_i was in effect.
   * @param visitorsNow visitors (both versions) counted since the window started, now.
   * @returns percent 0–100; the current weight when no visitor was counted.
   */
  expectedWeight(visitorsNow: number): number {
    let weighted = 0;
    let total = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const from = this.segments[i].visitorsAtStart;
      const to = i + 1 < this.segments.length ? this.segments[i + 1].visitorsAtStart : visitorsNow;
      const visitors = Math.max(0, to - from);
      weighted += this.segments[i].weight * visitors;
      total += visitors;
    }
    return total > 0 ? weighted / total : this.current;
  }
}
