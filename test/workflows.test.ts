/**
 * The GitHub Actions workflows under .github/workflows: each passes action-validator (GitHub's workflow
 * schema, run offline from its WebAssembly build), has the triggers, permissions and jobs the release
 * process relies on, and the shell steps that carry logic (tag parsing, version check, the pre-release
 * bump commit and push) are run here with bash against temporary files and git repositories.
 * Also scripts/release/build-library.ts, which release-library.yml runs.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { packageScope, publishManifest, type PackageJson } from '../scripts/release/build-library.js';
import { toolAvailable } from './support/system-tool.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORKFLOWS_DIR = path.join(REPO_ROOT, '.github', 'workflows');
const ACTION_VALIDATOR = path.join(REPO_ROOT, 'node_modules', '.bin', 'action-validator');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  'working-directory'?: string;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  container?: string | { image: string };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, { tags?: string[]; branches?: string[] } | null>;
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, Job>;
}

const WORKFLOW_FILES = readdirSync(WORKFLOWS_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();

function loadWorkflow(file: string): Workflow {
  return YAML.parse(readFileSync(path.join(WORKFLOWS_DIR, file), 'utf8')) as Workflow;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function actionValidator(file: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      ACTION_VALIDATOR,
      [file],
      { env: { ...process.env, FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
      },
    );
  });
}

function findStep(job: Job, match: (step: Step) => boolean, what: string): Step {
  const step = job.steps.find(match);
  if (!step) throw new Error(`no step ${what}`);
  return step;
}
const usesAction = (action: string) => (step: Step) => step.uses?.split('@')[0] === action;
const named = (name: string) => (step: Step) => step.name === name;
const runs = (text: string) => (step: Step) => step.run?.includes(text) ?? false;

/**
 * Runs a step's `run` script the way GitHub runs `shell: bash` (bash --noprofile --norc -eo pipefail),
 * with GITHUB_OUTPUT pointing at a temp file whose key=value lines are returned as `outputs`.
 */
