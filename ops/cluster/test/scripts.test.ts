/**
 * ops/cluster-up and ops/cluster-down, run for real against fake tools: shellcheck finds nothing; the
 * dry-run plan is exact and runs nothing; missing prerequisites are named with how to install them
 * (exit 2); a full run makes exactly the expected calls in order and prints the URLs, the hosts-file
 * line and the dashboard token command; a failed step is named with its log and a rerun continues from
 * it; cluster-down destroys the VMs and removes every generated file.
 *
 * The scripts run in a copy of the repository layout (ops/cluster/test/support/fake-tools.ts) with the
 * real inventory.rb, settings.yaml, cluster.yml and requirements.yml, and a PATH holding only the real
 * bash, ruby and coreutils they use plus the fakes. Needs bash, ruby and shellcheck: the tests are skipped
 * with a warning when one is missing, and fail when CI=true.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { toolAvailable } from '../../../test/support/system-tool.js';
import {
  createFixture,
  FAKE_TOOLS,
  fixtureEnv,
  recordedCalls,
  REPO_ROOT,
  runScript,
  which,
  type FakeTool,
  type Fixture,
} from './support/fake-tools.js';

const run = promisify(execFile);

const missingTools = ['bash', 'ruby', 'shellcheck'].filter((tool) => !which(tool));
const haveTools = toolAvailable(
  missingTools.length ? `${missingTools.join(', ')} not found` : undefined,
  'the ops/cluster-up and ops/cluster-down tests',
  'apt-get install bash ruby shellcheck',
);
const describeWithTools = haveTools ? describe : describe.skip;

/** The settings every test runs with (all of them, so settings.yaml's defaults do not matter). */
const SETTINGS = {
  RS_WORKERS: '2',
  RS_CPUS: '2',
  RS_MEMORY_MB: '3072',
  RS_CONTROL_MEMORY_MB: '4096',
  RS_NETWORK_PREFIX: '192.168.56',
  RS_PROVIDER: 'virtualbox',
};

/** The fakes' answers for a healthy cluster of rs-control and two workers. */
const HEALTHY = {
  FAKE_NODES: 'rs-control rs-worker-1 rs-worker-2',
  FAKE_VM_STATES: 'rs-control:running rs-worker-1:running rs-worker-2:running',
  FAKE_CURL_CODES: '000 503 200',
  RS_WAIT_INTERVAL: '0',
};

/** The collections of ops/ansible/requirements.yml as NAME=PINNED_VERSION, space-separated. */
let pins = '';
beforeAll(async () => {
  const requirements = parse(
    await readFile(path.join(REPO_ROOT, 'ops/ansible/requirements.yml'), 'utf8'),
  ) as {
    collections: { name: string; version: string }[];
  };
  pins = requirements.collections.map((c) => `${c.name}=${c.version}`).join(' ');
});

const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await rm(fixture.root, { recursive: true, force: true });
});

/** A fixture with the fakes `fakes` (default: all), removed after the test. */
async function fixture(fakes: readonly FakeTool[] = FAKE_TOOLS, real?: Parameters<typeof createFixture>[1]) {
  const created = await createFixture(fakes, real);
  fixtures.push(created);
  return created;
}

/** The environment of a run: the fixture's PATH, SETTINGS, HEALTHY, the pinned collections and `extra`. */
function env(f: Fixture, extra: Record<string, string> = {}) {
  return fixtureEnv(f, { ...SETTINGS, ...HEALTHY, FAKE_COLLECTIONS: pins, ...extra });
}

const GENERATED = 'ops/cluster/.generated';

/** The prerequisite calls about Ansible of a run with every prerequisite there. */
const ANSIBLE_CALLS = [
  'ansible-playbook --version',
  "python3 -c 'import kubernetes'",
  'ansible-galaxy collection list --format json',
];

/** The prerequisite calls of a run with every prerequisite there (VirtualBox). */
const PREREQUISITE_CALLS = ['vagrant --version', 'VBoxManage --version', ...ANSIBLE_CALLS];

/** The calls that check a recorded vms step. */
const STATUS_CALL = 'vagrant status --machine-readable  # in ops/cluster';

const VMS_CALL = 'vagrant up --provider virtualbox --provision  # in ops/cluster';
const KUBECONFIG_CALLS = [
  `kubectl --kubeconfig ${GENERATED}/kubeconfig get nodes -o name`,
  `kubectl --kubeconfig ${GENERATED}/kubeconfig wait --for=condition=Ready node --all --timeout=600s`,
];
const FINALIZE_CALL = `ANSIBLE_CONFIG=ops/ansible/ansible.cfg ansible-playbook -i ${GENERATED}/inventory.ini ops/ansible/finalize.yml`;
const CURL_CALL = `curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: app.rs.local' http://192.168.56.240/`;
/** The wait step's calls when the fake app answers on the third try (the default FAKE_CURL_CODES). */
const WAIT_CALLS = [CURL_CALL, CURL_CALL, CURL_CALL];
/** Every call of a whole run from an empty state, in order. */
const FULL_RUN_CALLS = [...PREREQUISITE_CALLS, VMS_CALL, ...KUBECONFIG_CALLS, FINALIZE_CALL, ...WAIT_CALLS];

