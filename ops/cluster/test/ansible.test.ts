/**
 * The Ansible side of the cluster (ops/ansible; no VM or cluster runs here):
 * - `ansible-lint --profile production` is clean, and it does flag a task that breaks the profile;
 * - `ansible-playbook --syntax-check` passes for every playbook with an inventory in the generated format
 *   (test/fixtures/ansible-inventory.ini), and the plays reach exactly the hosts of their groups;
 * - `yamllint -c ops/.yamllint` is clean on ops/ansible and ops/cluster/settings.yaml, and the config catches
 *   what it should;
 * - idempotency: every command/shell/raw/script task has `creates`, `removes` or `changed_when` (the tasks
 *   are parsed, blocks included), and the worker's join only runs when the node has not joined;
 * - every version pin lives in group_vars/all/versions.yml: no version-looking literal and no untemplated
 *   `*version` key anywhere else in ops/ansible or in the Vagrantfile, every `*_version` variable used is
 *   defined there, every pin there is used, and every pin is a string.
 *
 * Needs ansible-lint, ansible-playbook and yamllint (Debian: ansible-lint, ansible-core with the `ansible`
 * collections package, yamllint); nothing is downloaded (ansible-lint runs --offline). The tool tests are
 * skipped with a warning when one is missing, failed when CI=true; the parsing tests always run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { renderChart } from '../../helm/src/helm/render.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ANSIBLE = path.join(ROOT, 'ops/ansible');
const VERSIONS = path.join(ANSIBLE, 'group_vars/all/versions.yml');
const INVENTORY = path.join(ROOT, 'ops/cluster/test/fixtures/ansible-inventory.ini');
const VAGRANTFILE = path.join(ROOT, 'ops/cluster/Vagrantfile');
const INVENTORY_RB = path.join(ROOT, 'ops/cluster/inventory.rb');
const PLAYBOOKS = ['cluster.yml', 'finalize.yml'];
const INSTALL = 'apt-get install ansible ansible-core ansible-lint yamllint';

/** Why `tool --version` cannot run, or null when it can. */
function missing(tool: string): string | null {
  const result = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return result.error || result.status !== 0 ? `${tool} not found` : null;
}

const haveAnsible =
  toolAvailable(missing('ansible-playbook'), 'the Ansible checks', INSTALL) &&
  toolAvailable(missing('ansible-lint'), 'the Ansible checks', INSTALL);
const haveYamllint = toolAvailable(missing('yamllint'), 'the yamllint checks', INSTALL);
const describeAnsible = haveAnsible ? describe : describe.skip;
const describeYamllint = haveYamllint ? describe : describe.skip;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without colours, with ops/ansible/ansible.cfg and `env` added to the environment. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Run {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      ANSIBLE_CONFIG: path.join(ANSIBLE, 'ansible.cfg'),
      ANSIBLE_NOCOLOR: '1',
      NO_COLOR: '1',
      ...env,
    },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under `dir` (recursively), as absolute paths, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(full) : [full];
    })
    .sort();
}

const relative = (file: string) => path.relative(ROOT, file);

const temporaryDirs: string[] = [];
afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A copy of ops/ansible in a temporary folder (for the checks that must see a bad file fail). */
async function copyOfAnsible(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-ansible-'));
  temporaryDirs.push(dir);
  const copy = path.join(dir, 'ansible');
  await cp(ANSIBLE, copy, { recursive: true });
  return copy;
}

// --- Idempotency: command-like tasks ------------------------------------------------------------------

/** Modules that run arbitrary commands, so Ansible cannot know whether they changed something. */
const COMMAND_MODULES = ['command', 'shell', 'raw', 'script'].flatMap((name) => [
  name,
  `ansible.builtin.${name}`,
  `ansible.legacy.${name}`,
]);

/** A command-like task found in a tasks file. */
interface CommandTask {
  /** The task's name. */
  name: string;
  /** The module key, e.g. ansible.builtin.command. */
  module: string;
  /** What makes it idempotent: 'creates', 'removes', 'changed_when', or null when nothing does. */
  guard: 'creates' | 'removes' | 'changed_when' | null;
  /** The `when` conditions of the task and of every block around it, outermost first. */
  when: string[];
}

type Task = Record<string, unknown>;

const asList = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

/**
 * Finds the command-like tasks of a parsed tasks list, descending into block/rescue/always.
 * @param tasks a tasks file's content (a list of tasks), as parsed YAML.
 * @param outerWhen the `when` conditions of the enclosing blocks.
 * @returns one entry per command/shell/raw/script task, in file order.
 */
