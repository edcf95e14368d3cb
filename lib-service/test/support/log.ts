/** A pino logger whose lines are kept in memory, for asserting on log output. */
import { pino, type Logger } from 'pino';

/** A logger at `level` and the JSON objects it wrote, in order. */
export function memoryLogger(level = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level, base: undefined, timestamp: false },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  return { log, lines };
}
