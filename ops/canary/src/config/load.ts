/**
 * Loading the configuration: read the YAML file, put the command-line overrides on top, validate with
 * {@link configSchema}. Every problem becomes one {@link ConfigError} line naming the key (and the flag
 * it came from), e.g. `canary.yaml: steps.2: must be above the step before it (50): steps go up`.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type CanaryConfig } from './schema.js';

/** The configuration cannot be used; the message is one line for a person. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A command-line flag that overrides one key of the file. */
export interface ConfigOverride {
  /** Key path in the file, e.g. `['prometheus', 'url']`. */
  path: string[];
  /** The flag's value; numbers and booleans already converted (see {@link flagNumber}). */
  value: unknown;
  /** The flag, for messages, e.g. `--prometheus-url`. */
  flag: string;
}

/** A numeric flag's value as a number, or the string itself when it is not one (zod then names it). */
export function flagNumber(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : text;
}

/** Formats zod's issues as `key.path: message; ...`, naming the flag of overridden keys. */
export function formatIssues(issues: z.core.$ZodIssue[], overrides: ConfigOverride[] = []): string {
  const flagOf = new Map(overrides.map((o) => [o.path.join('.'), o.flag]));
  const lines: string[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${[...base, key].join('.')}: unknown key`);
      continue;
    }
    const key = base.length > 0 ? base.join('.') : '(top level)';
    const flag = flagOf.get(base.join('.'));
    let message = issue.message;
    // zod does not keep the input in issues; a missing key is "expected <type>, received undefined".
    if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined'))
      message = 'is required';
    lines.push(`${key}${flag ? ` (${flag})` : ''}: ${message}`);
  }
  return lines.join('; ');
}

/**
 * Validates an already parsed configuration object with the overrides applied.
 * @param source names the configuration in messages (the file path).
 * @throws ConfigError `<source>: <key>: <problem>; ...`.
 */
export function parseConfig(raw: unknown, source: string, overrides: ConfigOverride[] = []): CanaryConfig {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${source}: must be a YAML mapping of keys (prometheus, kubernetes, ...)`);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const { path, value } of overrides) {
    let node: Record<string, unknown> = merged;
    for (const key of path.slice(0, -1)) {
      const child = node[key];
      if (child === null || typeof child !== 'object' || Array.isArray(child)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(`${source}: ${formatIssues(parsed.error.issues, overrides)}`);
  return parsed.data;
}

/**
 * Reads and validates the configuration file.
 * @param file path of the YAML file.
 * @throws ConfigError when the file cannot be read, is not YAML, or does not validate (one line).
 */
export async function loadConfig(file: string, overrides: ConfigOverride[] = []): Promise<CanaryConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new ConfigError(`cannot read the configuration file ${file}: ${reason}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    throw new ConfigError(`${file}: not valid YAML: ${message}`);
  }
  return parseConfig(raw, file, overrides);
}
