/**
 * The deployment documentation and its diagrams: every Graphviz source in docs/diagrams has a committed
 * SVG that is exactly what scripts/render-diagrams.ts renders from it today (so a changed .dot without a
 * re-render fails here), every SVG has a source, docs/deployment.md shows every diagram, and every
 * relative link in it (and the README's link to it) resolves to a file, and to a heading when it names
 * one.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  checkDiagrams,
  DIAGRAMS_DIR,
  describeCheck,
  listDiagrams,
  renderDiagrams,
  renderDot,
} from '../scripts/render-diagrams.js';
import { renderChart } from '../ops/helm/src/helm/render.js';
import { markdownNodes, tableShapes, type MdNode } from './support/markdown.js';
import { ROOT } from './support/start.js';

const run = promisify(execFile);

const DEPLOYMENT_DOC = path.join(ROOT, 'docs', 'deployment.md');

/** The diagrams the deployment doc is built around (the issue asks for these three at least). */
const REQUIRED = ['canary-lifecycle', 'monitoring', 'request-flow'];

const { sources } = await listDiagrams();

describe('docs/diagrams', () => {
  it('has the three required diagrams, and every .dot has an .svg and every .svg a .dot', async () => {
    const { sources: dots, renderings: svgs } = await listDiagrams();
    expect(dots).toEqual(expect.arrayContaining(REQUIRED));
    expect(svgs).toEqual(dots);
  });

  it.each(sources)(
    '%s: the committed .svg is byte for byte what the .dot renders to (else run npm run docs:diagrams)',
    async (name) => {
      const fresh = await renderDot(
        readFileSync(path.join(DIAGRAMS_DIR, `${name}.dot`), 'utf8'),
        `${name}.dot`,
      );
      const committed = readFileSync(path.join(DIAGRAMS_DIR, `${name}.svg`));
      // Compared as a flag, not as text: a stale SVG is named in the failure without a 100-line diff.
      expect({ file: `${name}.svg`, upToDate: committed.equals(Buffer.from(fresh, 'utf8')) }).toEqual({
        file: `${name}.svg`,
        upToDate: true,
      });
    },
  );

  it('npm run docs:diagrams -- --check passes on the committed diagrams', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/render-diagrams.ts', '--check'], { cwd: ROOT });
    expect(stdout).toBe('docs/diagrams: every SVG is up to date\n');
  });
});

