/**
 * The cluster's Vagrantfile and its generated Ansible inventory (ops/cluster): the inventory for 2 and 3
 * workers exactly as `ruby ops/cluster/inventory.rb` prints it (and as Ansible reads it), the RS_* overrides and
 * the resolved settings of `--json`, the exact message for every bad setting, and `vagrant validate
 * --ignore-provider` on copies of ops/cluster (passes with the real box pin; fails with the settings message).
 * What each machine gets (box, address, CPUs, memory, the one Ansible run from the last machine) is read
 * through Vagrant's own library by test/support/vagrant-config.rb.
 *
 * `vagrant validate` here loads the Vagrantfile (so the settings checks run) and validates every machine's
 * Vagrant config (box and box_version syntax, hostname, networks, the Ansible provisioner's options); with
 * --ignore-provider it skips the provider blocks, and it checks neither that the playbook exists nor the box.
 * Needs ruby, vagrant and ansible-inventory (Debian: ruby, vagrant, ansible-core): skipped with a warning when
 * one is missing, failed when CI=true.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toolAvailable } from '../../../test/support/system-tool.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLUSTER = path.join(ROOT, 'ops/cluster');
const VERSIONS = path.join(ROOT, 'ops/ansible/group_vars/all/versions.yml');
const CLUSTER_VARS = path.join(ROOT, 'ops/ansible/group_vars/all/cluster.yml');
const PROBE = path.join(CLUSTER, 'test/support/vagrant-config.rb');
const INSTALL = 'apt-get install ruby vagrant ansible-core';

/** Why `tool --version` cannot run, or null when it can. */
function missing(tool: string): string | null {
  const result = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return result.error || result.status !== 0 ? `${tool} not found` : null;
}

const RUN =
  toolAvailable(missing('ruby'), 'the Vagrant cluster tests', INSTALL) &&
  toolAvailable(missing('vagrant'), 'the Vagrant cluster tests', INSTALL) &&
  toolAvailable(missing('ansible-inventory'), 'the Vagrant cluster tests', INSTALL);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let vagrantHome: string;
const copies: string[] = [];

/**
 * Runs a command with the developer's RS_* and VAGRANT_* variables removed, Vagrant's update check off and a
 * private VAGRANT_HOME, plus `env`.
 */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Run {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(RS|VAGRANT)_/.test(key)));
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...base, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_HOME: vagrantHome, ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `ruby ops/cluster/inventory.rb ...args` of the repository. */
function inventoryRb(args: string[], env: Record<string, string> = {}): Run {
  return run('ruby', [path.join(CLUSTER, 'inventory.rb'), ...args], ROOT, env);
}

/**
 * A copy of ops/cluster (Vagrantfile, inventory.rb, settings.yaml) under a temporary repository root, with
 * `versions` as ops/ansible/group_vars/all/versions.yml ('real': the repository's; null: none) and the
 * repository's ops/ansible/group_vars/all/cluster.yml (or `clusterVars` as its text).
 * @returns the copy's ops/cluster folder.
 */
async function copyCluster(
  versions: string | null,
  settings?: string,
  clusterVars?: string,
): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rs-cluster-'));
  copies.push(root);
  const cluster = path.join(root, 'ops/cluster');
  await mkdir(cluster, { recursive: true });
  for (const file of ['Vagrantfile', 'inventory.rb', 'settings.yaml']) {
    await copyFile(path.join(CLUSTER, file), path.join(cluster, file));
  }
  if (settings !== undefined) await writeFile(path.join(cluster, 'settings.yaml'), settings);
  const vars = path.join(root, 'ops/ansible/group_vars/all/cluster.yml');
  await mkdir(path.dirname(vars), { recursive: true });
  if (clusterVars === undefined) await copyFile(CLUSTER_VARS, vars);
  else await writeFile(vars, clusterVars);
  if (versions !== null) {
    const target = path.join(root, 'ops/ansible/group_vars/all/versions.yml');
    await mkdir(path.dirname(target), { recursive: true });
    if (versions === 'real') {
      if (!existsSync(VERSIONS)) {
        throw new Error(
          `${VERSIONS} is missing: the Vagrantfile reads vagrant_box and vagrant_box_version from it`,
        );
      }
      await copyFile(VERSIONS, target);
    } else {
      await writeFile(target, versions);
    }
  }
  return cluster;
}

