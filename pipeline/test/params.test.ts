import { describe, expect, it } from '@jest/globals';
import { PipelineError } from '../src/errors.js';
import { classifierConfig, parseParams, trainConfig, vectorizerConfig } from '../src/params.js';
import { realParams } from './workspace.js';

describe('params', () => {
  it('parses the real params.yaml into lib-ml configs', async () => {
    const p = await realParams();
    expect(vectorizerConfig(p)).toEqual({
      word: { ngramRange: [1, 2], maxFeatures: 20000, minDf: 1 },
      char: { ngramRange: [2, 5], maxFeatures: 20000, minDf: 2 },
      sublinearTf: true,
      lexicons: ['afinn', 'vader'],
      negation: 'clause',
    });
    expect(classifierConfig(p)).toEqual({
      type: 'logistic_regression',
      hiddenUnits: 32,
      dropout: 0.3,
      l2: 0.0001,
      seed: 1,
    });
    expect(trainConfig(p)).toEqual({
      learningRate: 0.05,
      epochs: 60,
      batchSize: 32,
      validationSplit: 0.1,
      patience: 5,
      seed: 1,
    });
  });

  it('names a missing key', async () => {
    const p = structuredClone(await realParams()) as unknown as { train: Record<string, unknown> };
    delete p.train.learning_rate;
    expect(() => parseParams(p)).toThrow('train.learning_rate: missing');
  });

  it('names a mistyped (unknown) key', async () => {
    const p = structuredClone(await realParams()) as unknown as { train: Record<string, unknown> };
    p.train.learing_rate = p.train.learning_rate;
    delete p.train.learning_rate;
    const error = (() => {
      try {
        parseParams(p);
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.message).toContain('train.learing_rate: unknown key (mistyped?)');
    expect(error.message).toContain('train.learning_rate: missing');
  });

  it('names a key of the wrong type or range', async () => {
    const p = structuredClone(await realParams()) as unknown as Record<string, Record<string, unknown>>;
    p.evaluate.folds = 'five';
    p.prepare.test_size = 1.5;
    expect(() => parseParams(p)).toThrow(
      'params.yaml: invalid params:\n' +
        '  - prepare.test_size: Too big: expected number to be <1\n' +
        '  - evaluate.folds: Invalid input: expected number, received string',
    );
  });

  it('takes the feedback folder, and says what replaced the old feedback file key', async () => {
    const p = structuredClone(await realParams()) as unknown as {
      prepare: { feedback: Record<string, unknown> };
    };
    expect(p.prepare.feedback).toEqual({ enabled: true, dir: 'feedback' });
    p.prepare.feedback.path = 'feedback/feedback.jsonl';
    delete p.prepare.feedback.dir;
    expect(() => parseParams(p)).toThrow(
      'params.yaml: invalid params:\n' +
        '  - prepare.feedback.dir: missing\n' +
        '  - prepare.feedback.path: replaced by prepare.feedback.dir, the feedback folder (every feedback*.jsonl in it is read)',
    );
    p.prepare.feedback = { enabled: true, dir: '' };
    expect(() => parseParams(p)).toThrow('prepare.feedback.dir: Too small');
  });

  it('takes the champion as latest, none, a version or a range, and alpha in (0, 1)', async () => {
    const p = structuredClone(await realParams()) as unknown as {
      evaluate: { champion: { version: unknown; alpha: unknown } };
    };
    expect(p.evaluate.champion).toEqual({ version: 'latest', alpha: 0.05 });
    for (const version of ['none', '1.2.3', 'v1.2.3', '^1.2', '>=1.0 <2']) {
      p.evaluate.champion = { version, alpha: 0.01 };
      expect(parseParams(p).evaluate.champion).toEqual({ version, alpha: 0.01 });
    }
    p.evaluate.champion = { version: 'newest', alpha: 0 };
    expect(() => parseParams(p)).toThrow(
      'params.yaml: invalid params:\n' +
        '  - evaluate.champion.version: must be latest (the newest stable release), none (no comparison), a version such as 1.2.3 or a semver range such as ^1.2\n' +
        '  - evaluate.champion.alpha: Too small: expected number to be >0',
    );
    // YAML reads an unquoted 1.0 as a number.
    p.evaluate.champion = { version: 1.0, alpha: 1 };
    expect(() => parseParams(p)).toThrow(
      'params.yaml: invalid params:\n' +
        '  - evaluate.champion.version: Invalid input: expected string, received number\n' +
        '  - evaluate.champion.alpha: Too big: expected number to be <1',
    );
  });

  it('takes vectorizer.negation as punctuation or clause, and an optional behavioural gate in [0, 1]', async () => {
    const p = structuredClone(await realParams()) as unknown as {
      vectorizer: { negation: unknown };
      evaluate: { behavioural: { min_pass_rate: unknown } };
    };
    expect(p.evaluate.behavioural).toEqual({ min_pass_rate: null });
    p.vectorizer.negation = 'punctuation';
    p.evaluate.behavioural.min_pass_rate = 0.75;
    expect(vectorizerConfig(parseParams(p)).negation).toBe('punctuation');
    expect(parseParams(p).evaluate.behavioural).toEqual({ min_pass_rate: 0.75 });
    p.vectorizer.negation = 'sentence';
    p.evaluate.behavioural.min_pass_rate = 1.5;
    expect(() => parseParams(p)).toThrow(
      'params.yaml: invalid params:\n' +
        '  - vectorizer.negation: Invalid option: expected one of "punctuation"|"clause"\n' +
        '  - evaluate.behavioural.min_pass_rate: Too big: expected number to be <=1',
    );
    delete (p as { vectorizer: Record<string, unknown> }).vectorizer.negation;
    p.evaluate.behavioural = {} as never;
    expect(() => parseParams(p)).toThrow(
      'params.yaml: invalid params:\n' +
        '  - vectorizer.negation: Invalid option: expected one of "punctuation"|"clause"\n' +
        '  - evaluate.behavioural.min_pass_rate: missing',
    );
  });
});
