import { isPlainObject } from './own-property';
import { renderString } from './render-text';
import { lookupVariable, toJsonValue, type Scope } from './scope';
import { renderHeaderValue } from './secret-references';
import { TemplateError } from './template-error';
import { exactTemplatePath } from './template-syntax';

export interface RenderOptions {
  /** A JSON string leaf that is exactly one template takes the value's JSON type (workflow steps: docs/workflows.md). */
  readonly preserveTypes?: boolean;
}

/**
 * Renders the string leaves of a JSON value; keys, numbers, booleans and null are copied as they
 * are. Returns a new value and never mutates the input.
 */
export function renderJson(value: unknown, scope: Scope, opts: RenderOptions = {}): unknown {
  if (typeof value === 'string') {
    if (opts.preserveTypes) {
      const path = exactTemplatePath(value);
      if (path !== undefined) {
        const found = lookupVariable(scope, path);
        if (!found.found) throw new TemplateError(path);
        return toJsonValue(found.value);
      }
    }
    return renderString(value, scope);
  }
  if (Array.isArray(value)) return value.map((item) => renderJson(item, scope, opts));
  if (isPlainObject(value)) {
    // fromEntries defines own properties: a `"__proto__"` key stays a key and never becomes a prototype.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderJson(item, scope, opts)]));
  }
  return value;
}

export interface RenderableRequest {
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * Renders a request where templates are allowed (docs/jobs.md): the URL, header values (never names) and the body
 * (a string body as text, a JSON body's string leaves). Other fields are copied. Header values
 * are guarded (see secret-references.ts): a template may not create or change a `secret://`
 * reference, nor put a line break into a header.
 *
 * URL values are inserted as they are, not percent-encoded (a variable may hold a whole URL); the
 * shell validates the rendered URL before sending, as it does any URL.
 */
export function renderRequest<T extends RenderableRequest>(request: T, scope: Scope, opts: RenderOptions = {}): T {
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name, renderHeaderValue(name, value, scope)]),
  );
  const rendered: T = { ...request, url: renderString(request.url, scope), headers };
  if (typeof request.body === 'string') rendered.body = renderString(request.body, scope);
  else if (request.body !== null && typeof request.body === 'object') rendered.body = renderJson(request.body, scope, opts);
  return rendered;
}
