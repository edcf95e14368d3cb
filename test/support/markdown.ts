/**
 * Markdown as GitHub reads it, for tests of the READMEs: Prettier's markdown parser (remark with GFM
 * tables), which splits table cells as GitHub does.
 */
import * as markdown from 'prettier/plugins/markdown';

/** A node of the markdown syntax tree (mdast), as far as the tests need it. */
export interface MdNode {
  type: string;
  /** Text of `code` and `inlineCode` nodes. */
  value?: string;
  /** Info string of a fenced code block ("sh"), null when there is none. */
  lang?: string | null;
  children?: MdNode[];
  position?: { start: { line: number } };
}

/** Every node of `text`'s syntax tree, in document order. */
export async function markdownNodes(text: string): Promise<MdNode[]> {
  const tree = (await markdown.parsers.markdown.parse(text, {} as never)) as MdNode;
  const nodes: MdNode[] = [];
  const walk = (node: MdNode) => {
    nodes.push(node);
    node.children?.forEach(walk);
  };
  walk(tree);
  return nodes;
}

/** Every table in `text`: its first line and the number of cells of each row, header first. */
export async function tableShapes(text: string): Promise<Array<{ line: number; cells: number[] }>> {
  return (await markdownNodes(text))
    .filter((node) => node.type === 'table')
    .map((table) => ({
      line: table.position!.start.line,
      cells: table.children!.map((row) => row.children!.length),
    }));
}
