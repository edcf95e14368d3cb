import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { loadPipeline, orderStages, parseDvcYaml, runPipeline, type DvcStage } from '../src/runner/dvc.js';
import { REPO_ROOT } from './workspace.js';

const SCHEMA = path.join(REPO_ROOT, 'pipeline/test/fixtures/dvc.yaml.schema.json');
const SHARED_SCHEMA = path.join(REPO_ROOT, '../shared/schemas/dvc.yaml.schema.json');

describe('dvc.yaml', () => {
  it("validates against DVC's own schema", async () => {
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const doc = YAML.parse(await readFile(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8'));
    const valid = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('keeps the vendored schema identical to the shared one', async () => {
    if (!existsSync(SHARED_SCHEMA)) return; // the shared folder sits beside the clone in CI and dev
    expect(await readFile(SCHEMA, 'utf8')).toBe(await readFile(SHARED_SCHEMA, 'utf8'));
  });

  it('declares params keys (sections or dotted keys) that exist in params.yaml', async () => {
    const doc = YAML.parse(await readFile(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8'));
    const params = YAML.parse(await readFile(path.join(REPO_ROOT, 'params.yaml'), 'utf8'));
    for (const stage of Object.values<{ params?: string[] }>(doc.stages)) {
      for (const key of stage.params ?? []) {
        const value = key
          .split('.')
          .reduce<unknown>((node, k) => (node as Record<string, unknown>)?.[k], params);
        expect([key, value === undefined ? 'missing' : 'present']).toEqual([key, 'present']);
      }
    }
  });

  it('publish depends on the gate threshold; prepare on the feedback folder', async () => {
    const doc = YAML.parse(await readFile(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8'));
    const params = YAML.parse(await readFile(path.join(REPO_ROOT, 'params.yaml'), 'utf8'));
    expect(doc.stages.publish.params).toContain('evaluate.min_accuracy');
    expect(doc.stages.publish.deps).toContain('reports/evaluated.json');
    expect(doc.stages.prepare.deps).toContain(params.prepare.feedback.dir);
    // dvc repro fails on a missing dependency: the folder is kept in git (its README.md).
    expect(existsSync(path.join(REPO_ROOT, params.prepare.feedback.dir, 'README.md'))).toBe(true);
  });

  it('orders the real stages by their deps and outs', async () => {
    expect((await loadPipeline(REPO_ROOT)).map((s) => s.name)).toEqual([
      'prepare',
      'train',
      'evaluate',
      'publish',
    ]);
  });
});

describe('orderStages', () => {
  const stage = (name: string, deps: string[], outs: string[]): DvcStage => ({
    name,
    cmd: [`echo ${name}`],
    deps,
    outs,
    wdir: '.',
  });

  it('puts producers before consumers whatever the file order', () => {
    const ordered = orderStages([
      stage('c', ['b/out.txt'], ['c.txt']),
      stage('b', ['a'], ['b']),
      stage('a', ['src'], ['a/x.csv']),
    ]);
    expect(ordered.map((s) => s.name)).toEqual(['a', 'b', 'c']);
  });

  it('rejects a cycle', () => {
    expect(() => orderStages([stage('a', ['b.txt'], ['a.txt']), stage('b', ['a.txt'], ['b.txt'])])).toThrow(
      'dvc.yaml: dependency cycle among stages a, b',
    );
  });

  it('parses outs, metrics and plots entries with options', () => {
    const [s] = parseDvcYaml(
      'stages:\n  s:\n    cmd: [a, b]\n    outs: [x, {y: {cache: false}}]\n    metrics: [{m.json: {cache: false}}]\n',
    );
    expect(s).toEqual({ name: 's', cmd: ['a', 'b'], deps: [], outs: ['x', 'y', 'm.json'], wdir: '.' });
    expect(() => parseDvcYaml('stages:\n  s:\n    deps: [x]\n')).toThrow('dvc.yaml: stage s has no cmd');
  });
});

describe('runPipeline', () => {
  it('runs all stages or the named ones, and stops at a failing stage', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'rs-runner-'));
    await writeFile(
      path.join(root, 'dvc.yaml'),
      YAML.stringify({
        stages: {
          second: { cmd: 'echo second >> log.txt && echo b > b.txt', deps: ['a.txt'], outs: ['b.txt'] },
          first: { cmd: 'echo first >> log.txt && echo a > a.txt', outs: ['a.txt'] },
          broken: { cmd: 'exit 3', deps: ['b.txt'] },
        },
      }),
    );
    await expect(runPipeline(root, ['first', 'second'])).resolves.toHaveLength(2);
    expect(await readFile(path.join(root, 'log.txt'), 'utf8')).toBe('first\nsecond\n');
    await expect(runPipeline(root, ['second'])).resolves.toHaveLength(1);
    await expect(runPipeline(root, [])).rejects.toThrow('stage broken: "exit 3" exited with 3');
    expect(await readFile(path.join(root, 'log.txt'), 'utf8')).toBe('first\nsecond\nsecond\nfirst\nsecond\n');
    await expect(runPipeline(root, ['nope'])).rejects.toThrow(
      'unknown stage nope; dvc.yaml has first, second, broken',
    );
  });
});
