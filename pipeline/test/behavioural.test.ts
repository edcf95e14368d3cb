/**
 * The behavioural suite (CheckList-style): the suite file, its deterministic expansion, the
 * perturbations, scoring and the gate; and evaluate reporting it in metrics.json and evaluated.json.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRandom, initBackend } from '@restaurant-sentiment/lib-ml';
import { PipelineError } from '../src/errors.js';
import {
  BEHAVIOURAL_SUITE_FILE,
  behaviouralGate,
  behaviouralGateFailedMessage,
  changePunctuation,
  combinations,
  expandSuite,
  loadSuite,
  parseSuite,
  placeholders,
  runTests,
  typo,
  type BehaviouralMetrics,
  type BehaviouralSuite,
  type ExpandedTest,
} from '../src/evaluate/behavioural.js';
import { evaluate } from '../src/stages/evaluate.js';
import { prepare } from '../src/stages/prepare.js';
import { train } from '../src/stages/train.js';
import { createWorkspace, REPO_ROOT } from './workspace.js';

const CAPABILITIES = [
  'negation',
  'negated_negative',
  'intensifiers',
  'contrast',
  'typos',
  'names',
  'cities',
  'punctuation',
];

describe('the suite file', () => {
  it('lives in pipeline/behavioural (a dependency of evaluate in dvc.yaml)', async () => {
    expect(BEHAVIOURAL_SUITE_FILE).toBe(path.join(REPO_ROOT, 'pipeline/behavioural/suite.yaml'));
    expect(await readFile(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8')).toContain(
      '      - pipeline/behavioural\n',
    );
  });

  it('expands to the same cases every time: ≤ 6 per template, capabilities in suite order', async () => {
    const suite = await loadSuite();
    const tests = expandSuite(suite);
    expect(tests.map((t) => [t.capability, t.type, t.cases.length])).toEqual([
      ['negation', 'MFT', 84],
      ['negated_negative', 'MFT', 48],
      ['intensifiers', 'MFT', 36],
      ['contrast', 'MFT', 60],
      ['typos', 'INV', 36],
      ['names', 'INV', 48],
      ['cities', 'INV', 30],
      ['punctuation', 'INV', 36],
    ]);
    expect(expandSuite(await loadSuite())).toEqual(tests);
    expect(tests.map((t) => t.cases[0])).toEqual([
      { type: 'MFT', text: 'The food was not good.', expected: 0 },
      { type: 'MFT', text: 'The food was not bad at all.', expected: 1 },
      { type: 'MFT', text: 'The pasta was so amazing.', expected: 1 },
      { type: 'MFT', text: 'I used to hate Casa Verde, but now I love it.', expected: 1 },
      { type: 'INV', text: 'The food was wonderful.', perturbed: 'The food was wondefrul.' },
      { type: 'INV', text: 'Maria said the sushi was tasty.', perturbed: 'Aisha said the sushi was tasty.' },
      { type: 'INV', text: 'The best pasta in Austin.', perturbed: 'The best pasta in Seattle.' },
      { type: 'INV', text: 'The food was wonderful.', perturbed: 'The food was wonderful...' },
    ]);
    // The issue's own examples are cases.
    const texts = (i: number) => tests[i].cases.map((c) => c.text);
    expect(texts(0)).toContain("Luigi's never disappoints.");
    expect(texts(0).filter((t) => t.startsWith('I cannot imagine better '))).toHaveLength(6);
    expect(texts(1).filter((t) => t.includes(' not bad at all.'))).toHaveLength(7);
    for (const test of tests) {
      for (const c of test.cases) {
        expect(c.text).not.toMatch(/[{}]/);
        if (c.type === 'INV') expect(c.perturbed).not.toBe(c.text);
      }
    }
  });

  it("draws a template's cases from its own seed: editing one template leaves the others' cases alone", async () => {
    const suite = await loadSuite();
    const edited = structuredClone(suite);
    edited.tests.negation.groups[0].templates[0] = 'The {food} was not {pos_adj} today.';
    const [before, after] = [expandSuite(suite)[0].cases, expandSuite(edited)[0].cases];
    expect(after.slice(6)).toEqual(before.slice(6));
    expect(after.slice(0, 6).map((c) => c.text.replace(' today.', '.'))).not.toEqual(
      before.slice(0, 6).map((c) => c.text),
    );
  });
});

describe('parseSuite', () => {
  const valid = (): BehaviouralSuite => ({
    seed: 1,
    max_per_template: 2,
    fillers: { food: ['soup', 'pie'], name: ['Ann'] },
    tests: {
      basics: { type: 'MFT', description: 'd', groups: [{ label: 'positive', templates: ['Good {food}.'] }] },
    },
  });

  it('names every problem with its path', () => {
    const suite = valid() as unknown as Record<string, unknown> & BehaviouralSuite;
    suite.tests.names = {
      type: 'INV',
      description: 'd',
      groups: [
        { label: 'negative', templates: ['x'] },
        { perturb: { substitute: 'name' }, templates: ['{name} ate {dish}', 'Nice {food}'] },
      ],
    };
    expect(() => parseSuite(suite, 'suite.yaml')).toThrow(
      new PipelineError(
        'suite.yaml: invalid behavioural suite:\n' +
          '  - tests.names.groups.0: an INV group needs perturb\n' +
          '  - tests.names.groups.1: substitute "name" needs a filler with at least 2 values\n' +
          '  - tests.names.groups.1.templates.0: no filler "dish" for "{name} ate {dish}"\n' +
          '  - tests.names.groups.1.templates.1: "Nice {food}" has no {name} to substitute',
      ),
    );
  });

  it('rejects unknown keys, bad types and empty lists', () => {
    const suite = { ...valid(), seeds: 2, max_per_template: 0, fillers: { food: [] } };
    expect(() => parseSuite(suite, 'suite.yaml')).toThrow(/^suite\.yaml: invalid behavioural suite:\n {2}- /);
    const message = (() => {
      try {
        parseSuite(suite, 'suite.yaml');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('max_per_template: Too small: expected number to be >=1');
    expect(message).toContain('fillers.food: Too small: expected array to have >=1 items');
    expect(message).toContain('(top level): Unrecognized key: "seeds"');
  });

  it('loadSuite says which file cannot be read or parsed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-suite-'));
    try {
      await expect(loadSuite(path.join(dir, 'missing.yaml'))).rejects.toThrow(
        `${path.join(dir, 'missing.yaml')}: cannot read the behavioural suite: ENOENT`,
      );
      await writeFile(path.join(dir, 'bad.yaml'), 'tests: [unclosed\n');
      await expect(loadSuite(path.join(dir, 'bad.yaml'))).rejects.toThrow(
        new RegExp(`^${path.join(dir, 'bad.yaml')}: not valid YAML: `),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('expansion and perturbations', () => {
  it('placeholders are distinct names in order of first appearance', () => {
    expect(placeholders('{a} and {b} and {a}')).toEqual(['a', 'b']);
    expect(placeholders('no placeholders')).toEqual([]);
  });

  it('combinations: all in order up to the cap, else a seeded sample kept in order', () => {
    const fillers = { a: ['1', '2'], b: ['x', 'y', 'z'] };
    expect(combinations(['a', 'b'], fillers, 10, createRandom(3))).toEqual([
      { a: '1', b: 'x' },
      { a: '1', b: 'y' },
      { a: '1', b: 'z' },
      { a: '2', b: 'x' },
      { a: '2', b: 'y' },
      { a: '2', b: 'z' },
    ]);
    expect(combinations(['a', 'b'], fillers, 3, createRandom(3))).toEqual([
      { a: '1', b: 'y' },
      { a: '2', b: 'x' },
      { a: '2', b: 'y' },
    ]);
    expect(combinations([], fillers, 3, createRandom(3))).toEqual([{}]);
  });

  it('typo swaps two different adjacent letters of a 4+ letter word', () => {
    const random = createRandom(1);
    expect([typo('The food was good.', random), typo('The food was good.', random)]).toEqual([
      'The food was ogod.',
      'The ofod was good.',
    ]);
    expect(typo('a b c, too', createRandom(1))).toBe('a b c, too');
    expect(typo('aaaa bbbb', createRandom(1))).toBe('aaaa bbbb');
  });

  it('changePunctuation replaces the final punctuation by another ending', () => {
    const random = createRandom(2);
    expect(['Great food.', 'Great food!!!', 'Great food'].map((t) => changePunctuation(t, random))).toEqual([
      'Great food!!!',
      'Great food.',
      'Great food!',
    ]);
  });
});

describe('runTests and the gate', () => {
  const tests: ExpandedTest[] = [
    {
      capability: 'mft',
      type: 'MFT',
      cases: [
        { type: 'MFT', text: 'good', expected: 1 },
        { type: 'MFT', text: 'bad', expected: 1 },
        { type: 'MFT', text: 'zzz', expected: 0 },
        { type: 'MFT', text: 'meh', expected: 0 },
      ],
    },
    {
      capability: 'inv',
      type: 'INV',
      cases: [
        { type: 'INV', text: 'good', perturbed: 'good!' },
        { type: 'INV', text: 'good', perturbed: 'bad' },
        { type: 'INV', text: 'zzz', perturbed: 'zzz!' },
      ],
    },
  ];
  /** A fake scorer: "good…" 0.9, "bad" 0.2, "meh" 0.5, anything else no known feature. */
  const score = (texts: readonly string[]) => {
    const table: Record<string, number> = { good: 0.9, 'good!': 0.9, bad: 0.2, meh: 0.5 };
    return {
      scores: Float32Array.from(texts, (t) => table[t] ?? 0.7),
      knownFeatures: Uint32Array.from(texts, (t) => (t in table ? 3 : 0)),
    };
  };

  it('scores MFT cases against their label and INV pairs against each other ("unknown" counts as a label)', () => {
    expect(runTests(tests, score)).toEqual({
      mft: {
        type: 'MFT',
        cases: 4,
        passed: 1,
        pass_rate: 0.25,
        failures: [
          { text: 'bad', expected: 'positive', predicted: 'negative', score: expect.closeTo(0.2, 6) },
          { text: 'zzz', expected: 'negative', predicted: 'unknown', score: expect.closeTo(0.7, 6) },
          { text: 'meh', expected: 'negative', predicted: 'positive', score: 0.5 },
        ],
      },
      inv: {
        type: 'INV',
        cases: 3,
        passed: 2,
        pass_rate: 0.666667,
        failures: [
          {
            text: 'good',
            perturbed: 'bad',
            predicted: ['positive', 'negative'],
            scores: [expect.closeTo(0.9, 6), expect.closeTo(0.2, 6)],
          },
        ],
      },
    });
  });

  it('keeps at most 3 failures and gives an empty test a pass rate of 1', () => {
    const many: ExpandedTest = {
      capability: 'many',
      type: 'MFT',
      cases: ['bad', 'bad', 'bad', 'bad', 'bad'].map((text) => ({ type: 'MFT', text, expected: 1 })),
    };
    const result = runTests([many, { capability: 'empty', type: 'INV', cases: [] }], score);
    expect(result.many.failures).toHaveLength(3);
    expect(result.many.passed).toBe(0);
    expect(result.empty).toEqual({ type: 'INV', cases: 0, passed: 0, pass_rate: 1, failures: [] });
  });

  it('the gate is off with null, else lists the capabilities below the rate', () => {
    const results = runTests(tests, score);
    expect(behaviouralGate(results, null)).toEqual({ min_pass_rate: null, passed: true, failing: [] });
    expect(behaviouralGate(results, 0.25)).toEqual({ min_pass_rate: 0.25, passed: true, failing: [] });
    const failed = behaviouralGate(results, 0.7);
    expect(failed).toEqual({
      min_pass_rate: 0.7,
      passed: false,
      failing: [
        { capability: 'mft', pass_rate: 0.25 },
        { capability: 'inv', pass_rate: 0.666667 },
      ],
    });
    expect(behaviouralGateFailedMessage(failed)).toBe(
      'behavioural gate failed: pass rate below evaluate.behavioural.min_pass_rate 0.7: mft 0.25, inv 0.666667; the model is not published',
    );
  });
});

