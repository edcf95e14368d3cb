/**
 * The chart values a Helm-only user sets instead of letting the controller patch the VirtualService:
 * `routing.weights` for a weight step or a rollback, and the promotion's second upgrade as
 * docs/deployment.md ("Promote") describes it.
 */
import { Document } from 'yaml';
import { checkCanaryWeight } from './routes.js';

/** The canary block of the chart's values (copied into `stable` on promotion). */
export interface CanaryValues {
  app?: Record<string, unknown>;
  modelService?: Record<string, unknown>;
}

/** What to emit. */
export interface HelmValuesOptions {
  /** Canary percent of new users, integer 0–100 (ignored when promoting). */
  canaryWeight?: number;
  /** Emit the promotion's second upgrade: the canary version becomes stable, the canary is removed. */
  promote?: boolean;
  /** The canary's version name (required to promote). */
  canaryVersion?: string;
  /** The canary block of the user's values (images, experimentVariant, modelVersion), copied into stable. */
  canary?: CanaryValues;
}

/**
 * A values file (YAML text, with comments) for `helm upgrade -f`.
 * - weight step / rollback: `routing.weights: {stable: 100 − w, canary: w}`;
 * - promote: `stable: {version: <canary>, app, modelService}` (the canary block), `canary.enabled:
 *   false`, `routing.weights: {stable: 100, canary: 0}` — to apply only after weights 0/100 are live
 *   (docs/deployment.md, Promote step 1), so Envoy never routes to a subset being removed.
 * @throws RangeError for a weight that is not an integer 0–100, or promote without canaryVersion.
 */
export function helmValues(options: HelmValuesOptions): string {
  if (options.promote) {
    const version = options.canaryVersion;
    if (!version) throw new RangeError('helmValues: promote needs the canary version (canaryVersion)');
    const stable: Record<string, unknown> = { version };
    if (options.canary?.app) stable.app = structuredClone(options.canary.app);
    if (options.canary?.modelService) stable.modelService = structuredClone(options.canary.modelService);
    const doc = new Document({
      stable,
      canary: { enabled: false },
      routing: { weights: { stable: 100, canary: 0 } },
    });
    const copied = options.canary?.app && options.canary?.modelService;
    doc.commentBefore = [
      ` Promotion of ${version}, second upgrade (docs/deployment.md, "Promote"): apply only once`,
      ` routing.weights {stable: 0, canary: 100} is live and every proxy has the routes (istioctl proxy-status).`,
      ` ${version} becomes the stable version; its Deployments keep their names and pods.`,
      ...(copied
        ? []
        : [
            ` Also copy app and modelService of your canary block into stable (images, experimentVariant, modelVersion).`,
          ]),
    ].join('\n');
    return doc.toString();
  }
  const canaryWeight = options.canaryWeight;
  if (canaryWeight === undefined) throw new RangeError('helmValues: give canaryWeight, or promote');
  checkCanaryWeight(canaryWeight);
  const doc = new Document({ routing: { weights: { stable: 100 - canaryWeight, canary: canaryWeight } } });
  doc.commentBefore =
    canaryWeight === 0
      ? ' Roll back: every user back on stable at the next request (docs/deployment.md, "Roll back").'
      : ` Canary at ${canaryWeight}% of new users (docs/deployment.md, "Canary releases by hand").`;
  return doc.toString();
}
