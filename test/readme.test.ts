/**
 * The READMEs render as intended on GitHub: every markdown table row has as many cells as its header (an
 * unescaped `|`, even inside `code`, starts a new cell in GitHub-flavoured markdown). Tables are found
 * with Prettier's markdown parser (test/support/markdown.ts), which splits cells as GitHub does.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { tableShapes } from './support/markdown.js';
import { ROOT } from './support/start.js';

/** The repository's READMEs: the top-level one and each workspace's. */
const READMES = [
  'README.md',
  ...['lib-ml', 'lib-version', 'lib-service', 'pipeline', 'model-service', 'app'].map(
    (w) => `${w}/README.md`,
  ),
].filter((file) => existsSync(path.join(ROOT, file)));

describe('README tables', () => {
  it('finds a cell split by an unescaped | inside code, and none when it is escaped', async () => {
    const broken = '| a | b |\n| - | - |\n| `0|1` | x |\n';
    const fixed = '| a | b |\n| - | - |\n| `0\\|1` | x |\n';
    await expect(tableShapes(broken)).resolves.toEqual([{ line: 1, cells: [2, 3] }]);
    await expect(tableShapes(fixed)).resolves.toEqual([{ line: 1, cells: [2, 2] }]);
  });

  it.each(READMES)('%s: every row has as many cells as its header', async (file) => {
    const tables = await tableShapes(readFileSync(path.join(ROOT, file), 'utf8'));
    const broken = tables
      .filter((t) => t.cells.some((n) => n !== t.cells[0]))
      .map((t) => `table at line ${t.line}: cells per row ${t.cells.join(', ')}`);
    expect(broken).toEqual([]);
  });

  it('checks the three READMEs people read first, and they have tables', async () => {
    expect(READMES).toEqual(
      expect.arrayContaining(['README.md', 'app/README.md', 'model-service/README.md']),
    );
    for (const file of ['README.md', 'model-service/README.md']) {
      const tables = await tableShapes(readFileSync(path.join(ROOT, file), 'utf8'));
      expect(tables.length).toBeGreaterThanOrEqual(2);
    }
  });
});