describe('scripts/render-diagrams.ts', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'diagrams-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const GRAPH = 'digraph g { a -> b [label="x"]; }\n';

  it('renders the same source to the same bytes, an SVG document naming its nodes', async () => {
    const first = await renderDot(GRAPH);
    expect(await renderDot(GRAPH)).toBe(first);
    expect(first.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n')).toBe(true);
    expect(first.endsWith('</svg>\n')).toBe(true);
    expect(first).toContain('<title>a&#45;&gt;b</title>');
  });

  it('names the file and the line of a syntax error, and renders normally afterwards', async () => {
    await expect(renderDot('digraph g {\n a -> \n', 'broken.dot')).rejects.toThrow(
      /^broken\.dot: syntax error in line 3/,
    );
    expect(await renderDot(GRAPH)).toBe(await renderDot(GRAPH));
  });

  it('reports stale, missing and orphaned files, writes only what differs, then checks clean', async () => {
    writeFileSync(path.join(dir, 'current.dot'), GRAPH);
    writeFileSync(path.join(dir, 'current.svg'), await renderDot(GRAPH));
    writeFileSync(path.join(dir, 'stale.dot'), 'digraph g { a -> c; }\n');
    writeFileSync(path.join(dir, 'stale.svg'), await renderDot(GRAPH));
    writeFileSync(path.join(dir, 'new.dot'), 'digraph g { n; }\n');
    writeFileSync(path.join(dir, 'old.svg'), '<svg/>\n');

    const before = await checkDiagrams(dir);
    expect(before).toEqual({ stale: ['stale.svg'], missing: ['new.dot'], orphaned: ['old.svg'] });
    expect(describeCheck(before, 'docs/diagrams')).toEqual([
      'stale: docs/diagrams/stale.svg differs from its .dot (run npm run docs:diagrams)',
      'missing: docs/diagrams/new.dot has no .svg (run npm run docs:diagrams)',
      'orphaned: docs/diagrams/old.svg has no .dot source (delete it or add its source)',
    ]);

    expect(await renderDiagrams(dir)).toEqual(['new.svg', 'stale.svg']);
    expect(readFileSync(path.join(dir, 'stale.svg'), 'utf8')).toBe(
      await renderDot('digraph g { a -> c; }\n'),
    );
    expect(await checkDiagrams(dir)).toEqual({ stale: [], missing: [], orphaned: ['old.svg'] });
    expect(await renderDiagrams(dir)).toEqual([]);
  });

  it('--check exits 1 naming the stale SVG, and writes nothing', async () => {
    const check = mkdtempSync(path.join(os.tmpdir(), 'diagrams-check-'));
    try {
      writeFileSync(path.join(check, 'flow.dot'), GRAPH);
      writeFileSync(path.join(check, 'flow.svg'), '<svg/>\n');
      const failure = await run('npx', ['tsx', 'scripts/render-diagrams.ts', '--check', '--dir', check], {
        cwd: ROOT,
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      const shown = path.relative(ROOT, check);
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toBe(
        `stale: ${shown}/flow.svg differs from its .dot (run npm run docs:diagrams)\n`,
      );
      expect(readFileSync(path.join(check, 'flow.svg'), 'utf8')).toBe('<svg/>\n');
    } finally {
      rmSync(check, { recursive: true, force: true });
    }
  });
});

/** The text GitHub makes a heading's anchor from: its text with inline code, links and emphasis flattened. */
function plainText(node: MdNode): string {
  if (node.type === 'text' || node.type === 'inlineCode') return node.value ?? '';
  return (node.children ?? []).map(plainText).join('');
}

/**
 * The anchors GitHub gives a document's headings (github-slugger's rules: lower case, every character
 * that is not a letter, digit, space, hyphen or underscore removed, spaces turned into hyphens, and
 * `-1`, `-2`, ... appended to repeats).
 */
async function headingAnchors(text: string): Promise<Set<string>> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const node of await markdownNodes(text)) {
    if (node.type !== 'heading') continue;
    const base = plainText(node)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The targets of a markdown text's links and images (inline and reference definitions), in order. */
async function linkTargets(text: string): Promise<string[]> {
  return (await markdownNodes(text))
    .filter((node) => ['link', 'image', 'definition'].includes(node.type))
    .map((node) => (node as MdNode & { url: string }).url);
}

/** Problems with the relative links of the markdown file `file`: targets missing or outside `root`, anchors missing. */
async function brokenLinks(file: string, root = ROOT): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const problems: string[] = [];
  const anchorsOf = new Map<string, Promise<Set<string>>>(); // each target parsed once
  anchorsOf.set(file, headingAnchors(text));
  for (const url of await linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) continue; // https:, mailto: ...
    const [target, anchor] = url.split('#', 2);
    const resolved = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
    if (!resolved.startsWith(root + path.sep) || !existsSync(resolved)) {
      problems.push(`${url}: no such file in the repository`);
    } else if (anchor && resolved.endsWith('.md')) {
      if (!anchorsOf.has(resolved)) anchorsOf.set(resolved, readFile(resolved, 'utf8').then(headingAnchors));
      if (!(await anchorsOf.get(resolved))!.has(anchor)) problems.push(`${url}: no heading with that anchor`);
    }
  }
  return problems;
}

