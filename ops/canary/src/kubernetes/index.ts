/** Writing the Istio VirtualService: reading its routes, planning a weight, one guarded patch, Helm values. */
export {
  ConflictError,
  ForbiddenError,
  KubernetesError,
  NotFoundError,
  VirtualServiceShapeError,
} from './errors.js';
export { helmValues, type CanaryValues, type HelmValuesOptions } from './helm-values.js';
export {
  checkCanaryWeight,
  planWeight,
  readVirtualServiceState,
  WEIGHTED_ROUTE,
  type HttpRoute,
  type RouteDestination,
  type VirtualServiceState,
  type Weights,
} from './routes.js';
export {
  loadClientNode,
  loadDefaultKubeConfig,
  VIRTUAL_SERVICE,
  VirtualServiceRoutes,
  type JsonPatchOperation,
  type RetryEvent,
  type VirtualServiceRoutesOptions,
  type WeightChange,
} from './virtual-service.js';
