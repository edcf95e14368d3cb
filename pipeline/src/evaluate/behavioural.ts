/**
 * Behavioural tests of the model, after CheckList (Ribeiro, Wu, Guestrin & Singh, "Beyond Accuracy:
 * Behavioral Testing of NLP Models with CheckList", ACL 2020): templated cases grouped by capability
 * (negation, negated negatives, intensifiers, contrast, typos, name/city/punctuation invariance), read from
 * pipeline/behavioural/suite.yaml, expanded deterministically, scored with the model, and summarized as a
 * pass rate per capability. The optional gate `evaluate.behavioural.min_pass_rate` fails evaluate when a
 * capability's pass rate is below it.
 *
 * Test types: MFT (minimum functionality test: each case has an expected label) and INV (invariance test:
 * each case is a text and a perturbed copy that must get the same predicted label). See the suite file's
 * header for the perturbations and the expansion rule.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  createRandom,
  scoreTextsWithFeatures,
  THRESHOLD,
  type Predictor,
  type Random,
  type ScoredTexts,
} from '@restaurant-sentiment/lib-ml';
import YAML from 'yaml';
import { z } from 'zod';
import { PipelineError } from '../errors.js';

/** The suite file, in the repository (dvc.yaml lists its folder as a dependency of evaluate). */
export const BEHAVIOURAL_SUITE_FILE = fileURLToPath(new URL('../../behavioural/suite.yaml', import.meta.url));

/** Failures kept per capability in metrics.json. */
export const MAX_REPORTED_FAILURES = 3;

/** Endings the `punctuation` perturbation chooses from (a text's own ending is never chosen). */
export const PUNCTUATION_ENDINGS = ['', '.', '!', '!!!', '...'] as const;

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;

const groupSchema = z.union([
  z.strictObject({
    label: z.enum(['positive', 'negative']),
    templates: z.array(z.string().min(1)).min(1),
  }),
  z.strictObject({
    perturb: z.union([
      z.literal('typo'),
      z.literal('punctuation'),
      z.strictObject({ substitute: z.string().min(1) }),
    ]),
    templates: z.array(z.string().min(1)).min(1),
  }),
]);

const suiteSchema = z.strictObject({
  seed: z.number().int(),
  max_per_template: z.number().int().min(1),
  fillers: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), z.array(z.string().min(1)).min(1)),
  tests: z.record(
    z.string().regex(/^[a-z_][a-z0-9_]*$/),
    z.strictObject({
      type: z.enum(['MFT', 'INV']),
      description: z.string().min(1),
      groups: z.array(groupSchema).min(1),
    }),
  ),
});

/** A parsed, validated suite file. */
export type BehaviouralSuite = z.infer<typeof suiteSchema>;
/** One group of templates: an expected label (MFT) or a perturbation (INV). */
export type TemplateGroup = z.infer<typeof groupSchema>;
/** A perturbation of an INV group. */
export type Perturbation = Extract<TemplateGroup, { perturb: unknown }>['perturb'];

/** One expanded case: an MFT text with its expected label (1 = positive), or an INV text pair. */
export type BehaviouralCase =
  { type: 'MFT'; text: string; expected: 0 | 1 } | { type: 'INV'; text: string; perturbed: string };

/** An expanded test: the cases of one capability, in suite order. */
export interface ExpandedTest {
  capability: string;
  type: 'MFT' | 'INV';
  cases: BehaviouralCase[];
}

/** A failed case as reported in metrics.json. */
export type BehaviouralFailure =
  | { text: string; expected: 'positive' | 'negative'; predicted: string; score: number }
  | { text: string; perturbed: string; predicted: [string, string]; scores: [number, number] };

/** The result of one capability in metrics.json. */
export interface CapabilityResult {
  type: 'MFT' | 'INV';
  cases: number;
  passed: number;
  /** passed / cases rounded to 6 decimals, in [0, 1] (1 for a test without cases). */
  pass_rate: number;
  /** The first {@link MAX_REPORTED_FAILURES} failed cases, in case order. */
  failures: BehaviouralFailure[];
}

