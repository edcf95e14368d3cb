/**
 * Field-name checking of rendered objects, which the kubernetes-models schemas do not do: their compiled
 * ajv validators accept any unknown field (a misspelt `readinesProbe` or a `timeout` at the wrong level
 * passes them, and the API server would drop it silently). Every object is written as an object literal
 * typed with its model's TypeScript interface (models.ts) and type-checked by the TypeScript compiler,
 * whose excess-property check reports a field the interface does not declare at any depth; a value of the
 * wrong type is reported too. Free-form fields (labels, annotations, an EnvoyFilter's `patch.value`) are
 * maps in the interfaces, so their keys are not checked.
 */
import path from 'node:path';
import ts from 'typescript';
import { OPS_HELM_DIR } from '../helm/binary.js';
import { describeObject, modelOf, type TypedObject } from './models.js';

/** The in-memory module the objects are written to (never on disk; it resolves packages from ops/helm). */
const VIRTUAL_FILE = path.join(OPS_HELM_DIR, 'src', 'validation', 'rendered-objects.generated.ts');

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts'],
  types: [],
  strict: true,
  skipLibCheck: true,
  noEmit: true,
};

/** Longest compiler message kept (types of Istio fields print as very long literals). */
const MAX_MESSAGE = 300;

/** Parsed declaration files, shared by every check (parsing them is most of the cost). */
const sourceFiles = new Map<string, ts.SourceFile>();
let previousProgram: ts.Program | undefined;

/** The module text: one `export const o<i>: <interface> = <object>;` per object, and where each starts. */
function moduleText(objects: readonly TypedObject[]): { text: string; starts: number[] } {
  const aliases = new Map<string, string>();
  const lines: string[] = [];
  for (const object of objects) {
    const { typeModule, typeName } = modelOf(object);
    if (!aliases.has(typeModule)) {
      const alias = `T${aliases.size}`;
      aliases.set(typeModule, alias);
      lines.push(`import type { ${typeName} as ${alias} } from '${typeModule}';`);
    }
  }
  let text = `${lines.join('\n')}\n`;
  const starts: number[] = [];
  objects.forEach((object, i) => {
    const prefix = `export const o${i}: ${aliases.get(modelOf(object).typeModule)} = `;
    starts.push(text.length + prefix.length);
    text += `${prefix}${JSON.stringify(object, null, 2)};\n`;
  });
  return { text, starts };
}

function compilerHost(text: string): ts.CompilerHost {
  const host = ts.createCompilerHost(OPTIONS, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (fileName === VIRTUAL_FILE) return ts.createSourceFile(fileName, text, languageVersion, true);
    let file = sourceFiles.get(fileName);
    if (!file) {
      file = getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate);
      if (file) sourceFiles.set(fileName, file);
    }
    return file;
  };
  host.fileExists = (fileName) => fileName === VIRTUAL_FILE || fileExists.call(host, fileName);
  host.readFile = (fileName) => (fileName === VIRTUAL_FILE ? text : readFile.call(host, fileName));
  return host;
}

/** The field path (`spec.template.spec.containers[0].image`) of position `pos` inside `node`. */
function fieldPath(node: ts.Node, pos: number, source: ts.SourceFile): string {
  let path = '';
  let current: ts.Node | undefined = node;
  while (current) {
    const here: ts.Node = current;
    current = undefined;
    if (ts.isObjectLiteralExpression(here)) {
      for (const property of here.properties) {
        if (pos < property.getStart(source) || pos >= property.end || !ts.isPropertyAssignment(property))
          continue;
        const name = ts.isStringLiteral(property.name) ? property.name.text : property.name.getText(source);
        path += path ? `.${name}` : name;
        if (pos >= property.initializer.getStart(source)) current = property.initializer;
      }
    } else if (ts.isArrayLiteralExpression(here)) {
      here.elements.forEach((element, i) => {
        if (pos >= element.getStart(source) && pos < element.end) {
          path += `[${i}]`;
          current = element;
        }
      });
    }
  }
  return path || '(object)';
}

/** The object literal of `export const o<i> = ...`, for each i. */
function objectLiterals(source: ts.SourceFile): ts.Expression[] {
  return source.statements
    .filter(ts.isVariableStatement)
    .map((s) => s.declarationList.declarations[0].initializer!);
}

/**
 * Type-checks every object against its model's TypeScript interface.
 * @param objects rendered objects (each `apiVersion`/`kind` must have a model in models.ts).
 * @returns one message per problem, `"<Kind>/<name> <field path>: <compiler message>"`, e.g.
 *   `Deployment/app-v1 spec.template.spec.containers[0].readinesProbe: Object literal may only specify known
 *   properties, ...` (messages cut at 300 characters); empty when every field is known and well-typed.
 *   The compiler reports the first problem of each object only: fix it and check again.
 * @throws Error from modelOf for an object without a model; Error when the interfaces do not resolve.
 */
export function checkObjectFields(objects: readonly TypedObject[]): string[] {
  if (objects.length === 0) return [];
  const { text, starts } = moduleText(objects);
  const program = ts.createProgram([VIRTUAL_FILE], OPTIONS, compilerHost(text), previousProgram);
  previousProgram = program;
  const source = program.getSourceFile(VIRTUAL_FILE)!;
  const literals = objectLiterals(source);
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((diagnostic) => {
    const full = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    const message = full.length > MAX_MESSAGE ? `${full.slice(0, MAX_MESSAGE)}...` : full;
    const start = diagnostic.start ?? 0;
    let index = -1;
    starts.forEach((s, i) => {
      if (s <= start) index = i;
    });
    if (index < 0) throw new Error(`the model interfaces do not resolve: ${message}`);
    return `${describeObject(objects[index])} ${fieldPath(literals[index], start, source)}: ${message}`;
  });
}
