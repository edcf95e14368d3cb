/** app configuration from environment variables (documented in app/README.md). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseEnv,
  serviceConfig,
  serviceEnvShape,
  type ServiceConfig,
} from '@restaurant-sentiment/lib-service';
import { z } from 'zod';
import { COOKIE_NAME_PATTERN } from './http/cookies.js';

/** The app workspace folder (views, public, config live under it). */
export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const schema = z.object({
  ...serviceEnvShape(8080),
  MODEL_SERVICE_URL: z.string().url().default('http://127.0.0.1:5001'),
  MODEL_SERVICE_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  TEAM_FILE: z.string().default(path.join(APP_DIR, 'config', 'team.example.json')),
  EXPERIMENT_VARIANT: z.enum(['control', 'treatment']).default('control'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(60),
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  STICKY_COOKIE_NAME: z
    .string()
    .regex(COOKIE_NAME_PATTERN, "must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)")
    .optional(),
  STICKY_COOKIE_VALUE: z.string().max(63).optional(),
});

/** Parsed configuration. */
export interface AppConfig extends ServiceConfig {
  /** Base URL of model-service. */
  modelServiceUrl: string;
  /** Timeout of each model-service call (ms). */
  modelServiceTimeoutMs: number;
  /** JSON file with the team cards of the People page. */
  teamFile: string;
  /** People-page experiment variant this instance serves. */
  variant: 'control' | 'treatment';
  /** Review submissions (POST /predict) allowed per client IP per minute. */
  rateLimitPerMinute: number;
  /**
   * Number of proxies in front of the app whose X-Forwarded-For entries are trusted for client IPs (0:
   * none). Behind an Istio ingress gateway and a sidecar it is typically 1 or 2; trusting every hop would
   * let clients pick their own IP and get around the rate limit.
   */
  trustProxy: number;
  /**
   * Name of the cookie the mesh sets to the version a browser was assigned (the chart's
   * `routing.sticky.cookieName`); a page view arriving without it is a new visitor (`visitors_total`).
   * Undefined when unset: no visitor is counted.
   */
  stickyCookieName: string | undefined;
  /**
   * The cookie's value for the version this app is (the chart's version name, e.g. `v2`). When set, a page
   * view whose cookie names another version also counts as a new visitor: the mesh had no route for that
   * version (an earlier experiment's, or one rolled back) and assigned this one. Undefined: only a missing
   * cookie counts.
   */
  stickyCookieValue: string | undefined;
}

/**
 * Reads the configuration.
 * @throws ConfigError (lib-service) listing every invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const e = parseEnv(schema, env);
  return {
    ...serviceConfig(e),
    modelServiceUrl: e.MODEL_SERVICE_URL.replace(/\/$/, ''),
    modelServiceTimeoutMs: e.MODEL_SERVICE_TIMEOUT_MS,
    teamFile: path.resolve(e.TEAM_FILE),
    variant: e.EXPERIMENT_VARIANT,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    trustProxy: e.TRUST_PROXY,
    stickyCookieName: e.STICKY_COOKIE_NAME,
    stickyCookieValue: e.STICKY_COOKIE_VALUE === '' ? undefined : e.STICKY_COOKIE_VALUE,
  };
}