function commandTasks(tasks: unknown, outerWhen: string[] = []): CommandTask[] {
  if (!Array.isArray(tasks)) return [];
  return tasks.flatMap((item: unknown): CommandTask[] => {
    if (item === null || typeof item !== 'object') return [];
    const task = item as Task;
    const when = [...outerWhen, ...asList(task.when)];
    if ('block' in task) {
      return ['block', 'rescue', 'always'].flatMap((key) => commandTasks(task[key], when));
    }
    const module = COMMAND_MODULES.find((name) => name in task);
    if (module === undefined) return [];
    const params = task[module];
    const args = (task.args ?? {}) as Record<string, unknown>;
    const has = (key: string) =>
      (params !== null && typeof params === 'object' && key in (params as object)) || key in args;
    const guard = has('creates')
      ? 'creates'
      : has('removes')
        ? 'removes'
        : 'changed_when' in task
          ? 'changed_when'
          : null;
    return [{ name: String(task.name ?? '(unnamed)'), module, guard, when }];
  });
}

/** The tasks and handlers files of every role, relative to ops/ansible. */
function taskFiles(): string[] {
  return filesUnder(path.join(ANSIBLE, 'roles'))
    .filter((file) => /\/(tasks|handlers)\/[^/]+\.ya?ml$/.test(file))
    .map((file) => path.relative(ANSIBLE, file));
}

/** Every command-like task of the roles and playbooks, with its file (relative to ops/ansible). */
function allCommandTasks(): (CommandTask & { file: string })[] {
  const fromRoles = taskFiles().flatMap((file) =>
    commandTasks(parse(readFileSync(path.join(ANSIBLE, file), 'utf8'))).map((task) => ({ file, ...task })),
  );
  const fromPlaybooks = PLAYBOOKS.flatMap((file) => {
    const plays = parse(readFileSync(path.join(ANSIBLE, file), 'utf8')) as Task[];
    return plays.flatMap((play) =>
      ['pre_tasks', 'tasks', 'post_tasks', 'handlers'].flatMap((key) =>
        commandTasks(play[key]).map((task) => ({ file, ...task })),
      ),
    );
  });
  return [...fromRoles, ...fromPlaybooks];
}

describe('command-like tasks', () => {
  it('finds unguarded tasks, inside blocks too, and accepts creates/removes/changed_when', () => {
    const tasks = parse(`
- name: Bare
  ansible.builtin.shell: echo hi
- name: Guarded by creates in args
  ansible.builtin.command: touch /x
  args:
    creates: /x
- name: Block
  when: a is defined
  block:
    - name: Removes
      ansible.builtin.command:
        cmd: rm /y
        removes: /y
  rescue:
    - name: Raw without guard
      raw: reboot
  always:
    - name: Changed when
      command: date
      changed_when: false
- name: Not a command
  ansible.builtin.copy:
    src: a
    dest: b
`);
    expect(commandTasks(tasks)).toEqual([
      { name: 'Bare', module: 'ansible.builtin.shell', guard: null, when: [] },
      { name: 'Guarded by creates in args', module: 'ansible.builtin.command', guard: 'creates', when: [] },
      { name: 'Removes', module: 'ansible.builtin.command', guard: 'removes', when: ['a is defined'] },
      { name: 'Raw without guard', module: 'raw', guard: null, when: ['a is defined'] },
      { name: 'Changed when', module: 'command', guard: 'changed_when', when: ['a is defined'] },
    ]);
  });

  it('every command-like task of the roles and playbooks is guarded (and these are all of them)', () => {
    expect(allCommandTasks()).toEqual([
      {
        file: 'roles/common/tasks/swap.yml',
        name: 'Turn swap off now',
        module: 'ansible.builtin.command',
        guard: 'changed_when',
        when: ["ansible_facts['swaptotal_mb'] | int > 0"],
      },
      {
        file: 'roles/control_plane/tasks/main.yml',
        name: 'Check whether kubeadm init finished (the API server serves the kube-proxy DaemonSet)',
        module: 'ansible.builtin.command',
        guard: 'changed_when',
        when: ['control_plane_admin_conf.stat.exists'],
      },
      {
        file: 'roles/control_plane/tasks/main.yml',
        name: 'Undo an unfinished kubeadm init (so that init can run again)',
        module: 'ansible.builtin.command',
        guard: 'changed_when',
        when: ['control_plane_admin_conf.stat.exists and control_plane_init_check.rc != 0'],
      },
      {
        file: 'roles/control_plane/tasks/main.yml',
        name: 'Initialise the control plane (unless an earlier init finished)',
        module: 'ansible.builtin.command',
        guard: 'changed_when',
        when: ['not control_plane_admin_conf.stat.exists or control_plane_init_check.rc != 0'],
      },
      {
        file: 'roles/worker/tasks/main.yml',
        name: 'Undo what an earlier, failed join left behind',
        module: 'ansible.builtin.command',
        guard: 'changed_when',
        when: ['not worker_kubelet_conf.stat.exists'],
      },
      {
        file: 'roles/worker/tasks/main.yml',
        name: 'Create a join token on the control plane',
        module: 'ansible.builtin.command',
        guard: 'changed_when',
        when: ['not worker_kubelet_conf.stat.exists'],
      },
      {
        file: 'roles/worker/tasks/main.yml',
        name: 'Join with the token',
        module: 'ansible.builtin.command',
        guard: 'creates',
        when: ['not worker_kubelet_conf.stat.exists'],
      },
    ]);
  });

  it('the join is guarded by kubelet.conf, and only the token creation and the join are no_log', () => {
    const worker = parse(readFileSync(path.join(ANSIBLE, 'roles/worker/tasks/main.yml'), 'utf8')) as Task[];
    const workerDefaults = parse(readFileSync(path.join(ANSIBLE, 'roles/worker/defaults/main.yml'), 'utf8'));
    expect(worker[0]).toEqual({
      name: 'Check whether the node has joined already',
      'ansible.builtin.stat': { path: '{{ worker_kubelet_kubeconfig }}' },
      register: 'worker_kubelet_conf',
    });
    expect(workerDefaults.worker_kubelet_kubeconfig).toBe('/etc/kubernetes/kubelet.conf');
    const block = worker[1].block as Task[];
    expect(block.map((task) => [task.name, task.no_log ?? false])).toEqual([
      ['Undo what an earlier, failed join left behind', false],
      ['Create a join token on the control plane', true],
      ['Join with the token', true],
      ["Report a failed join (kubeadm's output, the token's secret masked)", false],
    ]);
  });
});