/** What cluster-up prints at the end of a successful run with SETTINGS. */
const REACH_IT = [
  '',
  'Restaurant Sentiment runs on the cluster: 1 control node and 2 workers (virtualbox).',
  '',
  'Add this line to /etc/hosts on this machine (on Windows: C:\\Windows\\System32\\drivers\\etc\\hosts):',
  '  192.168.56.240 app.rs.local grafana.rs.local prometheus.rs.local kiali.rs.local dashboard.rs.local',
  '',
  '  app         http://app.rs.local/',
  '  grafana     http://grafana.rs.local/',
  '  prometheus  http://prometheus.rs.local/',
  '  kiali       http://kiali.rs.local/',
  '  dashboard   https://dashboard.rs.local/',
  '',
  `Grafana: user admin, password in ${GENERATED}/grafana-admin-password`,
  'Dashboard (accept its self-signed certificate) and Kiali: log in with the token this prints:',
  `  kubectl --kubeconfig ${GENERATED}/kubeconfig -n kubernetes-dashboard create token dashboard-admin`,
  `kubectl and helm: export KUBECONFIG="$PWD/${GENERATED}/kubeconfig" (from the repository root)`,
  'Remove the cluster: ops/cluster-down',
];

const lines = (...all: string[]) => all.map((line) => `${line}\n`).join('');

/** The state file's lines after SETTINGS' run: the settings fingerprint, then `steps`. */
async function expectState(f: Fixture, steps: string[]) {
  const [settingsLine, ...done] = (await readFile(path.join(f.root, GENERATED, 'state'), 'utf8')).split('\n');
  expect(done).toEqual([...steps, '']);
  expect(settingsLine.startsWith('settings ')).toBe(true);
  const fingerprint = JSON.parse(settingsLine.slice('settings '.length)) as Record<string, unknown>;
  expect(Object.keys(fingerprint).sort()).toEqual(
    ['control_memory_mb', 'cpus', 'machines', 'memory_mb', 'network_prefix', 'provider', 'workers'].sort(),
  );
  expect(fingerprint).toMatchObject({ workers: 2, cpus: 2, memory_mb: 3072, provider: 'virtualbox' });
}

describeWithTools('ops/cluster-up and ops/cluster-down', () => {
  it('are shellcheck-clean', async () => {
    const { stdout, stderr } = await run('shellcheck', ['ops/cluster-up', 'ops/cluster-down'], {
      cwd: REPO_ROOT,
    });
    expect({ stdout, stderr }).toEqual({ stdout: '', stderr: '' });
  });

  it('print their usage with --help', async () => {
    const f = await fixture();
    const up = runScript(f, 'cluster-up', ['--help'], env(f));
    const down = runScript(f, 'cluster-down', ['-h'], env(f));
    expect([up.status, up.stdout.split('\n')[0], up.stderr]).toEqual([
      0,
      'Usage: ops/cluster-up [--dry-run] [--restart | --from STEP]',
      '',
    ]);
    expect([down.status, down.stdout.split('\n')[0], down.stderr]).toEqual([
      0,
      'Usage: ops/cluster-down [--dry-run]',
      '',
    ]);
    expect(await recordedCalls(f)).toEqual([]);
  });

  it('reject bad usage with exit 2 and a one-line message', async () => {
    const f = await fixture();
    const cases: [string, string[], string][] = [
      ['cluster-up', ['--frobnicate'], 'cluster-up: unknown option --frobnicate (see ops/cluster-up --help)'],
      [
        'cluster-up',
        ['--from', 'nope'],
        'cluster-up: --from nope: no such step (steps: vms kubeconfig finalize wait)',
      ],
      ['cluster-up', ['--from'], 'cluster-up: --from needs a step: vms kubeconfig finalize wait'],
      ['cluster-up', ['--restart', '--from', 'wait'], 'cluster-up: --restart and --from exclude each other'],
      ['cluster-down', ['--restart'], 'cluster-down: unknown option --restart (see ops/cluster-down --help)'],
    ];
    for (const [script, args, message] of cases) {
      const result = runScript(f, script as 'cluster-up', args, env(f));
      expect([script, args, result.status, result.stdout, result.stderr]).toEqual([
        script,
        args,
        2,
        '',
        `${message}\n`,
      ]);
    }
    const badWait = runScript(f, 'cluster-up', ['--dry-run'], env(f, { RS_WAIT_TIMEOUT: '10m' }));
    expect([badWait.status, badWait.stderr]).toEqual([
      2,
      'cluster-up: RS_WAIT_TIMEOUT=10m: expected a whole number of seconds\n',
    ]);
    const badSettings = runScript(f, 'cluster-up', ['--dry-run'], env(f, { RS_WORKERS: '12' }));
    expect(badSettings.status).toBe(2);
    expect(badSettings.stderr.split('\n').at(-2)).toBe(
      'cluster-up: ruby ops/cluster/inventory.rb --json failed (its message is above): check ops/cluster/settings.yaml and the RS_* variables',
    );
    expect(await recordedCalls(f)).toEqual([]);
  });
});

