/**
 * Errors of the VirtualService writer. Every message is one line that says what happened and whether
 * anything was written: the write is one JSON patch, so it either applied whole or not at all.
 */

/** Any failure talking to the Kubernetes API about the VirtualService. */
export class KubernetesError extends Error {
  override name = 'KubernetesError';
  constructor(
    message: string,
    /** HTTP status when the API answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Someone changed the VirtualService between our read and our write; nothing of ours was written. */
export class ConflictError extends KubernetesError {
  override name = 'ConflictError';
  constructor(
    readonly readVersion: string,
    /** resourceVersion found after the failed write ("unknown" when it could not be read again). */
    readonly currentVersion: string,
    status?: number,
  ) {
    super(
      `the VirtualService changed since it was read (resourceVersion ${readVersion} → ${currentVersion}); nothing was written`,
      status,
    );
  }
}

/** The credentials may not do this (HTTP 403): RBAC must grant the verb on the resource. */
export class ForbiddenError extends KubernetesError {
  override name = 'ForbiddenError';
  constructor(
    readonly verb: 'get' | 'patch',
    namespace: string,
    name: string,
    apiMessage: string,
  ) {
    super(
      `forbidden to ${verb} virtualservices.networking.istio.io "${name}" in namespace "${namespace}": grant the controller's account the verb "${verb}" on virtualservices (API group networking.istio.io) in that namespace (the API said: ${apiMessage})`,
      403,
    );
  }
}

/** The VirtualService (or the VirtualService kind) does not exist (HTTP 404). */
export class NotFoundError extends KubernetesError {
  override name = 'NotFoundError';
  constructor(namespace: string, name: string, apiMessage: string) {
    super(
      `VirtualService "${name}" not found in namespace "${namespace}" (is the chart installed there with istio.gateway.enabled, and Istio's CRDs present? The API said: ${apiMessage})`,
      404,
    );
  }
}

/** The VirtualService exists but is not shaped like the chart's app VirtualService. */
export class VirtualServiceShapeError extends KubernetesError {
  override name = 'VirtualServiceShapeError';
}
