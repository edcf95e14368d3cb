/**
 * Static checks of the service images (no Docker engine runs here): model-service/Dockerfile and
 * app/Dockerfile are parsed with dockerfile-ast and checked for what the release workflow, Kubernetes and
 * the services rely on, and every file they COPY from the build context must exist and not be excluded by
 * .dockerignore.
 */
import { describe, expect, it } from '@jest/globals';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE_IMAGE = /^node:20-(bookworm-)?slim$/;
const WORKSPACE_SCOPE = '@restaurant-sentiment/';

interface Service {
  component: 'model-service' | 'app';
  port: number;
}
const SERVICES: Service[] = [
  { component: 'model-service', port: 5001 },
  { component: 'app', port: 8080 },
];

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson | null {
  const file = path.join(REPO_ROOT, dir, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageJson) : null;
}

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

function parseDockerfile(component: string): Stage[] {
  const dockerfile = DockerfileParser.parse(
    readFileSync(path.join(REPO_ROOT, component, 'Dockerfile'), 'utf8'),
  );
  const froms = dockerfile.getFROMs();
  const stages: Stage[] = froms.map((from) => ({
    name: from.getBuildStage(),
    image: from.getImage() ?? '',
    instructions: [],
  }));
  let current = -1;
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') current += 1;
    else if (current >= 0) stages[current].instructions.push(instruction);
  }
  return stages;
}

const args = (instruction: Instruction): string[] => instruction.getArguments().map((a) => a.getValue());
/** The stage a COPY --from=<stage> copies from, or null for the build context. */
const copyFrom = (copy: Instruction): string | null => (copy as Copy).getFromFlag()?.getValue() ?? null;
const ofKind = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((i) => i.getKeyword() === keyword);
/** `KEY=value` pairs of ENV / LABEL / ARG instructions (quotes removed). */
function properties(stage: Stage, keyword: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const instruction of ofKind(stage, keyword)) {
    const text = instruction.getArgumentsContent() ?? '';
    for (const match of text.matchAll(/([A-Za-z_][\w.-]*)(?:=("[^"]*"|\S*))?/g)) {
      out.set(match[1], (match[2] ?? '').replace(/^"|"$/g, ''));
    }
  }
  return out;
}
/** The value of a JSON-form (exec) instruction such as CMD ["node", "x"]. */
function execForm(instruction: Instruction): string[] {
  const text = (instruction.getArgumentsContent() ?? '').replace(/^[\s\S]*?(?=\[)/, '');
  return JSON.parse(text.replace(/\\\n/g, '')) as string[];
}

/**
 * .dockerignore as Docker reads it: patterns relative to the context root, `*` within one path
 * segment, `**` across segments, `!` re-includes; a path is excluded when it or a folder above it matches.
 */
function dockerignore(): (file: string) => boolean {
  const rules = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).replace(/^\/+/, ''));
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (file) => {
    const parts = path.posix.normalize(file).replace(/\/+$/, '').split('/');
    let excluded = false;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      for (const rule of rules) if (rule.regex.test(prefix)) excluded = !rule.negate;
      if (excluded) return true;
    }
    return excluded;
  };
}

/** The workspaces `component` depends on at run time, transitively (from the package.json files). */
function workspaceDependencies(component: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    for (const name of Object.keys(readPackage(dir)?.dependencies ?? {})) {
      if (!name.startsWith(WORKSPACE_SCOPE)) continue;
      const dep = name.slice(WORKSPACE_SCOPE.length);
      if (!seen.has(dep)) {
        seen.add(dep);
        visit(dep);
      }
    }
  };
  visit(component);
  return [...seen].sort();
}