describeWithTools('ops/cluster-up --dry-run', () => {
  it('prints the plan with the exact commands, runs nothing and exits 0', async () => {
    const f = await fixture();
    const result = runScript(f, 'cluster-up', ['--dry-run'], env(f));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      lines(
        'Plan (dry run: nothing is run): 1 control node and 2 workers on virtualbox, network 192.168.56.0/24',
        '',
        '1. prerequisites (checked on every run)',
        '     command -v vagrant VBoxManage ansible-playbook kubectl helm curl ruby',
        '     vagrant --version   # 2.3.4 or later',
        '     VBoxManage --version   # a VirtualBox this Vagrant supports (VirtualBox, first Vagrant: 7.0: 2.3.4 7.1: 2.4.2 7.2: 2.4.9)',
        "     ansible-playbook --version   # ansible-core 2.14 or later; names Ansible's Python, PYTHON:",
        "     PYTHON -c 'import kubernetes'",
        `     ansible-galaxy collection list --format json   # at least ${pins}`,
        '2. vms',
        '     cd ops/cluster && vagrant up --provider virtualbox --provision',
        '3. kubeconfig',
        `     test -s ${GENERATED}/kubeconfig`,
        `     kubectl --kubeconfig ${GENERATED}/kubeconfig get nodes -o name   # expects node/rs-control node/rs-worker-1 node/rs-worker-2`,
        `     kubectl --kubeconfig ${GENERATED}/kubeconfig wait --for=condition=Ready node --all --timeout=600s`,
        '4. finalize',
        `     env ANSIBLE_CONFIG=ops/ansible/ansible.cfg ansible-playbook -i ${GENERATED}/inventory.ini ops/ansible/finalize.yml`,
        '5. wait: every 0 s for up to 900 s, until it prints 200',
        `     ${CURL_CALL}`,
        '',
        `State: ${GENERATED}/state; logs: ${GENERATED}/logs/STEP.log`,
      ),
    );
    expect(await recordedCalls(f)).toEqual([]);
    expect(existsSync(path.join(f.root, GENERATED))).toBe(false);
  });

  it('follows the settings: libvirt, three workers, another network, another wait', async () => {
    const f = await fixture();
    const result = runScript(
      f,
      'cluster-up',
      ['--dry-run'],
      env(f, {
        RS_PROVIDER: 'libvirt',
        RS_WORKERS: '3',
        RS_NETWORK_PREFIX: '10.20.30',
        RS_WAIT_TIMEOUT: '60',
        RS_WAIT_INTERVAL: '5',
      }),
    );
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toBe(
      lines(
        'Plan (dry run: nothing is run): 1 control node and 3 workers on libvirt, network 10.20.30.0/24',
        '',
        '1. prerequisites (checked on every run)',
        '     command -v vagrant virsh ansible-playbook kubectl helm curl ruby',
        '     vagrant plugin list   # lists vagrant-libvirt',
        '     vagrant --version   # 2.3.4 or later',
        "     ansible-playbook --version   # ansible-core 2.14 or later; names Ansible's Python, PYTHON:",
        "     PYTHON -c 'import kubernetes'",
        `     ansible-galaxy collection list --format json   # at least ${pins}`,
        '2. vms',
        '     cd ops/cluster && vagrant up --provider libvirt --provision',
        '3. kubeconfig',
        `     test -s ${GENERATED}/kubeconfig`,
        `     kubectl --kubeconfig ${GENERATED}/kubeconfig get nodes -o name   # expects node/rs-control node/rs-worker-1 node/rs-worker-2 node/rs-worker-3`,
        `     kubectl --kubeconfig ${GENERATED}/kubeconfig wait --for=condition=Ready node --all --timeout=600s`,
        '4. finalize',
        `     env ANSIBLE_CONFIG=ops/ansible/ansible.cfg ansible-playbook -i ${GENERATED}/inventory.ini ops/ansible/finalize.yml`,
        '5. wait: every 5 s for up to 60 s, until it prints 200',
        "     curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: app.rs.local' http://10.20.30.240/",
        '',
        `State: ${GENERATED}/state; logs: ${GENERATED}/logs/STEP.log`,
      ),
    );
    expect(await recordedCalls(f)).toEqual([]);
  });

  it('marks the steps already done, and what --from and --restart would redo', async () => {
    const f = await fixture();
    const failed = runScript(f, 'cluster-up', [], env(f, { FAKE_FAIL: 'ansible-playbook' }));
    expect(failed.status).toBe(1);
    const before = await recordedCalls(f);
    const headings = (args: string[]) =>
      runScript(f, 'cluster-up', ['--dry-run', ...args], env(f))
        .stdout.split('\n')
        .filter((line) => /^[2-5]\. /.test(line));
    expect(headings([])).toEqual([
      '2. vms (done: skipped while every VM runs)',
      '3. kubeconfig (done: skipped)',
      '4. finalize',
      '5. wait: every 0 s for up to 900 s, until it prints 200',
    ]);
    expect(headings(['--from', 'kubeconfig'])).toEqual([
      '2. vms (done: skipped while every VM runs)',
      '3. kubeconfig',
      '4. finalize',
      '5. wait: every 0 s for up to 900 s, until it prints 200',
    ]);
    expect(headings(['--restart'])).toEqual([
      '2. vms',
      '3. kubeconfig',
      '4. finalize',
      '5. wait: every 0 s for up to 900 s, until it prints 200',
    ]);
    expect(await recordedCalls(f)).toEqual(before);
    await expectState(f, ['vms', 'kubeconfig']);
  });
});