describe('docs/deployment.md', () => {
  const text = existsSync(DEPLOYMENT_DOC) ? readFileSync(DEPLOYMENT_DOC, 'utf8') : '';

  it('exists', () => {
    expect(existsSync(DEPLOYMENT_DOC)).toBe(true);
  });

  it('shows every diagram as an image', async () => {
    const images = (await markdownNodes(text))
      .filter((node) => node.type === 'image')
      .map((node) => (node as MdNode & { url: string }).url);
    expect(images.filter((url) => url.startsWith('diagrams/')).sort()).toEqual(
      sources.map((name) => `diagrams/${name}.svg`),
    );
  });

  it('has tables whose rows all have as many cells as their header (as GitHub splits them)', async () => {
    const tables = await tableShapes(text);
    expect(tables.length).toBeGreaterThanOrEqual(5);
    expect(tables.filter((t) => t.cells.some((n) => n !== t.cells[0]))).toEqual([]);
  });

  it('has only relative links that resolve to files of the repository (and their headings)', async () => {
    expect(await brokenLinks(DEPLOYMENT_DOC)).toEqual([]);
  });

  it('has a table of contents linking every second-level heading', async () => {
    const nodes = await markdownNodes(text);
    const sections = nodes
      .filter((node) => node.type === 'heading' && (node as MdNode & { depth: number }).depth === 2)
      .map(plainText)
      .filter((title) => title !== 'Contents');
    const links = (await linkTargets(text)).filter((url) => url.startsWith('#'));
    const anchors = await headingAnchors(`${sections.map((s) => `## ${s}`).join('\n\n')}\n`);
    expect(sections.length).toBeGreaterThanOrEqual(8);
    expect(links).toEqual(expect.arrayContaining([...anchors].map((a) => `#${a}`)));
  });

  it('finds a missing file, a file outside the repository and a missing anchor (the check itself works)', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'links-'));
    try {
      const repo = path.join(outside, 'repo');
      mkdirSync(repo);
      writeFileSync(path.join(outside, 'x.md'), '# X\n');
      const file = path.join(repo, 'doc.md');
      writeFileSync(
        file,
        '# Title\n\n## Two `words`\n\n[ok](#two-words) [bad](#three) [gone](nothing.md) [out](../x.md) [web](https://example.org)\n',
      );
      expect(await brokenLinks(file, repo)).toEqual([
        '#three: no heading with that anchor',
        'nothing.md: no such file in the repository',
        '../x.md: no such file in the repository',
      ]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

/**
 * The objects the object tables of a markdown text name, as `Kind/name`: every table whose first header
 * cell is "Object" has rows like "Deployment `app-v1`, `app-v2`" or "EnvoyFilter `x` (in `istio-system`)";
 * the kind is the cell's first word, the names are its code spans before any "(".
 */
async function documentedObjects(text: string): Promise<string[]> {
  const tables = (await markdownNodes(text)).filter(
    (node) => node.type === 'table' && plainText(node.children![0].children![0]).trim() === 'Object',
  );
  const objects: string[] = [];
  for (const table of tables) {
    for (const row of table.children!.slice(1)) {
      const cell = row.children![0].children ?? [];
      const kind = plainText(cell[0]).trim().split(/\s+/)[0];
      const aside = cell.findIndex((node) => node.type === 'text' && (node.value ?? '').includes('('));
      const names = (aside === -1 ? cell : cell.slice(0, aside)).filter((node) => node.type === 'inlineCode');
      objects.push(...names.map((node) => `${kind}/${node.value}`));
    }
  }
  return objects.sort();
}

describe('docs/deployment.md and the chart', () => {
  it('reads the objects of a table row, leaving out what is in parentheses', async () => {
    const table =
      '| Object | For |\n| - | - |\n| Deployment `a`, `b` | x |\n| EnvoyFilter `f` (in `istio-system`) | y |\n';
    expect(await documentedObjects(table)).toEqual(['Deployment/a', 'Deployment/b', 'EnvoyFilter/f']);
  });

  it('has values examples that helm accepts, once their <placeholders> are filled in', async () => {
    const examples = (await markdownNodes(readFileSync(DEPLOYMENT_DOC, 'utf8')))
      .filter((node) => node.type === 'code' && node.lang === 'yaml')
      .map((node) => node.value ?? '');
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const filled: Record<string, string> = {
      '<owner>': 'restaurant-sentiment',
      '<repository>': 'restaurant-sentiment',
      '<on-call address>': 'oncall@example.org',
      '<sender address>': 'alerts@example.org',
      '<smtp host>': 'smtp.example.org',
      '<smtp user>': 'alerts@example.org',
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'doc-values-'));
    try {
      for (const [i, example] of examples.entries()) {
        const values = example.replace(/<[^>]+>/g, (placeholder) => {
          if (!(placeholder in filled)) throw new Error(`example ${i}: unknown placeholder ${placeholder}`);
          return filled[placeholder];
        });
        const file = path.join(dir, `example-${i}.yaml`);
        writeFileSync(file, values);
        const objects = await renderChart({ valuesFiles: [file] });
        expect(objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'app-v1')).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names exactly the objects the chart renders, optional ones included', async () => {
    // Defaults plus everything optional that adds objects: the shadow, the gateway rate limit.
    const objects = await renderChart({
      set: [
        'shadow.enabled=true',
        'shadow.modelService.image.tag=1.2.0',
        'istio.gateway.rateLimit.enabled=true',
      ],
    });
    const rendered = [...new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`))].sort();
    expect(await documentedObjects(readFileSync(DEPLOYMENT_DOC, 'utf8'))).toEqual(rendered);
  });
});

describe('README.md', () => {
  it('links the deployment documentation from a "Deploy on Kubernetes" section', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(await headingAnchors(readme)).toContain('deploy-on-kubernetes');
    expect(await linkTargets(readme)).toContain('docs/deployment.md');
  });
});
