import { FORBIDDEN_SEGMENTS, isPlainObject } from './own-property';
import { buildsSecretReference, SECRET_REFERENCE_PROBLEM } from './secret-references';
import type { TemplateProblem } from './template-error';
import { parseTemplate } from './template-syntax';

/**
 * Which variables a definition may use. `exact`: whole paths (`timestamp`); `roots`: a first
 * segment under which anything goes, since the data arrives later (`context`, `trigger`).
 */
export interface AllowedVariables {
  readonly exact?: readonly string[];
  readonly roots?: readonly string[];
}

/** The execution variables every job kind may use (docs/jobs.md). */
export const EXECUTION_VARIABLES: readonly string[] = ['timestamp', 'uuid', 'execution_id'];
export const REQUEST_JOB_VARIABLES: AllowedVariables = { exact: EXECUTION_VARIABLES };
export const WORKFLOW_VARIABLES: AllowedVariables = { exact: EXECUTION_VARIABLES, roots: ['context', 'trigger'] };

/** Deeper JSON than this is refused at create time (and never walked), so a crafted body cannot exhaust the stack. */
export const MAX_TEMPLATE_DEPTH = 64;

/** Every valid variable path used in a string or in the string leaves of a JSON value (keys are not templates); unique, in order of first use. */
export function templateVariables(value: unknown): string[] {
  const paths = new Set<string>();
  forEachString(value, '', 0, (text) => {
    for (const part of parseTemplate(text)) if (part.kind === 'variable') paths.add(part.path);
  }, () => undefined);
  return [...paths];
}

export function isAllowedVariable(path: string, allowed: AllowedVariables): boolean {
  const root = path.split('.', 1)[0];
  return (allowed.exact ?? []).includes(path) || (allowed.roots ?? []).includes(root);
}

/**
 * Create-time validation of every template in a string or JSON value. Each problem names the
 * field path (`request.headers.X-Id`, `request.body.items[0].name`); nothing is rendered.
 */
export function checkTemplates(value: unknown, allowed: AllowedVariables, field: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  forEachString(
    value,
    field,
    0,
    (text, at) => problems.push(...checkString(text, allowed, at)),
    (at) => problems.push({ field: at, message: `is nested too deeply (at most ${MAX_TEMPLATE_DEPTH} levels)` }),
  );
  return problems;
}

/** checkTemplates over the places renderRequest renders: url, header values (never names), body. */
export function checkRequestTemplates(
  request: { readonly url?: unknown; readonly headers?: unknown; readonly body?: unknown },
  allowed: AllowedVariables,
  field: string,
): TemplateProblem[] {
  const problems = checkTemplates(request.url, allowed, `${field}.url`);
  if (isPlainObject(request.headers)) {
    for (const [name, value] of Object.entries(request.headers)) {
      problems.push(...checkTemplates(typeof value === 'string' ? value : undefined, allowed, `${field}.headers.${name}`));
    }
  }
  problems.push(...checkTemplates(request.body, allowed, `${field}.body`));
  return problems;
}

function checkString(text: string, allowed: AllowedVariables, field: string): TemplateProblem[] {
  if (!text.includes('{{')) return [];
  const parts = parseTemplate(text);
  const messages = new Set<string>();
  for (const part of parts) {
    if (part.kind === 'invalid') {
      messages.add(`invalid template "${part.source}": a template holds one variable path (letters, digits, _ and -, joined by dots)`);
    } else if (part.kind === 'variable') {
      const forbidden = part.path.split('.').find((segment) => FORBIDDEN_SEGMENTS.has(segment));
      if (forbidden !== undefined) messages.add(`template variable "${part.path}" uses the reserved name "${forbidden}"`);
      else if (!isAllowedVariable(part.path, allowed)) messages.add(`unknown template variable "${part.path}"; allowed: ${describeAllowed(allowed)}`);
    }
  }
  if (buildsSecretReference(parts)) messages.add(SECRET_REFERENCE_PROBLEM);
  return [...messages].map((message) => ({ field, message }));
}

const describeAllowed = (allowed: AllowedVariables) =>
  [...(allowed.exact ?? []), ...(allowed.roots ?? []).map((root) => `${root}.*`)].join(', ') || 'none';

function forEachString(
  value: unknown,
  field: string,
  depth: number,
  visit: (text: string, field: string) => void,
  tooDeep: (field: string) => void,
): void {
  if (typeof value === 'string') return visit(value, field);
  if (depth >= MAX_TEMPLATE_DEPTH && (Array.isArray(value) || isPlainObject(value))) return tooDeep(field);
  if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, `${field}[${i}]`, depth + 1, visit, tooDeep));
  else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) forEachString(item, field ? `${field}.${key}` : key, depth + 1, visit, tooDeep);
  }
}
