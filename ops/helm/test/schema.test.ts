/**
 * values.schema.json and templates/validation.yaml: every invalid values file in test/values/bad/ is
 * rejected by `helm template` with the exact message that names the key and the problem (one test per
 * file), every edge case passes `helm lint --strict`, and the schema itself covers every key of
 * values.yaml with a description and rejects unknown keys at every level.
 *
 * helm 3.17 validates values with gojsonschema (draft-07), whose messages read
 * `- <key path>: <problem>`, e.g. `- routing.weights.stable: Must be less than or equal to 100`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { CHART_DIR, HelmError, lintChart, renderChart } from '../src/helm/render.js';
import { BAD_VALUES_DIR, GOOD_CASES, yamlFiles } from './support/cases.js';

/** The first line of helm's message when values.schema.json rejects the values. */
const SCHEMA_FAILED = "values don't meet the specifications of the schema(s) in the following chart(s):";

/** Each bad values file and the lines helm's stderr must contain. */
const REJECTIONS: Record<string, string[]> = {
  'wrong-type.yaml': [SCHEMA_FAILED, '- app.replicas: Invalid type. Expected: integer, given: string'],
  'unknown-key-top-level.yaml': ['- (root): Additional property replicaCount is not allowed'],
  'unknown-key-nested.yaml': ['- istio.gateway: Additional property hosts is not allowed'],
  'unknown-key-team.yaml': ['- app.team.0: Additional property email is not allowed'],
  'team-missing-field.yaml': ['- app.team.0: profileUrl is required'],
  'required-key-removed.yaml': ['- app: replicas is required'],
  'weight-101.yaml': ['- routing.weights.stable: Must be less than or equal to 100'],
  'weight-negative.yaml': ['- routing.weights.canary: Must be greater than or equal to 0'],
  'weight-fraction.yaml': [
    '- routing.weights.stable: Invalid type. Expected: integer, given: number',
    '- routing.weights.canary: Invalid type. Expected: integer, given: number',
  ],
  'weights-sum-90.yaml': ['routing.weights: stable (80) + canary (10) must add up to 100'],
  'canary-off-with-weight.yaml': [
    'routing.weights: with canary.enabled=false stable must be 100 and canary 0 (got 90/10)',
  ],
  'canary-without-app-image.yaml': [
    '- canary: Must validate "then" as "if" was valid',
    '- canary.app.image.tag: String length must be greater than or equal to 1',
  ],
  'canary-without-model-service-image.yaml': [
    '- canary: Must validate "then" as "if" was valid',
    '- canary.modelService.image.tag: String length must be greater than or equal to 1',
  ],
  'shadow-without-image.yaml': [
    '- shadow: Must validate "then" as "if" was valid',
    '- shadow.modelService.image.tag: String length must be greater than or equal to 1',
  ],
  'version-uppercase.yaml': ["- canary.version: Does not match pattern '^[a-z]([-a-z0-9]*[a-z0-9])?$'"],
  'version-spaces.yaml': ["- stable.version: Does not match pattern '^[a-z]([-a-z0-9]*[a-z0-9])?$'"],
  'version-numeric.yaml': ["- stable.version: Does not match pattern '^[a-z]([-a-z0-9]*[a-z0-9])?$'"],
  'version-too-long.yaml': ['- canary.version: String length must be less than or equal to 40'],
  'same-versions.yaml': [
    'canary.version: "v1" is also stable.version; the two versions need different names',
  ],
  'empty-host.yaml': ['- istio.gateway.host: String length must be greater than or equal to 1'],
  'image-tag-invalid.yaml': [
    "- stable.app.image.tag: Does not match pattern '^([A-Za-z0-9_][A-Za-z0-9_.-]*)?$'",
  ],
  'experiment-variant.yaml': [
    '- canary.app.experimentVariant: canary.app.experimentVariant must be one of the following: "control", "treatment"',
  ],
  'model-source.yaml': [
    '- modelService.modelSource: modelService.modelSource must be one of the following: "local", "github"',
  ],
  'log-level.yaml': [
    '- app.logLevel: app.logLevel must be one of the following: "fatal", "error", "warn", "info", "debug", "trace", "silent"',
  ],
  'interval.yaml': [
    "- monitoring.serviceMonitor.interval: Does not match pattern '^([0-9]+(ms|s|m|h|d|w|y))+$'",
  ],
  'mirror-percentage.yaml': ['- shadow.mirrorPercentage: Must be less than or equal to 100'],
  'github-token-inline.yaml': ['- modelService.githubToken: Invalid type. Expected: object, given: string'],
  'smtp-password-inline.yaml': [
    '- monitoring.alertmanager.email.authPassword: Invalid type. Expected: object, given: string',
  ],
  'smtp-password-missing.yaml': [
    '- monitoring.alertmanager: Must validate "then" as "if" was valid',
    '- monitoring.alertmanager.email.authPassword.secretName: String length must be greater than or equal to 1',
  ],
  'tls-without-credential.yaml': [
    'istio.gateway.tls.credentialName: name the Secret with the certificate when istio.gateway.tls.enabled is true',
  ],
  'github-without-repository.yaml': [
    'modelService.githubRepository: required when modelService.modelSource is github (owner/name)',
  ],
  'idle-timeout.yaml': [
    'istio.connectionPool.idleTimeoutSeconds (65 s) must be below keepAliveTimeoutMs (65000 ms): Envoy would reuse connections Node has closed (istio/istio#13848)',
  ],
  'per-try-timeout.yaml': [
    'modelService.retries.perTryTimeoutMs (2000) must not exceed modelService.requestTimeoutMs (1000)',
  ],
  'access-mode.yaml': [
    '- modelService.feedback.persistence.accessModes.0: modelService.feedback.persistence.accessModes.0 must be one of the following: "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"',
  ],
  'port-privileged.yaml': ['- app.port: Must be greater than or equal to 1024'],
};

