/**
 * The `canary` configuration file (YAML), validated with zod. Every object is strict: a misspelt key is
 * an error naming it, never silently ignored. `canary.example.yaml` shows every key.
 */
import { z } from 'zod';
import type { JudgeConfig } from '../judge/types.js';

/** A Kubernetes object name or namespace (RFC 1123 label). */
const kubernetesName = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and "-" (an RFC 1123 name)');

/**
 * A version name as the chart uses it (pod label, subset, cookie value). Restricted so it can go into a
 * PromQL label matcher as is.
 */
export const versionName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9._-]{0,62}$/,
    'must start with a letter and hold only letters, digits, ".", "_" or "-" (at most 63 characters)',
  );

/** An http(s) URL. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** A probability strictly between 0 and 1. */
const probability = () => z.number().gt(0, 'must be above 0').lt(1, 'must be below 1');
/** A non-negative whole number. */
const count = () => z.int().min(0, 'must be 0 or more');

/** Overrides of the judge's settings; anything left out keeps the default (DEFAULT_JUDGE_CONFIG). */
export const judgeOverridesSchema = z.strictObject({
  alpha: z.number().gt(0, 'must be above 0').max(0.5, 'must be at most 0.5').optional(),
  srmAlpha: probability().optional(),
  errorRate: z.strictObject({ margin: probability().optional(), minRequests: count().optional() }).optional(),
  latency: z
    .strictObject({
      sloSeconds: z.number().positive('must be above 0').optional(),
      margin: probability().optional(),
      minRequests: count().optional(),
      rankTest: z.boolean().optional(),
    })
    .optional(),
  agreement: z
    .strictObject({
      enabled: z.boolean().optional(),
      margin: probability().optional(),
      minFeedback: count().optional(),
    })
    .optional(),
  passRequires: z
    .array(z.enum(['error_rate', 'latency_slo', 'latency_rank', 'agreement']))
    .min(1, 'must name at least one guardrail')
    .optional(),
  experiment: z
    .strictObject({
      alpha: probability().optional(),
      power: probability().optional(),
      minimumDetectableEffect: probability().optional(),
    })
    .optional(),
});
export type JudgeOverrides = z.infer<typeof judgeOverridesSchema>;

/** Steps: whole percents, strictly ascending, 1–100, the last 100, at least one below 100. */
const steps = z
  .array(z.int().min(1, 'must be at least 1').max(100, 'must be at most 100'))
  .min(2, 'needs at least one weight below 100 and then 100')
  .superRefine((weights, ctx) => {
    for (let i = 1; i < weights.length; i++) {
      if (weights[i] <= weights[i - 1]) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `must be above the step before it (${weights[i - 1]}): steps go up`,
        });
      }
    }
    if (weights[weights.length - 1] !== 100) {
      ctx.addIssue({ code: 'custom', message: 'the last step must be 100 (the promotion)' });
    }
  });

export const configSchema = z
  .strictObject({
    prometheus: z.strictObject({
      /** Base URL of the Prometheus HTTP API, e.g. http://prometheus-operated.monitoring:9090. */
      url: httpUrl,
      /** Longest wait for one query (ms). */
      timeoutMs: z
        .int()
        .min(100, 'must be at least 100 (ms)')
        .max(300_000, 'must be at most 300000 (ms)')
        .default(10_000),
    }),
    kubernetes: z
      .strictObject({
        /** Namespace of the release: the VirtualService's, and the Prometheus `namespace` label. */
        namespace: kubernetesName,
        /** The chart's app VirtualService. */
        virtualService: kubernetesName.default('app'),
        /** Path of a kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or in-cluster. */
        kubeconfig: z.string().min(1, 'must not be empty').optional(),
        /** Use the pod's service account (running inside the cluster). */
        inCluster: z.boolean().default(false),
      })
      .refine((k) => !(k.inCluster && k.kubeconfig), {
        message: 'set either kubeconfig or inCluster: true, not both',
        path: ['inCluster'],
      }),
    target: z
      .strictObject({
        /** Default: the stable subset of the VirtualService's weighted route. */
        stableVersion: versionName.optional(),
        /** Default: the canary subset of the VirtualService's weighted route. */
        canaryVersion: versionName.optional(),
        component: z.enum(['app', 'model-service']).default('app'),
        source: z.enum(['service', 'istio']).default('service'),
      })
      .prefault({}),
    steps: steps.default([10, 25, 50, 100]),
    /** Seconds between looks. */
    interval: z.number().min(1, 'must be at least 1 (second)').default(60),
    /** Longest wait for PASS at one step (seconds). */
    stepDeadline: z.number().positive('must be above 0 (seconds)').default(1800),
    /** What happens when a step's deadline passes without PASS or FAIL. */
    onDeadline: z.enum(['rollback', 'hold-and-exit']).default('rollback'),
    judge: judgeOverridesSchema.prefault({}),
    grafana: z
      .strictObject({
        url: httpUrl,
        /** Name of the environment variable holding the API token (never the token itself). */
        tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
        dashboardUid: z.string().min(1, 'must not be empty').optional(),
      })
      .optional(),
    metrics: z
      .strictObject({
        /** TCP port of /metrics (and of `canary serve`); 0 picks a free one. */
        port: z.int().min(0, 'must be 0–65535').max(65535, 'must be 0–65535').default(9464),
        host: z.string().min(1, 'must not be empty').default('0.0.0.0'),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.stepDeadline < config.interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['stepDeadline'],
        message: `must be at least interval (${config.interval} s): a step needs one look`,
      });
    }
    const { stableVersion, canaryVersion } = config.target;
    if (stableVersion !== undefined && stableVersion === canaryVersion) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'canaryVersion'],
        message: 'must differ from stableVersion',
      });
    }
  });

/** A validated configuration. */
export type CanaryConfig = z.infer<typeof configSchema>;

/**
 * The judge's settings: `defaults` with the configured overrides on top (deep merge, one level of
 * nested objects as in {@link JudgeConfig}).
 */
export function resolveJudgeConfig(defaults: JudgeConfig, overrides: JudgeOverrides): JudgeConfig {
  return {
    alpha: overrides.alpha ?? defaults.alpha,
    srmAlpha: overrides.srmAlpha ?? defaults.srmAlpha,
    errorRate: { ...defaults.errorRate, ...defined(overrides.errorRate) },
    latency: { ...defaults.latency, ...defined(overrides.latency) },
    agreement: { ...defaults.agreement, ...defined(overrides.agreement) },
    passRequires: overrides.passRequires ?? [...defaults.passRequires],
    experiment: { ...defaults.experiment, ...defined(overrides.experiment) },
  };
}

/** `object` without its undefined values (so they do not overwrite defaults when spread). */
function defined<T extends object>(object: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(object ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
