/** The judge's default statistics settings, each with the reason for its value. */
import type { JudgeConfig } from './types.js';

/**
 * Defaults for {@link JudgeConfig}; a config file overrides any of them. Frozen (deeply): copy before
 * changing.
 *
 * Units: shares and margins are fractions (0.01 = 1 percentage point), latency in seconds, counts per
 * arm and cumulative since the canary started.
 */
export const DEFAULT_JUDGE_CONFIG: JudgeConfig = deepFreeze({
  // 5%: the conventional chance of rolling back a canary that is in fact no worse, over the whole run
  // (always-valid tests over all looks, Bonferroni over the guardrails). It is also the target for
  // false rollbacks on A/A runs.
  alpha: 0.05,
  // 0.1%: the sample-ratio check runs at every look without a correction for repeated looks, and a real
  // mismatch (a broken route, a sticky cookie that is not set) is usually huge (p far below 1e−6), so a
  // strict threshold keeps false HOLDs rare while catching real ones; a HOLD only waits, it never rolls
  // back. 0.001 is also the alarm threshold commonly used for SRM checks of A/B tests.
  srmAlpha: 0.001,
  errorRate: {
    // 1 percentage point more 5xx answers is the largest degradation accepted: twice the 0.5% a healthy
    // service shows is already a lot. It is also the mixing scale τ of the mSPRT, which makes the test
    // quickest for effects of about that size.
    margin: 0.01,
    // PASS needs 200 requests per arm: at a 0.5% base rate that is one expected error, so a canary without
    // errors yet cannot pass on the strength of the normal approximation alone.
    minRequests: 200,
  },
  latency: {
    // 250 ms: a bound in the default buckets of every histogram the judge reads (lib-service's HTTP
    // histogram, the app's, Istio's 250 ms), and a response time users still feel as immediate for a
    // server-rendered page.
    sloSeconds: 0.25,
    // 2 more requests in 100 slower than the SLO is accepted; more is a visible slowdown. The rank test
    // uses the same margin on P(canary slower) + P(tie)/2 − 0.5.
    margin: 0.02,
    // As for the error rate: PASS needs 200 requests per arm in the histogram.
    minRequests: 200,
    // The rank test sees slowdowns below the SLO that the SLO share misses (e.g. 20 ms → 60 ms).
    rankTest: true,
  },
  agreement: {
    // Feedback says whether the prediction was right: the canary's model may be wrong 5 points more often
    // before it is called worse (feedback is sparse, so a tighter margin would rarely pass).
    enabled: true,
    margin: 0.05,
    // 50 answers per arm before agreement may PASS: fewer say little about a 5-point margin.
    minFeedback: 50,
  },
  // A look is PASS once the error rate and the SLO share are proven non-inferior (and nothing FAILs).
  // Measured with npm run bench:canary at 200 requests/min and a 10% canary: proving the rank test's
  // 2-point margin took over 2 hours in half the healthy runs and the agreement margin (feedback on ~5% of
  // requests) rarely within 4 hours, so requiring them kept every healthy canary from promoting. They
  // still roll a canary back when they find it worse.
  passRequires: ['error_rate', 'latency_slo'],
  experiment: {
    // The People experiment is a fixed-horizon A/B report with the usual design values: 95% Wilson
    // intervals, 80% power to detect a 2-point change in click-through (e.g. 10% → 12%).
    alpha: 0.05,
    power: 0.8,
    minimumDetectableEffect: 0.02,
  },
});

/** Freezes an object and every object inside it. */
function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (inner && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}
