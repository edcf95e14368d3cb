/**
 * `npm run docs:diagrams -- [--check] [--dir FOLDER]`: renders every Graphviz source `docs/diagrams/<name>.dot` to
 * `docs/diagrams/<name>.svg` with @hpcc-js/wasm-graphviz (Graphviz compiled to WebAssembly, so no system
 * package is needed) and the `dot` layout engine.
 *
 * Output is deterministic: the same source and the same @hpcc-js/wasm-graphviz version (pinned by
 * package-lock.json) give the same SVG bytes on every machine, because the WebAssembly build measures
 * text with built-in font metrics instead of the fonts installed. That is what lets a test compare the
 * committed SVGs with a fresh render byte for byte.
 *
 * - Without arguments: writes each SVG whose content differs (atomically), prints what it wrote.
 * - `--check`: writes nothing; exits 1 naming every stale SVG (out of date with its .dot), every .dot
 *   without an SVG and every SVG without a .dot; exits 0 when all are up to date.
 * A .dot that Graphviz cannot parse stops both modes with exit 1 and Graphviz's message ("syntax error
 * in line 12 ...") prefixed by the file name.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { writeFileAtomic } from '@restaurant-sentiment/lib-ml';
import { isMain } from '../pipeline/src/stage.js';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the diagram sources (.dot) and their renderings (.svg) live. */
export const DIAGRAMS_DIR = path.join(REPO_ROOT, 'docs', 'diagrams');

let graphviz: Promise<Graphviz> | undefined;

/**
 * Renders one Graphviz DOT source to SVG text with the `dot` layout engine.
 * @param source the DOT text.
 * @param name the file it came from, used in the error message.
 * @returns the SVG document (UTF-8 text, ends with a newline).
 * @throws Error "<name>: <Graphviz's message>" when the source does not parse or lay out.
 */
export async function renderDot(source: string, name = '<dot source>'): Promise<string> {
  graphviz ??= Graphviz.load();
  const engine = await graphviz;
  try {
    return engine.dot(source, 'svg');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${name}: ${message.trim()}`);
  }
}

/** The diagram files of a folder: the base names (without extension) of its .dot and .svg files. */
export interface DiagramFiles {
  /** Base names of the .dot sources, sorted. */
  sources: string[];
  /** Base names of the .svg renderings, sorted. */
  renderings: string[];
}

/**
 * Lists the .dot and .svg files of `dir` (not recursive).
 * @throws Error (ENOENT) when the folder does not exist.
 */
export async function listDiagrams(dir: string = DIAGRAMS_DIR): Promise<DiagramFiles> {
  const entries = await readdir(dir);
  const withExtension = (ext: string) =>
    entries
      .filter((f) => f.endsWith(ext))
      .map((f) => f.slice(0, -ext.length))
      .sort();
  return { sources: withExtension('.dot'), renderings: withExtension('.svg') };
}

/** What `--check` found: file names relative to the diagrams folder, sorted. */
export interface DiagramCheck {
  /** `<name>.svg` files whose bytes differ from a fresh render of `<name>.dot`. */
  stale: string[];
  /** `<name>.dot` files with no `<name>.svg`. */
  missing: string[];
  /** `<name>.svg` files with no `<name>.dot`. */
  orphaned: string[];
}

/**
 * Compares every SVG of `dir` with a fresh render of its .dot, byte for byte; writes nothing.
 * @throws Error naming the .dot file when one does not parse.
 */
export async function checkDiagrams(dir: string = DIAGRAMS_DIR): Promise<DiagramCheck> {
  const { sources, renderings } = await listDiagrams(dir);
  const result: DiagramCheck = { stale: [], missing: [], orphaned: [] };
  for (const name of sources) {
    const svg = await renderDot(await readFile(path.join(dir, `${name}.dot`), 'utf8'), `${name}.dot`);
    if (!renderings.includes(name)) result.missing.push(`${name}.dot`);
    else if (!(await readFile(path.join(dir, `${name}.svg`))).equals(Buffer.from(svg, 'utf8'))) {
      result.stale.push(`${name}.svg`);
    }
  }
  result.orphaned = renderings.filter((name) => !sources.includes(name)).map((name) => `${name}.svg`);
  return result;
}

/**
 * Renders every .dot of `dir` and writes the .svg beside it (atomically) when it is missing or differs.
 * @returns the SVG file names written, sorted (empty when all were up to date).
 * @throws Error naming the .dot file when one does not parse (SVGs rendered before it are kept).
 */
export async function renderDiagrams(dir: string = DIAGRAMS_DIR): Promise<string[]> {
  const { sources } = await listDiagrams(dir);
  const written: string[] = [];
  for (const name of sources) {
    const svg = await renderDot(await readFile(path.join(dir, `${name}.dot`), 'utf8'), `${name}.dot`);
    const target = path.join(dir, `${name}.svg`);
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current !== svg) {
      await writeFileAtomic(target, svg);
      written.push(`${name}.svg`);
    }
  }
  return written;
}

/**
 * The lines `--check` prints for a failed check (one per problem), empty when everything is current.
 * @param folder prefix for the file names, e.g. "docs/diagrams".
 */
export function describeCheck(check: DiagramCheck, folder = 'docs/diagrams'): string[] {
  return [
    ...check.stale.map((f) => `stale: ${folder}/${f} differs from its .dot (run npm run docs:diagrams)`),
    ...check.missing.map((f) => `missing: ${folder}/${f} has no .svg (run npm run docs:diagrams)`),
    ...check.orphaned.map((f) => `orphaned: ${folder}/${f} has no .dot source (delete it or add its source)`),
  ];
}

const USAGE = 'usage: render-diagrams.ts [--check] [--dir FOLDER]';

/** Parses the command line: `--check` and `--dir FOLDER` (default docs/diagrams), in any order. */
function parseArgs(argv: string[]): { check: boolean; dir: string } {
  let check = false;
  let dir = DIAGRAMS_DIR;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--dir' && argv[i + 1] !== undefined) dir = path.resolve(argv[(i += 1)]);
    else throw new Error(`unexpected argument "${argv[i]}"; ${USAGE}`);
  }
  return { check, dir };
}

async function main(argv: string[]): Promise<number> {
  const { check, dir } = parseArgs(argv);
  const relative = path.relative(process.cwd(), dir) || '.';
  if (check) {
    const problems = describeCheck(await checkDiagrams(dir), relative);
    for (const line of problems) process.stderr.write(`${line}\n`);
    if (problems.length === 0) process.stdout.write(`${relative}: every SVG is up to date\n`);
    return problems.length === 0 ? 0 : 1;
  }
  const written = await renderDiagrams(dir);
  for (const file of written) process.stdout.write(`wrote ${relative}/${file}\n`);
  if (written.length === 0) process.stdout.write(`${relative}: every SVG is up to date\n`);
  return 0;
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`render-diagrams: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
