/**
 * `npm run feedback:collect`: validation with prepare's parser, deduplication (latest record per text),
 * texts of the test and fresh sets dropped exactly as prepare computes those sets, one atomic and
 * idempotent output file, the cluster through a fake kubectl, and clear errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LabelledRow } from '../src/data/dataset.js';
import { copyGroups, type FeedbackPod } from '../src/feedback/cluster.js';
import { main, parseCollectArgs, runCollect, type CollectReport } from '../src/feedback/cli.js';
import { COLLECTED_FILE, collectFeedback, type FeedbackSource } from '../src/feedback/collect.js';
import { prepare } from '../src/stages/prepare.js';
import { createWorkspace, REPO_ROOT } from './workspace.js';

type Workspace = Awaited<ReturnType<typeof createWorkspace>>;

/** One feedback line as model-service writes it. */
const line = (text: string, label: unknown, time: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ text, label, predictedLabel: 1, modelVersion: '1.0.0', time, ...extra });
const at = (second: number) => new Date(Date.UTC(2026, 10, 30, 9, 0, second)).toISOString();

const readJsonl = async (file: string): Promise<LabelledRow[]> =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LabelledRow);

/** Runs the command in-process; returns its exit status and output. */
async function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd,
    env,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

describe('collectFeedback', () => {
  const test: LabelledRow[] = [{ text: 'Cold soup', label: 0 }];
  const fresh: LabelledRow[] = [{ text: 'Loved the tacos', label: 1 }];

  it('validates, keeps the latest record per text, drops test and fresh texts, and counts each line once', () => {
    const sources: FeedbackSource[] = [
      {
        label: 'folder /pvc',
        files: [
          {
            name: 'feedback-pod-a.jsonl',
            content:
              [
                line('Great  ramen', 1, at(1)),
                line('great ramen', 1, at(5), { predictedLabel: 0, extra: 'dropped' }), // latest, same label
                line('Slow service', 1, at(2)),
                line('cold SOUP', 1, at(3)), // test set
                '{"text":"torn li',
              ].join('\n') + '\n',
          },
          {
            name: 'feedback-pod-b.jsonl',
            content:
              [
                line('slow  service', 0, at(4)), // later, other label: "Slow service" is superseded
                line(' loved the tacos ', 0, at(6)), // fresh set
                line('Nice view', 5, at(7)),
                line('   ', 1, at(7)),
                line('No time', 1, '30/11/2026'),
                '[1]',
                line('Same instant', 0, at(8)),
              ].join('\n') + '\r\n',
          },
        ],
      },
      {
        // The same claim read through a pod: its file repeats records, and one more at the same instant
        // as pod-b's "Same instant" record (file name decides: feedback-pod-c sorts after feedback-pod-b).
        label: 'pod rs/model-service-v1-x (claim model-service-feedback)',
        files: [
          {
            name: 'feedback-pod-c.jsonl',
            content: [
              line('Great ramen', 1, at(1)),
              line('same INSTANT', 1, at(8), { modelVersion: '1.1.0' }),
            ].join('\n'),
          },
        ],
      },
    ];
    const collected = collectFeedback(sources, { test, fresh });
    expect(collected.counts).toEqual({
      sources: ['folder /pvc', 'pod rs/model-service-v1-x (claim model-service-feedback)'],
      files: 3,
      lines: 14,
      rejected: { invalid_json: 2, invalid_label: 1, empty_text: 1, invalid_time: 1 },
      records: 9,
      duplicates: 2, // the two earlier "great ramen" records
      superseded: 2, // "Slow service" = 1 and "Same instant" = 0
      leaked: { test: 1, fresh: 1 },
      kept: 3,
    });
    expect(collected.content).toBe(
      [
        '{"text":"slow  service","label":0,"predictedLabel":1,"modelVersion":"1.0.0","time":"2026-11-30T09:00:04.000Z"}',
        '{"text":"great ramen","label":1,"predictedLabel":0,"modelVersion":"1.0.0","time":"2026-11-30T09:00:05.000Z"}',
        '{"text":"same INSTANT","label":1,"predictedLabel":1,"modelVersion":"1.1.0","time":"2026-11-30T09:00:08.000Z"}',
        '',
      ].join('\n'),
    );
  });

  it('orders equal times by text and keeps only the fields of the format; no records gives an empty file', () => {
    const collected = collectFeedback(
      [
        {
          label: 'folder /x',
          files: [
            {
              name: 'feedback.jsonl',
              content: [
                JSON.stringify({ time: at(9), label: 0, text: 'b place' }),
                JSON.stringify({
                  text: 'A place',
                  label: 1,
                  predictedLabel: 'yes',
                  modelVersion: 2,
                  time: at(9),
                }),
              ].join('\n'),
            },
          ],
        },
      ],
      { test, fresh },
    );
    expect(collected.content).toBe(
      `{"text":"A place","label":1,"time":"${at(9)}"}\n{"text":"b place","label":0,"time":"${at(9)}"}\n`,
    );
    expect(collectFeedback([], { test, fresh })).toEqual({
      counts: {
        sources: [],
        files: 0,
        lines: 0,
        rejected: { invalid_json: 0, invalid_label: 0, empty_text: 0, invalid_time: 0 },
        records: 0,
        duplicates: 0,
        superseded: 0,
        leaked: { test: 0, fresh: 0 },
        kept: 0,
      },
      content: '',
    });
  });

  it('is a fixed point: collecting the collected file (alone or with its sources) gives the same bytes', () => {
    const sources: FeedbackSource[] = [
      {
        label: 'a',
        files: [
          {
            name: 'feedback-a.jsonl',
            content: [line('x', 1, at(1)), line('X', 0, at(1)), line('y', 0, at(2))].join('\n'),
          },
          { name: 'feedback-b.jsonl', content: [line('x ', 1, at(1)), line('z', 1, at(0))].join('\n') },
        ],
      },
    ];
    const first = collectFeedback(sources, { test, fresh });
    const output = { label: 'out', files: [{ name: COLLECTED_FILE, content: first.content }] };
    expect(collectFeedback([output], { test, fresh }).content).toBe(first.content);
    expect(collectFeedback([...sources, output], { test, fresh }).content).toBe(first.content);
    expect(collectFeedback([output, ...sources], { test, fresh }).content).toBe(first.content);
  });
});