/** helm's stderr for values that must be rejected; fails the test when the chart renders. */
async function rejection(valuesFile: string): Promise<string> {
  try {
    await renderChart({ valuesFiles: [valuesFile] });
  } catch (error) {
    expect(error).toBeInstanceOf(HelmError);
    return (error as HelmError).stderr;
  }
  throw new Error(`${path.basename(valuesFile)} rendered, but the chart must reject it`);
}

describe('values the chart rejects', () => {
  it('has a test for every file in test/values/bad/ and a file for every test', () => {
    expect(yamlFiles(BAD_VALUES_DIR)).toEqual(Object.keys(REJECTIONS).sort());
  });

  it.each(Object.entries(REJECTIONS))('%s', async (file, lines) => {
    const stderr = await rejection(path.join(BAD_VALUES_DIR, file));
    for (const line of lines) expect(stderr).toContain(line);
  });
});

describe('helm lint --strict', () => {
  it.each(GOOD_CASES.map((c) => [c.name, c] as const))('passes for %s', async (_name, c) => {
    const output = await lintChart({ valuesFiles: c.valuesFiles });
    expect(output).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(output).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});

/** A schema node with `$ref`s followed and `allOf` members merged (properties and descriptions). */
interface SchemaNode {
  $ref?: string;
  allOf?: SchemaNode[];
  description?: string;
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
}

describe('values.schema.json', () => {
  const load = async () => ({
    schema: JSON.parse(await readFile(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode & {
      definitions: Record<string, SchemaNode>;
    },
    values: parse(await readFile(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>,
  });

  /** The node and every node it refers to (`$ref`, `allOf`), outermost first. */
  function layers(node: SchemaNode, definitions: Record<string, SchemaNode>): SchemaNode[] {
    const target = node.$ref ? definitions[node.$ref.replace('#/definitions/', '')] : undefined;
    if (node.$ref && !target) throw new Error(`unresolved ${node.$ref}`);
    return [
      node,
      ...(target ? layers(target, definitions) : []),
      ...(node.allOf ?? []).flatMap((member) => layers(member, definitions)),
    ];
  }

  it('describes every key of values.yaml and forbids unknown keys in every object that is not a map', async () => {
    const { schema, values } = await load();
    const problems: string[] = [];
    const walk = (value: unknown, node: SchemaNode, at: string) => {
      const all = layers(node, schema.definitions);
      if (at && !all.some((n) => n.description)) problems.push(`${at}: no description`);
      if (Array.isArray(value)) {
        const items = all.find((n) => n.items)?.items;
        if (!items) problems.push(`${at}: array without items schema`);
        else value.forEach((item, i) => walk(item, items, `${at}[${i}]`));
        return;
      }
      if (value === null || typeof value !== 'object') return;
      // A key may be constrained by several layers (e.g. `requiredImage` = `image` + `tag.minLength`).
      const properties: Record<string, SchemaNode> = {};
      for (const layer of all) {
        for (const [key, child] of Object.entries(layer.properties ?? {})) {
          properties[key] = { allOf: [...(properties[key]?.allOf ?? []), child] };
        }
      }
      const isMap = Object.keys(properties).length === 0;
      if (isMap) {
        if (!all.some((n) => typeof n.additionalProperties === 'object')) {
          problems.push(`${at}: a map without a schema for its values`);
        }
        return;
      }
      if (!all.some((n) => n.additionalProperties === false)) {
        problems.push(`${at || '(root)'}: unknown keys allowed`);
      }
      for (const [key, child] of Object.entries(value)) {
        const childNode = properties[key];
        if (!childNode) problems.push(`${at ? `${at}.` : ''}${key}: not in the schema`);
        else walk(child, childNode, at ? `${at}.${key}` : key);
      }
    };
    walk(values, schema, '');
    expect(problems).toEqual([]);
  });
});