/** The key Vagrant inserts for `machine` under the data folder `dotfile` with `provider`. */
const key = (dotfile: string, machine: string, provider = 'virtualbox'): string =>
  `${dotfile}/machines/${machine}/${provider}/private_key`;

const VARS = `[cluster:children]
control_plane
workers

[cluster:vars]
ansible_user=vagrant
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
`;

const HEADER = '# Generated by ops/cluster/Vagrantfile from settings.yaml; do not edit.\n';

const DOT = path.join(CLUSTER, '.vagrant');

const INVENTORY_2 = `${HEADER}[control_plane]
rs-control ansible_host=192.168.56.10 node_ip=192.168.56.10 ansible_ssh_private_key_file=${key(DOT, 'rs-control')}

[workers]
rs-worker-1 ansible_host=192.168.56.11 node_ip=192.168.56.11 ansible_ssh_private_key_file=${key(DOT, 'rs-worker-1')}
rs-worker-2 ansible_host=192.168.56.12 node_ip=192.168.56.12 ansible_ssh_private_key_file=${key(DOT, 'rs-worker-2')}

${VARS}network_prefix=192.168.56
`;

const INVENTORY_3 = `${HEADER}[control_plane]
rs-control ansible_host=192.168.56.10 node_ip=192.168.56.10 ansible_ssh_private_key_file=${key(DOT, 'rs-control')}

[workers]
rs-worker-1 ansible_host=192.168.56.11 node_ip=192.168.56.11 ansible_ssh_private_key_file=${key(DOT, 'rs-worker-1')}
rs-worker-2 ansible_host=192.168.56.12 node_ip=192.168.56.12 ansible_ssh_private_key_file=${key(DOT, 'rs-worker-2')}
rs-worker-3 ansible_host=192.168.56.13 node_ip=192.168.56.13 ansible_ssh_private_key_file=${key(DOT, 'rs-worker-3')}

${VARS}network_prefix=192.168.56
`;

/** The message block for bad settings, as inventory.rb prints it (and Vagrant shows it). */
const invalid = (...problems: string[]): string =>
  `Invalid cluster settings:\n${problems.map((p) => `  - ${p}\n`).join('')}`;

const WORKERS_RULE =
  'must be an integer from 2 to 9 (the app, Istio and monitoring do not fit on one worker; the control plane runs no workloads)';

const MEMORY_RULE =
  'must be an integer from 3072 to 65536 (MiB; each worker runs a share of the app, Istio and monitoring)';

/** The problem of a network prefix from RS_NETWORK_PREFIX that overlaps `what`. */
const overlap = (prefix: string, what: string): string =>
  `network_prefix = "${prefix}" (from RS_NETWORK_PREFIX): overlaps ${what}; choose another private /24, e.g. "192.168.56"`;

const PREFIX_RULE =
  'must be the first three octets of a private IPv4 network (10.x.x, 172.16-31.x or 192.168.x), e.g. "192.168.56"';