// --- kubeadm init and join, run for real against fake kubeadm/kubectl ----------------------------------

/** What one task did on one host, from Ansible's json callback. */
interface TaskOutcome {
  status: 'ok' | 'changed' | 'skipped' | 'failed';
  msg?: string;
}

/** The outcome of a playbook run with fake tools: every task's outcome per host, and the tools' calls. */
interface FakeRun {
  status: number | null;
  /** `task name` → outcome, for the one host the tasks ran on. */
  tasks: Record<string, TaskOutcome>;
  /** One line per call of a fake tool: its name and arguments. */
  calls: string[];
  /** Everything ansible-playbook printed (stdout and stderr). */
  output: string;
}

/**
 * Fake kubeadm and kubectl: they record each call in $FAKE_LOG; kubectl exits with $FAKE_KUBECTL_RC,
 * `kubeadm token create` prints a join command, `kubeadm join` prints an error naming the token and exits
 * with $FAKE_JOIN_RC.
 */
const FAKE_TOOL = `#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
case "$(basename "$0") $1" in
  "kubectl "*) exit "\${FAKE_KUBECTL_RC:-0}" ;;
  "kubeadm token") echo "kubeadm join 192.168.56.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234" ;;
  "kubeadm join")
    echo "error execution phase preflight: token abcdef.0123456789abcdef: unable to fetch the kubeadm-config ConfigMap" >&2
    exit "\${FAKE_JOIN_RC:-0}" ;;
esac
`;

/**
 * Runs `tasks` (parsed from a role) on one host of a local inventory (rs-control and rs-worker-1, both
 * connection=local) with fake kubeadm/kubectl first on PATH, vars as extra vars.
 * @returns the outcomes and the fake tools' calls.
 */
async function runWithFakes(
  host: 'rs-control' | 'rs-worker-1',
  tasks: Task[],
  vars: Record<string, unknown>,
  env: Record<string, string>,
): Promise<FakeRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-ansible-fakes-'));
  temporaryDirs.push(dir);
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  for (const tool of ['kubeadm', 'kubectl']) {
    await writeFile(path.join(bin, tool), FAKE_TOOL, { mode: 0o755 });
  }
  const inventory = path.join(dir, 'inventory.ini');
  await writeFile(
    inventory,
    '[control_plane]\nrs-control ansible_connection=local\n\n[workers]\nrs-worker-1 ansible_connection=local\n',
  );
  const playbook = path.join(dir, 'play.yml');
  await writeFile(playbook, JSON.stringify([{ name: 'Fakes', hosts: host, gather_facts: false, tasks }]));
  const log = path.join(dir, 'calls.log');
  const result = run('ansible-playbook', ['-i', inventory, '-e', JSON.stringify(vars), playbook], dir, {
    ...env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    FAKE_LOG: log,
    ANSIBLE_STDOUT_CALLBACK: 'json',
    ANSIBLE_LOCALHOST_WARNING: 'false',
  });
  const report = JSON.parse(result.stdout) as {
    plays: { tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] }[];
  };
  const outcomes: Record<string, TaskOutcome> = {};
  for (const { task, hosts } of report.plays[0].tasks) {
    const outcome = hosts[host];
    const status = outcome.skipped
      ? 'skipped'
      : outcome.failed
        ? 'failed'
        : outcome.changed
          ? 'changed'
          : 'ok';
    outcomes[task.name] = status === 'failed' ? { status, msg: String(outcome.msg) } : { status };
  }
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
  return { status: result.status, tasks: outcomes, calls, output: result.stdout + result.stderr };
}

