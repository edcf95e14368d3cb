/**
 * The command line of `canary`: its usage text and the flags of each command (node:util parseArgs).
 */
import type { ParseArgsConfig } from 'node:util';

/** The commands. */
export const COMMANDS = ['run', 'analyze', 'plan', 'serve'] as const;
export type Command = (typeof COMMANDS)[number];

/** Printed for --help (stdout) and for a bad command line (stderr, exit 2). */
export const USAGE = `usage: canary <command> -c <config.yaml> [options]

commands:
  run      step the canary weight, judge every interval, promote or roll back
  analyze  one look now: a report for people (terminal or Markdown) or JSON
  plan     data per arm a given effect needs, and how long the current traffic takes
  serve    the judge over HTTP: Flagger webhooks, Argo Rollouts web metric, /metrics

  canary run -c <file> [--dry-run | --helm-values]
  canary analyze -c <file> [--json | --markdown] [--since <ISO time|minutes>] [--weight <percent>]
  canary plan -c <file> [--mde <share>] [--power <0-1>] [--window <minutes>] [--weight <percent>]
  canary serve -c <file> [--port <port>]

  --dry-run        print every patch instead of writing it
  --helm-values    print the Helm values of every weight instead of patching
  --since          counts from this time, or this many minutes ago (default 60)
  --weight         the canary weight of the window, percent (default: read the VirtualService)
  --mde            absolute increase to detect, e.g. 0.01 = 1 percentage point
  --power          chance of detecting it (default: judge.experiment.power)
  --window         minutes of traffic the plan's rates and baselines come from (default 60)

options of every command (override the file):
  -c, --config <file>  --prometheus-url <url>  --namespace <name>  --virtual-service <name>
  --kubeconfig <path>  --stable <version>  --canary <version>  --component app|model-service
  --source service|istio  -h, --help

exit codes: 0 promoted (run) or done; 1 rolled back; 2 bad command line or configuration;
  3 held at a step deadline (onDeadline: hold-and-exit); 4 stopped: someone else changed the
  routes, 403, Kubernetes or Prometheus failure; 130 interrupted
`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes; `path` is the configuration key a flag overrides. */
export const COMMON_FLAGS: Record<string, { path: string[]; numeric?: boolean }> = {
  'prometheus-url': { path: ['prometheus', 'url'] },
  namespace: { path: ['kubernetes', 'namespace'] },
  'virtual-service': { path: ['kubernetes', 'virtualService'] },
  kubeconfig: { path: ['kubernetes', 'kubeconfig'] },
  stable: { path: ['target', 'stableVersion'] },
  canary: { path: ['target', 'canaryVersion'] },
  component: { path: ['target', 'component'] },
  source: { path: ['target', 'source'] },
};

const common: Options = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(Object.keys(COMMON_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
};

/** parseArgs options of each command. */
export const COMMAND_OPTIONS: Record<Command, Options> = {
  run: { ...common, 'dry-run': { type: 'boolean' }, 'helm-values': { type: 'boolean' } },
  analyze: {
    ...common,
    json: { type: 'boolean' },
    markdown: { type: 'boolean' },
    since: { type: 'string' },
    weight: { type: 'string' },
  },
  plan: {
    ...common,
    mde: { type: 'string' },
    power: { type: 'string' },
    window: { type: 'string' },
    weight: { type: 'string' },
  },
  serve: { ...common, port: { type: 'string' } },
};
