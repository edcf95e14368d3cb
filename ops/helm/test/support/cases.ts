/**
 * The values cases the chart is rendered with in the tests: the defaults and every edge-case values file in
 * ops/helm/test/values/ (the invalid ones live in values/bad/ and are tested by schema.test.ts).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { OPS_HELM_DIR } from '../../src/helm/binary.js';

/** Folder of the edge-case values files. */
export const VALUES_DIR = path.join(OPS_HELM_DIR, 'test', 'values');

/** Folder of the values files the chart must reject. */
export const BAD_VALUES_DIR = path.join(VALUES_DIR, 'bad');

/** One way of rendering the chart: a name for test titles and the values files applied after values.yaml. */
export interface ValuesCase {
  name: string;
  valuesFiles: string[];
}

/** `name.yaml` files of a folder, sorted. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort();
}

/** The defaults (`default`) and every edge case, named by file without `.yaml`. */
export const GOOD_CASES: ValuesCase[] = [
  { name: 'default', valuesFiles: [] },
  ...yamlFiles(VALUES_DIR).map((file) => ({
    name: file.replace(/\.yaml$/, ''),
    valuesFiles: [path.join(VALUES_DIR, file)],
  })),
];