describeAnsible("kubeadm init and join (the roles' tasks run against fake kubeadm/kubectl)", () => {
  const CHECK = 'Check whether kubeadm init finished (the API server serves the kube-proxy DaemonSet)';
  const RESET = 'Undo an unfinished kubeadm init (so that init can run again)';
  const INIT = 'Initialise the control plane (unless an earlier init finished)';
  const KUBECTL_CALL =
    'kubectl --kubeconfig ADMIN --request-timeout 10s --namespace kube-system get daemonset kube-proxy --output name';

  /** The control plane's tasks from the admin.conf check to init (the rest needs a real node). */
  function initTasks(): Task[] {
    const tasks = parse(
      readFileSync(path.join(ANSIBLE, 'roles/control_plane/tasks/main.yml'), 'utf8'),
    ) as Task[];
    const first = tasks.findIndex(
      (task) => task.name === 'Check whether an earlier kubeadm init wrote admin.conf',
    );
    const last = tasks.findIndex((task) => task.name === INIT);
    expect([first, last]).toEqual([2, 5]);
    return tasks.slice(first, last + 1);
  }

  async function init(adminConfExists: boolean, kubectlRc: number) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-admin-conf-'));
    temporaryDirs.push(dir);
    const admin = path.join(dir, 'admin.conf');
    if (adminConfExists) await writeFile(admin, 'apiVersion: v1\n');
    const result = await runWithFakes(
      'rs-control',
      initTasks(),
      {
        control_plane_admin_kubeconfig: admin,
        control_plane_config_dir: '/etc/kubeadm',
        control_plane_init_check_retries: 3,
        control_plane_init_check_delay: 0,
      },
      { FAKE_KUBECTL_RC: String(kubectlRc) },
    );
    return { ...result, calls: result.calls.map((call) => call.split(admin).join('ADMIN')) };
  }

  it('a fresh node: init runs, nothing is checked or reset', async () => {
    const result = await init(false, 1);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual(['kubeadm init --config /etc/kubeadm/kubeadm-config.yaml']);
    expect([result.tasks[CHECK], result.tasks[RESET], result.tasks[INIT]]).toEqual([
      { status: 'skipped' },
      { status: 'skipped' },
      { status: 'changed' },
    ]);
  });

  it('admin.conf from an init that did not finish: checked (with retries), reset, init again', async () => {
    const result = await init(true, 1);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([
      KUBECTL_CALL,
      KUBECTL_CALL,
      KUBECTL_CALL,
      'kubeadm reset --force',
      'kubeadm init --config /etc/kubeadm/kubeadm-config.yaml',
    ]);
    expect([result.tasks[CHECK], result.tasks[RESET], result.tasks[INIT]]).toEqual([
      { status: 'ok' },
      { status: 'changed' },
      { status: 'changed' },
    ]);
  });

  it('a finished init: one check, no reset, no init, no change', async () => {
    const result = await init(true, 0);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([KUBECTL_CALL]);
    expect([result.tasks[CHECK], result.tasks[RESET], result.tasks[INIT]]).toEqual([
      { status: 'ok' },
      { status: 'skipped' },
      { status: 'skipped' },
    ]);
  });

  async function join(kubeletConfExists: boolean, joinRc: number) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-kubelet-conf-'));
    temporaryDirs.push(dir);
    const kubeletConf = path.join(dir, 'kubelet.conf');
    if (kubeletConfExists) await writeFile(kubeletConf, 'apiVersion: v1\n');
    const tasks = parse(readFileSync(path.join(ANSIBLE, 'roles/worker/tasks/main.yml'), 'utf8')) as Task[];
    const defaults = parse(readFileSync(path.join(ANSIBLE, 'roles/worker/defaults/main.yml'), 'utf8'));
    return runWithFakes(
      'rs-worker-1',
      tasks,
      { ...defaults, worker_kubelet_kubeconfig: kubeletConf },
      { FAKE_JOIN_RC: String(joinRc) },
    );
  }

  const JOIN_CALLS = [
    'kubeadm reset --force',
    'kubeadm token create --ttl 15m --print-join-command',
    'kubeadm join 192.168.56.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234 --node-name rs-worker-1',
  ];

  it('a node that has not joined: reset, token, join', async () => {
    const result = await join(false, 0);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual(JOIN_CALLS);
    expect(result.tasks["Report a failed join (kubeadm's output, the token's secret masked)"]).toEqual({
      status: 'skipped',
    });
  });

  it("a failed join stops with kubeadm's error, the token's secret masked and printed nowhere", async () => {
    const result = await join(false, 1);
    expect(result.status).toBe(2);
    expect(result.calls).toEqual(JOIN_CALLS);
    expect(result.tasks["Report a failed join (kubeadm's output, the token's secret masked)"]).toEqual({
      status: 'failed',
      msg:
        'kubeadm join failed (exit code 1): error execution phase preflight: token abcdef.<token secret>: ' +
        'unable to fetch the kubeadm-config ConfigMap',
    });
    expect(result.output).not.toContain('0123456789abcdef');
  });

  it('a node that has joined: nothing runs', async () => {
    const result = await join(true, 1);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([]);
  });
});