describeWithTools('ops/cluster-up prerequisites', () => {
  it('names each missing tool with how to install it, exits 2 and runs nothing else', async () => {
    const f = await fixture(['vagrant', 'kubectl', 'curl']);
    const result = runScript(f, 'cluster-up', [], env(f));
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      lines(
        'cluster-up: missing prerequisites (install them, then run ops/cluster-up again):',
        '  VBoxManage: install VirtualBox, https://www.virtualbox.org/wiki/Downloads (or set RS_PROVIDER=libvirt)',
        '  ansible-playbook: apt-get install ansible, or pipx install --include-deps ansible',
        '  helm: https://helm.sh/docs/intro/install/',
      ),
    );
    expect(await recordedCalls(f)).toEqual(['vagrant --version']);
    expect(existsSync(path.join(f.root, GENERATED))).toBe(false);
  });

  it("checks libvirt's virsh and Vagrant plugin, Ansible's Python package and its collections", async () => {
    const f = await fixture([
      'vagrant',
      'ansible-playbook',
      'ansible-galaxy',
      'python3',
      'kubectl',
      'helm',
      'curl',
    ]);
    const [firstPin, ...otherPins] = pins.split(' ');
    const first = firstPin.split('=')[0];
    const result = runScript(
      f,
      'cluster-up',
      [],
      env(f, { RS_PROVIDER: 'libvirt', FAKE_NO_KUBERNETES: '1', FAKE_COLLECTIONS: otherPins.join(' ') }),
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      lines(
        'cluster-up: missing prerequisites (install them, then run ops/cluster-up again):',
        '  virsh: apt-get install libvirt-daemon-system libvirt-clients',
        '  vagrant-libvirt (Vagrant plugin): vagrant plugin install vagrant-libvirt (Debian: apt-get install vagrant-libvirt)',
        `  Python package kubernetes (for Ansible's Python, ${f.bin}/python3): apt-get install python3-kubernetes, or pip install kubernetes`,
        `  Ansible collections ${first}: ansible-galaxy collection install -r ops/ansible/requirements.yml`,
      ),
    );
    expect(await recordedCalls(f)).toEqual(['vagrant plugin list', 'vagrant --version', ...ANSIBLE_CALLS]);
  });

  it('names too old Vagrant, ansible-core and collections with how to update them (exit 2)', async () => {
    const f = await fixture();
    const [firstPin, ...otherPins] = pins.split(' ');
    const [first, firstVersion] = firstPin.split('=');
    const result = runScript(
      f,
      'cluster-up',
      [],
      env(f, {
        FAKE_VAGRANT_VERSION: '2.3.3',
        // ansible 2.9 printed no "[core ...]"; 2.9 < 2.14 although "2.9" > "2.14" as text.
        FAKE_ANSIBLE_CORE: '2.9.27',
        FAKE_VIRTUALBOX_VERSION: '7.1.4r165100',
        FAKE_COLLECTIONS: [`${first}=0.0.1`, ...otherPins].join(' '),
      }),
    );
    expect([result.status, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toBe(
      lines(
        'cluster-up: missing or outdated prerequisites (install or update them, then run ops/cluster-up again):',
        '  Vagrant 2.3.3 (vagrant --version): needs 2.3.4 or later: https://developer.hashicorp.com/vagrant/install',
        '  ansible-core 2.9.27 (ansible-playbook --version): needs 2.14 or later: pipx install --include-deps ansible, or apt-get install ansible on Debian 12 or later',
        `  Ansible collections older than ops/ansible/requirements.yml pins: ${first} 0.0.1 (needs ${firstVersion}): ansible-galaxy collection install -r ops/ansible/requirements.yml (into ~/.ansible/collections, which Ansible searches first)`,
      ),
    );
    expect(await recordedCalls(f)).toEqual(PREREQUISITE_CALLS);
  });

  it.each([
    [
      '2.3.4',
      '7.1.4r165100',
      'VirtualBox 7.1.4 (VBoxManage --version) needs Vagrant 2.4.2 or later, this is Vagrant 2.3.4: install Vagrant 2.4.2 or later (https://developer.hashicorp.com/vagrant/install), or VirtualBox 7.0',
    ],
    [
      '2.4.2',
      '7.2.0r170228',
      'VirtualBox 7.2.0 (VBoxManage --version) needs Vagrant 2.4.9 or later, this is Vagrant 2.4.2: install Vagrant 2.4.9 or later (https://developer.hashicorp.com/vagrant/install), or VirtualBox 7.1',
    ],
    [
      '2.4.9',
      '8.0.0r180000',
      'VirtualBox 8.0.0 (VBoxManage --version) is newer than 7.2, the last VirtualBox this script knows the Vagrant release for: install VirtualBox 7.2, or add its row to VIRTUALBOX_VAGRANT in ops/cluster-up',
    ],
    [
      '2.4.9',
      'unknown',
      "VBoxManage --version printed no version: check VirtualBox's installation (on Linux its kernel module: sudo /sbin/vboxconfig)",
    ],
  ])('with Vagrant %s refuses VirtualBox %s with its exact message', async (vagrant, virtualbox, message) => {
    const f = await fixture();
    const result = runScript(
      f,
      'cluster-up',
      [],
      env(f, { FAKE_VAGRANT_VERSION: vagrant, FAKE_VIRTUALBOX_VERSION: virtualbox }),
    );
    expect([result.status, result.stdout, result.stderr]).toEqual([
      2,
      '',
      lines(
        'cluster-up: missing or outdated prerequisites (install or update them, then run ops/cluster-up again):',
        `  ${message}`,
      ),
    ]);
  });

  it('accepts the VirtualBox each Vagrant supports, newer ansible-core and newer collections', async () => {
    const newer = pins
      .split(' ')
      .map((pin) => `${pin.split('=')[0]}=99.10.0`)
      .join(' ');
    const runs = [];
    for (const [vagrant, virtualbox] of [
      ['2.3.4', '6.1.50r161033'],
      ['2.3.4', '7.0.20r163906'],
      ['2.4.2', '7.1.4r165100'],
      ['2.4.10', '7.2.0r170228'],
    ]) {
      const f = await fixture();
      const result = runScript(
        f,
        'cluster-up',
        [],
        env(f, {
          FAKE_VAGRANT_VERSION: vagrant,
          FAKE_VIRTUALBOX_VERSION: virtualbox,
          FAKE_ANSIBLE_CORE: '2.18.1',
          FAKE_COLLECTIONS: newer,
        }),
      );
      runs.push([vagrant, virtualbox, result.status, result.stderr, result.stdout.split('\n')[0]]);
    }
    expect(runs).toEqual([
      ['2.3.4', '6.1.50r161033', 0, '', '[1/5] prerequisites ... ok'],
      ['2.3.4', '7.0.20r163906', 0, '', '[1/5] prerequisites ... ok'],
      ['2.4.2', '7.1.4r165100', 0, '', '[1/5] prerequisites ... ok'],
      ['2.4.10', '7.2.0r170228', 0, '', '[1/5] prerequisites ... ok'],
    ]);
  });

  it('without ruby, names it and the other missing tools it can check', async () => {
    const f = await fixture(
      ['vagrant', 'kubectl', 'curl', 'ansible-playbook'],
      ['bash', 'env', 'cat', 'mkdir', 'mv', 'rm', 'sleep'],
    );
    const result = runScript(f, 'cluster-up', ['--dry-run'], env(f));
    expect(result.status).toBe(2);
    expect(result.stdout).toBe(
      lines(
        'Plan (dry run: nothing is run): without ruby the settings cannot be read, so only the steps:',
        '1. prerequisites',
        '2. vms',
        '3. kubeconfig',
        '4. finalize',
        '5. wait',
      ),
    );
    expect(result.stderr).toBe(
      lines(
        'cluster-up: missing prerequisites (install them, then run ops/cluster-up again):',
        '  helm: https://helm.sh/docs/intro/install/',
        '  ruby: apt-get install ruby, or brew install ruby',
        "  (VirtualBox or libvirt, whichever the settings name, and Ansible's Python packages and collections are checked once ruby can read the settings)",
      ),
    );
    expect(await recordedCalls(f)).toEqual([]);
  });
});

describeWithTools('ops/cluster-up with fake tools', () => {
  it('runs every step in order, records it, and prints how to reach the app', async () => {
    const f = await fixture();
    const result = runScript(f, 'cluster-up', [], env(f));
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        '[1/5] prerequisites ... ok',
        `[2/5] vms (log: ${GENERATED}/logs/vms.log) ... done`,
        `[3/5] kubeconfig (log: ${GENERATED}/logs/kubeconfig.log) ... done: 3 nodes Ready`,
        `[4/5] finalize (log: ${GENERATED}/logs/finalize.log) ... done`,
        `[5/5] wait (log: ${GENERATED}/logs/wait.log) ... done: http://app.rs.local/ answers 200`,
        ...REACH_IT,
      ),
    );
    expect(result.status).toBe(0);
    expect(await recordedCalls(f)).toEqual(FULL_RUN_CALLS);
    await expectState(f, ['vms', 'kubeconfig', 'finalize']);
    expect(await readdir(path.join(f.root, GENERATED, 'logs'))).toEqual([
      'finalize.log',
      'kubeconfig.log',
      'vms.log',
      'wait.log',
    ]);
    expect(await readFile(path.join(f.root, GENERATED, 'logs', 'wait.log'), 'utf8')).toBe(
      lines(
        `$ ${CURL_CALL}`,
        'curl: (7) Failed to connect',
        'try 1 after 0 s: 000',
        'try 2 after 0 s: 503',
        'try 3 after 0 s: 200',
      ),
    );
    expect(await readFile(path.join(f.root, GENERATED, 'logs', 'vms.log'), 'utf8')).toBe(
      lines(
        '$ cd ops/cluster',
        '$ vagrant up --provider virtualbox --provision',
        "Bringing machine 'rs-control' up with 'virtualbox' provider...",
      ),
    );

    // Everything done: a rerun checks the prerequisites and that every VM runs, skips the recorded steps,
    // and checks that the app answers (wait is never recorded).
    await writeFile(f.calls, '');
    const again = runScript(f, 'cluster-up', [], env(f));
    expect([again.status, again.stderr]).toEqual([0, '']);
    expect(again.stdout).toBe(
      lines(
        '[1/5] prerequisites ... ok',
        '[2/5] vms ... done before (skipped)',
        '[3/5] kubeconfig ... done before (skipped)',
        '[4/5] finalize ... done before (skipped)',
        `[5/5] wait (log: ${GENERATED}/logs/wait.log) ... done: http://app.rs.local/ answers 200`,
        ...REACH_IT,
      ),
    );
    expect(await recordedCalls(f)).toEqual([...PREREQUISITE_CALLS, STATUS_CALL, CURL_CALL]);
    await expectState(f, ['vms', 'kubeconfig', 'finalize']);

    // The app down: the rerun fails at wait instead of claiming success.
    const down = runScript(f, 'cluster-up', [], env(f, { FAKE_CURL_CODES: '000', RS_WAIT_TIMEOUT: '0' }));
    expect([down.status, down.stderr]).toEqual([
      1,
      `cluster-up: step wait failed: http://app.rs.local/ (through 192.168.56.240) did not answer 200 within 0 s (last: 000); log: ${GENERATED}/logs/wait.log (rerun ops/cluster-up to continue from wait)\n`,
    ]);
  });

  it('redoes vms and the steps after it when a VM is not running, forgetting them first', async () => {
    const f = await fixture();
    expect(runScript(f, 'cluster-up', [], env(f)).status).toBe(0);
    await writeFile(f.calls, '');
    const halted = runScript(
      f,
      'cluster-up',
      [],
      env(f, { FAKE_VM_STATES: 'rs-control:poweroff rs-worker-1:running rs-worker-2:not_created' }),
    );
    expect([halted.status, halted.stderr]).toEqual([0, '']);
    expect(halted.stdout).toBe(
      lines(
        '[1/5] prerequisites ... ok',
        '[2/5] vms was done, but not every VM is running (rs-control poweroff, rs-worker-2 not_created): vms and the steps after it run again',
        `[2/5] vms (log: ${GENERATED}/logs/vms.log) ... done`,
        `[3/5] kubeconfig (log: ${GENERATED}/logs/kubeconfig.log) ... done: 3 nodes Ready`,
        `[4/5] finalize (log: ${GENERATED}/logs/finalize.log) ... done`,
        `[5/5] wait (log: ${GENERATED}/logs/wait.log) ... done: http://app.rs.local/ answers 200`,
        ...REACH_IT,
      ),
    );
    expect(await recordedCalls(f)).toEqual([
      ...PREREQUISITE_CALLS,
      STATUS_CALL,
      VMS_CALL,
      ...KUBECONFIG_CALLS,
      FINALIZE_CALL,
      CURL_CALL,
    ]);
    expect(await readFile(path.join(f.root, GENERATED, 'logs', 'vms-status.log'), 'utf8')).toBe(
      lines(
        '$ cd ops/cluster',
        '$ vagrant status --machine-readable',
        '1700000000,rs-control,metadata,provider,virtualbox',
        '1700000000,rs-control,state,poweroff',
        '1700000000,rs-control,state-human-short,poweroff',
        '1700000000,rs-worker-1,metadata,provider,virtualbox',
        '1700000000,rs-worker-1,state,running',
        '1700000000,rs-worker-1,state-human-short,running',
        '1700000000,rs-worker-2,metadata,provider,virtualbox',
        '1700000000,rs-worker-2,state,not_created',
        '1700000000,rs-worker-2,state-human-short,not_created',
        '1700000000,,ui,info,Current machine states:',
      ),
    );

    // vagrant failing (status and up): the steps are forgotten before vms runs, so the next run redoes them.
    await writeFile(f.calls, '');
    const failed = runScript(f, 'cluster-up', [], env(f, { FAKE_FAIL: 'vagrant' }));
    expect([failed.status, failed.stdout, failed.stderr]).toEqual([
      1,
      lines(
        '[1/5] prerequisites ... ok',
        `[2/5] vms was done, but vagrant status exited with status 3 (log: ${GENERATED}/logs/vms-status.log): vms and the steps after it run again`,
      ) + `[2/5] vms (log: ${GENERATED}/logs/vms.log) ... failed\n`,
      `cluster-up: step vms failed: vagrant exited with status 3; log: ${GENERATED}/logs/vms.log (rerun ops/cluster-up to continue from vms)\n`,
    ]);
    expect(await recordedCalls(f)).toEqual([...PREREQUISITE_CALLS, STATUS_CALL, VMS_CALL]);
    await expectState(f, []);
  });

  it('names the failed step and its log, and a rerun continues from that step', async () => {
    const f = await fixture();
    const failed = runScript(f, 'cluster-up', [], env(f, { FAKE_FAIL: 'ansible-playbook' }));
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe(
      lines(
        '[1/5] prerequisites ... ok',
        `[2/5] vms (log: ${GENERATED}/logs/vms.log) ... done`,
        `[3/5] kubeconfig (log: ${GENERATED}/logs/kubeconfig.log) ... done: 3 nodes Ready`,
        `[4/5] finalize (log: ${GENERATED}/logs/finalize.log) ... failed`,
      ),
    );
    expect(failed.stderr).toBe(
      `cluster-up: step finalize failed: ansible-playbook exited with status 3; log: ${GENERATED}/logs/finalize.log (rerun ops/cluster-up to continue from finalize)\n`,
    );
    expect(await recordedCalls(f)).toEqual([
      ...PREREQUISITE_CALLS,
      VMS_CALL,
      ...KUBECONFIG_CALLS,
      FINALIZE_CALL,
    ]);
    expect(await readFile(path.join(f.root, GENERATED, 'logs', 'finalize.log'), 'utf8')).toBe(
      lines(`$ env ${FINALIZE_CALL}`, 'ansible-playbook: simulated failure'),
    );
    await expectState(f, ['vms', 'kubeconfig']);

    await writeFile(f.calls, '');
    const rerun = runScript(f, 'cluster-up', [], env(f));
    expect(rerun.stderr).toBe('');
    expect(rerun.stdout).toBe(
      lines(
        '[1/5] prerequisites ... ok',
        '[2/5] vms ... done before (skipped)',
        '[3/5] kubeconfig ... done before (skipped)',
        `[4/5] finalize (log: ${GENERATED}/logs/finalize.log) ... done`,
        `[5/5] wait (log: ${GENERATED}/logs/wait.log) ... done: http://app.rs.local/ answers 200`,
        ...REACH_IT,
      ),
    );
    expect(rerun.status).toBe(0);
    expect(await recordedCalls(f)).toEqual([
      ...PREREQUISITE_CALLS,
      STATUS_CALL,
      FINALIZE_CALL,
      ...WAIT_CALLS,
    ]);
    await expectState(f, ['vms', 'kubeconfig', 'finalize']);
  });

  it('runs on libvirt with its plugin, three workers, started by a relative path from the root', async () => {
    const f = await fixture();
    const result = runScript(
      f,
      'cluster-up',
      [],
      env(f, {
        RS_PROVIDER: 'libvirt',
        RS_WORKERS: '3',
        FAKE_LIBVIRT_PLUGIN: '1',
        FAKE_NODES: 'rs-worker-3 rs-worker-1 rs-control rs-worker-2',
      }),
      f.root,
    );
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout.split('\n').slice(0, 7)).toEqual([
      '[1/5] prerequisites ... ok',
      `[2/5] vms (log: ${GENERATED}/logs/vms.log) ... done`,
      `[3/5] kubeconfig (log: ${GENERATED}/logs/kubeconfig.log) ... done: 4 nodes Ready`,
      `[4/5] finalize (log: ${GENERATED}/logs/finalize.log) ... done`,
      `[5/5] wait (log: ${GENERATED}/logs/wait.log) ... done: http://app.rs.local/ answers 200`,
      '',
      'Restaurant Sentiment runs on the cluster: 1 control node and 3 workers (libvirt).',
    ]);
    expect(await recordedCalls(f)).toEqual([
      'vagrant plugin list',
      'vagrant --version',
      ...ANSIBLE_CALLS,
      'vagrant up --provider libvirt --provision  # in ops/cluster',
      ...KUBECONFIG_CALLS,
      FINALIZE_CALL,
      ...WAIT_CALLS,
    ]);
  });

  it('fails the kubeconfig step when the kubeconfig is missing or a VM is not a node', async () => {
    const f = await fixture();
    const noKubeconfig = runScript(f, 'cluster-up', [], env(f, { FAKE_NO_KUBECONFIG: '1' }));
    expect([noKubeconfig.status, noKubeconfig.stderr]).toEqual([
      1,
      `cluster-up: step kubeconfig failed: ${GENERATED}/kubeconfig is missing or empty (the control_plane role fetches it in step vms); log: ${GENERATED}/logs/kubeconfig.log (rerun ops/cluster-up to continue from kubeconfig)\n`,
    ]);
    await expectState(f, ['vms']);

    await mkdir(path.join(f.root, GENERATED), { recursive: true });
    await writeFile(path.join(f.root, GENERATED, 'kubeconfig'), 'apiVersion: v1\n');
    await writeFile(f.calls, '');
    const missingNode = runScript(f, 'cluster-up', [], env(f, { FAKE_NODES: 'rs-control rs-worker-2' }));
    expect([missingNode.status, missingNode.stderr]).toEqual([
      1,
      `cluster-up: step kubeconfig failed: the cluster's nodes are node/rs-control node/rs-worker-2, not node/rs-control node/rs-worker-1 node/rs-worker-2; log: ${GENERATED}/logs/kubeconfig.log (rerun ops/cluster-up to continue from kubeconfig)\n`,
    ]);
    expect(await recordedCalls(f)).toEqual([...PREREQUISITE_CALLS, STATUS_CALL, KUBECONFIG_CALLS[0]]);
    expect(await readFile(path.join(f.root, GENERATED, 'logs', 'kubeconfig.log'), 'utf8')).toBe(
      lines(
        `$ ${KUBECONFIG_CALLS[0]}`,
        'node/rs-control',
        'node/rs-worker-2',
        "the cluster's nodes are node/rs-control node/rs-worker-2, not node/rs-control node/rs-worker-1 node/rs-worker-2",
      ),
    );
  });

  it('fails the wait step when the app does not answer 200 in time', async () => {
    const f = await fixture();
    const result = runScript(f, 'cluster-up', [], env(f, { FAKE_CURL_CODES: '503', RS_WAIT_TIMEOUT: '0' }));
    expect(result.status).toBe(1);
    expect(result.stdout.split('\n').at(-2)).toBe(`[5/5] wait (log: ${GENERATED}/logs/wait.log) ... failed`);
    expect(result.stderr).toBe(
      `cluster-up: step wait failed: http://app.rs.local/ (through 192.168.56.240) did not answer 200 within 0 s (last: 503); log: ${GENERATED}/logs/wait.log (rerun ops/cluster-up to continue from wait)\n`,
    );
    await expectState(f, ['vms', 'kubeconfig', 'finalize']);
  });

  it('redoes the steps from --from on, or all with --restart', async () => {
    const f = await fixture();
    expect(runScript(f, 'cluster-up', [], env(f)).status).toBe(0);

    await writeFile(f.calls, '');
    await rm(`${f.calls}.curl`);
    const from = runScript(f, 'cluster-up', ['--from', 'finalize'], env(f));
    expect([from.status, from.stderr]).toEqual([0, '']);
    expect(await recordedCalls(f)).toEqual([
      ...PREREQUISITE_CALLS,
      STATUS_CALL,
      FINALIZE_CALL,
      ...WAIT_CALLS,
    ]);

    await writeFile(f.calls, '');
    await rm(`${f.calls}.curl`);
    const restart = runScript(f, 'cluster-up', ['--restart'], env(f));
    expect([restart.status, restart.stderr]).toEqual([0, '']);
    expect(await recordedCalls(f)).toEqual(FULL_RUN_CALLS);
    await expectState(f, ['vms', 'kubeconfig', 'finalize']);
  });

  it('refuses to continue with other settings than the steps done (exit 2)', async () => {
    const f = await fixture();
    expect(runScript(f, 'cluster-up', [], env(f, { FAKE_FAIL: 'ansible-playbook' })).status).toBe(1);
    await writeFile(f.calls, '');
    const result = runScript(f, 'cluster-up', [], env(f, { RS_WORKERS: '3' }));
    expect([result.status, result.stdout, result.stderr]).toEqual([
      2,
      '',
      `cluster-up: the settings differ from those of the steps done (${GENERATED}/state): ops/cluster-down first to rebuild with them, or --restart to go on with the VMs as they are\n`,
    ]);
    expect(await recordedCalls(f)).toEqual([]);

    // --dry-run still prints the plan, with a warning, and exits 0.
    const plan = runScript(f, 'cluster-up', ['--dry-run'], env(f, { RS_WORKERS: '3' }));
    expect([plan.status, plan.stderr]).toEqual([0, '']);
    expect(plan.stdout.split('\n').slice(0, 3)).toEqual([
      'Plan (dry run: nothing is run): 1 control node and 3 workers on virtualbox, network 192.168.56.0/24',
      `Warning: a run stops here (exit 2): the settings differ from those of the steps done (${GENERATED}/state): ops/cluster-down first to rebuild with them, or --restart to go on with the VMs as they are`,
      '',
    ]);
    expect(await recordedCalls(f)).toEqual([]);
  });
});