describe('feedback:collect on the real dataset', () => {
  let base: Workspace;
  let test: LabelledRow[];
  let fresh: LabelledRow[];
  let train: LabelledRow[];
  beforeAll(async () => {
    // What prepare writes is the reference for "the test and fresh sets".
    base = await createWorkspace({ prepare: { feedback: { enabled: false, dir: 'feedback' } } });
    await prepare(base.ctx);
    [train, test, fresh] = await Promise.all(
      ['train', 'test', 'fresh'].map((f) => readJsonl(path.join(base.root, 'data/prepared', `${f}.jsonl`))),
    );
  });
  afterAll(() => base.cleanup());

  it('drops exactly the test and fresh texts prepare holds out; prepare then uses every kept record', async () => {
    const ws = await createWorkspace({ prepare: { feedback: { enabled: true, dir: 'feedback' } } });
    const pvc = path.join(ws.root, 'pvc');
    try {
      await mkdir(pvc);
      const flip = (label: 0 | 1) => (1 - label) as 0 | 1;
      await writeFile(
        path.join(pvc, 'feedback-model-service-v1-a.jsonl'),
        [
          line(test[0].text.toUpperCase(), flip(test[0].label), at(1)),
          line(`  ${fresh[0].text}`, fresh[0].label, at(2)),
          line(train[0].text, flip(train[0].label), at(3)),
          line('The ramen here is out of this world', 1, at(4)),
          line('the ramen here is out of this world', 1, at(5)),
          '{"text":',
        ].join('\n') + '\n',
      );
      await writeFile(
        path.join(pvc, 'feedback-model-service-v1-b.jsonl'),
        [line(test[1].text, test[1].label, at(6)), line('Waited an hour for cold fries', 0, at(7))].join(
          '\n',
        ) + '\n',
      );
      await writeFile(path.join(pvc, 'README.md'), 'not feedback\n');

      const args = parseCollectArgs(['--from', 'pvc'], ws.root);
      const report = await runCollect(ws.root, args, ws.ctx.params);
      const file = path.join(ws.root, 'feedback', COLLECTED_FILE);
      expect(report).toEqual({
        file,
        written: true,
        pods: null,
        sources: [`folder ${pvc}`],
        files: 2,
        lines: 8,
        rejected: { invalid_json: 1, invalid_label: 0, empty_text: 0, invalid_time: 0 },
        records: 7,
        duplicates: 1,
        superseded: 0,
        leaked: { test: 2, fresh: 1 },
        kept: 3,
        warnings: [],
      } satisfies CollectReport);
      const expected = [
        line(train[0].text, flip(train[0].label), at(3)),
        line('the ramen here is out of this world', 1, at(5)),
        line('Waited an hour for cold fries', 0, at(7)),
        '',
      ].join('\n');
      expect(await readFile(file, 'utf8')).toBe(expected);

      // Rerun with the same input: same report, file untouched.
      const before = await stat(file);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await runCollect(ws.root, args, ws.ctx.params)).toEqual({ ...report, written: false });
      expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
      expect(await readFile(file, 'utf8')).toBe(expected);

      // prepare reads the collected file: nothing left for it to drop or supersede.
      const stats = await prepare(ws.ctx);
      expect(stats.feedback).toMatchObject({
        files: 1,
        lines: 3,
        records: 3,
        superseded: 0,
        accepted: 3,
        added: 2,
        overridden: 1,
        unchanged: 0,
        dropped: { in_test_set: 0, in_fresh_set: 0 },
      });
      expect(stats.rows.feedback).toBe(2);
      expect(stats.rows.train).toBe(train.length + 2);
    } finally {
      await ws.cleanup();
    }
  });

  it('reading the feedback folder itself skips the collected file, so reruns count the same', async () => {
    const ws = await createWorkspace();
    try {
      const dir = path.join(ws.root, 'feedback');
      await mkdir(dir);
      await writeFile(
        path.join(dir, 'feedback-host-1.jsonl'),
        [line('a', 1, at(1)), line('A', 1, at(2))].join('\n'),
      );
      const first = await run(['--from', 'feedback', '--json'], ws.root);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const report = JSON.parse(first.stdout) as CollectReport;
      expect(report).toMatchObject({ written: true, files: 1, lines: 2, records: 2, duplicates: 1, kept: 1 });
      const second = await run(['--from', 'feedback', '--json'], ws.root);
      expect(JSON.parse(second.stdout)).toEqual({ ...report, written: false });
      expect(await readFile(path.join(dir, COLLECTED_FILE), 'utf8')).toBe(`${line('A', 1, at(2))}\n`);
    } finally {
      await ws.cleanup();
    }
  });

  it('prints the counts as text, and warns when prepare would not read the file', async () => {
    const ws = await createWorkspace({ prepare: { feedback: { enabled: false, dir: 'feedback' } } });
    try {
      await mkdir(path.join(ws.root, 'copy'));
      await mkdir(path.join(ws.root, 'empty'));
      await writeFile(path.join(ws.root, 'copy', 'feedback.jsonl'), `${line('Tasty', 1, at(1))}\n{}\n`);
      const result = await run(['--from', 'copy', '--from', 'empty', '--from', './copy'], ws.root);
      expect(result).toEqual({
        code: 0,
        stderr: '',
        stdout: [
          'feedback/feedback-collected.jsonl: written',
          `source:      folder ${path.join(ws.root, 'copy')}`,
          `source:      folder ${path.join(ws.root, 'empty')}`,
          'files:       1',
          'lines:       2',
          'rejected:    1 (invalid_json 0, invalid_label 1, empty_text 0, invalid_time 0)',
          'records:     1',
          'duplicates:  0 (same text and label as a later record)',
          'superseded:  0 (same text, a later record has the other label)',
          'leaked:      0 (test set 0, fresh set 0)',
          'kept:        1',
          'warning: prepare.feedback.enabled is false in params.yaml: prepare will not read the collected feedback',
          `warning: ${path.join(ws.root, 'empty')} holds no feedback*.jsonl files`,
          '',
        ].join('\n'),
      });
    } finally {
      await ws.cleanup();
    }
  });
});