// --- finalize: metrics-server, the app's chart checksum, the dashboard account; the nodes' architecture ---

describe('finalize and the nodes', () => {
  const finalizeTasks = (file: string) =>
    parse(readFileSync(path.join(ANSIBLE, 'roles/finalize/tasks', file), 'utf8')) as Task[];

  it('installs metrics-server (pinned chart, --kubelet-insecure-tls) before the app, in kube-system', () => {
    const [install] = finalizeTasks('metrics_server.yml');
    expect(install['kubernetes.core.helm']).toEqual({
      release_name: 'metrics-server',
      release_namespace: '{{ finalize_metrics_server_namespace }}',
      chart_ref: 'metrics-server',
      chart_repo_url: '{{ finalize_chart_repos.metrics_server }}',
      chart_version: '{{ metrics_server_chart_version }}',
      release_values: { args: ['--kubelet-insecure-tls'] },
      wait: true,
      wait_timeout: '{{ finalize_helm_timeout }}',
    });
    expect(pins().metrics_server_chart_version).toBe('3.12.2');
    const defaults = parse(readFileSync(path.join(ANSIBLE, 'roles/finalize/defaults/main.yml'), 'utf8'));
    expect(defaults.finalize_chart_repos.metrics_server).toBe(
      'https://kubernetes-sigs.github.io/metrics-server/',
    );
    expect(defaults.finalize_metrics_server_namespace).toBe('kube-system');
    const imports = finalizeTasks('main.yml')
      .map((task) => task['ansible.builtin.import_tasks'])
      .filter(Boolean);
    expect(imports.indexOf('metrics_server.yml')).toBeGreaterThanOrEqual(0);
    expect(imports.indexOf('metrics_server.yml')).toBeLessThan(imports.indexOf('app.yml'));
  });

  it('the dashboard admin account has no long-lived token Secret, and an old one is removed', () => {
    const template = readFileSync(
      path.join(ANSIBLE, 'roles/finalize/templates/dashboard-admin.yaml.j2'),
      'utf8',
    );
    const kinds = [...template.matchAll(/^kind: (\w+)$/gm)].map((match) => match[1]);
    expect(kinds).toEqual(['ServiceAccount', 'ClusterRoleBinding']);
    expect(template).toContain('create token {{ finalize_dashboard_admin }}');
    const removal = finalizeTasks('dashboard.yml').find(
      (task) => (task['kubernetes.core.k8s'] as Record<string, unknown> | undefined)?.state === 'absent',
    );
    expect(removal?.['kubernetes.core.k8s']).toEqual({
      state: 'absent',
      definition: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: '{{ finalize_dashboard_admin }}-token',
          namespace: '{{ finalize_dashboard_namespace }}',
        },
      },
    });
  });

  it('the nodes are amd64 only: deb_architecture is amd64 and the common role stops on other machines', () => {
    const cluster = parse(readFileSync(path.join(ANSIBLE, 'group_vars/all/cluster.yml'), 'utf8'));
    expect(cluster.deb_architecture).toBe('amd64');
    const common = parse(readFileSync(path.join(ANSIBLE, 'roles/common/tasks/main.yml'), 'utf8')) as Task[];
    const check = common.findIndex((task) =>
      asList((task['ansible.builtin.assert'] as Task | undefined)?.that).includes(
        "ansible_facts['architecture'] == 'x86_64'",
      ),
    );
    // Right after the Ubuntu check, before anything is installed.
    expect(check).toBe(1);
  });
});