(RUN ? describe : describe.skip)('Vagrant cluster (ops/cluster)', () => {
  beforeAll(async () => {
    vagrantHome = await mkdtemp(path.join(os.tmpdir(), 'rs-vagrant-home-'));
  });

  afterAll(async () => {
    for (const dir of [...copies, vagrantHome]) await rm(dir, { recursive: true, force: true });
  });

  describe('inventory.rb', () => {
    it.each([
      ['2', INVENTORY_2],
      ['3', INVENTORY_3],
    ])('prints the exact inventory for RS_WORKERS=%s', (workers, expected) => {
      const result = inventoryRb([], { RS_WORKERS: workers });
      expect(result).toEqual({ status: 0, stdout: expected, stderr: '' });
    });

    it('uses settings.yaml when no variable is set, and an empty variable counts as unset', () => {
      expect(inventoryRb([])).toEqual({ status: 0, stdout: INVENTORY_2, stderr: '' });
      expect(inventoryRb([], { RS_WORKERS: '', RS_PROVIDER: '' })).toEqual({
        status: 0,
        stdout: INVENTORY_2,
        stderr: '',
      });
    });

    it('prints the resolved default settings with --json', () => {
      const result = inventoryRb(['--json']);
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual({
        workers: 2,
        cpus: 2,
        memory_mb: 3072,
        control_memory_mb: 4096,
        network_prefix: '192.168.56',
        provider: 'virtualbox',
        machines: [
          { name: 'rs-control', group: 'control_plane', ip: '192.168.56.10', cpus: 2, memory_mb: 4096 },
          { name: 'rs-worker-1', group: 'workers', ip: '192.168.56.11', cpus: 2, memory_mb: 3072 },
          { name: 'rs-worker-2', group: 'workers', ip: '192.168.56.12', cpus: 2, memory_mb: 3072 },
        ],
        inventory_path: path.join(CLUSTER, '.generated/inventory.ini'),
        vagrant_dotfile_path: DOT,
      });
    });

    it('applies every RS_* override and VAGRANT_DOTFILE_PATH', () => {
      const env = {
        RS_WORKERS: '3',
        RS_CPUS: '4',
        RS_MEMORY_MB: '6144',
        RS_CONTROL_MEMORY_MB: '8192',
        RS_NETWORK_PREFIX: '10.20.30',
        RS_PROVIDER: 'libvirt',
        VAGRANT_DOTFILE_PATH: '../vm-data',
      };
      const dot = path.join(ROOT, 'ops/vm-data');
      const json = inventoryRb(['--json'], env);
      expect(json.status).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({
        workers: 3,
        cpus: 4,
        memory_mb: 6144,
        control_memory_mb: 8192,
        network_prefix: '10.20.30',
        provider: 'libvirt',
        machines: [
          { name: 'rs-control', group: 'control_plane', ip: '10.20.30.10', cpus: 4, memory_mb: 8192 },
          { name: 'rs-worker-1', group: 'workers', ip: '10.20.30.11', cpus: 4, memory_mb: 6144 },
          { name: 'rs-worker-2', group: 'workers', ip: '10.20.30.12', cpus: 4, memory_mb: 6144 },
          { name: 'rs-worker-3', group: 'workers', ip: '10.20.30.13', cpus: 4, memory_mb: 6144 },
        ],
        inventory_path: path.join(CLUSTER, '.generated/inventory.ini'),
        vagrant_dotfile_path: dot,
      });
      expect(inventoryRb([], env)).toEqual({
        status: 0,
        stdout: `${HEADER}[control_plane]
rs-control ansible_host=10.20.30.10 node_ip=10.20.30.10 ansible_ssh_private_key_file=${key(dot, 'rs-control', 'libvirt')}

[workers]
rs-worker-1 ansible_host=10.20.30.11 node_ip=10.20.30.11 ansible_ssh_private_key_file=${key(dot, 'rs-worker-1', 'libvirt')}
rs-worker-2 ansible_host=10.20.30.12 node_ip=10.20.30.12 ansible_ssh_private_key_file=${key(dot, 'rs-worker-2', 'libvirt')}
rs-worker-3 ansible_host=10.20.30.13 node_ip=10.20.30.13 ansible_ssh_private_key_file=${key(dot, 'rs-worker-3', 'libvirt')}

${VARS}network_prefix=10.20.30
`,
        stderr: '',
      });
    });

    it('is read by Ansible as the groups and host variables it means, even with a space in the key path', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-inventory-'));
      copies.push(dir);
      const env = { RS_WORKERS: '2', VAGRANT_DOTFILE_PATH: path.join(dir, 'vagrant data') };
      const printed = inventoryRb([], env);
      expect(printed.stdout).toContain(`${dir}/vagrant\\ data/machines/rs-control/virtualbox/private_key`);
      await writeFile(path.join(dir, 'inventory.ini'), printed.stdout);
      const listed = run('ansible-inventory', ['-i', 'inventory.ini', '--list'], dir, {
        ANSIBLE_CONFIG: path.join(dir, 'none.cfg'),
      });
      expect(listed.status).toBe(0);
      const cluster = {
        ansible_user: 'vagrant',
        ansible_python_interpreter: '/usr/bin/python3',
        ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
        network_prefix: '192.168.56',
      };
      const host = (name: string, ip: string) => ({
        ...cluster,
        ansible_host: ip,
        node_ip: ip,
        ansible_ssh_private_key_file: `${dir}/vagrant data/machines/${name}/virtualbox/private_key`,
      });
      expect(JSON.parse(listed.stdout)).toEqual({
        _meta: {
          hostvars: {
            'rs-control': host('rs-control', '192.168.56.10'),
            'rs-worker-1': host('rs-worker-1', '192.168.56.11'),
            'rs-worker-2': host('rs-worker-2', '192.168.56.12'),
          },
        },
        all: { children: ['ungrouped', 'cluster'] },
        cluster: { children: ['control_plane', 'workers'] },
        control_plane: { hosts: ['rs-control'] },
        workers: { hosts: ['rs-worker-1', 'rs-worker-2'] },
      });
    });

    it.each([
      ['RS_WORKERS', '0', `workers = "0" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_WORKERS', '1', `workers = "1" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_WORKERS', '10', `workers = "10" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_WORKERS', '2.5', `workers = "2.5" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_WORKERS', 'two', `workers = "two" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_WORKERS', '-1', `workers = "-1" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_WORKERS', ' 2', `workers = " 2" (from RS_WORKERS): ${WORKERS_RULE}`],
      ['RS_CPUS', '1', 'cpus = "1" (from RS_CPUS): must be an integer from 2 to 32 (kubeadm needs 2 CPUs)'],
      ['RS_MEMORY_MB', '512', `memory_mb = "512" (from RS_MEMORY_MB): ${MEMORY_RULE}`],
      ['RS_MEMORY_MB', '3071', `memory_mb = "3071" (from RS_MEMORY_MB): ${MEMORY_RULE}`],
      [
        'RS_CONTROL_MEMORY_MB',
        '1024',
        'control_memory_mb = "1024" (from RS_CONTROL_MEMORY_MB): must be an integer from 2048 to 65536 (MiB; kubeadm needs 1700)',
      ],
      ['RS_NETWORK_PREFIX', '8.8.8', `network_prefix = "8.8.8" (from RS_NETWORK_PREFIX): ${PREFIX_RULE}`],
      [
        'RS_NETWORK_PREFIX',
        '192.168.56.0',
        `network_prefix = "192.168.56.0" (from RS_NETWORK_PREFIX): ${PREFIX_RULE}`,
      ],
      [
        'RS_NETWORK_PREFIX',
        '192.168.256',
        `network_prefix = "192.168.256" (from RS_NETWORK_PREFIX): ${PREFIX_RULE}`,
      ],
      [
        'RS_NETWORK_PREFIX',
        '192.168.056',
        `network_prefix = "192.168.056" (from RS_NETWORK_PREFIX): ${PREFIX_RULE}`,
      ],
      [
        'RS_NETWORK_PREFIX',
        '172.32.0',
        `network_prefix = "172.32.0" (from RS_NETWORK_PREFIX): ${PREFIX_RULE}`,
      ],
      [
        'RS_NETWORK_PREFIX',
        '10.244.7',
        overlap(
          '10.244.7',
          'the pod network 10.244.0.0/16 (pod_cidr in ops/ansible/group_vars/all/cluster.yml)',
        ),
      ],
      [
        'RS_NETWORK_PREFIX',
        '10.96.0',
        overlap(
          '10.96.0',
          'the service network 10.96.0.0/12 (service_cidr in ops/ansible/group_vars/all/cluster.yml)',
        ),
      ],
      [
        'RS_NETWORK_PREFIX',
        '10.111.255',
        overlap(
          '10.111.255',
          'the service network 10.96.0.0/12 (service_cidr in ops/ansible/group_vars/all/cluster.yml)',
        ),
      ],
      [
        'RS_NETWORK_PREFIX',
        '10.0.2',
        overlap('10.0.2', "VirtualBox's NAT network 10.0.2.0/24 (every VM's first interface)"),
      ],
      ['RS_PROVIDER', 'vmware', 'provider = "vmware" (from RS_PROVIDER): must be one of virtualbox, libvirt'],
      [
        'RS_PROVIDER',
        'VirtualBox',
        'provider = "VirtualBox" (from RS_PROVIDER): must be one of virtualbox, libvirt',
      ],
    ])('rejects %s=%j with its exact message and exit 1', (variable, value, problem) => {
      for (const args of [[], ['--json']]) {
        expect(inventoryRb(args, { [variable]: value })).toEqual({
          status: 1,
          stdout: '',
          stderr: invalid(problem),
        });
      }
    });

    it('accepts the edges of every range', () => {
      const result = inventoryRb(['--json'], {
        RS_WORKERS: '9',
        RS_CPUS: '32',
        RS_MEMORY_MB: '3072',
        RS_CONTROL_MEMORY_MB: '65536',
        RS_NETWORK_PREFIX: '172.31.255',
      });
      expect(result.status).toBe(0);
      const resolved = JSON.parse(result.stdout) as { machines: { name: string; ip: string }[] };
      expect(resolved.machines.map((m) => `${m.name} ${m.ip}`)).toEqual([
        'rs-control 172.31.255.10',
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `rs-worker-${n} 172.31.255.${10 + n}`),
      ]);
    });

    it('lists every bad setting at once', () => {
      expect(
        inventoryRb([], { RS_WORKERS: '0', RS_CPUS: 'x', RS_NETWORK_PREFIX: '1.2.3', RS_PROVIDER: 'hyperv' }),
      ).toEqual({
        status: 1,
        stdout: '',
        stderr: invalid(
          `workers = "0" (from RS_WORKERS): ${WORKERS_RULE}`,
          'cpus = "x" (from RS_CPUS): must be an integer from 2 to 32 (kubeadm needs 2 CPUs)',
          `network_prefix = "1.2.3" (from RS_NETWORK_PREFIX): ${PREFIX_RULE}`,
          'provider = "hyperv" (from RS_PROVIDER): must be one of virtualbox, libvirt',
        ),
      });
    });

    it("rejects the provider's own NAT network and accepts the networks just outside the cluster's", () => {
      expect(inventoryRb([], { RS_PROVIDER: 'libvirt', RS_NETWORK_PREFIX: '192.168.121' })).toEqual({
        status: 1,
        stdout: '',
        stderr: invalid(
          overlap(
            '192.168.121',
            "vagrant-libvirt's management network 192.168.121.0/24 (every VM's first interface)",
          ),
        ),
      });
      const accepted = [
        ['virtualbox', '10.243.255'],
        ['virtualbox', '10.245.0'],
        ['virtualbox', '10.95.255'],
        ['virtualbox', '10.112.0'],
        ['virtualbox', '10.0.3'],
        ['virtualbox', '192.168.121'],
        ['libvirt', '10.0.2'],
      ].map(([provider, prefix]) => {
        const result = inventoryRb(['--json'], { RS_PROVIDER: provider, RS_NETWORK_PREFIX: prefix });
        return [provider, prefix, result.status, result.stderr];
      });
      expect(accepted).toEqual([
        ['virtualbox', '10.243.255', 0, ''],
        ['virtualbox', '10.245.0', 0, ''],
        ['virtualbox', '10.95.255', 0, ''],
        ['virtualbox', '10.112.0', 0, ''],
        ['virtualbox', '10.0.3', 0, ''],
        ['virtualbox', '192.168.121', 0, ''],
        ['libvirt', '10.0.2', 0, ''],
      ]);
    });

    it('reads the pod and service networks from cluster.yml, and says when they are not CIDRs', async () => {
      const cluster = await copyCluster(
        null,
        undefined,
        'pod_cidr: 10.50.0.0/16\nservice_cidr: 172.20.0.0/16\n',
      );
      const vars = 'ops/ansible/group_vars/all/cluster.yml';
      expect(run('ruby', ['inventory.rb'], cluster, { RS_NETWORK_PREFIX: '10.50.3' })).toEqual({
        status: 1,
        stdout: '',
        stderr: invalid(overlap('10.50.3', `the pod network 10.50.0.0/16 (pod_cidr in ${vars})`)),
      });
      expect(run('ruby', ['inventory.rb'], cluster, { RS_NETWORK_PREFIX: '172.20.9' }).stderr).toBe(
        invalid(overlap('172.20.9', `the service network 172.20.0.0/16 (service_cidr in ${vars})`)),
      );
      expect(run('ruby', ['inventory.rb', '--json'], cluster, { RS_NETWORK_PREFIX: '10.244.1' }).status).toBe(
        0,
      );

      const templated = await copyCluster(
        null,
        undefined,
        "pod_cidr: '{{ pods }}'\nservice_cidr: 10.96.0.0/12\n",
      );
      expect(run('ruby', ['inventory.rb'], templated)).toEqual({
        status: 1,
        stdout: '',
        stderr: `pod_cidr = "{{ pods }}" in ${vars}: must be an IPv4 network like "10.244.0.0/16"\n`,
      });
    });

    it('rejects a settings.yaml with unknown, missing or non-integer keys', async () => {
      const cluster = await copyCluster(
        null,
        'workers: 2.0\ncpus: true\nmemory_mb: 3072\nnetwork_prefix: "192.168.56"\nprovider: virtualbox\nworker: 3\n',
      );
      const result = run('ruby', ['inventory.rb'], cluster);
      expect(result).toEqual({
        status: 1,
        stdout: '',
        stderr: invalid(
          'worker: unknown setting in ops/cluster/settings.yaml (known: workers, cpus, memory_mb, control_memory_mb, network_prefix, provider)',
          `workers = 2.0 (from ops/cluster/settings.yaml): ${WORKERS_RULE}`,
          'cpus = true (from ops/cluster/settings.yaml): must be an integer from 2 to 32 (kubeadm needs 2 CPUs)',
          'control_memory_mb: missing from ops/cluster/settings.yaml',
        ),
      });
      // A variable replaces a bad file value.
      expect(
        run('ruby', ['inventory.rb'], cluster, {
          RS_WORKERS: '2',
          RS_CPUS: '2',
          RS_CONTROL_MEMORY_MB: '4096',
        }).stderr,
      ).toBe(
        invalid(
          'worker: unknown setting in ops/cluster/settings.yaml (known: workers, cpus, memory_mb, control_memory_mb, network_prefix, provider)',
        ),
      );
    });

    it.each([
      ['not a mapping', '- workers\n', 'ops/cluster/settings.yaml must be a YAML mapping of settings\n'],
      [
        'not YAML',
        'workers: [2\n',
        "ops/cluster/settings.yaml is not valid YAML: did not find expected ',' or ']' while parsing a flow sequence at line 1 column 10\n",
      ],
    ])('rejects a settings.yaml that is %s', async (_what, text, message) => {
      const cluster = await copyCluster(null, text);
      expect(run('ruby', ['inventory.rb'], cluster)).toEqual({ status: 1, stdout: '', stderr: message });
    });

    it('says which settings file is missing', async () => {
      const cluster = await copyCluster(null);
      await rm(path.join(cluster, 'settings.yaml'));
      expect(run('ruby', ['inventory.rb', '--json'], cluster)).toEqual({
        status: 1,
        stdout: '',
        stderr:
          'ops/cluster/settings.yaml not found: it holds the cluster settings (workers, cpus, memory_mb, control_memory_mb, network_prefix, provider)\n',
      });
    });

    it('exits 2 with the usage for unknown arguments', () => {
      expect(inventoryRb(['--yaml'])).toEqual({
        status: 2,
        stdout: '',
        stderr:
          'inventory.rb: unknown arguments --yaml\nUsage: ruby ops/cluster/inventory.rb [--json]\n' +
          '  prints the Ansible inventory of the cluster, or with --json the resolved settings\n',
      });
    });
  });

  describe('Vagrantfile', () => {
    const VALIDATED = (workers: number): string =>
      ['rs-control', ...Array.from({ length: workers }, (_, i) => `rs-worker-${i + 1}`)]
        .map((m) => `==> ${m}: Ignoring provider config for validation...\n`)
        .join('') + 'Vagrantfile validated successfully.\n';

    it('passes `vagrant validate --ignore-provider` with the box pinned in versions.yml, and writes the inventory', async () => {
      const cluster = await copyCluster('real');
      for (const workers of ['2', '3']) {
        const result = run('vagrant', ['validate', '--ignore-provider'], cluster, { RS_WORKERS: workers });
        expect(result).toEqual({ status: 0, stdout: VALIDATED(Number(workers)), stderr: '' });
        const printed = run('ruby', ['inventory.rb'], cluster, { RS_WORKERS: workers });
        expect(await readFile(path.join(cluster, '.generated/inventory.ini'), 'utf8')).toBe(printed.stdout);
        expect(printed.stdout).toContain(`rs-worker-${workers} ansible_host=192.168.56.1${workers} `);
      }
    });

    it('gives each machine its box, address, CPUs and memory, and runs Ansible once from the last machine', async () => {
      const cluster = await copyCluster(
        'vagrant_box: example/box-22.04\nvagrant_box_version: "4.3.12"\nkubernetes_minor: "1.32"\n',
      );
      const root = path.resolve(cluster, '../..');
      const result = run('ruby', [PROBE], cluster, { RS_WORKERS: '2', RS_CPUS: '3', RS_MEMORY_MB: '3584' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const machine = (name: string, ip: string, memory: string, provisioners: unknown[]) => ({
        name,
        box: 'example/box-22.04',
        box_version: '4.3.12',
        box_check_update: false,
        hostname: name,
        private_networks: [ip],
        synced_folders: { '/vagrant': { disabled: true } },
        virtualbox: {
          customizations: [
            ['pre-boot', ['modifyvm', 'id', '--cpus', '3']],
            ['pre-boot', ['modifyvm', 'id', '--memory', memory]],
          ],
          linked_clone: true,
        },
        providers: ['virtualbox', 'libvirt'],
        provisioners,
      });
      expect(JSON.parse(result.stdout)).toEqual({
        machines: [
          machine('rs-control', '192.168.56.10', '4096', []),
          machine('rs-worker-1', '192.168.56.11', '3584', []),
          machine('rs-worker-2', '192.168.56.12', '3584', [
            {
              type: 'ansible',
              compatibility_mode: '2.0',
              playbook: path.join(root, 'ops/ansible/cluster.yml'),
              config_file: path.join(root, 'ops/ansible/ansible.cfg'),
              inventory_path: path.join(cluster, '.generated/inventory.ini'),
              limit: 'all',
            },
          ]),
        ],
        VAGRANT_NO_PARALLEL: '1',
      });
      // RS_PROVIDER puts its provider first, so a plain `vagrant up` picks it.
      const libvirt = run('ruby', [PROBE], cluster, { RS_PROVIDER: 'libvirt' });
      const providers = (JSON.parse(libvirt.stdout) as { machines: { providers: string[] }[] }).machines.map(
        (m) => m.providers,
      );
      expect(providers).toEqual([
        ['libvirt', 'virtualbox'],
        ['libvirt', 'virtualbox'],
        ['libvirt', 'virtualbox'],
      ]);
    });

    it('stops `vagrant validate` with the settings message for a bad setting', async () => {
      const cluster = await copyCluster('real');
      const result = run('vagrant', ['validate', '--ignore-provider'], cluster, {
        RS_WORKERS: '10',
        RS_PROVIDER: 'docker',
      });
      expect(result).toEqual({
        status: 1,
        stdout: '',
        stderr:
          'Vagrant failed to initialize at a very early stage:\n\n' +
          invalid(
            `workers = "10" (from RS_WORKERS): ${WORKERS_RULE}`,
            'provider = "docker" (from RS_PROVIDER): must be one of virtualbox, libvirt',
          ),
      });
      expect(existsSync(path.join(cluster, '.generated/inventory.ini'))).toBe(false);
    });

    it.each([
      [
        'missing',
        null,
        'ops/ansible/group_vars/all/versions.yml not found: it pins the Vagrant box (vagrant_box, vagrant_box_version)\n',
      ],
      [
        'without the box',
        'kubernetes_minor: "1.32"\n',
        'Invalid box pin in ops/ansible/group_vars/all/versions.yml:\n' +
          '  - vagrant_box = nil: must be a box name like "owner/name"\n' +
          '  - vagrant_box_version = nil: must be an exact version like "1.2.3" (a string)\n',
      ],
      [
        'with a version constraint',
        'vagrant_box: example/box\nvagrant_box_version: ">= 4.3"\n',
        'Invalid box pin in ops/ansible/group_vars/all/versions.yml:\n' +
          '  - vagrant_box_version = ">= 4.3": must be an exact version like "1.2.3" (a string)\n',
      ],
    ])('stops `vagrant validate` when versions.yml is %s', async (_what, versions, message) => {
      const cluster = await copyCluster(versions);
      expect(run('vagrant', ['validate', '--ignore-provider'], cluster)).toEqual({
        status: 1,
        stdout: '',
        stderr: `Vagrant failed to initialize at a very early stage:\n\n${message}`,
      });
    });

    it('refuses VAGRANT_VAGRANTFILE with a path, which would put the machine data elsewhere', async () => {
      const cluster = await copyCluster('real');
      const root = path.resolve(cluster, '../..');
      const result = run('vagrant', ['validate', '--ignore-provider'], root, {
        VAGRANT_VAGRANTFILE: 'ops/cluster/Vagrantfile',
      });
      expect(result).toEqual({
        status: 1,
        stdout: '',
        stderr:
          'Vagrant failed to initialize at a very early stage:\n\n' +
          'VAGRANT_VAGRANTFILE=ops/cluster/Vagrantfile: use VAGRANT_CWD=ops/cluster (or cd ops/cluster) instead, so ' +
          'that Vagrant keeps its machine data in ops/cluster/.vagrant, where the generated inventory looks for the ' +
          'SSH keys\n',
      });
      // VAGRANT_CWD works.
      expect(
        run('vagrant', ['validate', '--ignore-provider'], root, { VAGRANT_CWD: 'ops/cluster' }).status,
      ).toBe(0);
    });

    it('keeps Vagrant data and generated files out of git', () => {
      const result = run(
        'git',
        [
          'check-ignore',
          'ops/cluster/.generated/inventory.ini',
          'ops/cluster/.generated/kubeconfig',
          'ops/cluster/.vagrant/machines',
        ],
        ROOT,
      );
      expect(result).toEqual({
        status: 0,
        stdout:
          'ops/cluster/.generated/inventory.ini\nops/cluster/.generated/kubeconfig\nops/cluster/.vagrant/machines\n',
        stderr: '',
      });
    });
  });
});
