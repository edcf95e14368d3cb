/**
 * A throw-away copy of the repository layout ops/cluster-up and ops/cluster-down need, and a bin folder
 * that is the scripts' whole PATH: the real bash, ruby and the few coreutils they use, plus fakes of
 * vagrant, VBoxManage, virsh, ansible-playbook, ansible-galaxy, Ansible's python3, kubectl, helm and curl that record every call (one line
 * each, in order) and answer as the real tools would. No VM, cluster or network is touched.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Real programs linked into the bin folder: what the scripts run besides the tools they drive. */
export const REAL_PROGRAMS = ['bash', 'ruby', 'env', 'cat', 'mkdir', 'mv', 'rm', 'sleep'] as const;

/** The faked tools. */
export const FAKE_TOOLS = [
  'vagrant',
  'VBoxManage',
  'virsh',
  'ansible-playbook',
  'ansible-galaxy',
  'python3',
  'kubectl',
  'helm',
  'curl',
] as const;
export type FakeTool = (typeof FAKE_TOOLS)[number];

/** The files copied from the repository into the fixture, relative to its root. */
const COPIED = [
  'ops/cluster-up',
  'ops/cluster-down',
  'ops/cluster/inventory.rb',
  'ops/cluster/settings.yaml',
  'ops/ansible/group_vars/all/cluster.yml',
  'ops/ansible/requirements.yml',
  'ops/ansible/roles/finalize/defaults/main.yml',
];

/** Absolute path of an executable named `name` on this process's PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * The fake tool: one bash script linked under each fake's name. It appends its call to $FAKE_CALLS as
 * `name arg ...` (arguments with spaces or shell characters in single quotes; `ANSIBLE_CONFIG=...` in front
 * when set; `# in DIR` after when not run from the fixture's root), then answers:
 * - it exits 3 with "NAME: simulated failure" on stderr when $FAKE_FAIL is its name (but answers `--version`);
 * - `vagrant --version`, `VBoxManage --version` and `ansible-playbook --version` print $FAKE_VAGRANT_VERSION
 *   (2.3.4), $FAKE_VIRTUALBOX_VERSION (7.0.20r163906) and ansible-core $FAKE_ANSIBLE_CORE (2.14.18) as the real
 *   ones do;
 * - `vagrant status --machine-readable` prints the state lines of $FAKE_VM_STATES ("NAME:STATE ...");
 * - `vagrant up` writes the kubeconfig the control_plane role fetches (unless $FAKE_NO_KUBECONFIG);
 * - `vagrant destroy` deletes the id file of each machine in $FAKE_VAGRANT_MACHINES, as Vagrant does;
 * - `vagrant plugin list` lists vagrant-libvirt when $FAKE_LIBVIRT_PLUGIN is set;
 * - `ansible-playbook --version` names the fake python3 as Ansible's Python, which imports kubernetes unless
 *   $FAKE_NO_KUBERNETES is set; `ansible-galaxy collection list --format json` lists $FAKE_COLLECTIONS
 *   ("NAME=VERSION ...") as one collection path's JSON;
 * - `kubectl get` / `kubectl wait` print the nodes of $FAKE_NODES;
 * - `curl` prints the next status of $FAKE_CURL_CODES (the last one repeats); 000 exits 7 as curl does.
 */
