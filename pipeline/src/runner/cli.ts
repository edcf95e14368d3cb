/**
 * `npm run pipeline [-- STAGE ...]`: runs the stages of dvc.yaml in dependency order (all of them, or the
 * named ones), for machines without DVC. `--list` prints the stages in run order.
 */
import { PipelineError } from '../errors.js';
import { loadPipeline, runPipeline } from './dvc.js';

const USAGE = 'usage: npm run pipeline [-- [--list] [STAGE ...]]';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = process.cwd();
  if (argv.includes('--list')) {
    for (const s of await loadPipeline(root)) process.stdout.write(`${s.name}: ${s.cmd.join(' && ')}\n`);
    return 0;
  }
  const flags = argv.filter((a) => a.startsWith('-'));
  if (flags.length) throw new PipelineError(`unknown option ${flags.join(' ')}\n${USAGE}`);
  const started = performance.now();
  const ran = await runPipeline(root, argv, (stage) => process.stderr.write(`\n==> stage ${stage.name}\n`));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`\npipeline: ran ${ran.map((s) => s.name).join(', ')} in ${seconds} s\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`pipeline: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
