import {
  type AllowedVariables,
  checkTemplates,
  isPlainObject,
  jsonPath,
  JsonPathSyntaxError,
  MAX_TEMPLATE_DEPTH,
  parseJsonPath,
  renderJson,
  type Scope,
  type TemplateProblem,
} from '@trigrun/templating';

/**
 * `response_output_template` (docs/jobs.md): an object whose string leaves are either a JSONPath
 * into the final response body or text with templates. Its rendering is `final_output`.
 *
 * - A leaf is a JSONPath when it is `$` or starts with `$.` or `$[` (so `"$5.00"` is text). It
 *   reads the body parsed as JSON; a missing value — or a body that is not JSON — gives null.
 * - Any other string leaf is rendered with the scope; a leaf that is exactly one template keeps
 *   the value's JSON type, as in workflow bodies.
 * - Keys, numbers, booleans and null are copied; arrays and nested objects are walked.
 */
export const isJsonPathLeaf = (text: string): boolean => text === '$' || text.startsWith('$.') || text.startsWith('$[');

/** Throws TemplateError for a missing variable and JsonPathSyntaxError for a bad path (both caught by normalizeOutputTemplate first). */
export function renderOutputTemplate(template: unknown, responseBody: string, scope: Scope): unknown {
  let body: { value: unknown } | null | undefined;
  return renderOutputTemplateOver(template, () => {
    if (body === undefined) {
      try {
        body = { value: JSON.parse(responseBody) as unknown };
      } catch {
        body = null;
      }
    }
    return body;
  }, scope);
}

/**
 * The same rendering over a body parsed already: `{value}` the parsed JSON, `null` a body that is
 * not JSON. The execution decider renders from a body the shell parsed (and redacted) once.
 */
export function renderOutputTemplateOver(template: unknown, parsedBody: { value: unknown } | null | (() => { value: unknown } | null), scope: Scope): unknown {
  const root = (): { value: unknown } | null => (typeof parsedBody === 'function' ? parsedBody() : parsedBody);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!isJsonPathLeaf(value)) return renderJson(value, scope, { preserveTypes: true });
      const body = root();
      if (body === null) {
        parseJsonPath(value); // a bad path is an error even when the body is not JSON
        return null;
      }
      const found = jsonPath(body.value, value);
      return found.found ? found.value : null;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  return walk(template);
}

/**
 * Create-time validation: an object; every JSONPath leaf parses; every template uses an allowed
 * variable (request jobs: the execution variables). `undefined`/`null` mean "no template".
 */
export function normalizeOutputTemplate(
  input: unknown,
  field: string,
  allowedVariables: readonly string[] | AllowedVariables,
): { value?: unknown; problems: TemplateProblem[] } {
  if (input === undefined || input === null) return { problems: [] };
  if (!isPlainObject(input)) return { problems: [{ field, message: 'must be an object' }] };
  const allowed: AllowedVariables = isAllowedList(allowedVariables) ? { exact: allowedVariables } : allowedVariables;
  const problems: TemplateProblem[] = [];
  const walk = (value: unknown, at: string, depth: number): void => {
    if (typeof value === 'string') {
      if (!isJsonPathLeaf(value)) return void problems.push(...checkTemplates(value, allowed, at));
      try {
        parseJsonPath(value);
      } catch (error) {
        if (!(error instanceof JsonPathSyntaxError)) throw error;
        problems.push({ field: at, message: `is not a valid JSONPath: ${error.reason} at position ${error.position}` });
      }
      return;
    }
    if (!Array.isArray(value) && !isPlainObject(value)) return;
    if (depth >= MAX_TEMPLATE_DEPTH) return void problems.push({ field: at, message: `is nested too deeply (at most ${MAX_TEMPLATE_DEPTH} levels)` });
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${at}[${i}]`, depth + 1));
    else for (const [key, item] of Object.entries(value)) walk(item, `${at}.${key}`, depth + 1);
  };
  walk(input, field, 0);
  return problems.length > 0 ? { problems } : { value: input, problems };
}

const isAllowedList = (value: readonly string[] | AllowedVariables): value is readonly string[] => Array.isArray(value);
