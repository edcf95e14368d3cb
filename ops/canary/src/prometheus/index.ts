/** Reading Prometheus: the instant-query client, the PromQL of a look, and readLook. */
export {
  PrometheusClient,
  PrometheusError,
  parsePromValue,
  type PrometheusClientOptions,
  type PrometheusErrorKind,
  type PromSample,
} from './client.js';
export {
  checkLookInput,
  errorsQuery,
  feedbackAgreedQuery,
  feedbackDisagreedQuery,
  latencyQuery,
  lookQueries,
  NON_USER_ROUTES,
  peopleClicksQuery,
  peopleViewsQuery,
  QUANTITIES,
  quoteMeta,
  requestsQuery,
  visitorsQuery,
  windowCount,
  type LookQuery,
  type LookTarget,
  type LookWindow,
  type Quantity,
} from './queries.js';
export { mergeHistograms, readLook, type InstantQuerier } from './look.js';