function fakeScript(bash: string): string {
  return `#!${bash}
name=\${0##*/}
line=$name
for arg in "$@"; do
  if [[ $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then line+=" $arg"; else line+=" '$arg'"; fi
done
[[ -z \${ANSIBLE_CONFIG:-} ]] || line="ANSIBLE_CONFIG=$ANSIBLE_CONFIG $line"
[[ $PWD == "$FAKE_ROOT" ]] || line+="  # in \${PWD#"$FAKE_ROOT"/}"
printf '%s\\n' "$line" >>"$FAKE_CALLS"
if [[ $name == "\${FAKE_FAIL:-}" && "$*" != --version ]]; then
  echo "$name: simulated failure" >&2
  exit 3
fi
case "$name $*" in
  'vagrant --version')
    echo "Vagrant \${FAKE_VAGRANT_VERSION:-2.3.4}"
    ;;
  'VBoxManage --version')
    echo "\${FAKE_VIRTUALBOX_VERSION:-7.0.20r163906}"
    ;;
  'vagrant status --machine-readable')
    for machine in \${FAKE_VM_STATES:-}; do
      echo "1700000000,\${machine%%:*},metadata,provider,virtualbox"
      echo "1700000000,\${machine%%:*},state,\${machine#*:}"
      echo "1700000000,\${machine%%:*},state-human-short,\${machine#*:}"
    done
    echo '1700000000,,ui,info,Current machine states:'
    ;;
  'vagrant up '*)
    echo "Bringing machine 'rs-control' up with '$3' provider..."
    [[ -n \${FAKE_NO_KUBECONFIG:-} ]] || printf 'apiVersion: v1\\nkind: Config\\n' >"$FAKE_ROOT/ops/cluster/.generated/kubeconfig"
    ;;
  'vagrant destroy '*)
    for machine in \${FAKE_VAGRANT_MACHINES:-}; do
      echo "==> $machine: Destroying VM and associated drives..."
      command -p rm -f "$FAKE_ROOT/ops/cluster/.vagrant/machines/$machine/"*/id
    done
    ;;
  'vagrant plugin list')
    [[ -z \${FAKE_LIBVIRT_PLUGIN:-} ]] || echo 'vagrant-libvirt (0.11.2, system)'
    ;;
  'ansible-playbook --version')
    echo "ansible-playbook [core \${FAKE_ANSIBLE_CORE:-2.14.18}]"
    echo "  python version = 3.11.2 (main, Apr 28 2025, 14:11:48) [GCC 12.2.0] ($FAKE_ROOT/bin/python3)"
    ;;
  'python3 -c import kubernetes')
    [[ -z \${FAKE_NO_KUBERNETES:-} ]] || { echo "ModuleNotFoundError: No module named 'kubernetes'" >&2; exit 1; }
    ;;
  'ansible-galaxy collection list --format json')
    json=''
    for collection in \${FAKE_COLLECTIONS:-}; do
      json+="\${json:+, }\\"\${collection%%=*}\\": {\\"version\\": \\"\${collection#*=}\\"}"
    done
    printf '{"/usr/lib/python3/dist-packages/ansible_collections": {%s}}\\n' "$json"
    ;;
  'ansible-playbook '*)
    echo 'PLAY RECAP *********************************************************************'
    echo 'localhost                  : ok=42   changed=17   unreachable=0    failed=0'
    ;;
  'kubectl '*' get nodes '*)
    for node in \${FAKE_NODES:-}; do echo "node/$node"; done
    ;;
  'kubectl '*' wait '*)
    for node in \${FAKE_NODES:-}; do echo "node/$node condition met"; done
    ;;
  'curl '*)
    read -r -a codes <<<"\${FAKE_CURL_CODES:-200}"
    count=0
    [[ -f "$FAKE_CALLS.curl" ]] && read -r count <"$FAKE_CALLS.curl"
    printf '%s\\n' "$((count + 1))" >"$FAKE_CALLS.curl"
    index=$((count < \${#codes[@]} ? count : \${#codes[@]} - 1))
    printf '%s' "\${codes[index]}"
    [[ \${codes[index]} != 000 ]] || { echo 'curl: (7) Failed to connect' >&2; exit 7; }
    ;;
esac
exit 0
`;
}

/** A fixture: the copied tree, its bin folder and the calls file. */
export interface Fixture {
  /** Root of the copied repository layout (the scripts cd here). */
  root: string;
  /** The folder that is the scripts' PATH. */
  bin: string;
  /** Where the fakes record their calls. */
  calls: string;
}

/**
 * Creates a fixture: a temporary folder with the files of COPIED (the real ones from this repository),
 * and a bin folder with links to REAL_PROGRAMS and to the fake of each tool in `fakes`.
 * @param fakes the fake tools on PATH (default: all); leave one out to make it "not installed".
 * @param real the real programs on PATH (default: all of REAL_PROGRAMS).
 * @throws Error when a real program is not on this process's PATH.
 */
export async function createFixture(
  fakes: readonly FakeTool[] = FAKE_TOOLS,
  real: readonly (typeof REAL_PROGRAMS)[number][] = REAL_PROGRAMS,
): Promise<Fixture> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'rs-cluster-scripts-')));
  for (const file of COPIED) {
    const target = path.join(root, file);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(path.join(REPO_ROOT, file), target);
    await chmod(target, file.startsWith('ops/cluster-') ? 0o755 : 0o644);
  }
  const bin = path.join(root, 'bin');
  await mkdir(bin);
  const bash = which('bash');
  if (!bash) throw new Error('bash not found on PATH');
  for (const program of real) {
    const found = which(program);
    if (!found) throw new Error(`${program} not found on PATH`);
    await symlink(found, path.join(bin, program));
  }
  const fake = path.join(root, 'fake-tool');
  await writeFile(fake, fakeScript(bash), { mode: 0o755 });
  for (const tool of fakes) await symlink(fake, path.join(bin, tool));
  return { root, bin, calls: path.join(root, 'calls.txt') };
}

/** The environment of a run: only PATH (the fixture's bin), the fakes' settings and `extra`. */
export function fixtureEnv(fixture: Fixture, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: fixture.bin,
    HOME: fixture.root,
    LC_ALL: 'C',
    FAKE_ROOT: fixture.root,
    FAKE_CALLS: fixture.calls,
    ...extra,
  };
}

/** What a run of a script gave. */
export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs ops/<script> of the fixture with `args` and the environment `env`; waits at most 60 s. By default
 * it runs by its absolute path from the fixture's parent folder (the script must find its own root); with
 * `fromRoot` (the fixture's root), as `ops/<script>` from there.
 */
export function runScript(
  fixture: Fixture,
  script: 'cluster-up' | 'cluster-down',
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  fromRoot?: string,
): RunResult {
  const command = fromRoot ? `ops/${script}` : path.join(fixture.root, 'ops', script);
  const result = spawnSync(command, args, {
    cwd: fromRoot ?? path.dirname(fixture.root),
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The calls the fakes recorded, one string each, in order ([] when none). */
export async function recordedCalls(fixture: Fixture): Promise<string[]> {
  if (!existsSync(fixture.calls)) return [];
  return (await readFile(fixture.calls, 'utf8')).split('\n').filter((line) => line !== '');
}
