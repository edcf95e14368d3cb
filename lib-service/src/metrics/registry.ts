/** Prometheus registries (prom-client): one per service instance, never the global default registry. */
import { collectDefaultMetrics, Registry, type Counter } from 'prom-client';

/** Options of {@link createRegistry}. */
export interface RegistryOptions {
  /** Labels added to every series of the registry, e.g. `{app_version: '1.2.3'}`. */
  defaultLabels?: Record<string, string>;
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/** Creates a fresh registry. */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Creates the series of `counter` for every label set in `labelSets` at value 0, so that a dashboard
 * dividing by the counter (`rate(a[5m]) / rate(b[5m])`) sees a series from start-up instead of "no data".
 * Series that already exist keep their value.
 * @param labelSets one object per series, e.g. `[{variant: 'control'}]`.
 */
export function initCounter<L extends string>(
  counter: Counter<L>,
  labelSets: ReadonlyArray<Partial<Record<L, string | number>>>,
): void {
  for (const labels of labelSets) counter.inc(labels, 0);
}

/**
 * Every combination of the given label values (cartesian product), for {@link initCounter}.
 * @returns ∏ values[k].length label sets; [{}] when `values` is empty.
 */
export function labelCombinations<L extends string>(
  values: Record<L, readonly string[]>,
): Array<Record<L, string>> {
  let sets: Array<Record<string, string>> = [{}];
  for (const [name, options] of Object.entries(values) as Array<[string, readonly string[]]>) {
    sets = sets.flatMap((set) => options.map((value) => ({ ...set, [name]: value })));
  }
  return sets as Array<Record<L, string>>;
}

/**
 * {@link initCounter} for every combination of the given label values, e.g.
 * `initSeries(feedback, {outcome: ['correct', 'wrong']})`.
 */
export function initSeries<L extends string>(
  counter: Counter<L>,
  values: Record<L, readonly string[]>,
): void {
  initCounter(counter, labelCombinations(values));
}
