/**
 * Entry point of `canary` (bin/canary.mjs, `npm run canary -- <command>`): runs the command line with
 * the real implementations and exits with its code. SIGINT/SIGTERM stop `run` between looks (exit 130,
 * weights untouched) and stop `serve` (exit 0); a second signal exits at once.
 */
import { runCli } from './cli.js';
import { REAL_DEPENDENCIES } from './wiring.js';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  });
}
process.stdout.on('error', () => {}); // a closed pipe (| head) must not crash the run

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    signal: stop.signal,
  },
  REAL_DEPENDENCIES,
);
process.exitCode = code;
process.exit(code);