describeWithTools('ops/cluster-down', () => {
  /** A fixture after a full cluster-up, with Vagrant's id files of rs-control and `workers`. */
  async function upFixture(workers: string[]) {
    const f = await fixture();
    expect(runScript(f, 'cluster-up', [], env(f)).status).toBe(0);
    for (const machine of ['rs-control', ...workers]) {
      const dir = path.join(f.root, 'ops/cluster/.vagrant/machines', machine, 'virtualbox');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'id'), `${machine}-uuid`);
    }
    await writeFile(f.calls, '');
    return f;
  }

  it('destroys the VMs, then removes every generated file', async () => {
    const f = await upFixture(['rs-worker-1', 'rs-worker-2']);
    const result = runScript(
      f,
      'cluster-down',
      [],
      env(f, { FAKE_VAGRANT_MACHINES: 'rs-control rs-worker-1 rs-worker-2' }),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        `[1/2] destroy (log: ${GENERATED}/logs/destroy.log) ... done`,
        '[2/2] clean ... done',
        '',
        'The cluster is removed. If you added its line to /etc/hosts, remove it too.',
      ),
    );
    expect(result.status).toBe(0);
    expect(await recordedCalls(f)).toEqual(['vagrant destroy -f  # in ops/cluster']);
    expect(existsSync(path.join(f.root, GENERATED))).toBe(false);
  });

  it('keeps the generated files when a VM is left or vagrant fails', async () => {
    const f = await upFixture(['rs-worker-1', 'rs-worker-2', 'rs-worker-3']);
    const left = runScript(
      f,
      'cluster-down',
      [],
      env(f, { FAKE_VAGRANT_MACHINES: 'rs-control rs-worker-1 rs-worker-2' }),
    );
    expect([left.status, left.stdout, left.stderr]).toEqual([
      1,
      `[1/2] destroy (log: ${GENERATED}/logs/destroy.log) ... failed\n`,
      `cluster-down: step destroy failed: VMs not in the current settings are left: rs-worker-3 (run ops/cluster-down with the RS_* settings they were created with); log: ${GENERATED}/logs/destroy.log\n`,
    ]);
    expect(existsSync(path.join(f.root, GENERATED, 'state'))).toBe(true);

    const failed = runScript(f, 'cluster-down', [], env(f, { FAKE_FAIL: 'vagrant' }));
    expect([failed.status, failed.stderr]).toEqual([
      1,
      `cluster-down: step destroy failed: vagrant exited with status 3; log: ${GENERATED}/logs/destroy.log\n`,
    ]);
    expect(await readFile(path.join(f.root, GENERATED, 'logs', 'destroy.log'), 'utf8')).toBe(
      lines('$ cd ops/cluster', '$ vagrant destroy -f', 'vagrant: simulated failure'),
    );
    expect(existsSync(path.join(f.root, GENERATED, 'state'))).toBe(true);
  });

  it('--dry-run prints the plan and removes nothing; without vagrant it exits 2', async () => {
    const f = await upFixture(['rs-worker-1', 'rs-worker-2']);
    const plan = runScript(f, 'cluster-down', ['--dry-run'], env(f));
    expect([plan.status, plan.stderr]).toEqual([0, '']);
    expect(plan.stdout).toBe(
      lines(
        'Plan (dry run: nothing is run):',
        '',
        '1. destroy',
        '     cd ops/cluster && vagrant destroy -f',
        '2. clean (when no VM is left in ops/cluster/.vagrant/machines)',
        `     rm -rf ${GENERATED}`,
      ),
    );
    expect(await recordedCalls(f)).toEqual([]);
    expect(existsSync(path.join(f.root, GENERATED, 'state'))).toBe(true);

    const noVagrant = await fixture(['kubectl']);
    const missing = runScript(noVagrant, 'cluster-down', [], env(noVagrant));
    expect([missing.status, missing.stdout, missing.stderr]).toEqual([
      2,
      '',
      'cluster-down: missing prerequisite vagrant: https://developer.hashicorp.com/vagrant/install (Debian: apt-get install vagrant)\n',
    ]);
  });
});