describe('feedback:collect from the cluster (fake kubectl)', () => {
  let dir: string;
  let ws: Workspace;
  let kubectl: string;
  const log = () => path.join(dir, 'kubectl.log');
  const env = () => ({ FAKE_KUBECTL_DIR: dir });

  /** A pod of the chart: FEEDBACK_DIR on the `feedback` volume, a claim or an emptyDir. */
  const pod = (name: string, phase: string, claim: string | null) => ({
    metadata: { name, namespace: 'rs', labels: { app: 'model-service' } },
    spec: {
      containers: [
        { name: 'istio-proxy' },
        {
          name: 'model-service',
          env: [
            { name: 'PORT', value: '5001' },
            { name: 'FEEDBACK_DIR', value: '/var/lib/model-service/feedback' },
          ],
          volumeMounts: [
            { name: 'feedback', mountPath: '/var/lib/model-service/feedback' },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        claim
          ? { name: 'feedback', persistentVolumeClaim: { claimName: claim } }
          : { name: 'feedback', emptyDir: {} },
        { name: 'tmp', emptyDir: {} },
      ],
    },
    status: { phase },
  });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fake-kubectl-'));
    ws = await createWorkspace();
    // The fake: logs its arguments; `get pods` prints pods.json; `cp rs/<pod>:<dir> <dest>` copies
    // pods/<pod> to <dest> (like kubectl, the folder's contents), or fails like kubectl for a gone pod.
    kubectl = path.join(dir, 'kubectl');
    await writeFile(
      kubectl,
      [
        '#!/usr/bin/env bash',
        'set -euo pipefail',
        'echo "$*" >> "$FAKE_KUBECTL_DIR/kubectl.log"',
        'if [ -f "$FAKE_KUBECTL_DIR/fail" ]; then cat "$FAKE_KUBECTL_DIR/fail" >&2; exit 1; fi',
        'args=("$@")',
        'if [ "${args[0]}" = --context ]; then args=("${args[@]:2}"); fi',
        'case "${args[0]}" in',
        '  get) cat "$FAKE_KUBECTL_DIR/pods.json" ;;',
        '  cp)',
        '    src="${args[1]#*/}"; pod="${src%%:*}"',
        '    if [ ! -d "$FAKE_KUBECTL_DIR/pods/$pod" ]; then',
        '      echo "error: unable to upgrade connection: container not found (\\"model-service\\")" >&2; exit 1',
        '    fi',
        '    if [ -n "${FAKE_NEST:-}" ]; then',
        '      mkdir "${args[2]}"; cp -r "$FAKE_KUBECTL_DIR/pods/$pod" "${args[2]}/feedback"',
        '    else cp -r "$FAKE_KUBECTL_DIR/pods/$pod" "${args[2]}"; fi ;;',
        '  *) echo "fake kubectl: unexpected $*" >&2; exit 2 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    await chmod(kubectl, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await ws.cleanup();
  });

  const reset = async (pods: unknown[], files: Record<string, Record<string, string>>) => {
    await rm(path.join(dir, 'pods'), { recursive: true, force: true });
    await rm(log(), { force: true });
    await rm(path.join(dir, 'fail'), { force: true });
    await writeFile(
      path.join(dir, 'pods.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }),
    );
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.join(dir, 'pods', name), { recursive: true });
      for (const [file, text] of Object.entries(content))
        await writeFile(path.join(dir, 'pods', name, file), text);
    }
  };
  const invocations = async () => (await readFile(log(), 'utf8')).trim().split('\n');

  it('copies one Running pod per claim and every pod with its own volume', async () => {
    // a and b share the claim (b's copy would be the same files); c has an emptyDir; d is Pending.
    const shared = {
      'feedback-model-service-v1-a.jsonl': `${line('Lovely staff', 1, at(1))}\n`,
      'feedback-model-service-v1-b.jsonl': `${line('lovely staff', 0, at(2))}\n`,
    };
    await reset(
      [
        pod('model-service-v1-b', 'Running', 'model-service-feedback'),
        pod('model-service-v1-a', 'Running', 'model-service-feedback'),
        pod('model-service-v2-c', 'Running', null),
        pod('model-service-v2-d', 'Pending', null),
      ],
      {
        'model-service-v1-a': shared,
        'model-service-v1-b': shared,
        'model-service-v2-c': { 'feedback-model-service-v2-c.jsonl': `${line('Lovely staff', 1, at(3))}\n` },
      },
    );
    const result = await run(
      ['--cluster', '--namespace', 'rs', '--context', 'prod', '--kubectl', kubectl, '--json'],
      ws.root,
      env(),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      written: true,
      pods: { matched: 4, running: 3, copied: 2 },
      sources: [
        'pod rs/model-service-v1-a (claim model-service-feedback)',
        'pod rs/model-service-v2-c (own volume)',
      ],
      files: 3,
      lines: 3,
      records: 3,
      duplicates: 1,
      superseded: 1,
      kept: 1,
    });
    const copies = (await invocations()).slice(1);
    expect(await invocations()).toEqual([
      '--context prod get pods --namespace rs --selector app=model-service --output json',
      expect.stringMatching(
        /^--context prod cp rs\/model-service-v1-a:\/var\/lib\/model-service\/feedback \S+\/0-0 --container model-service$/,
      ),
      expect.stringMatching(
        /^--context prod cp rs\/model-service-v2-c:\/var\/lib\/model-service\/feedback \S+\/1-0 --container model-service$/,
      ),
    ]);
    // The copies went to a temporary folder that is gone afterwards.
    for (const copy of copies) await expect(stat(copy.split(' ')[4])).rejects.toThrow('ENOENT');
    expect(await readFile(path.join(ws.root, 'feedback', COLLECTED_FILE), 'utf8')).toBe(
      `${line('Lovely staff', 1, at(3))}\n`,
    );
  });

  it('falls back to the next pod on the claim when a copy fails', async () => {
    await reset(
      [
        pod('model-service-v1-a', 'Running', 'model-service-feedback'),
        pod('model-service-v1-b', 'Running', 'model-service-feedback'),
      ],
      { 'model-service-v1-b': { 'feedback-x.jsonl': `${line('Fine', 1, at(1))}\n` } },
    );
    const result = await run(['--cluster', '--kubectl', kubectl, '--json'], ws.root, env());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      pods: { matched: 2, running: 2, copied: 1 },
      sources: ['pod rs/model-service-v1-b (claim model-service-feedback)'],
      kept: 1,
    });
    expect((await invocations()).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'get pods',
      'cp rs/model-service-v1-a:/var/lib/model-service/feedback',
      'cp rs/model-service-v1-b:/var/lib/model-service/feedback',
    ]);
  });

  it('reads a copy that kubectl nested as <dest>/feedback, and an empty folder', async () => {
    await reset([pod('model-service-v1-a', 'Running', 'c'), pod('model-service-v1-b', 'Running', null)], {
      'model-service-v1-a': { 'feedback-a.jsonl': `${line('Fine', 1, at(1))}\n` },
      'model-service-v1-b': {},
    });
    const result = await run(['--cluster', '--kubectl', kubectl, '--json'], ws.root, {
      ...env(),
      FAKE_NEST: '1',
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      pods: { matched: 2, running: 2, copied: 2 },
      files: 1,
      records: 1,
      kept: 1,
    });
    expect(await readFile(path.join(ws.root, 'feedback', COLLECTED_FILE), 'utf8')).toBe(
      `${line('Fine', 1, at(1))}\n`,
    );
  });

  it('groups pods by namespace and claim', () => {
    const p = (name: string, claim: string | null, namespace = 'rs'): FeedbackPod => ({
      name,
      namespace,
      claim,
      dir: '/f',
    });
    expect(
      copyGroups([p('a', 'c1'), p('b', null), p('c', 'c1'), p('d', null), p('e', 'c1', 'other')]),
    ).toEqual([[p('a', 'c1'), p('c', 'c1')], [p('b', null)], [p('d', null)], [p('e', 'c1', 'other')]]);
  });

  it.each([
    {
      what: 'kubectl fails (its last stderr lines)',
      setup: () =>
        writeFile(
          path.join(dir, 'fail'),
          'E1201 reflector.go\nerror: You must be logged in to the server (Unauthorized)\n',
        ),
      args: [] as string[],
      message:
        'kubectl get pods --selector app=model-service --output json failed (exit 1): E1201 reflector.go / error: You must be logged in to the server (Unauthorized)',
    },
    {
      what: 'no Running pod',
      setup: () => reset([pod('model-service-v1-a', 'Pending', null)], {}),
      args: ['--namespace', 'rs'],
      message: 'no Running pod matches --selector app=model-service in namespace rs (1 in other phases)',
    },
    {
      what: 'not a pod list',
      setup: () => writeFile(path.join(dir, 'pods.json'), 'No resources found'),
      args: [],
      message: 'kubectl get pods did not print a JSON pod list',
    },
    {
      what: 'no container of that name',
      setup: () => reset([pod('model-service-v1-a', 'Running', null)], {}),
      args: ['--container', 'server'],
      message: 'pod rs/model-service-v1-a has no container "server" (set --container)',
    },
    {
      what: 'every pod of the claim fails to copy',
      setup: () => reset([pod('model-service-v1-a', 'Running', 'c')], {}),
      args: [],
      message: 'kubectl cp rs/model-service-v1-a:/var/lib/model-service/feedback',
    },
  ])('$what: exit 1 with a clear message, nothing written', async ({ setup, args, message }) => {
    await reset([], {});
    await setup();
    const out = path.join(dir, 'out');
    const result = await run(['--cluster', '--kubectl', kubectl, '--out', out, ...args], ws.root, env());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`feedback:collect: error: ${message}`)).toBe(true);
    expect(result.stderr.split('\n').length).toBe(2); // one line
    await expect(stat(out)).rejects.toThrow('ENOENT');
  });

  it('a failed copy names the pod and says why', async () => {
    await reset([pod('model-service-v1-a', 'Running', 'c')], {});
    const result = await run(['--cluster', '--kubectl', kubectl], ws.root, env());
    expect(result.stderr).toMatch(
      /^feedback:collect: error: kubectl cp rs\/model-service-v1-a:\/var\/lib\/model-service\/feedback \S+ --container model-service failed \(exit 1\): error: unable to upgrade connection: container not found \("model-service"\)\n$/,
    );
  });
});