describe.each(SERVICES)('$component/Dockerfile', ({ component, port }) => {
  const stages = parseDockerfile(component);
  const final = stages[stages.length - 1];
  const build = stages[0];
  // model-service/ and app/ come in later issues: until their package.json exists, the workspace
  // libraries the brief names (lib-ml, lib-version) stand in for their dependencies.
  const pkg = readPackage(component);
  const libraries = pkg ? workspaceDependencies(component) : ['lib-ml', 'lib-version'];

  it('is a multi-stage build on node:20 slim (bookworm)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(BASE_IMAGE);
    expect(build.name).toBeTruthy();
  });

  it('installs only the production dependencies of the workspace and its libraries from the root lockfile', () => {
    const copied = ofKind(build, 'COPY').flatMap((copy) => args(copy).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    for (const dir of [...libraries, component]) expect(copied).toContain(`${dir}/package.json`);

    const npmCi = ofKind(build, 'RUN')
      .map((run) => args(run).join(' '))
      .find((command) => command.includes('npm ci'));
    expect(npmCi).toBeDefined();
    expect(npmCi).toContain('--omit=dev');
    expect(npmCi).toMatch(new RegExp(`(--workspace[ =]|-w )${component}( |$)`));
    expect(npmCi).toContain('--include-workspace-root=false');
    // The manifests are copied before npm ci, the source only afterwards (in the runtime stage), so the
    // install layer stays cached while only source changes.
    const ciIndex = build.instructions.findIndex((i) => i.getKeyword() === 'RUN' && args(i).includes('ci'));
    const lastCopy = build.instructions.map((i) => i.getKeyword()).lastIndexOf('COPY');
    expect(lastCopy).toBeLessThan(ciIndex);
  });

  it('copies node_modules from the build stage and the esbuild bundle from the bundle stage', () => {
    const stageNames = stages.map((stage) => stage.name);
    const copies = ofKind(final, 'COPY').filter((copy) => copyFrom(copy) !== null);
    for (const copy of copies) expect(stageNames.slice(0, -1)).toContain(copyFrom(copy));
    expect(copies.map((copy) => [copyFrom(copy), args(copy).slice(-2)])).toEqual(
      expect.arrayContaining([
        ['build', ['/app', './']],
        ['bundle', [`/app/${component}/dist/`, `${component}/dist/`]],
      ]),
    );
    // The bundle stage installs the dev tools (esbuild), copies the sources and builds dist/main.js.
    const bundle = stages.find((stage) => stage.name === 'bundle')!;
    const sources = ofKind(bundle, 'COPY').flatMap((copy) =>
      args(copy)
        .slice(0, -1)
        .map((x) => x.replace(/\/+$/, '')),
    );
    for (const dir of [...libraries, component, 'scripts/build-service.mjs']) expect(sources).toContain(dir);
    const runs = ofKind(bundle, 'RUN').map((run) => args(run).join(' '));
    expect(runs).toContain(`node scripts/build-service.mjs ${component}`);
  });

  it('copies only context paths that exist and that .dockerignore lets through', () => {
    const ignored = dockerignore();
    for (const stage of stages) {
      for (const copy of ofKind(stage, 'COPY')) {
        if (copyFrom(copy) !== null) continue; // from a build stage, not from the context
        for (const source of args(copy).slice(0, -1)) {
          expect(path.isAbsolute(source)).toBe(false);
          expect(source.includes('..')).toBe(false);
          expect({ source, ignored: ignored(source) }).toEqual({ source, ignored: false });
          // model-service/ and app/ are written in later issues: until a workspace's package.json exists,
          // its paths cannot exist yet and are not checked.
          const top = source.split('/')[0];
          if ((top === 'model-service' || top === 'app') && !readPackage(top)) continue;
          expect({ source, exists: existsSync(path.join(REPO_ROOT, source)) }).toEqual({
            source,
            exists: true,
          });
        }
      }
    }
  });

  it('keeps node_modules, data, models, releases and test output out of the build context', () => {
    const ignored = dockerignore();
    for (const file of [
      'node_modules/x',
      'lib-ml/node_modules/x',
      `${component}/node_modules/x`,
      'data/prepared/train.jsonl',
      'models/model.json',
      'releases/model-v1.0.0/manifest.json',
      'dist/model/manifest.json',
      'reports/plots/roc.csv',
      'metrics.json',
      '.git/config',
      'lib-ml/test/preprocess.test.ts',
      `${component}/bench/x.ts`,
      'test-output/x',
      'coverage/x',
    ]) {
      expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true });
    }
    for (const file of [
      'package.json',
      'package-lock.json',
      'lib-ml/src/index.ts',
      `${component}/src/main.ts`,
    ]) {
      expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: false });
    }
  });

  it('takes APP_VERSION as a build argument into the environment and the OCI version label', () => {
    expect(properties(final, 'ARG').has('APP_VERSION')).toBe(true);
    expect(properties(final, 'ENV').get('APP_VERSION')).toMatch(/^\$\{?APP_VERSION\}?$/);
    expect(properties(final, 'LABEL').get('org.opencontainers.image.version')).toMatch(
      /^\$\{?APP_VERSION\}?$/,
    );
    // ARG before ENV: the ENV must see the argument.
    const argLine = ofKind(final, 'ARG')[0].getRange().start.line;
    const envLine = ofKind(final, 'ENV').find((env) => /APP_VERSION=/.test(env.getArgumentsContent() ?? ''));
    expect(envLine?.getRange().start.line).toBeGreaterThan(argLine);
  });

  it(`runs as a non-root user, exposes ${port}, checks /healthz and runs the bundle with node`, () => {
    const users = ofKind(final, 'USER').map((user) => args(user)[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);

    expect(ofKind(final, 'EXPOSE').flatMap(args)).toContain(String(port));
    expect(properties(final, 'ENV').get('PORT')).toBe(String(port));

    const healthchecks = ofKind(final, 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0].getArgumentsContent()).toMatch(/^CMD \[/);
    const probe = execForm(healthchecks[0]);
    expect(probe[0]).toBe('node');
    expect(probe.join(' ')).toContain(`'http://127.0.0.1:'+(process.env.PORT||${port})+'/healthz'`);

    const cmds = ofKind(final, 'CMD');
    expect(cmds).toHaveLength(1);
    const cmd = execForm(cmds[0]);
    expect(cmd[0]).toBe('node');
    expect(cmd).toContain('--enable-source-maps');
    expect(cmd[cmd.length - 1]).toBe('dist/main.js');
    const workdirs = ofKind(final, 'WORKDIR').map((w) => args(w)[0]);
    expect(workdirs[workdirs.length - 1]).toBe(`/app/${component}`);
  });

  it('HEALTHCHECK probe exits 0 on a 200 from /healthz and 1 on an error status or no server', async () => {
    const probe = execForm(ofKind(final, 'HEALTHCHECK')[0]);
    const runProbe = (portEnv: string): Promise<number> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          probe.slice(1),
          { env: { ...process.env, PORT: portEnv }, timeout: 10_000 },
          (error) => resolve(error ? Number((error as { code?: number }).code ?? -1) : 0),
        );
      });
    let status = 200;
    const paths: string[] = [];
    const server: Server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const live = String((server.address() as AddressInfo).port);
    try {
      expect(await runProbe(live)).toBe(0);
      status = 503;
      expect(await runProbe(live)).toBe(1);
      expect(paths).toEqual(['/healthz', '/healthz']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await runProbe(live)).toBe(1); // nothing listens there any more
  });

  it('starts like `npm start` does', () => {
    // model-service/ and app/ are written in their own issues: checked once their package.json exists.
    if (!pkg) return;
    const start = (pkg as PackageJson & { scripts?: Record<string, string> }).scripts?.start ?? '';
    const cmd = execForm(ofKind(final, 'CMD')[0]);
    expect(start).toContain(cmd.join(' '));
    // `exec`: the shell npm runs the script in must not stand between a signal and the server.
    expect(start).toContain(`&& exec ${cmd.join(' ')}`);
  });
});

