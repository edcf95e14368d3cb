/**
 * checkov (PyPI, pinned in requirements.txt, installed in .venv) scans the manifests the chart renders for
 * the default values and every edge case: no check may fail. Accepted findings are skipped in the chart
 * itself with `checkov.io/skip<N>: <check>=<reason>` annotations (rs.checkovSkips in _helpers.tpl); this
 * test pins exactly which checks are skipped on which objects, so a new skip is a visible change.
 *
 * Needs .venv/bin/checkov (`python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`): skipped
 * with a message when it is missing, failed under CI.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../src/helm/binary.js';
import { renderChartText, type K8sObject } from '../src/helm/render.js';
import { GOOD_CASES } from './support/cases.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const CHECKOV = path.join(REPO_ROOT, '.venv', 'bin', 'checkov');

const haveCheckov = toolAvailable(
  existsSync(CHECKOV) ? undefined : `${CHECKOV} not found`,
  'the checkov scan',
  'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt',
);
const describeCheckov = haveCheckov ? describe : describe.skip;

/** The checks every Deployment skips, and the one model-service adds for its GITHUB_TOKEN variable. */
const DEPLOYMENT_SKIPS = ['CKV2_K8S_6', 'CKV_K8S_15', 'CKV_K8S_40', 'CKV_K8S_43'];
const MODEL_SERVICE_SKIPS = ['CKV_K8S_35'];

/** One check result in checkov's JSON report. */
interface CheckResult {
  check_id: string;
  check_name: string;
  /** `<Kind>.<namespace>.<name>[.<labels>]`. */
  resource: string;
  /** `/<case>.yaml`, relative to the scanned folder. */
  file_path: string;
  check_result: { result: string; suppress_comment?: string };
}

interface CheckovReport {
  check_type: string;
  summary: {
    passed: number;
    failed: number;
    skipped: number;
    parsing_errors: number;
    resource_count: number;
  };
  results: { passed_checks: CheckResult[]; failed_checks: CheckResult[]; skipped_checks: CheckResult[] };
}

/** Results of one case's file. */
const inCase = (checks: CheckResult[], name: string) => checks.filter((c) => c.file_path === `/${name}.yaml`);

/** `<check> <Kind>/<name>` of a result (the name is the third dot-separated part of `resource`). */
const label = (c: CheckResult) => {
  const [kind, , name] = c.resource.split('.');
  return `${c.check_id} ${kind}/${name}`;
};

describeCheckov('checkov on the rendered chart', () => {
  let dir: string;
  let report: CheckovReport;
  const deploymentsOf = new Map<string, string[]>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-checkov-'));
    for (const c of GOOD_CASES) {
      const text = await renderChartText({ valuesFiles: c.valuesFiles });
      const objects = parseAllDocuments(text).map((d) => d.toJS() as K8sObject | null);
      deploymentsOf.set(
        c.name,
        objects.filter((o) => o?.kind === 'Deployment').map((o) => o!.metadata.name),
      );
      await writeFile(path.join(dir, `${c.name}.yaml`), text);
    }
    // --soft-fail: exit 0 with failed checks too; the report says which. --skip-download: no network.
    const { stdout } = await promisify(execFile)(
      CHECKOV,
      [
        '-d',
        dir,
        '--framework',
        'kubernetes',
        '--output',
        'json',
        '--compact',
        '--skip-download',
        '--soft-fail',
      ],
      { maxBuffer: 256 * 1024 * 1024, env: { PATH: process.env.PATH, HOME: dir } },
    );
    const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[];
    const reports = Array.isArray(parsed) ? parsed : [parsed];
    const kubernetes = reports.find((r) => r.check_type === 'kubernetes');
    if (!kubernetes) throw new Error(`checkov reported no kubernetes results: ${stdout.slice(0, 500)}`);
    report = kubernetes;
  }, 600_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('parses every rendered file and runs checks on each', () => {
    expect(report.summary.parsing_errors).toBe(0);
    for (const c of GOOD_CASES) {
      expect({ case: c.name, passed: inCase(report.results.passed_checks, c.name).length > 0 }).toEqual({
        case: c.name,
        passed: true,
      });
    }
  });

  it.each(GOOD_CASES.map((c) => [c.name]))('%s: no failed check', (name) => {
    expect(inCase(report.results.failed_checks, name).map((c) => `${label(c)}: ${c.check_name}`)).toEqual([]);
  });

  it.each(GOOD_CASES.map((c) => [c.name]))(
    '%s: skips only the documented checks, each with a reason',
    (name) => {
      const skipped = inCase(report.results.skipped_checks, name);
      const expected = deploymentsOf
        .get(name)!
        .flatMap((deployment) =>
          [...DEPLOYMENT_SKIPS, ...(deployment.startsWith('model-service-') ? MODEL_SERVICE_SKIPS : [])].map(
            (check) => `${check} ${check.startsWith('CKV2_') ? 'Pod' : 'Deployment'}/${deployment}`,
          ),
        );
      expect(skipped.map(label).sort()).toEqual(expected.sort());
      for (const check of skipped) expect(check.check_result.suppress_comment?.length).toBeGreaterThan(40);
    },
  );
});
