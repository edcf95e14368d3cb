/**
 * Builds a library workspace for the registry (used by .github/workflows/release-library.yml):
 *
 *   npx tsx scripts/release/build-library.ts <lib-ml|lib-version> [--owner <owner>] [--repository <owner/repo>] [--root <dir>]
 *
 * 1. `tsc -p <library>/tsconfig.build.json` compiles `<library>/src` to JavaScript + .d.ts in `<library>/dist`
 *    (the workspaces run their TypeScript source through tsx; consumers of the package get JavaScript).
 * 2. `<library>/package.json` is rewritten for GitHub Packages: name `@<owner>/<library>` (GitHub Packages
 *    only takes packages scoped to the repository owner, in lowercase), `exports` to `./dist/index.js` with
 *    types `./dist/index.d.ts`, `files: ["dist"]`, `publishConfig.registry` https://npm.pkg.github.com,
 *    `repository` when known, and dependencies on sibling workspaces (`@restaurant-sentiment/<name>`)
 *    turned into npm aliases of their published packages, so the compiled imports keep resolving.
 *
 * The owner defaults to $GITHUB_REPOSITORY_OWNER and the repository to $GITHUB_REPOSITORY. Step 2 edits the
 * working tree: the workflow runs this on a throw-away checkout; locally, use --root on a copy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The library workspaces that are published as npm packages. */
export const LIBRARIES = ['lib-ml', 'lib-version'] as const;
export type Library = (typeof LIBRARIES)[number];

export const GITHUB_PACKAGES_REGISTRY = 'https://npm.pkg.github.com';
/** The scope of the workspace packages inside the monorepo. */
export const WORKSPACE_SCOPE = '@restaurant-sentiment';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const;

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

export interface PublishOptions {
  library: Library;
  /** GitHub user or organisation that owns the repository (any case). */
  owner: string;
  /** `owner/repo`, for the package's `repository` field. */
  repository?: string;
  /** The version of every workspace package, by package name. */
  workspaceVersions: Record<string, string>;
}

export function isLibrary(name: string): name is Library {
  return (LIBRARIES as readonly string[]).includes(name);
}

/** The npm scope GitHub Packages requires: the repository owner, lowercased. */
export function packageScope(owner: string): string {
  const scope = owner.trim().replace(/^@/, '').toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(scope)) {
    throw new Error(`"${owner}" is not a GitHub user or organisation name`);
  }
  return scope;
}

/** `library`'s package.json as it is published to GitHub Packages (a new object; `pkg` is unchanged). */
export function publishManifest(pkg: PackageJson, options: PublishOptions): PackageJson {
  if (pkg.private) throw new Error(`${options.library}/package.json is private: it cannot be published`);
  const scope = packageScope(options.owner);
  const out: PackageJson = {
    ...pkg,
    name: `@${scope}/${options.library}`,
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist'],
    publishConfig: { registry: GITHUB_PACKAGES_REGISTRY },
  };
  if (options.repository) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(options.repository)) {
      throw new Error(`"${options.repository}" is not an owner/repository name`);
    }
    out.repository = {
      type: 'git',
      url: `git+https://github.com/${options.repository}.git`,
      directory: options.library,
    };
  }
  for (const field of DEPENDENCY_FIELDS) {
    const deps = pkg[field];
    if (!deps) continue;
    out[field] = Object.fromEntries(
      Object.entries(deps).map(([name, range]) => {
        if (!name.startsWith(`${WORKSPACE_SCOPE}/`)) return [name, range];
        const version = options.workspaceVersions[name];
        if (!version) throw new Error(`${options.library} depends on ${name}, which is not a workspace`);
        // The compiled code still imports `@restaurant-sentiment/<name>`: an npm alias keeps that name.
        return [name, `npm:@${scope}/${name.slice(WORKSPACE_SCOPE.length + 1)}@^${version}`];
      }),
    );
  }
  return out;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** Name → version of every workspace listed in the root package.json. */
async function workspaceVersions(root: string): Promise<Record<string, string>> {
  const rootPkg = await readJson<PackageJson>(path.join(root, 'package.json'));
  const versions: Record<string, string> = {};
  for (const dir of rootPkg.workspaces ?? []) {
    const file = path.join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = await readJson<PackageJson>(file);
    versions[pkg.name] = pkg.version;
  }
  return versions;
}

export interface BuildResult {
  name: string;
  version: string;
  dist: string;
}

export async function buildLibrary(options: {
  root: string;
  library: string;
  owner: string;
  repository?: string;
}): Promise<BuildResult> {
  const { root, library } = options;
  if (!isLibrary(library))
    throw new Error(`unknown library "${library}" (expected ${LIBRARIES.join(' or ')})`);
  const dir = path.join(root, library);
  const tsconfig = path.join(dir, 'tsconfig.build.json');
  if (!existsSync(tsconfig)) throw new Error(`${tsconfig} is missing`);
  const scope = packageScope(options.owner);

  const dist = path.join(dir, 'dist');
  await rm(dist, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, stdio: 'inherit' });
  if (compiled.error) throw compiled.error;
  if (compiled.status !== 0) throw new Error(`tsc -p ${tsconfig} failed (exit ${compiled.status})`);
  for (const file of ['index.js', 'index.d.ts']) {
    if (!existsSync(path.join(dist, file))) throw new Error(`tsc wrote no ${path.join(dist, file)}`);
  }

  const manifestFile = path.join(dir, 'package.json');
  const manifest = publishManifest(await readJson<PackageJson>(manifestFile), {
    library,
    owner: scope,
    repository: options.repository,
    workspaceVersions: await workspaceVersions(root),
  });
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { name: manifest.name, version: manifest.version, dist };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      owner: { type: 'string' },
      repository: { type: 'string' },
      root: { type: 'string' },
    },
  });
  if (positionals.length !== 1) {
    throw new Error(
      'usage: build-library.ts <lib-ml|lib-version> [--owner <owner>] [--repository <owner/repo>] [--root <dir>]',
    );
  }
  const owner = values.owner || process.env.GITHUB_REPOSITORY_OWNER;
  if (!owner) throw new Error('no package owner: pass --owner or set GITHUB_REPOSITORY_OWNER');
  const result = await buildLibrary({
    root: path.resolve(values.root ?? REPO_ROOT),
    library: positionals[0],
    owner,
    repository: values.repository || process.env.GITHUB_REPOSITORY || undefined,
  });
  process.stdout.write(`built ${result.name}@${result.version} into ${result.dist}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`build-library: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
