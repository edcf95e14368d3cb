/**
 * Schema validation of rendered Kubernetes objects with kubernetes-models (core and apps APIs),
 * @kubernetes-models/istio and @kubernetes-models/prometheus-operator: each `apiVersion`/`kind` the chart
 * may render maps to the model class that validates it (ajv, compiled from the API's OpenAPI schema or the
 * CRD's) and to the TypeScript interface {@link findUnknownFields} (fields.ts) checks field names against.
 * An object of any other `apiVersion`/`kind` is an error, never skipped: add its model here.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import { Gateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import { EnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';

/** A kubernetes-models class: built from an object, `validate()` throws the ajv errors. */
interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: never): { validate(): void };
}

/** How one `apiVersion`/`kind` is validated. */
export interface ObjectModel {
  /** The model class whose `validate()` checks the object against its schema. */
  model: ModelClass;
  /** Module that declares {@link typeName} (an import specifier resolvable from ops/helm). */
  typeModule: string;
  /** The TypeScript interface of the object, e.g. `IDeployment`. */
  typeName: string;
}

function entry(model: ModelClass, typeModule: string): [string, ObjectModel] {
  return [`${model.apiVersion}/${model.kind}`, { model, typeModule, typeName: `I${model.kind}` }];
}

/** Every `apiVersion/kind` the chart may render (key `<apiVersion>/<kind>`, e.g. `apps/v1/Deployment`). */
export const OBJECT_MODELS: ReadonlyMap<string, ObjectModel> = new Map([
  entry(ConfigMap, 'kubernetes-models/v1/ConfigMap'),
  entry(PersistentVolumeClaim, 'kubernetes-models/v1/PersistentVolumeClaim'),
  entry(Service, 'kubernetes-models/v1/Service'),
  entry(ServiceAccount, 'kubernetes-models/v1/ServiceAccount'),
  entry(Deployment, 'kubernetes-models/apps/v1/Deployment'),
  entry(HorizontalPodAutoscaler, 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'),
  entry(NetworkPolicy, 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'),
  entry(PodDisruptionBudget, 'kubernetes-models/policy/v1/PodDisruptionBudget'),
  entry(DestinationRule, '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule'),
  entry(Gateway, '@kubernetes-models/istio/networking.istio.io/v1/Gateway'),
  entry(VirtualService, '@kubernetes-models/istio/networking.istio.io/v1/VirtualService'),
  entry(EnvoyFilter, '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter'),
  entry(AuthorizationPolicy, '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy'),
  entry(PeerAuthentication, '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication'),
  entry(PrometheusRule, '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'),
  entry(ServiceMonitor, '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'),
  entry(
    AlertmanagerConfig,
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig',
  ),
]);

/** The minimal shape of a rendered object. */
export interface TypedObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown };
}

/** `Kind/name` of an object, for messages. */
export function describeObject(object: TypedObject): string {
  return `${String(object.kind)}/${String(object.metadata?.name)}`;
}

/**
 * The model of an object's `apiVersion`/`kind`.
 * @throws Error naming the object when its `apiVersion`/`kind` has no model in {@link OBJECT_MODELS}.
 */
export function modelOf(object: TypedObject): ObjectModel {
  const model = OBJECT_MODELS.get(`${String(object.apiVersion)}/${String(object.kind)}`);
  if (!model) {
    throw new Error(
      `${describeObject(object)}: no schema for apiVersion ${String(object.apiVersion)} kind ${String(object.kind)} (add its model to ops/helm/src/validation/models.ts)`,
    );
  }
  return model;
}

/**
 * Validates one rendered object against the schema of its `apiVersion`/`kind`. The schemas check types,
 * enums, formats and required fields; they accept unknown fields (see fields.ts for those).
 * @throws Error `"<Kind>/<name>: <path> <problem>; ..."` listing every schema error (paths like
 *   `/spec/replicas`), or {@link modelOf}'s error for an unknown `apiVersion`/`kind`.
 */
export function validateObject(object: TypedObject): void {
  const { model } = modelOf(object);
  try {
    new model(object as never).validate();
  } catch (error) {
    const errors = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    const detail = errors
      ? errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ')
      : (error as Error).message;
    throw new Error(`${describeObject(object)}: ${detail}`);
  }
}
