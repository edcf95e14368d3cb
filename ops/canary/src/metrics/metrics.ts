/**
 * Every decision as Prometheus metrics, on a registry of its own (never prom-client's global one):
 * - `canary_weight{virtual_service_namespace,virtual_service}`: the canary's share of new users, percent (not
 *   `namespace`, which Prometheus sets to the namespace the controller runs in);
 * - `canary_decision{decision}`: 1 for the last look's decision, 0 for the others;
 * - `canary_guardrail_p_value{guardrail}`: the always-valid p-value of each guardrail;
 * - `canary_guardrail_verdict{guardrail,verdict}`: 1 for each guardrail's verdict, 0 for the others;
 * - `canary_looks_total`: looks taken (including those Prometheus could not answer);
 * - `canary_srm_p_value`: the sample-ratio-mismatch check's p-value (NaN, printed `Nan`, which Prometheus
 *   parses case-insensitively, before the first look and when unchecked).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { DecisionMetrics } from '../controller/ports.js';
import type { Decision, Judgement, Verdict } from '../judge/types.js';

const DECISIONS: Decision[] = ['PASS', 'FAIL', 'INSUFFICIENT', 'HOLD'];
const VERDICTS: Verdict[] = ['PASS', 'FAIL', 'INSUFFICIENT'];

/** The canary metrics and their registry. */
export class CanaryMetrics implements DecisionMetrics {
  readonly registry = new Registry();
  private readonly weight: Gauge<'virtual_service_namespace' | 'virtual_service'>;
  private readonly decision: Gauge<'decision'>;
  private readonly pValue: Gauge<'guardrail'>;
  private readonly verdict: Gauge<'guardrail' | 'verdict'>;
  private readonly looks: Counter;
  private readonly srmPValue: Gauge;

  /**
   * @param routes labels of `canary_weight`: the release namespace and the VirtualService name.
   */
  constructor(private readonly routes: { namespace: string; virtualService: string }) {
    const registers = [this.registry];
    this.weight = new Gauge({
      name: 'canary_weight',
      help: "Canary version's share of new users, percent (0-100)",
      labelNames: ['virtual_service_namespace', 'virtual_service'],
      registers,
    });
    this.decision = new Gauge({
      name: 'canary_decision',
      help: 'Decision of the last look: 1 for the current decision, 0 for the others',
      labelNames: ['decision'],
      registers,
    });
    this.pValue = new Gauge({
      name: 'canary_guardrail_p_value',
      help: 'Always-valid p-value of "the canary is no worse" per guardrail (running minimum over the looks)',
      labelNames: ['guardrail'],
      registers,
    });
    this.verdict = new Gauge({
      name: 'canary_guardrail_verdict',
      help: 'Verdict of each guardrail at the last look: 1 for the current verdict, 0 for the others',
      labelNames: ['guardrail', 'verdict'],
      registers,
    });
    this.looks = new Counter({
      name: 'canary_looks_total',
      help: 'Looks taken at the canary, including those Prometheus could not answer',
      registers,
    });
    this.srmPValue = new Gauge({
      name: 'canary_srm_p_value',
      help: 'p-value of the sample-ratio-mismatch check (chi-square, 1 dof) at the last look; NaN when unchecked',
      registers,
    });
    // Not 0 before the first look: a p-value of 0 would read as a certain mismatch.
    this.srmPValue.set(Number.NaN);
  }

  /** @param weight canary weight, percent 0–100. */
  setWeight(weight: number): void {
    this.weight.set(
      { virtual_service_namespace: this.routes.namespace, virtual_service: this.routes.virtualService },
      weight,
    );
  }

  /**
   * Records one look. Without a judgement (Prometheus failed) only the decision and the count change; the
   * guardrails keep their last values.
   */
  recordLook(decision: Decision, judgement?: Judgement): void {
    this.looks.inc();
    for (const d of DECISIONS) this.decision.set({ decision: d }, d === decision ? 1 : 0);
    if (!judgement) return;
    for (const g of judgement.guardrails) {
      this.pValue.set({ guardrail: g.name }, g.pValue);
      for (const v of VERDICTS) this.verdict.set({ guardrail: g.name, verdict: v }, v === g.verdict ? 1 : 0);
    }
    this.srmPValue.set(judgement.srm.checked ? judgement.srm.pValue : Number.NaN);
  }

  /** The exposition text (`text/plain; version=0.0.4`). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