/** `behavioural` in metrics.json: capability → result, in suite order. */
export type BehaviouralMetrics = Record<string, CapabilityResult>;

/** The behavioural gate's outcome, recorded in reports/evaluated.json. */
export interface BehaviouralGateOutcome {
  /** evaluate.behavioural.min_pass_rate when evaluate ran; null = the gate is off (it always passes). */
  min_pass_rate: number | null;
  passed: boolean;
  /** Capabilities below min_pass_rate, in suite order (empty when passed). */
  failing: Array<{ capability: string; pass_rate: number }>;
}

/**
 * Reads and validates a suite file.
 * @throws PipelineError naming the file and the problem (unreadable, not YAML, a bad key, a placeholder
 *   without a filler, a substitution whose filler is missing from the template or has a single value).
 */
export async function loadSuite(file: string = BEHAVIOURAL_SUITE_FILE): Promise<BehaviouralSuite> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PipelineError(
      `${file}: cannot read the behavioural suite: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (error) {
    throw new PipelineError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  return parseSuite(data, file);
}

/**
 * Validates a parsed suite (see {@link loadSuite}).
 * @param source file name used in error messages.
 * @throws PipelineError listing every problem as `path: problem`.
 */
export function parseSuite(data: unknown, source = 'suite.yaml'): BehaviouralSuite {
  const result = suiteSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new PipelineError(`${source}: invalid behavioural suite:\n  - ${problems.join('\n  - ')}`);
  }
  const suite = result.data;
  const problems: string[] = [];
  for (const [name, test] of Object.entries(suite.tests)) {
    test.groups.forEach((group, g) => {
      const where = `tests.${name}.groups.${g}`;
      if (test.type === 'MFT' && !('label' in group)) problems.push(`${where}: an MFT group needs a label`);
      if (test.type === 'INV' && !('perturb' in group)) problems.push(`${where}: an INV group needs perturb`);
      const substitute =
        'perturb' in group && typeof group.perturb === 'object' ? group.perturb.substitute : null;
      if (substitute !== null && (suite.fillers[substitute]?.length ?? 0) < 2) {
        problems.push(`${where}: substitute "${substitute}" needs a filler with at least 2 values`);
      }
      group.templates.forEach((template, t) => {
        const names = placeholders(template);
        for (const n of names.filter((n) => !suite.fillers[n])) {
          problems.push(`${where}.templates.${t}: no filler "${n}" for "${template}"`);
        }
        if (substitute !== null && !names.includes(substitute)) {
          problems.push(`${where}.templates.${t}: "${template}" has no {${substitute}} to substitute`);
        }
      });
    });
  }
  if (problems.length) {
    throw new PipelineError(`${source}: invalid behavioural suite:\n  - ${problems.join('\n  - ')}`);
  }
  return suite;
}

/** Distinct placeholder names of a template, in order of first appearance. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** `template` with each placeholder replaced by its value in `values`. */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => values[name]);
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units (seeds a template's generator). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * The placeholder value combinations of a template, capped: all of them in combination order (the last
 * placeholder varies fastest) when there are at most `max`, else `max` of them drawn without replacement
 * with `random` (partial Fisher–Yates) and put back in combination order.
 * @returns min(max, product of the filler sizes) name → value maps.
 */
export function combinations(
  names: readonly string[],
  fillers: Readonly<Record<string, readonly string[]>>,
  max: number,
  random: Random,
): Array<Record<string, string>> {
  const sizes = names.map((n) => fillers[n].length);
  const total = sizes.reduce((a, b) => a * b, 1);
  let chosen = Array.from({ length: total }, (_, i) => i);
  if (total > max) {
    for (let i = 0; i < max; i++) {
      const j = i + Math.floor(random() * (total - i));
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
    chosen = chosen.slice(0, max).sort((a, b) => a - b);
  }
  return chosen.map((index) => {
    const picks = new Array<number>(names.length);
    for (let k = names.length - 1; k >= 0; k--) {
      picks[k] = index % sizes[k];
      index = Math.floor(index / sizes[k]);
    }
    return Object.fromEntries(names.map((name, k) => [name, fillers[name][picks[k]]]));
  });
}

/**
 * CheckList's typo perturbation: swaps two adjacent, different letters inside a word of 4 or more
 * letters, the pair drawn uniformly with `random` among all such pairs of the text. A text without one
 * is returned unchanged.
 * @example typo("The food was good.", random) gives one of "The ofod was good.", "The fodo was good.",
 *   "The food was ogod." and "The food was godo."
 */
export function typo(text: string, random: Random): string {
  const positions: number[] = [];
  for (const word of text.matchAll(/\p{L}{4,}/gu)) {
    for (let k = 0; k + 1 < word[0].length; k++) {
      if (word[0][k] !== word[0][k + 1]) positions.push(word.index + k);
    }
  }
  if (positions.length === 0) return text;
  const i = positions[Math.floor(random() * positions.length)];
  return text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
}

/**
 * The punctuation perturbation: the text's final run of `.`, `!` and `?` replaced by another ending of
 * {@link PUNCTUATION_ENDINGS}, drawn with `random`.
 */
export function changePunctuation(text: string, random: Random): string {
  const ending = /[.!?]*$/.exec(text)![0];
  const others = PUNCTUATION_ENDINGS.filter((e) => e !== ending);
  return text.slice(0, text.length - ending.length) + others[Math.floor(random() * others.length)];
}

/** The INV copy of a filled template: the perturbation applied with `random`. */
function perturb(
  template: string,
  values: Readonly<Record<string, string>>,
  perturbation: Perturbation,
  fillers: Readonly<Record<string, readonly string[]>>,
  random: Random,
): string {
  const text = fill(template, values);
  if (perturbation === 'typo') return typo(text, random);
  if (perturbation === 'punctuation') return changePunctuation(text, random);
  const name = perturbation.substitute;
  const others = fillers[name].filter((v) => v !== values[name]);
  return fill(template, { ...values, [name]: others[Math.floor(random() * others.length)] });
}

/**
 * Expands a suite into its cases. Each template gets its own generator, seeded with `suite.seed` XOR the
 * {@link fnv1a} hash of the template text, which draws the capped combinations and then each case's
 * perturbation in case order.
 * @returns one entry per test, in suite order; ≤ max_per_template cases per template.
 */
export function expandSuite(suite: BehaviouralSuite): ExpandedTest[] {
  return Object.entries(suite.tests).map(([capability, test]) => {
    const cases: BehaviouralCase[] = [];
    for (const group of test.groups) {
      for (const template of group.templates) {
        const random = createRandom((suite.seed ^ fnv1a(template)) >>> 0);
        const all = combinations(placeholders(template), suite.fillers, suite.max_per_template, random);
        for (const values of all) {
          if ('label' in group) {
            cases.push({
              type: 'MFT',
              text: fill(template, values),
              expected: group.label === 'positive' ? 1 : 0,
            });
          } else {
            const perturbed = perturb(template, values, group.perturb, suite.fillers, random);
            cases.push({ type: 'INV', text: fill(template, values), perturbed });
          }
        }
      }
    }
    return { capability, type: test.type, cases };
  });
}

const sentimentName = (label: 0 | 1 | null): string =>
  label === null ? 'unknown' : label === 1 ? 'positive' : 'negative';

/** Scores texts: what lib-ml's scoreTextsWithFeatures gives for a predictor (one entry per text). */
export type TextScorer = (texts: readonly string[]) => ScoredTexts;

/**
 * Runs the expanded tests. A text is predicted positive when its score is ≥ 0.5 (lib-ml's THRESHOLD) and
 * "unknown" when no feature of the vectorizer fires in it (an MFT case then fails; an INV case passes
 * only when both texts are unknown).
 * @param score scores all the suite's texts in one call (e.g. `(t) => scoreTextsWithFeatures(predictor, t)`).
 * @returns capability → result, in the order of `tests`.
 */
export function runTests(tests: readonly ExpandedTest[], score: TextScorer): BehaviouralMetrics {
  const texts = tests.flatMap((t) =>
    t.cases.flatMap((c) => (c.type === 'MFT' ? [c.text] : [c.text, c.perturbed])),
  );
  const { scores, knownFeatures } = score(texts);
  let next = 0;
  const predictNext = () => {
    const i = next++;
    const label: 0 | 1 | null = knownFeatures[i] === 0 ? null : scores[i] >= THRESHOLD ? 1 : 0;
    return { label, score: scores[i] };
  };
  const results: BehaviouralMetrics = {};
  for (const test of tests) {
    let passed = 0;
    const failures: BehaviouralFailure[] = [];
    for (const c of test.cases) {
      const a = predictNext();
      let failure: BehaviouralFailure | null = null;
      if (c.type === 'MFT') {
        if (a.label !== c.expected) {
          failure = {
            text: c.text,
            expected: c.expected === 1 ? 'positive' : 'negative',
            predicted: sentimentName(a.label),
            score: a.score,
          };
        }
      } else {
        const b = predictNext();
        if (a.label !== b.label) {
          failure = {
            text: c.text,
            perturbed: c.perturbed,
            predicted: [sentimentName(a.label), sentimentName(b.label)],
            scores: [a.score, b.score],
          };
        }
      }
      if (failure === null) passed++;
      else if (failures.length < MAX_REPORTED_FAILURES) failures.push(failure);
    }
    const cases = test.cases.length;
    const passRate = cases ? Math.round((passed / cases) * 1e6) / 1e6 : 1;
    results[test.capability] = { type: test.type, cases, passed, pass_rate: passRate, failures };
  }
  return results;
}

/**
 * The behavioural gate: passes when `minPassRate` is null (off) or every capability's pass rate is ≥ it.
 */
export function behaviouralGate(
  results: BehaviouralMetrics,
  minPassRate: number | null,
): BehaviouralGateOutcome {
  const failing =
    minPassRate === null
      ? []
      : Object.entries(results)
          .filter(([, r]) => r.pass_rate < minPassRate)
          .map(([capability, r]) => ({ capability, pass_rate: r.pass_rate }));
  return { min_pass_rate: minPassRate, passed: failing.length === 0, failing };
}

/** The message of a failed behavioural gate (evaluate's error). */
export function behaviouralGateFailedMessage(gate: BehaviouralGateOutcome): string {
  const list = gate.failing.map((f) => `${f.capability} ${f.pass_rate}`).join(', ');
  return `behavioural gate failed: pass rate below evaluate.behavioural.min_pass_rate ${gate.min_pass_rate}: ${list}; the model is not published`;
}

/**
 * Loads, expands and runs the behavioural suite, and applies the gate.
 * @param minPassRate evaluate.behavioural.min_pass_rate (null = gate off).
 * @param file the suite file (default {@link BEHAVIOURAL_SUITE_FILE}).
 * @returns the per-capability results (for metrics.json) and the gate outcome (for evaluated.json); the
 *   caller fails the stage when `gate.passed` is false.
 * @throws PipelineError when the suite file is missing or invalid.
 */
export async function runBehaviouralSuite(
  predictor: Predictor,
  minPassRate: number | null,
  file: string = BEHAVIOURAL_SUITE_FILE,
): Promise<{ results: BehaviouralMetrics; gate: BehaviouralGateOutcome }> {
  const tests = expandSuite(await loadSuite(file));
  const results = runTests(tests, (texts) => scoreTextsWithFeatures(predictor, texts));
  return { results, gate: behaviouralGate(results, minPassRate) };
}