describe('evaluate runs the suite (real data, small model)', () => {
  let ws: Awaited<ReturnType<typeof createWorkspace>>;
  beforeAll(async () => {
    await initBackend('wasm');
    ws = await createWorkspace({
      vectorizer: { word: { max_features: 3000 }, char: { enabled: false } },
      train: { epochs: 30 },
      evaluate: { folds: 2, min_accuracy: 0.5, champion: { version: 'none', alpha: 0.05 } },
    });
    await prepare(ws.ctx);
    await train(ws.ctx);
  });
  afterAll(() => ws.cleanup());

  const readJson = async (file: string) => JSON.parse(await readFile(path.join(ws.root, file), 'utf8'));

  it('reports each capability in metrics.json and the gate (off) in evaluated.json', async () => {
    const metrics = await evaluate(ws.ctx);
    const behavioural = metrics.behavioural as BehaviouralMetrics;
    expect(Object.keys(behavioural)).toEqual(CAPABILITIES);
    expect(Object.values(behavioural).map((r) => [r.type, r.cases])).toEqual([
      ['MFT', 84],
      ['MFT', 48],
      ['MFT', 36],
      ['MFT', 60],
      ['INV', 36],
      ['INV', 48],
      ['INV', 30],
      ['INV', 36],
    ]);
    for (const r of Object.values(behavioural)) {
      expect(r.pass_rate).toBe(Math.round((r.passed / r.cases) * 1e6) / 1e6);
      expect(r.failures.length).toBe(Math.min(3, r.cases - r.passed));
    }
    expect((await readJson('metrics.json')).behavioural).toEqual(behavioural);
    expect((await readJson('reports/evaluated.json')).behavioural).toEqual({
      min_pass_rate: null,
      passed: true,
      failing: [],
    });
  });

  it('fails the stage below evaluate.behavioural.min_pass_rate, after recording the failed gate', async () => {
    const ctx = {
      ...ws.ctx,
      params: {
        ...ws.ctx.params,
        evaluate: { ...ws.ctx.params.evaluate, behavioural: { min_pass_rate: 1 } },
      },
    };
    const behavioural = (await readJson('metrics.json')).behavioural as BehaviouralMetrics;
    const failing = Object.entries(behavioural)
      .filter(([, r]) => r.pass_rate < 1)
      .map(([capability, r]) => ({ capability, pass_rate: r.pass_rate }));
    expect(failing.length).toBeGreaterThan(0); // a small word-only model is far from perfect
    const gate = { min_pass_rate: 1, passed: false, failing };
    await expect(evaluate(ctx)).rejects.toThrow(new PipelineError(behaviouralGateFailedMessage(gate)));
    expect(behaviouralGateFailedMessage(gate)).toMatch(
      /^behavioural gate failed: pass rate below evaluate\.behavioural\.min_pass_rate 1: [a-z_]+ 0\.\d+/,
    );
    const evaluated = await readJson('reports/evaluated.json');
    expect(evaluated.behavioural).toEqual(gate);
    expect(evaluated.gate.passed).toBe(true); // the accuracy gate is another matter
    expect((await readJson('metrics.json')).behavioural).toEqual(behavioural);
  });
});