describeAnsible(
  "the app's values carry the chart's checksum (rendered by Ansible on a copy of the chart)",
  () => {
    const CHART = path.join(ROOT, 'ops/helm/restaurant-sentiment');
    const VALUES_TEMPLATE = path.join(
      ANSIBLE,
      'roles/finalize/templates/values/restaurant-sentiment.yaml.j2',
    );

    /** SHA-256 (hex) over `relative-path sha1` of every file of the chart, sorted, joined by newlines. */
    function expectedChecksum(chart: string): string {
      const lines = filesUnder(chart)
        .map(
          (file) =>
            `${path.relative(chart, file)} ${createHash('sha1').update(readFileSync(file)).digest('hex')}`,
        )
        .sort();
      return createHash('sha256').update(lines.join('\n')).digest('hex');
    }

    /**
     * Runs app.yml's task that lists the chart's files, then renders the values template, on localhost.
     * @returns the values, parsed, and the file they were written to.
     */
    async function renderValues(chart: string): Promise<{ values: Record<string, unknown>; file: string }> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-values-'));
      temporaryDirs.push(dir);
      const list = (
        parse(readFileSync(path.join(ANSIBLE, 'roles/finalize/tasks/app.yml'), 'utf8')) as Task[]
      ).find((task) => task.name === "List the chart's files with their checksums");
      expect(list).toBeDefined();
      const out = path.join(dir, 'values.yaml');
      const playbook = path.join(dir, 'play.yml');
      const play = {
        name: 'Values',
        hosts: 'localhost',
        connection: 'local',
        gather_facts: false,
        vars_files: [
          path.join(ANSIBLE, 'group_vars/all/cluster.yml'),
          VERSIONS,
          path.join(ANSIBLE, 'roles/finalize/defaults/main.yml'),
        ],
        tasks: [
          list,
          {
            name: 'Render',
            'ansible.builtin.copy': {
              content: `{{ lookup('ansible.builtin.template', '${VALUES_TEMPLATE}') }}`,
              dest: out,
              mode: '0600',
            },
          },
        ],
      };
      await writeFile(playbook, JSON.stringify([play]));
      const result = run(
        'ansible-playbook',
        ['-i', 'localhost,', '-e', JSON.stringify({ finalize_rs_chart: chart }), playbook],
        dir,
        { ANSIBLE_LOCALHOST_WARNING: 'false' },
      );
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      return { values: parse(readFileSync(out, 'utf8')), file: out };
    }

    it("global.chartChecksum is the checksum of the chart's files, and changes with any template", async () => {
      const copy = path.join(await mkdtemp(path.join(os.tmpdir(), 'rs-chart-')), 'restaurant-sentiment');
      temporaryDirs.push(path.dirname(copy));
      await cp(CHART, copy, { recursive: true });
      const { values: before, file } = await renderValues(copy);
      expect(before.global).toEqual({ chartChecksum: expectedChecksum(copy) });
      expect((before.istio as Record<string, unknown>).gateway).toEqual({ host: 'app.rs.local' });
      // The chart (its values.schema.json) accepts the cluster's values, global.chartChecksum included.
      const objects = await renderChart({ valuesFiles: [file] });
      expect(objects.filter((object) => object.kind === 'HorizontalPodAutoscaler').length).toBeGreaterThan(0);

      await appendFile(path.join(copy, 'templates/pdb.yaml'), '# edited\n');
      const { values: after } = await renderValues(copy);
      expect(after.global).toEqual({ chartChecksum: expectedChecksum(copy) });
      expect(after.global).not.toEqual(before.global);
    });
  },
);

// --- Version pins ---------------------------------------------------------------------------------------

/**
 * Version-looking literals in a text: 1.2, 1.2.3, v1.2.3, 1.32.3-1.1 (not IPv4 addresses or CIDRs, whose
 * four dotted numbers never match as a whole, nor numbers glued to words such as python3.11).
 * @returns the literals found, in order.
 */
function versionLiterals(text: string): string[] {
  return text.match(/(?<![\w.-])v?\d+\.\d+(?:\.\d+)?(?:-\d+(?:\.\d+)*)?(?![\w.])/g) ?? [];
}

/**
 * YAML keys that pin a version (`version`, `chart_version`, `*_version`; not Kubernetes' `apiVersion`) whose
 * value is not a Jinja expression, found anywhere in a parsed document.
 * @returns `key: value` for each.
 */
function untemplatedVersionKeys(document: unknown): string[] {
  if (Array.isArray(document)) return document.flatMap(untemplatedVersionKeys);
  if (document === null || typeof document !== 'object') return [];
  return Object.entries(document as Record<string, unknown>).flatMap(([key, value]) => {
    const own =
      /(^|_)version$/.test(key) &&
      (typeof value !== 'object' || value === null) &&
      !String(value).includes('{{')
        ? [`${key}: ${String(value)}`]
        : [];
    return [...own, ...untemplatedVersionKeys(value)];
  });
}

/**
 * Files that may hold version literals, with the reason. versions.yml is where they belong; ansible-galaxy
 * cannot read variables, so requirements.yml pins the collections itself; a role's meta names the oldest
 * Ansible it supports (a requirement, not a pin of what gets installed).
 */