function runStep(
  step: Step,
  env: Record<string, string>,
  cwd: string,
): Result & { outputs: Record<string, string> } {
  if (!step.run) throw new Error(`step ${step.name ?? step.id} has no run script`);
  // GITHUB_OUTPUT and HOME live outside the working directory, as on a runner.
  const runner = mkdtempSync(path.join(os.tmpdir(), 'gh-runner-'));
  const outputFile = path.join(runner, 'output');
  writeFileSync(outputFile, '');
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: runner,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GITHUB_OUTPUT: outputFile,
      npm_config_update_notifier: 'false',
      ...env,
    },
    timeout: 60_000,
  });
  const outputs = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  rmSync(runner, { recursive: true, force: true });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, outputs };
}

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe('action-validator', () => {
  it('finds the five workflows', () => {
    expect(WORKFLOW_FILES).toEqual(
      expect.arrayContaining([
        'ci.yml',
        'release-image.yml',
        'release-library.yml',
        'release-model.yml',
        'retrain.yml',
      ]),
    );
  });

  it.each(WORKFLOW_FILES)('accepts %s', async (file) => {
    const result = await actionValidator(path.join(WORKFLOWS_DIR, file));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('rejects a broken workflow, so it really checks', async () => {
    const dir = tempDir('broken-workflow-');
    const file = path.join(dir, 'broken.yml');
    writeFileSync(
      file,
      [
        'name: Broken',
        'on: push',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    stepz:',
        '      - uses: actions/checkout@v4',
        '        run: echo "uses and run in one step"',
        '',
      ].join('\n'),
    );
    try {
      const result = await actionValidator(file);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Additional property 'stepz' is not allowed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(WORKFLOW_FILES)('%s', (file) => {
  const workflow = loadWorkflow(file);

  it('pins every action to a major version and runs bash steps with pipefail', () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps) {
        if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
        // Expressions are passed through env, never pasted into scripts (no injection from tag names).
        if (step.run) expect(step.run).not.toContain('${{');
      }
    }
    expect(workflow.defaults?.run?.shell).toBe('bash');
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('sets up Node.js 20 with the npm cache wherever it installs', () => {
    for (const job of Object.values(workflow.jobs)) {
      if (!job.steps.some(runs('npm ci'))) continue;
      const setup = findStep(job, usesAction('actions/setup-node'), 'setup-node');
      expect(String(setup.with?.['node-version'])).toBe('20');
      expect(setup.with?.cache).toBe('npm');
      expect(job.steps.indexOf(setup)).toBeLessThan(job.steps.findIndex(runs('npm ci')));
      expect(job.steps[0].uses).toBe('actions/checkout@v4');
    }
  });
});

describe('ci.yml', () => {
  const workflow = loadWorkflow('ci.yml');
  const job = workflow.jobs.test;

  it('runs on pushes and pull requests', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
  });

  it('installs, lints, then runs the tests the way the project CI does (.ci/run)', () => {
    const order = ['npm ci', 'npm run lint', 'bash .ci/run'].map((command) =>
      job.steps.findIndex((step) => step.run?.trim() === command),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(existsSync(path.join(REPO_ROOT, '.ci', 'run'))).toBe(true);
    // .ci/run installs Debian packages with apt-get as root: the job runs in a Debian container.
    expect(job.container).toMatch(/^node:20-bookworm/);
  });
});

describe('release workflows', () => {
  const releases = [
    { file: 'release-model.yml', tags: ['model-v*'], permissions: { contents: 'write' } },
    {
      file: 'release-library.yml',
      tags: ['lib-ml-v*', 'lib-version-v*'],
      permissions: { contents: 'write', packages: 'write' },
    },
    {
      file: 'release-image.yml',
      tags: ['app-v*', 'model-service-v*'],
      permissions: { contents: 'write', packages: 'write' },
    },
  ];

  it.each(releases)('$file runs on exactly the tags $tags', ({ file, tags }) => {
    const workflow = loadWorkflow(file);
    expect(workflow.on).toEqual({ push: { tags } });
  });

  it.each(releases)(
    '$file: the release job has its permissions, the bump job follows it',
    ({ file, permissions }) => {
      const workflow = loadWorkflow(file);
      expect(Object.keys(workflow.jobs).sort()).toEqual(['bump', 'release']);
      expect(workflow.jobs.release.permissions).toEqual(permissions);
      const bump = workflow.jobs.bump;
      expect([bump.needs].flat()).toEqual(['release']);
      expect(bump.permissions).toEqual({ contents: 'write' });

      expect(findStep(bump, usesAction('actions/checkout'), 'checkout').with?.ref).toBe('main');
      findStep(bump, (step) => step.run?.trim() === 'npm ci', 'npm ci');
      const bumpStep = findStep(bump, runs('scripts/release/bump-prerelease.ts'), 'bump-prerelease');
      expect(bumpStep.run).toContain('npx tsx scripts/release/bump-prerelease.ts "$COMPONENT"');
      const commit = findStep(bump, runs('git push'), 'commit and push');
      expect(commit.run).toContain('git commit --quiet -m "chore($COMPONENT): bump to $VERSION [skip ci]"');
      expect(commit.run).toContain("git config user.name 'github-actions[bot]'");
      expect(commit.run).toContain('git push origin HEAD:main');
      expect(commit.env?.VERSION).toBe(`\${{ steps.${bumpStep.id}.outputs.version }}`);
      expect(bump.env?.COMPONENT).toBe(
        file === 'release-model.yml' ? 'model' : '${{ needs.release.outputs.component }}',
      );
    },
  );

  it('the three bump jobs and the one of retrain.yml run the same steps', () => {
    const [model, ...others] = [...releases.map(({ file }) => file), 'retrain.yml'].map(
      (file) => loadWorkflow(file).jobs.bump.steps,
    );
    expect(others).toHaveLength(3);
    for (const steps of others) expect(steps).toEqual(model);
  });
});

describe('release-model.yml', () => {
  const job = loadWorkflow('release-model.yml').jobs.release;

  it('installs Python, DVC and the npm dependencies, then runs dvc repro publishing to GitHub', () => {
    findStep(job, usesAction('actions/setup-python'), 'setup-python');
    const pip = findStep(job, runs('pip install'), 'pip install');
    // The pinned DVC of requirements.txt, in the venv put on PATH for the steps after it.
    expect(pip.run).toContain(
      '.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt',
    );
    expect(pip.run).toContain('echo "$PWD/.venv/bin" >> "$GITHUB_PATH"');
    const repro = findStep(job, (step) => step.run?.trim() === 'dvc repro', 'dvc repro');
    expect(repro.env).toEqual({
      PUBLISH_VERSION: '${{ steps.tag.outputs.version }}',
      PUBLISH_GITHUB: 'true',
      GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}',
      GITHUB_REPOSITORY: '${{ github.repository }}',
    });
    const index = (step: Step) => job.steps.indexOf(step);
    expect(index(pip)).toBeLessThan(index(repro));
    expect(job.steps.findIndex(runs('npm ci'))).toBeLessThan(index(repro));
  });

  it('takes the version from the tag and refuses a tag that is not model-v<semver>', () => {
    const step = findStep(job, (s) => s.id === 'tag', 'tag');
    const dir = tempDir('model-tag-');
    try {
      expect(runStep(step, { TAG: 'model-v1.4.2' }, dir).outputs).toEqual({ version: '1.4.2' });
      expect(runStep(step, { TAG: 'model-v2.0.0-rc.1' }, dir).outputs).toEqual({ version: '2.0.0-rc.1' });
      const bad = runStep(step, { TAG: 'model-v1.4' }, dir);
      expect(bad.code).not.toBe(0);
      expect(bad.stdout).toContain("::error title=Bad release tag::tag 'model-v1.4' is not model-v<semver>");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('release-library.yml', () => {
  const job = loadWorkflow('release-library.yml').jobs.release;
  const tagStep = findStep(job, (s) => s.id === 'tag', 'tag');

  it.each([
    ['lib-ml-v1.2.3', 'lib-ml', '1.2.3'],
    ['lib-version-v0.2.0-pre.20261130.1015', 'lib-version', '0.2.0-pre.20261130.1015'],
  ])('reads %s as %s %s', (tag, component, version) => {
    const dir = tempDir('lib-tag-');
    try {
      const result = runStep(tagStep, { TAG: tag }, dir);
      expect(result.code).toBe(0);
      expect(result.outputs).toEqual({ component, version });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a tag without a semver version', () => {
    const result = runStep(tagStep, { TAG: 'lib-ml-vnext' }, os.tmpdir());
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('::error title=Bad release tag::');
  });

  it('fails clearly when the tag version is not the version in package.json', () => {
    const check = findStep(job, named('Check the tag matches package.json'), 'version check');
    expect(check.env).toMatchObject({
      COMPONENT: '${{ steps.tag.outputs.component }}',
      VERSION: '${{ steps.tag.outputs.version }}',
    });
    const dir = tempDir('lib-check-');
    try {
      mkdirSync(path.join(dir, 'lib-ml'));
      writeFileSync(
        path.join(dir, 'lib-ml', 'package.json'),
        JSON.stringify({ name: 'x', version: '1.2.3' }),
      );
      const env = { TAG: 'lib-ml-v1.2.3', COMPONENT: 'lib-ml', VERSION: '1.2.3' };
      expect(runStep(check, env, dir).code).toBe(0);
      const mismatch = runStep(check, { ...env, TAG: 'lib-ml-v1.2.4', VERSION: '1.2.4' }, dir);
      expect(mismatch.code).not.toBe(0);
      expect(mismatch.stdout).toContain(
        '::error file=lib-ml/package.json,title=Tag and package.json disagree::tag lib-ml-v1.2.4 is version 1.2.4 but lib-ml/package.json says 1.2.3.',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the version before it builds, publishes with the job token, then creates the release', () => {
    const at = (match: (step: Step) => boolean, what: string) =>
      job.steps.indexOf(findStep(job, match, what));
    const check = at(named('Check the tag matches package.json'), 'version check');
    const build = at(runs('npx tsx scripts/release/build-library.ts "$COMPONENT" --owner'), 'build');
    const publishStep = findStep(job, runs('npm publish'), 'npm publish');
    const release = at(runs('gh release create'), 'gh release create');
    expect(check).toBeLessThan(build);
    expect(build).toBeLessThan(job.steps.indexOf(publishStep));
    expect(job.steps.indexOf(publishStep)).toBeLessThan(release);

    const setup = findStep(job, usesAction('actions/setup-node'), 'setup-node');
    expect(setup.with?.['registry-url']).toBe('https://npm.pkg.github.com');
    expect(publishStep.env?.NODE_AUTH_TOKEN).toBe('${{ secrets.GITHUB_TOKEN }}');
    expect(publishStep['working-directory']).toBe('${{ steps.tag.outputs.component }}');
    expect(job.steps[release].run).toContain('--generate-notes');
    expect(job.steps[release].env?.GH_TOKEN).toBe('${{ secrets.GITHUB_TOKEN }}');
  });
});

describe('release-image.yml', () => {
  const job = loadWorkflow('release-image.yml').jobs.release;

  it('reads the component, version and lowercase ghcr.io image from the tag', () => {
    const step = findStep(job, (s) => s.id === 'tag', 'tag');
    const env = { GITHUB_REPOSITORY_OWNER: 'Acme-Org' };
    expect(runStep(step, { ...env, TAG: 'app-v1.0.0' }, os.tmpdir()).outputs).toEqual({
      component: 'app',
      version: '1.0.0',
      image: 'ghcr.io/acme-org/app',
    });
    expect(
      runStep(step, { ...env, TAG: 'model-service-v2.1.0-pre.20261130.1015' }, os.tmpdir()).outputs,
    ).toEqual({
      component: 'model-service',
      version: '2.1.0-pre.20261130.1015',
      image: 'ghcr.io/acme-org/model-service',
    });
    expect(runStep(step, { ...env, TAG: 'app-v1' }, os.tmpdir()).code).not.toBe(0);
  });

  it('sets up QEMU and Buildx and logs in to ghcr.io', () => {
    const order = [
      'docker/setup-qemu-action',
      'docker/setup-buildx-action',
      'docker/login-action',
      'docker/metadata-action',
      'docker/build-push-action',
    ].map((action) => job.steps.findIndex(usesAction(action)));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(findStep(job, usesAction('docker/login-action'), 'login').with).toEqual({
      registry: 'ghcr.io',
      username: '${{ github.actor }}',
      password: '${{ secrets.GITHUB_TOKEN }}',
    });
  });

  it('tags {{version}}, {{major}}.{{minor}} and {{major}} with OCI version, source and revision labels', () => {
    const meta = findStep(job, usesAction('docker/metadata-action'), 'metadata');
    const tags = String(meta.with?.tags).trim().split('\n');
    expect(tags).toEqual(
      ['{{version}}', '{{major}}.{{minor}}', '{{major}}'].map(
        (pattern) => `type=semver,pattern=${pattern},value=\${{ steps.tag.outputs.version }}`,
      ),
    );
    const labels = Object.fromEntries(
      String(meta.with?.labels)
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(labels).toMatchObject({
      'org.opencontainers.image.version': '${{ steps.tag.outputs.version }}',
      'org.opencontainers.image.source': '${{ github.server_url }}/${{ github.repository }}',
      'org.opencontainers.image.revision': '${{ github.sha }}',
    });
  });

  it('builds <component>/Dockerfile from the root context for amd64 and arm64 with APP_VERSION, and pushes', () => {
    const build = findStep(job, usesAction('docker/build-push-action'), 'build-push');
    expect(build.with).toMatchObject({
      context: '.',
      file: '${{ steps.tag.outputs.component }}/Dockerfile',
      push: true,
      tags: '${{ steps.meta.outputs.tags }}',
      labels: '${{ steps.meta.outputs.labels }}',
    });
    expect(String(build.with?.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(String(build.with?.['build-args']).trim().split('\n')).toContain(
      'APP_VERSION=${{ steps.tag.outputs.version }}',
    );
    for (const component of ['app', 'model-service']) {
      expect(existsSync(path.join(REPO_ROOT, component, 'Dockerfile'))).toBe(true);
    }
    const release = findStep(job, runs('gh release create'), 'gh release create');
    expect(job.steps.indexOf(release)).toBeGreaterThan(job.steps.indexOf(build));
    expect(release.run).toContain('--generate-notes');
  });
});

describe('the bump job commit step', () => {
  const bump = loadWorkflow('release-library.yml').jobs.bump;
  const bumpStep = findStep(bump, runs('scripts/release/bump-prerelease.ts'), 'bump');
  const commitStep = findStep(bump, runs('git push'), 'commit and push');
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();

  it('commits what bump-prerelease.ts changed as github-actions[bot] and pushes it onto a main that moved meanwhile', () => {
    const dir = tempDir('bump-');
    try {
      // origin, with main holding a package.json and a stand-in bump-prerelease.ts
      const origin = path.join(dir, 'origin.git');
      const seed = path.join(dir, 'seed');
      git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
      git(dir, 'clone', '--quiet', origin, seed);
      mkdirSync(path.join(seed, 'lib-ml'));
      mkdirSync(path.join(seed, 'scripts', 'release'), { recursive: true });
      // (no trailing slash: node_modules is a symlink here, a folder on a runner)
      writeFileSync(path.join(seed, '.gitignore'), 'node_modules\n');
      writeFileSync(path.join(seed, 'lib-ml', 'package.json'), '{ "version": "1.4.2" }\n');
      writeFileSync(
        path.join(seed, 'scripts', 'release', 'bump-prerelease.ts'),
        [
          "import { writeFileSync } from 'node:fs';",
          "const version: string = '1.4.3-pre.20261130.1015';",
          'writeFileSync(`${process.argv[2]}/package.json`, JSON.stringify({ version }) + "\\n");',
          "console.log('bumping', process.argv[2]);",
          'console.log(version);',
          '',
        ].join('\n'),
      );
      git(seed, 'add', '--all');
      git(seed, 'commit', '--quiet', '-m', 'initial');
      git(seed, 'push', '--quiet', 'origin', 'main');

      // the job's checkout: shallow, like actions/checkout
      const work = path.join(dir, 'work');
      git(dir, 'clone', '--quiet', '--depth', '1', `file://${origin}`, work);
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(work, 'node_modules'));

      // main moves on while the job runs: the first push is rejected
      writeFileSync(path.join(seed, 'README.md'), 'other change\n');
      git(seed, 'add', 'README.md');
      git(seed, 'commit', '--quiet', '-m', 'feat: something else');
      git(seed, 'push', '--quiet', 'origin', 'main');

      const env = { COMPONENT: 'lib-ml' };
      const bumped = runStep(bumpStep, env, work);
      expect(bumped).toMatchObject({ code: 0, stderr: '' });
      expect(bumped.outputs).toEqual({ version: '1.4.3-pre.20261130.1015' });
      const pushed = runStep(commitStep, { ...env, VERSION: bumped.outputs.version }, work);
      expect(pushed.code).toBe(0);
      expect(pushed.stdout).toContain('::warning::push to main rejected (attempt 1)');

      expect(git(origin, 'log', '-3', '--format=%an <%ae>|%s', 'main').split('\n')).toEqual([
        'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|chore(lib-ml): bump to 1.4.3-pre.20261130.1015 [skip ci]',
        'test <test@example.com>|feat: something else',
        'test <test@example.com>|initial',
      ]);
      expect(git(origin, 'show', '--name-only', '--format=', 'main')).toBe('lib-ml/package.json');
      expect(git(origin, 'show', 'main:lib-ml/package.json')).toBe('{"version":"1.4.3-pre.20261130.1015"}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('fails clearly when bump-prerelease.ts changed nothing', () => {
    const dir = tempDir('bump-none-');
    try {
      git(dir, 'init', '--quiet', '--initial-branch=main');
      writeFileSync(path.join(dir, 'x'), 'x\n');
      git(dir, 'add', 'x');
      git(dir, 'commit', '--quiet', '-m', 'initial');
      const result = runStep(commitStep, { COMPONENT: 'app', VERSION: '1.0.1-pre.1' }, dir);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toContain('::error title=Bump failed::bump-prerelease.ts app changed no file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scripts/release/build-library.ts', () => {
  const libMl = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'lib-ml', 'package.json'), 'utf8'),
  ) as PackageJson;

  it('rewrites package.json for GitHub Packages: owner scope, dist exports and types, files, registry', () => {
    const out = publishManifest(libMl, {
      library: 'lib-ml',
      owner: 'Acme-Org',
      repository: 'Acme-Org/restaurant-sentiment',
      workspaceVersions: {},
    });
    expect(out).toMatchObject({
      name: '@acme-org/lib-ml',
      version: libMl.version,
      type: 'module',
      main: './dist/index.js',
      types: './dist/index.d.ts',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      files: ['dist'],
      publishConfig: { registry: 'https://npm.pkg.github.com' },
      repository: { url: 'git+https://github.com/Acme-Org/restaurant-sentiment.git', directory: 'lib-ml' },
      dependencies: libMl.dependencies,
    });
    expect(libMl.name).toBe('@restaurant-sentiment/lib-ml'); // the input is left alone
  });

  it('turns dependencies on sibling workspaces into aliases of their published packages', () => {
    const out = publishManifest(
      {
        name: '@restaurant-sentiment/lib-ml',
        version: '1.0.0',
        dependencies: { '@restaurant-sentiment/lib-version': '*', semver: '^7.0.0' },
      },
      {
        library: 'lib-ml',
        owner: 'acme',
        workspaceVersions: { '@restaurant-sentiment/lib-version': '0.3.0' },
      },
    );
    expect(out.dependencies).toEqual({
      '@restaurant-sentiment/lib-version': 'npm:@acme/lib-version@^0.3.0',
      semver: '^7.0.0',
    });
  });

  it('refuses private packages and owners that are not GitHub names', () => {
    expect(() =>
      publishManifest(
        { name: 'x', version: '1.0.0', private: true },
        { library: 'lib-ml', owner: 'a', workspaceVersions: {} },
      ),
    ).toThrow(/private/);
    expect(() => packageScope('not an owner')).toThrow(/not a GitHub user or organisation/);
    expect(packageScope('@Acme')).toBe('acme');
  });

  it('compiles lib-ml to dist (JavaScript that loads, and .d.ts) and writes the publishable package.json', () => {
    // A copy of the repository's parts the build reads; the script rewrites package.json in place.
    const root = tempDir('build-library-');
    try {
      for (const file of ['package.json', 'tsconfig.json']) {
        writeFileSync(path.join(root, file), readFileSync(path.join(REPO_ROOT, file)));
      }
      mkdirSync(path.join(root, 'lib-ml'));
      for (const file of ['package.json', 'tsconfig.build.json']) {
        writeFileSync(path.join(root, 'lib-ml', file), readFileSync(path.join(REPO_ROOT, 'lib-ml', file)));
      }
      cpSync(path.join(REPO_ROOT, 'lib-ml', 'src'), path.join(root, 'lib-ml', 'src'), { recursive: true });
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
      if (existsSync(path.join(REPO_ROOT, 'lib-ml', 'node_modules'))) {
        symlinkSync(
          path.join(REPO_ROOT, 'lib-ml', 'node_modules'),
          path.join(root, 'lib-ml', 'node_modules'),
        );
      }
      const env = { ...process.env, GITHUB_REPOSITORY_OWNER: '', GITHUB_REPOSITORY: '' };
      const script = path.join(REPO_ROOT, 'scripts', 'release', 'build-library.ts');

      const noOwner = spawnSync(TSX, [script, 'lib-ml', '--root', root], { encoding: 'utf8', env });
      expect(noOwner.status).toBe(1);
      expect(noOwner.stderr).toContain('build-library: error: no package owner');

      const built = spawnSync(TSX, [script, 'lib-ml', '--owner', 'Acme-Org', '--root', root], {
        encoding: 'utf8',
        env,
      });
      expect(built.stderr).toBe('');
      expect(built.status).toBe(0);
      expect(built.stdout).toContain(`built @acme-org/lib-ml@${libMl.version}`);

      const dist = path.join(root, 'lib-ml', 'dist');
      expect(readFileSync(path.join(dist, 'index.d.ts'), 'utf8')).toContain("export * from './version.js';");
      const pkg = JSON.parse(readFileSync(path.join(root, 'lib-ml', 'package.json'), 'utf8')) as PackageJson;
      expect(pkg).toMatchObject({ name: '@acme-org/lib-ml', files: ['dist'], main: './dist/index.js' });
      expect(pkg.repository).toBeUndefined();
      // The compiled package loads in plain Node.js (no tsx) and reads its version from package.json.
      const loaded = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(path.join(dist, 'index.js'))}); console.log(m.LIB_ML_VERSION);`,
        ],
        { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
      );
      expect(loaded.status).toBe(0);
      expect(loaded.stdout.trim().split('\n').at(-1)).toBe(libMl.version);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('retrain.yml', () => {
  const workflow = loadWorkflow('retrain.yml');
  const job = workflow.jobs.retrain;
  const step = (name: string) => findStep(job, named(name), name);
  const DVC = path.join(REPO_ROOT, '.venv', 'bin', 'dvc');
  const at = (match: (s: Step) => boolean, what: string) => job.steps.indexOf(findStep(job, match, what));

  it('runs every Monday and by hand (feedback from the cluster or none), one run at a time', () => {
    expect(workflow.on).toEqual({
      schedule: [{ cron: '23 4 * * 1' }],
      workflow_dispatch: {
        inputs: {
          feedback: {
            description: 'Where the feedback comes from: the cluster (RETRAIN_KUBECONFIG), or none',
            type: 'choice',
            options: ['cluster', 'none'],
            default: 'cluster',
          },
        },
      },
    });
    expect((workflow as unknown as { concurrency: unknown }).concurrency).toEqual({
      group: 'retrain-model',
      'cancel-in-progress': false,
    });
    expect(Object.keys(workflow.jobs).sort()).toEqual(['bump', 'retrain']);
    expect(job.permissions).toEqual({ contents: 'write' });
    expect(workflow.jobs.bump.needs).toBe('retrain');
    expect(workflow.jobs.bump.if).toBe("needs.retrain.outputs.released == 'true'");
    expect(workflow.jobs.bump.env).toEqual({
      COMPONENT: 'model',
      RELEASED: '${{ needs.retrain.outputs.version }}',
    });
    expect(job.outputs).toEqual({
      released: '${{ steps.release.outputs.released }}',
      version: '${{ steps.version.outputs.version }}',
    });
  });

  it('installs Node.js and the pinned Python tools (requirements.txt) into .venv, then runs the loop in order', () => {
    const python = findStep(job, usesAction('actions/setup-python'), 'setup-python');
    expect(python.with).toEqual({
      'python-version': '3.12',
      cache: 'pip',
      'cache-dependency-path': 'requirements.txt',
    });
    const venv = step('Python tools (requirements.txt) in .venv');
    expect(venv.run).toContain(
      '.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt',
    );
    expect(venv.run).toContain('echo "$PWD/.venv/bin" >> "$GITHUB_PATH"');
    expect(readFileSync(path.join(REPO_ROOT, 'requirements.txt'), 'utf8')).toMatch(/^dvc==\d+\.\d+\.\d+$/m);
    const order = [
      at(runs('npm ci'), 'npm ci'),
      at(named('Python tools (requirements.txt) in .venv'), 'venv'),
      at(named('DVC remote'), 'remote'),
      at((s) => s.run === 'dvc pull --allow-missing', 'dvc pull'),
      at(named('Champion (the newest stable model release)'), 'champion'),
      at(named('Version of the new model'), 'version'),
      at(runs('npm run -s feedback:collect -- "${args[@]}"'), 'collect'),
      at((s) => s.run === 'dvc repro', 'dvc repro'),
      at(named('New model?'), 'changed'),
      at(runs('dvc repro --force --single-item publish'), 'release'),
      at((s) => s.run === 'dvc push', 'dvc push'),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(step('Collect feedback from the cluster').if).toBe("inputs.feedback != 'none'");
  });

  it('releases only through the publish stage, with its gates, and only a new model', () => {
    // Nothing else creates releases or tags: publish (which refuses a model that failed evaluate's
    // gate or the champion gate) is the only way out.
    for (const s of Object.values(workflow.jobs).flatMap((j) => j.steps)) {
      expect(s.run ?? '').not.toMatch(/gh release (create|upload|edit)|git tag|git push --tags|npm publish/);
    }
    const repro = findStep(job, (s) => s.run === 'dvc repro', 'dvc repro');
    expect(repro.env).toEqual({
      PUBLISH_VERSION: '${{ steps.version.outputs.version }}',
      PUBLISH_GITHUB: 'false',
    });
    const release = step('Release on GitHub (publish again, with PUBLISH_GITHUB=true)');
    expect(release.if).toBe("steps.changed.outputs.new == 'true'");
    expect(release.run?.trim().split('\n')).toEqual([
      'dvc repro --force --single-item publish',
      'echo "released=true" >> "$GITHUB_OUTPUT"',
    ]);
    expect(release.env).toEqual({
      PUBLISH_VERSION: '${{ steps.version.outputs.version }}',
      PUBLISH_GITHUB: 'true',
      GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}',
      GITHUB_REPOSITORY: '${{ github.repository }}',
    });
    // The release step reruns exactly the publish stage of dvc.yaml.
    const dvcYaml = YAML.parse(readFileSync(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8')) as {
      stages: Record<string, { cmd: string; deps: string[] }>;
    };
    expect(dvcYaml.stages.publish.deps).toEqual(
      expect.arrayContaining(['metrics.json', 'reports/evaluated.json']),
    );
  });

  it('gives each secret only to the steps that need it', () => {
    const secretsOf = (s: Step) =>
      Object.entries(s.env ?? {})
        .filter(([, value]) => value.includes('secrets.'))
        .map(([key, value]) => `${key}=${value}`);
    const aws = [
      'AWS_ACCESS_KEY_ID=${{ secrets.DVC_AWS_ACCESS_KEY_ID }}',
      'AWS_SECRET_ACCESS_KEY=${{ secrets.DVC_AWS_SECRET_ACCESS_KEY }}',
    ];
    expect(
      Object.fromEntries(
        job.steps.filter((s) => secretsOf(s).length).map((s) => [s.name ?? s.run, secretsOf(s)]),
      ),
    ).toEqual({
      'Pull data and models (dvc pull)': aws,
      'Champion (the newest stable model release)': ['GH_TOKEN=${{ secrets.GITHUB_TOKEN }}'],
      'Collect feedback from the cluster': ['KUBECONFIG_DATA=${{ secrets.RETRAIN_KUBECONFIG }}'],
      'Release on GitHub (publish again, with PUBLISH_GITHUB=true)': [
        'GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}',
      ],
      'Push data and models (dvc push)': aws,
    });
    expect(JSON.stringify({ env: job.env, with: job.steps.map((s) => s.with) })).not.toContain('secrets.');
  });

  /** A temp folder with node_modules (for the steps' `node -p` scripts), removed by the caller. */
  const scratch = (prefix: string) => {
    const dir = tempDir(prefix);
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    return dir;
  };
  /** An executable bash script. */
  const script = (file: string, lines: string[]) => {
    writeFileSync(file, ['#!/usr/bin/env bash', 'set -euo pipefail', ...lines, ''].join('\n'), {
      mode: 0o755,
    });
  };

  it('the DVC remote step: the repository variable (into .dvc/config.local only), else .dvc/config, else a clear error', () => {
    if (!toolAvailable(existsSync(DVC) ? null : `${DVC} not found`, 'the DVC remote step test', '.ci/run'))
      return;
    const remoteStep = step('DVC remote');
    expect(remoteStep.env).toEqual({
      DVC_REMOTE_URL: '${{ vars.DVC_REMOTE_URL }}',
      DVC_REMOTE_ENDPOINT_URL: '${{ vars.DVC_REMOTE_ENDPOINT_URL }}',
    });
    const dir = tempDir('retrain-remote-');
    try {
      const quiet = { cwd: dir, stdio: 'ignore' as const };
      execFileSync('git', ['init', '--quiet'], quiet);
      execFileSync(DVC, ['init', '--quiet'], quiet);
      const env = { PATH: `${path.dirname(DVC)}:${process.env.PATH}` };
      const config = readFileSync(path.join(dir, '.dvc', 'config'), 'utf8');

      const none = runStep(remoteStep, env, dir);
      expect(none.code).toBe(1);
      expect(none.stdout).toContain(
        '::error title=No DVC remote::set the repository variable DVC_REMOTE_URL (for example s3://bucket/dvcstore) or a default remote in .dvc/config (dvc remote add -d)',
      );

      const fromVariable = runStep(
        remoteStep,
        { ...env, DVC_REMOTE_URL: 's3://models/dvcstore', DVC_REMOTE_ENDPOINT_URL: 'http://127.0.0.1:9000' },
        dir,
      );
      expect(fromVariable.code).toBe(0);
      expect(fromVariable.outputs).toEqual({ name: 'retrain' });
      expect(readFileSync(path.join(dir, '.dvc', 'config.local'), 'utf8')).toBe(
        [
          '[core]',
          '    remote = retrain',
          `['remote "retrain"']`,
          '    url = s3://models/dvcstore',
          '    endpointurl = http://127.0.0.1:9000',
          '',
        ].join('\n'),
      );
      expect(readFileSync(path.join(dir, '.dvc', 'config'), 'utf8')).toBe(config);
      expect(readFileSync(path.join(dir, '.dvc', '.gitignore'), 'utf8')).toContain('/config.local');

      rmSync(path.join(dir, '.dvc', 'config.local'));
      execFileSync(DVC, ['remote', 'add', '--default', 'storage', 's3://team/dvc'], quiet);
      expect(runStep(remoteStep, env, dir).outputs).toEqual({ name: 'storage' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the champion step downloads the newest stable model release into the local registry', () => {
    const champion = step('Champion (the newest stable model release)');
    const dir = scratch('retrain-champion-');
    try {
      // A fake gh: `release list` prints what the --jq filter leaves (tags of releases that are neither
      // drafts nor pre-releases); `release download TAG --dir D` writes D/manifest.json.
      mkdirSync(path.join(dir, 'bin'));
      writeFileSync(
        path.join(dir, 'tags'),
        'app-v9.0.0\nmodel-v1.10.0\nmodel-v1.9.3\nmodel-v1.11.0-rc.1\nlib-ml-v2.0.0\nmodel-vX\n',
      );
      script(path.join(dir, 'bin', 'gh'), [
        'echo "$*" >> "$FAKE_GH_LOG"',
        'if [ "$1 $2" = "release list" ]; then cat "$FAKE_GH_TAGS"; exit 0; fi',
        'mkdir -p "$5" && echo "{\\"tag\\": \\"$3\\"}" > "$5/manifest.json"',
      ]);
      const env = {
        PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
        FAKE_GH_LOG: path.join(dir, 'gh.log'),
        FAKE_GH_TAGS: path.join(dir, 'tags'),
      };
      const result = runStep(champion, env, dir);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.outputs).toEqual({ version: '1.10.0' });
      expect(readFileSync(path.join(dir, 'gh.log'), 'utf8').trim().split('\n')).toEqual([
        'release list --limit 1000 --json tagName,isDraft,isPrerelease --jq .[] | select((.isDraft or .isPrerelease) | not) | .tagName',
        'release download model-v1.10.0 --dir releases/model-v1.10.0 --clobber',
      ]);
      expect(readFileSync(path.join(dir, 'releases', 'model-v1.10.0', 'manifest.json'), 'utf8')).toBe(
        '{"tag": "model-v1.10.0"}\n',
      );

      writeFileSync(path.join(dir, 'tags'), 'app-v1.0.0\n');
      const first = runStep(champion, env, dir);
      expect(first.code).toBe(0);
      expect(first.outputs).toEqual({});
      expect(first.stdout).toContain(
        '::notice title=No champion::no stable model release yet: the new model is compared with none',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    { champion: '1.2.3', params: '1.2.4-pre.20261130.1015', version: '1.2.4' },
    { champion: '1.2.3', params: '1.0.0', version: '1.2.4' },
    { champion: '1.2.3', params: '2.0.0-pre.20261201.0900', version: '2.0.0' },
    { champion: '', params: '1.0.0', version: '1.0.0' },
    { champion: '', params: '1.0.1-pre.20261130.1015', version: '1.0.1' },
  ])(
    'version step: champion "$champion", params.yaml $params → $version',
    ({ champion, params, version }) => {
      const dir = scratch('retrain-version-');
      try {
        writeFileSync(path.join(dir, 'params.yaml'), `publish:\n  name: x\n  version: ${params}\n`);
        const result = runStep(step('Version of the new model'), { CHAMPION: champion }, dir);
        expect(result.code).toBe(0);
        expect(result.outputs).toEqual({ version });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('the new-model step compares the bundle files with the champion', () => {
    const changed = step('New model?');
    const dir = scratch('retrain-changed-');
    try {
      const manifest = (file: string, sha: string) => {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(
          path.join(dir, file),
          JSON.stringify({
            version: file,
            created: file,
            files: { 'weights.bin': { sha256: sha, bytes: 4 } },
          }),
        );
      };
      manifest('dist/model/manifest.json', 'aa');
      manifest('releases/model-v1.0.0/manifest.json', 'aa');
      const same = runStep(changed, { CHAMPION: '1.0.0' }, dir);
      expect(same.outputs).toEqual({ new: 'false' });
      expect(same.stdout).toContain(
        '::notice title=Nothing to release::the retrained model has the same files as the champion model-v1.0.0',
      );
      manifest('releases/model-v1.0.0/manifest.json', 'bb');
      expect(runStep(changed, { CHAMPION: '1.0.0' }, dir).outputs).toEqual({ new: 'true' });
      expect(runStep(changed, { CHAMPION: '' }, dir).outputs).toEqual({ new: 'true' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the collect step writes the kubeconfig secret to a private temp file, collects, and removes it', () => {
    const collect = step('Collect feedback from the cluster');
    expect(collect.env).toEqual({
      KUBECONFIG_DATA: '${{ secrets.RETRAIN_KUBECONFIG }}',
      FEEDBACK_NAMESPACE: '${{ vars.FEEDBACK_NAMESPACE }}',
    });
    const dir = scratch('retrain-collect-');
    try {
      // The repository as the step sees it: package.json (the npm script), params.yaml, the pipeline.
      for (const file of ['package.json', 'params.yaml'])
        cpSync(path.join(REPO_ROOT, file), path.join(dir, file));
      symlinkSync(path.join(REPO_ROOT, 'pipeline'), path.join(dir, 'pipeline'));
      const runner = path.join(dir, 'runner');
      mkdirSync(runner);
      const summary = path.join(runner, 'summary.md');
      // A fake kubectl that records the kubeconfig it was given and its mode, and serves one pod.
      script(path.join(dir, 'kubectl'), [
        'echo "$(stat -c %a "$KUBECONFIG") $(cat "$KUBECONFIG") $*" >> "$FAKE_LOG"',
        'case "$1" in',
        `  get) echo '${JSON.stringify({
          items: [
            {
              metadata: { name: 'model-service-v1-a', namespace: 'rs' },
              spec: { containers: [{ name: 'model-service' }] },
              status: { phase: 'Running' },
            },
          ],
        })}' ;;`,
        `  cp) mkdir "$3" && echo '{"text":"Lovely staff","label":1,"time":"2026-11-30T09:00:00.000Z"}' > "$3/feedback-a.jsonl" ;;`,
        'esac',
      ]);
      const env = {
        RUNNER_TEMP: runner,
        GITHUB_STEP_SUMMARY: summary,
        KUBECTL: path.join(dir, 'kubectl'),
        FAKE_LOG: path.join(dir, 'kubectl.log'),
      };

      const missing = runStep(collect, env, dir);
      expect(missing.code).toBe(1);
      expect(missing.stdout).toContain(
        '::error title=No kubeconfig::set the secret RETRAIN_KUBECONFIG (a kubeconfig that may list the model-service pods and exec into them), or run the workflow with feedback: none',
      );

      const result = runStep(
        collect,
        { ...env, KUBECONFIG_DATA: 'kubeconfig-text', FEEDBACK_NAMESPACE: 'rs' },
        dir,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(readFileSync(path.join(dir, 'kubectl.log'), 'utf8').trim().split('\n')).toEqual([
        '600 kubeconfig-text get pods --namespace rs --selector app=model-service --output json',
        expect.stringMatching(
          /^600 kubeconfig-text cp rs\/model-service-v1-a:\/var\/lib\/model-service\/feedback \S+ --container model-service$/,
        ),
      ]);
      expect(existsSync(path.join(runner, 'kubeconfig'))).toBe(false);
      expect(readFileSync(path.join(dir, 'feedback', 'feedback-collected.jsonl'), 'utf8')).toBe(
        '{"text":"Lovely staff","label":1,"time":"2026-11-30T09:00:00.000Z"}\n',
      );
      expect(result.stdout).toContain('kept:        1');
      const written = readFileSync(summary, 'utf8');
      expect(written.split('\n').slice(0, 3)).toEqual([
        '### Feedback collected',
        '```',
        'feedback/feedback-collected.jsonl: written',
      ]);
      expect(written).toContain('pods:        1 matched, 1 running, 1 copied\n');
      expect(written).not.toContain('Lovely staff'); // counts only, never review text
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
