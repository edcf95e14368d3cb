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

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORKFLOWS_DIR = path.join(REPO_ROOT, '.github', 'workflows');
const ACTION_VALIDATOR = path.join(REPO_ROOT, 'node_modules', '.bin', 'action-validator');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  'working-directory'?: string;
}
interface Job {
  needs?: string | string[];
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
  it('finds the four workflows', () => {
    expect(WORKFLOW_FILES).toEqual(
      expect.arrayContaining(['ci.yml', 'release-image.yml', 'release-library.yml', 'release-model.yml']),
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

  it('the three bump jobs run the same steps', () => {
    const [model, ...others] = releases.map(({ file }) => loadWorkflow(file).jobs.bump.steps);
    for (const steps of others) expect(steps).toEqual(model);
  });
});

describe('release-model.yml', () => {
  const job = loadWorkflow('release-model.yml').jobs.release;

  it('installs Python, DVC and the npm dependencies, then runs dvc repro publishing to GitHub', () => {
    findStep(job, usesAction('actions/setup-python'), 'setup-python');
    const pip = findStep(job, runs('pip install'), 'pip install');
    expect(pip.run).toMatch(/pip install '?dvc\b/);
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
