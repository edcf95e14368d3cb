/**
 * What prometheus-operator makes of an AlertmanagerConfig (monitoring.coreos.com/v1alpha1): the
 * equivalent Alertmanager configuration (alertmanager.yml, snake_case keys), so that `amtool
 * check-config` and `amtool config routes test` can check the chart's routing without a cluster.
 *
 * Mirrors prometheus-operator `pkg/alertmanager/amcfg.go` (`AddAlertmanagerConfigs`, `convertRoute`,
 * `convertReceiver`, `convertEmailConfig`, `convertInhibitRule`, `convertMatchersV2`, the default
 * `OnNamespace` matcher strategy for Alertmanager ≥ 0.22):
 * - receiver names become `<namespace>/<name>/<receiver>`;
 * - the object's route is placed under a root route whose receiver is `"null"`, with the matcher
 *   `namespace="<namespace>"` added and `continue: true`;
 * - every inhibit rule gets `namespace="<namespace>"` added to its source and target matchers;
 * - matchers are written as strings `name<op>"value"` (value escaped as in OpenMetrics).
 * One deliberate difference: the operator copies a Secret's value into the configuration
 * (`auth_password`); here the e-mail password becomes `auth_password_file` pointing at a file the caller
 * provides, so no secret ends up in a generated file. Only what the chart uses is supported (e-mail
 * receivers, routes, inhibit rules); anything else is rejected with an error naming it.
 */
import type { IAlertmanagerConfigSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfigSpec';
import type { IEmailConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/EmailConfig';
import type { IMatcher } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Matcher';
import type { IReceiver } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Receiver';
import type { IRoute } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Route';
import type { K8sObject } from '../helm/render.js';

/** A route of alertmanager.yml. */
export interface AlertmanagerRoute {
  receiver: string;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  /** Matchers as strings, e.g. `severity="critical"`. */
  matchers?: string[];
  routes?: AlertmanagerRoute[];
}

/** An `email_configs` entry of alertmanager.yml. */
export interface AlertmanagerEmailConfig {
  send_resolved?: boolean;
  to?: string;
  from?: string;
  hello?: string;
  smarthost?: string;
  auth_username?: string;
  /** File holding the SMTP password (read by Alertmanager at send time). */
  auth_password_file?: string;
  auth_identity?: string;
  headers?: Record<string, string>;
  html?: string;
  text?: string;
  require_tls?: boolean;
}

/** A receiver of alertmanager.yml. */
export interface AlertmanagerReceiver {
  name: string;
  email_configs?: AlertmanagerEmailConfig[];
}

/** An inhibit rule of alertmanager.yml. */
export interface AlertmanagerInhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal?: string[];
}

/** The alertmanager.yml made from one AlertmanagerConfig (no `global` section). */
export interface AlertmanagerConfigFile {
  route: AlertmanagerRoute;
  receivers: AlertmanagerReceiver[];
  inhibit_rules?: AlertmanagerInhibitRule[];
  templates: string[];
}

/** A reference to one key of a Kubernetes Secret in the object's namespace. */
export interface SecretKeyReference {
  namespace: string;
  name: string;
  key: string;
}

/** How to convert. */
export interface ConvertOptions {
  /**
   * Path of a file that holds the value of the Secret key (the caller writes it, e.g. a test's
   * placeholder password, or a mounted Secret's path).
   */
  secretFile(reference: SecretKeyReference): string;
}

/** The name of the root route's receiver that prometheus-operator's default configuration has. */
export const NULL_RECEIVER = 'null';

/** OpenMetrics label-value escaping (backslash, double quote, newline), as the operator's Matcher.String. */
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * A matcher as Alertmanager's string form, e.g. `{name: severity, value: critical}` → `severity="critical"`.
 * Without `matchType`, `regex: true` means `=~` and otherwise `=` (the operator's conversion of the old
 * form).
 * @throws Error for a match type other than `=`, `!=`, `=~`, `!~`.
 */
export function matcherString(matcher: IMatcher): string {
  const type = matcher.matchType ?? (matcher.regex ? '=~' : '=');
  if (!['=', '!=', '=~', '!~'].includes(type)) {
    throw new Error(`matcher ${matcher.name}: unknown matchType ${JSON.stringify(type)}`);
  }
  return `${matcher.name}${type}"${escapeValue(matcher.value ?? '')}"`;
}

function prefixed(name: string, namespace: string, objectName: string): string {
  return `${namespace}/${objectName}/${name}`;
}

function convertRoute(
  route: IRoute,
  namespace: string,
  objectName: string,
  where: string,
): AlertmanagerRoute {
  if (!route.receiver) throw new Error(`${where}: a route needs a receiver`);
  for (const field of ['muteTimeIntervals', 'activeTimeIntervals'] as const) {
    if (route[field]?.length) throw new Error(`${where}: ${field} is not supported by this converter`);
  }
  const out: AlertmanagerRoute = { receiver: prefixed(route.receiver, namespace, objectName) };
  if (route.groupBy) out.group_by = [...route.groupBy];
  if (route.groupWait) out.group_wait = route.groupWait;
  if (route.groupInterval) out.group_interval = route.groupInterval;
  if (route.repeatInterval) out.repeat_interval = route.repeatInterval;
  if (route.continue) out.continue = true;
  if (route.matchers?.length) out.matchers = route.matchers.map(matcherString);
  if (route.routes?.length) {
    out.routes = route.routes.map((child, index) =>
      convertRoute(child as unknown as IRoute, namespace, objectName, `${where}.routes[${index}]`),
    );
  }
  return out;
}

function convertEmail(
  email: IEmailConfig,
  namespace: string,
  where: string,
  options: ConvertOptions,
): AlertmanagerEmailConfig {
  for (const field of ['authSecret', 'tlsConfig', 'threading', 'forceImplicitTLS'] as const) {
    if (email[field] !== undefined) throw new Error(`${where}: ${field} is not supported by this converter`);
  }
  if (!email.smarthost) throw new Error(`${where}: smarthost is required (there is no global SMTP config)`);
  if (!email.from) throw new Error(`${where}: from is required (there is no global SMTP config)`);
  const out: AlertmanagerEmailConfig = {};
  if (email.sendResolved !== undefined) out.send_resolved = email.sendResolved;
  if (email.to) out.to = email.to;
  out.from = email.from;
  if (email.hello) out.hello = email.hello;
  out.smarthost = email.smarthost;
  if (email.authUsername) out.auth_username = email.authUsername;
  if (email.authPassword) {
    const { name, key } = email.authPassword;
    if (!name || !key) throw new Error(`${where}: authPassword needs a Secret name and key`);
    out.auth_password_file = options.secretFile({ namespace, name, key });
  }
  if (email.authIdentity) out.auth_identity = email.authIdentity;
  if (email.headers?.length) {
    out.headers = Object.fromEntries(email.headers.map((header) => [header.key, header.value]));
  }
  if (email.html) out.html = email.html;
  if (email.text) out.text = email.text;
  if (email.requireTLS !== undefined) out.require_tls = email.requireTLS;
  return out;
}

function convertReceiver(
  receiver: IReceiver,
  namespace: string,
  objectName: string,
  options: ConvertOptions,
): AlertmanagerReceiver {
  const where = `receiver ${receiver.name}`;
  const others = Object.entries(receiver).filter(
    ([field, value]) => field !== 'name' && field !== 'emailConfigs' && value !== undefined,
  );
  if (others.length > 0) {
    throw new Error(`${where}: ${others.map(([field]) => field).join(', ')} not supported by this converter`);
  }
  const out: AlertmanagerReceiver = { name: prefixed(receiver.name, namespace, objectName) };
  if (receiver.emailConfigs?.length) {
    out.email_configs = receiver.emailConfigs.map((email, index) =>
      convertEmail(email, namespace, `${where} emailConfigs[${index}]`, options),
    );
  }
  return out;
}

/** Receiver names used by a route and its children. */
function usedReceivers(route: AlertmanagerRoute): string[] {
  return [route.receiver, ...(route.routes ?? []).flatMap(usedReceivers)];
}

/**
 * The alertmanager.yml prometheus-operator would build from `object` on its own (no other
 * AlertmanagerConfig, the default base configuration with its `"null"` receiver); see the module doc.
 * @param object a rendered AlertmanagerConfig with `metadata.namespace` set.
 * @throws Error when `object` is not an AlertmanagerConfig, has no namespace or route, a route names a
 *   receiver that is not defined, or it uses a field this converter does not support.
 */
export function alertmanagerConfigFile(object: K8sObject, options: ConvertOptions): AlertmanagerConfigFile {
  if (object.kind !== 'AlertmanagerConfig' || object.apiVersion !== 'monitoring.coreos.com/v1alpha1') {
    throw new Error(
      `${object.apiVersion} ${object.kind}/${object.metadata.name} is not a v1alpha1 AlertmanagerConfig`,
    );
  }
  const namespace = object.metadata.namespace;
  if (!namespace) throw new Error(`AlertmanagerConfig/${object.metadata.name} has no metadata.namespace`);
  const name = object.metadata.name;
  const spec = object.spec as IAlertmanagerConfigSpec;
  if (!spec.route) throw new Error(`AlertmanagerConfig/${name} has no spec.route`);
  if (spec.muteTimeIntervals?.length)
    throw new Error(`AlertmanagerConfig/${name}: muteTimeIntervals not supported`);

  const namespaceMatcher = matcherString({ name: 'namespace', value: namespace, matchType: '=' });
  const route = convertRoute(spec.route, namespace, name, `AlertmanagerConfig/${name} spec.route`);
  route.matchers = [...(route.matchers ?? []), namespaceMatcher];
  route.continue = true;

  const receivers = (spec.receivers ?? []).map((receiver) =>
    convertReceiver(receiver, namespace, name, options),
  );
  const defined = new Set(receivers.map((receiver) => receiver.name));
  for (const used of usedReceivers(route)) {
    if (!defined.has(used))
      throw new Error(`AlertmanagerConfig/${name}: route receiver ${used} is not defined`);
  }

  const file: AlertmanagerConfigFile = {
    route: { receiver: NULL_RECEIVER, routes: [route] },
    receivers: [{ name: NULL_RECEIVER }, ...receivers],
    templates: [],
  };
  if (spec.inhibitRules?.length) {
    file.inhibit_rules = spec.inhibitRules.map((rule) => {
      const withNamespace = (matchers: IMatcher[] | undefined): string[] => {
        const converted = (matchers ?? []).map(matcherString);
        return converted.includes(namespaceMatcher) ? converted : [...converted, namespaceMatcher];
      };
      const out: AlertmanagerInhibitRule = {
        source_matchers: withNamespace(rule.sourceMatch),
        target_matchers: withNamespace(rule.targetMatch),
      };
      if (rule.equal?.length) out.equal = [...rule.equal];
      return out;
    });
  }
  return file;
}