describe('feedback:collect: bad input', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace();
  });
  afterAll(() => ws.cleanup());

  it.each([
    { argv: [], message: 'no feedback source: give --from DIR or --cluster' },
    { argv: ['--from'], message: "Option '--from <value>' argument missing" },
    { argv: ['--from', ''], message: '--from needs a non-empty value' },
    { argv: ['--form', 'x'], message: "Unknown option '--form'" },
    { argv: ['stray'], message: "Unexpected argument 'stray'" },
    { argv: ['--from', 'x', '--namespace', 'rs'], message: '--namespace is a cluster option: add --cluster' },
  ])('$argv: usage error', async ({ argv, message }) => {
    const result = await run(argv, ws.root);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toMatch(
      new RegExp(`^feedback:collect: error: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    expect(result.stderr).toContain(
      'usage: npm run feedback:collect -- [--from DIR]... [--cluster] [options]',
    );
  });

  it('missing folder, a file for a folder, unwritable output, no kubectl', async () => {
    await writeFile(path.join(ws.root, 'file'), 'x');
    await mkdir(path.join(ws.root, 'ok'), { recursive: true });
    const cases: [string[], string][] = [
      [['--from', 'missing'], `${path.join(ws.root, 'missing')}: no such folder`],
      [['--from', 'file'], `${path.join(ws.root, 'file')}: not a folder`],
      [
        ['--from', 'ok', '--out', 'file/sub'],
        `${path.join(ws.root, 'file/sub', COLLECTED_FILE)}: cannot write the collected feedback: ENOTDIR`,
      ],
      [
        ['--cluster', '--kubectl', path.join(ws.root, 'no-kubectl')],
        `kubectl not found ("${path.join(ws.root, 'no-kubectl')}"): install kubectl or pass --kubectl <path> (or set KUBECTL)`,
      ],
    ];
    for (const [argv, message] of cases) {
      expect(await run(argv, ws.root)).toEqual({
        code: 1,
        stdout: '',
        stderr: `feedback:collect: error: ${message}\n`,
      });
    }
  });

  it('help exits 0; the npm script runs the command and exits 1 on bad input', async () => {
    const help = await run(['--help'], ws.root);
    expect(help.code).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe(
      'usage: npm run feedback:collect -- [--from DIR]... [--cluster] [options]',
    );
    const npm = spawnSync('npm', ['run', '-s', 'feedback:collect', '--', '--from', '/nonexistent-feedback'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(npm.status).toBe(1);
    expect(npm.stderr).toBe('feedback:collect: error: /nonexistent-feedback: no such folder\n');
  });
});