const ALLOWED = new Map<string, (line: string) => boolean>([
  ['ops/ansible/group_vars/all/versions.yml', () => true],
  ['ops/ansible/requirements.yml', () => true],
  ...['common', 'control_plane', 'worker', 'finalize'].map(
    (role) =>
      [
        `ops/ansible/roles/${role}/meta/main.yml`,
        (line: string) => /^\s*min_ansible_version:/.test(line),
      ] as const,
  ),
]);

/** The files the pin rule covers: everything in ops/ansible and the Vagrantfile. */
function pinScope(): string[] {
  return [...filesUnder(ANSIBLE), ...(existsSync(VAGRANTFILE) ? [VAGRANTFILE] : [])];
}

/** Version literals outside versions.yml: `file:line: literal`. */
function strayVersionLiterals(): string[] {
  return pinScope().flatMap((file) => {
    const allowed = ALLOWED.get(relative(file));
    return readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, index) =>
        allowed?.(line)
          ? []
          : versionLiterals(line).map((found) => `${relative(file)}:${index + 1}: ${found}`),
      );
  });
}

const pins = (): Record<string, unknown> => parse(readFileSync(VERSIONS, 'utf8'));

describe('version pins', () => {
  it('recognises version literals and untemplated version keys, not addresses', () => {
    expect(
      versionLiterals(
        'image: flannel:v0.26.2 pkg=1.32.3-1.1 minor 1.32 at 192.168.56.10 in 10.244.0.0/16 python3.11 {{ helm_version }}',
      ),
    ).toEqual(['v0.26.2', '1.32.3-1.1', '1.32']);
    expect(
      untemplatedVersionKeys([
        { chart_version: '1.0.0', apiVersion: 'v1', name: 'x' },
        { block: [{ 'kubernetes.core.helm': { chart_version: '{{ metallb_chart_version }}', version: 3 } }] },
      ]),
    ).toEqual(['chart_version: 1.0.0', 'version: 3']);
  });

  it('no version literal outside versions.yml (ops/ansible and the Vagrantfile)', () => {
    expect(existsSync(VAGRANTFILE)).toBe(true);
    expect(strayVersionLiterals()).toEqual([]);
  });

  it('no untemplated version key in the YAML files outside versions.yml', () => {
    const yamlFiles = filesUnder(ANSIBLE).filter(
      (file) => /\.ya?ml$/.test(file) && !ALLOWED.has(relative(file)) && !file.includes('/templates/'),
    );
    expect(yamlFiles.length).toBeGreaterThan(20);
    const found = yamlFiles.flatMap((file) =>
      untemplatedVersionKeys(parse(readFileSync(file, 'utf8'))).map((entry) => `${relative(file)}: ${entry}`),
    );
    expect(found).toEqual([]);
  });

  it('every *_version variable used is a pin of versions.yml, and every pin is used', () => {
    const defined = Object.keys(pins());
    const sources = pinScope()
      .filter((file) => file !== VERSIONS)
      .concat(existsSync(INVENTORY_RB) ? [INVENTORY_RB] : []);
    const text = sources.map((file) => readFileSync(file, 'utf8')).join('\n');
    const used = new Set(
      [...text.matchAll(/\{\{([^}]*)\}\}/g)].flatMap(
        (match) => match[1].match(/\b[a-z][a-z0-9_]*_version\b/g) ?? [],
      ),
    );
    expect([...used].filter((name) => !defined.includes(name)).sort()).toEqual([]);
    // vagrant_box and vagrant_box_version are read by ops/cluster/inventory.rb (the Vagrantfile's helper).
    expect(defined.filter((name) => !new RegExp(`\\b${name}\\b`).test(text))).toEqual([]);
  });

  it('every pin is a quoted string, and the Kubernetes pins agree with each other', () => {
    const versions = pins();
    expect(Object.entries(versions).filter(([, value]) => typeof value !== 'string')).toEqual([]);
    const minor = versions.kubernetes_minor as string;
    const version = versions.kubernetes_version as string;
    expect(minor).toMatch(/^\d+\.\d+$/);
    expect(version.startsWith(`${minor}.`)).toBe(true);
    expect((versions.kubernetes_package_version as string).startsWith(`${version}-`)).toBe(true);
  });
});

// --- Tools ----------------------------------------------------------------------------------------------

