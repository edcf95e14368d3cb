/**
 * `npm run dashboards -w ops/helm [-- --check] [--dir FOLDER]`: renders the Grafana dashboards from
 * TypeScript into `restaurant-sentiment/files/dashboards/<uid>.json`.
 *
 * - Without arguments: writes each dashboard file that is missing or differs (atomically), deletes
 *   `.json` files that belong to no dashboard, prints what it changed.
 * - `--check`: writes nothing; exits 1 naming every stale, missing and orphaned file; 0 when all are
 *   up to date.
 * - `--dir FOLDER`: another folder than the chart's (for tests).
 * Unknown arguments: usage message and exit 2.
 */
import path from 'node:path';
import {
  checkDashboardFiles,
  DASHBOARDS_DIR,
  describeDashboardCheck,
  writeDashboardFiles,
} from './generate.js';

const USAGE = 'usage: npm run dashboards -w ops/helm -- [--check] [--dir FOLDER]';

class UsageError extends Error {}

function parseArgs(argv: string[]): { check: boolean; dir: string } {
  let check = false;
  let dir = DASHBOARDS_DIR;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--dir' && argv[i + 1] !== undefined) dir = path.resolve(argv[(i += 1)]);
    else throw new UsageError(`unexpected argument "${argv[i]}"; ${USAGE}`);
  }
  return { check, dir };
}

async function main(argv: string[]): Promise<number> {
  const { check, dir } = parseArgs(argv);
  const folder = path.relative(process.cwd(), dir) || '.';
  if (check) {
    const problems = describeDashboardCheck(await checkDashboardFiles(dir), folder);
    for (const line of problems) process.stderr.write(`${line}\n`);
    if (problems.length === 0) process.stdout.write(`${folder}: every dashboard is up to date\n`);
    return problems.length === 0 ? 0 : 1;
  }
  const { written, removed } = await writeDashboardFiles(dir);
  for (const file of written) process.stdout.write(`wrote ${folder}/${file}\n`);
  for (const file of removed) process.stdout.write(`removed ${folder}/${file}\n`);
  if (written.length === 0 && removed.length === 0)
    process.stdout.write(`${folder}: every dashboard is up to date\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`dashboards: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
