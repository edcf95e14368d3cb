/**
 * What `npm start` prints while it works: one line per step, "Label … outcome", e.g.
 * `Training the model (no release in releases/) … done in 18 s: held-out accuracy 0.888`.
 */
import path from 'node:path';

/**
 * A duration for people: one decimal below 10 s ("0.4 s", "9.8 s"), whole seconds above ("18 s").
 * @param ms milliseconds (≥ 0).
 */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  return seconds < 9.95 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

/**
 * A folder as `npm start` shows it, with a trailing slash: relative to `root` when inside it
 * ("releases/"), absolute otherwise ("/tmp/registry/").
 */
export function displayDir(root: string, dir: string): string {
  const shown = displayFile(root, dir);
  return shown.endsWith('/') ? shown : `${shown}/`;
}

/** A file as `npm start` shows it: relative to `root` when inside it, absolute otherwise. */
export function displayFile(root: string, file: string): string {
  const relative = path.relative(root, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * The app's URL for a browser: loopback or any-interface addresses ("127.0.0.1", "0.0.0.0", "[::]")
 * become "localhost"; e.g. "http://0.0.0.0:8080/" → "http://localhost:8080".
 */
export function browserUrl(listening: string): string {
  const url = new URL(listening);
  if (['127.0.0.1', '0.0.0.0', '[::]', '[::1]'].includes(url.hostname)) url.hostname = 'localhost';
  return url.origin;
}

/** One step being shown; end it with exactly one of done/fail. */
export interface Step {
  /** Ends the line with `outcome` ("done in 2.1 s", "ready (model-v1.0.0)"). */
  done(outcome: string): void;
  /** Ends the line with `outcome` ("failed (exit code 1)") and prints `details` indented below it. */
  fail(outcome: string, details?: readonly string[]): void;
  /** Milliseconds since the step began. */
  elapsedMs(): number;
}

/**
 * Prints steps to `out`. Inline (the default), a step prints "Label … " at once and its outcome when it
 * ends, on the same line. When other output shares the terminal (`npm start -- --logs`), the outcome
 * line repeats the label instead, so log lines in between do not split it.
 */
export class Progress {
  /** True while an inline step's line waits for its outcome. */
  private open = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly inline = true,
  ) {}

  /** Prints a finished line at once (on a new line if a step's line is still open). */
  line(text: string): void {
    this.out.write(`${this.open ? '\n' : ''}${text}\n`);
    this.open = false;
  }

  /** Begins a step labelled `label` (on a new line if another step's line is still open). */
  begin(label: string): Step {
    const started = performance.now();
    this.out.write(`${this.open ? '\n' : ''}${label} …${this.inline ? ' ' : '\n'}`);
    this.open = this.inline;
    let ended = false;
    const end = (outcome: string, details: readonly string[] = []) => {
      if (ended) return;
      ended = true;
      const first = this.inline && this.open ? outcome : `${label} … ${outcome}`;
      this.out.write(`${[first, ...details.map((d) => `    ${d}`)].join('\n')}\n`);
      this.open = false;
    };
    return {
      done: (outcome) => end(outcome),
      fail: (outcome, details) => end(outcome, details),
      elapsedMs: () => performance.now() - started,
    };
  }
}