describeAnsible('ansible-lint (production profile, offline)', () => {
  const lint = (cwd: string) =>
    run('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', '-p'], cwd);

  it('passes on ops/ansible', () => {
    const result = lint(ANSIBLE);
    expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 0, stdout: '' });
    expect(result.stderr).toMatch(/Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
  });

  it('fails on a task that breaks the profile', async () => {
    const copy = await copyOfAnsible();
    await appendFile(path.join(copy, 'roles/worker/tasks/main.yml'), '\n- name: bad task\n  command: ls /\n');
    const line = readFileSync(path.join(copy, 'roles/worker/tasks/main.yml'), 'utf8').split('\n').length - 2;
    const result = lint(copy);
    expect(result.status).toBe(2);
    expect(result.stdout.trim().split('\n')).toEqual([
      `roles/worker/tasks/main.yml:${line}: fqcn[action-core]: Use FQCN for builtin module actions (command).`,
      `roles/worker/tasks/main.yml:${line}: name[casing]: All names should start with an uppercase letter.`,
      `roles/worker/tasks/main.yml:${line}: no-changed-when: Commands should not change things if nothing needs doing.`,
    ]);
  });
});

describeAnsible('ansible-playbook with an inventory in the generated format', () => {
  it.each(PLAYBOOKS)('--syntax-check passes for %s', (playbook) => {
    const file = path.join(ANSIBLE, playbook);
    const result = run('ansible-playbook', ['--syntax-check', '-i', INVENTORY, file], ROOT);
    expect({ status: result.status, stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
      status: 0,
      stdout: `playbook: ${file}`,
      stderr: '',
    });
  });

  it('--syntax-check fails on a playbook naming a role that does not exist', async () => {
    const copy = await copyOfAnsible();
    await writeFile(
      path.join(copy, 'broken.yml'),
      '---\n- name: Broken\n  hosts: all\n  roles:\n    - role: no_such_role\n',
    );
    const result = run(
      'ansible-playbook',
      ['--syntax-check', '-i', INVENTORY, path.join(copy, 'broken.yml')],
      copy,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the role 'no_such_role' was not found/);
  });

  it('the plays of cluster.yml reach every node, the control plane, and the workers', () => {
    const result = run(
      'ansible-playbook',
      ['--list-hosts', '-i', INVENTORY, path.join(ANSIBLE, 'cluster.yml')],
      ROOT,
    );
    expect(result.status).toBe(0);
    // `play #N (pattern): name  TAGS: []`, then `pattern: [...]`, `hosts (n):` and one host per line (any order).
    const plays: { play: string; hosts: string[] }[] = [];
    for (const line of result.stdout.split('\n').map((text) => text.trim())) {
      const play = /^play #\d+ \(([^)]+)\):/.exec(line);
      if (play) plays.push({ play: play[1], hosts: [] });
      else if (/^rs-[\w-]+$/.test(line)) plays[plays.length - 1].hosts.push(line);
    }
    expect(plays.map(({ play, hosts }) => ({ play, hosts: hosts.sort() }))).toEqual([
      { play: 'all', hosts: ['rs-control', 'rs-worker-1', 'rs-worker-2'] },
      { play: 'control_plane', hosts: ['rs-control'] },
      { play: 'workers', hosts: ['rs-worker-1', 'rs-worker-2'] },
    ]);
  });
});

describeYamllint('yamllint -c ops/.yamllint', () => {
  const yamllint = (files: string[]) =>
    run('yamllint', ['-c', path.join(ROOT, 'ops/.yamllint'), '-f', 'parsable', ...files], ROOT);

  it('is clean on ops/ansible and ops/cluster/settings.yaml', () => {
    const result = yamllint(['ops/ansible', 'ops/cluster/settings.yaml']);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('flags a missing document start, a yes/no boolean, a long line and an implicit octal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-yamllint-'));
    temporaryDirs.push(dir);
    const file = path.join(dir, 'bad.yml');
    await writeFile(file, `enabled: yes\nmode: 0644\ncomment: ${'x'.repeat(120)}\n`);
    const result = yamllint([file]);
    expect(result.status).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${file}:1:1: [error] missing document start "---" (document-start)`,
      `${file}:1:10: [error] truthy value should be one of [false, true] (truthy)`,
      `${file}:2:11: [error] forbidden implicit octal value "0644" (octal-values)`,
      `${file}:3:121: [error] line too long (129 > 120 characters) (line-length)`,
    ]);
  });
});

const haveRuby = toolAvailable(missing('ruby'), 'the fixture inventory check', 'apt-get install ruby');

(haveRuby ? describe : describe.skip)('the fixture inventory', () => {
  it('is what ops/cluster/inventory.rb generates for two workers (key paths aside)', () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/^(RS|VAGRANT)_/.test(key)),
    );
    const result = spawnSync('ruby', [INVENTORY_RB], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...env, RS_WORKERS: '2', RS_NETWORK_PREFIX: '192.168.56', RS_PROVIDER: 'virtualbox' },
    });
    expect(result.status).toBe(0);
    const generated = result.stdout.split(path.join(ROOT, 'ops/cluster')).join('/nonexistent');
    const fixture = readFileSync(INVENTORY, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('# (Fixture'))
      .join('\n');
    expect(fixture).toBe(generated);
  });
});
