/**
 * The processes `npm start` runs (pipeline stages, service builds, model-service, the app): their output
 * goes to a log file (and, with `--logs`, to the terminal too), the last lines are kept for error
 * messages, and every one still running can be stopped with a bounded wait.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** "exit code 1" or "killed by SIGKILL". */
export function describeExit({ code, signal }: Exit): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** How many of a log's last lines {@link LogFile.tail} returns by default (what `npm start` prints). */
export const LOG_TAIL_LINES = 15;

/**
 * A log file shared by one or more processes, truncated when opened, with the last `keepLines` lines kept
 * in memory (split on "\n").
 */
export class LogFile {
  private readonly stream: WriteStream;
  private readonly recent: string[] = [];
  /** Keeps a UTF-8 character split across two chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  /**
   * @param file the log file (its folder is created).
   * @param tee where to copy the output as well (the terminal with `--logs`), or null.
   * @param keepLines how many of the last lines {@link tail} returns.
   */
  constructor(
    readonly file: string,
    private readonly tee: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } | null,
    private readonly keepLines = LOG_TAIL_LINES,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'w' });
    this.stream.on('error', () => {}); // a full disk must not stop the services; the tail is kept anyway
  }

  /** Appends a chunk of a process's output. */
  write(chunk: Buffer, from: 'stdout' | 'stderr'): void {
    this.stream.write(chunk);
    this.tee?.[from].write(chunk);
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop()!.slice(-4096);
    this.recent.push(...lines.slice(-this.keepLines));
    this.recent.splice(0, Math.max(0, this.recent.length - this.keepLines));
  }

  /** The last lines written (at most keepLines, the unfinished last line included), blank lines dropped. */
  tail(): string[] {
    return [...this.recent, this.partial].filter((l) => l.trim() !== '').slice(-this.keepLines);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

/** A process started by {@link Supervisor.spawn}. */
export interface Supervised {
  name: string;
  child: ChildProcess;
  /** Resolves once the process has exited and its output is closed (code null: it could not start). */
  exited: Promise<Exit>;
  log: LogFile;
  /** True when it leads its own process group (stopped as a group). */
  ownGroup: boolean;
}

/** Starts the processes of `npm start` and keeps track of those still running; {@link stopAll} ends them. */
export class Supervisor {
  private readonly running = new Set<Supervised>();

  /**
   * Starts `command args` with stdout and stderr going to `log` (and to `onStdout`). With `ownGroup`, the
   * process leads a new process group and is stopped as a group: use it for shell commands, whose shell
   * would otherwise not pass the signal on to the command it runs.
   */
  spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions & { log: LogFile; ownGroup?: boolean; onStdout?: (text: string) => void },
  ): Supervised {
    const { log, ownGroup = false, onStdout, ...spawnOptions } = options;
    const child = spawn(command, args, {
      ...spawnOptions,
      detached: ownGroup,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk, 'stdout');
      onStdout?.(chunk.toString('utf8'));
    });
    child.stderr!.on('data', (chunk: Buffer) => log.write(chunk, 'stderr'));
    const exited = new Promise<Exit>((resolve) => {
      child.once('error', (error) => {
        log.write(Buffer.from(`${name}: cannot start ${command}: ${error.message}\n`), 'stderr');
        resolve({ code: null, signal: null });
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    const supervised: Supervised = { name, child, exited, log, ownGroup };
    this.running.add(supervised);
    void exited.then(() => this.running.delete(supervised));
    return supervised;
  }

  /** Sends `signal` to a process (to its whole group when it leads one); ignores one that is gone. */
  private signal(p: Supervised, signal: NodeJS.Signals): void {
    try {
      if (p.ownGroup && p.child.pid) process.kill(-p.child.pid, signal);
      else p.child.kill(signal);
    } catch {
      // already exited
    }
  }

  /**
   * Stops every running process: SIGTERM, then SIGKILL for those still running after `timeoutMs`.
   * Resolves once all have exited.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    const running = [...this.running];
    for (const p of running) this.signal(p, 'SIGTERM');
    const timer = setTimeout(() => {
      for (const p of running) this.signal(p, 'SIGKILL');
    }, timeoutMs);
    await Promise.all(running.map((p) => p.exited));
    clearTimeout(timer);
  }
}