describe('app/Dockerfile run-time files', () => {
  const final = parseDockerfile('app').at(-1) as Stage;

  it('copies the views, static assets and the default TEAM_FILE the app reads at run time', () => {
    const copied = ofKind(final, 'COPY').map((copy) => args(copy).join(' '));
    for (const folder of ['app/views/', 'app/public/', 'app/config/']) {
      expect(copied).toContain(`${folder} ${folder}`);
    }
    // The default team file must be inside what is copied (app/src/config.ts's TEAM_FILE default).
    expect(existsSync(path.join(REPO_ROOT, 'app/config/team.example.json'))).toBe(true);
  });
});

describe('model-service/Dockerfile state directories', () => {
  const final = parseDockerfile('model-service').at(-1) as Stage;

  it('declares MODEL_CACHE_DIR and FEEDBACK_DIR and gives them to the node user', () => {
    const env = properties(final, 'ENV');
    expect(env.get('MODEL_CACHE_DIR')).toBe('/var/cache/model-service');
    expect(env.get('FEEDBACK_DIR')).toBe('/var/lib/model-service/feedback');
    const setup = ofKind(final, 'RUN')
      .map((run) => args(run).join(' '))
      .find((command) => command.includes('chown'));
    expect(setup).toMatch(/mkdir -p/);
    expect(setup).toMatch(/chown -R node:node/);
    expect(setup).toContain('/var/cache/model-service');
    expect(setup).toContain('/var/lib/model-service');
  });
});
