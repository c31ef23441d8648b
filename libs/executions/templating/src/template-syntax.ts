/**
 * The template grammar. A template is `{{`, any text without braces, `}}`; the text, trimmed,
 * must be a variable path. There is no escape: `{{ a b }}` is an invalid template, never
 * literal text, so a typo is caught at create time instead of being sent as is. A lone `{{`
 * (nothing closes it) stays literal text.
 *
 *   template := "{{" ws* path ws* "}}"
 *   path     := segment ("." segment)*          at most 256 characters
 *   segment  := [A-Za-z0-9_-]+                  numeric segments index arrays
 */

const TEMPLATE = /\{\{([^{}]*)\}\}/g;
const PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
export const MAX_PATH_LENGTH = 256;

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'variable'; readonly path: string; readonly source: string }
  | { readonly kind: 'invalid'; readonly expression: string; readonly source: string };

export const isVariablePath = (path: string): boolean => path.length <= MAX_PATH_LENGTH && PATH.test(path);

/** Splits text into literal text and templates, in order; adjacent text is never split. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of text.matchAll(TEMPLATE)) {
    const start = match.index!;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    const expression = match[1].trim();
    parts.push(
      isVariablePath(expression)
        ? { kind: 'variable', path: expression, source: match[0] }
        : { kind: 'invalid', expression, source: match[0] },
    );
    last = start + match[0].length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

export const hasTemplate = (text: string): boolean => text.includes('{{') && parseTemplate(text).some((p) => p.kind !== 'text');

/** The path when the whole string is exactly one valid template (no text around it), else undefined. */
export function exactTemplatePath(text: string): string | undefined {
  if (!text.startsWith('{{') || !text.endsWith('}}')) return undefined;
  const parts = parseTemplate(text);
  return parts.length === 1 && parts[0].kind === 'variable' ? parts[0].path : undefined;
}
