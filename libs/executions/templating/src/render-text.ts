import { lookupVariable, toText, type Scope } from './scope';
import { TemplateError } from './template-error';
import { parseTemplate } from './template-syntax';

/** Renders every template in the text. Throws TemplateError on the first missing variable or invalid template. */
export function renderString(text: string, scope: Scope): string {
  if (!text.includes('{{')) return text;
  return renderParts(text, scope).map((p) => p.text).join('');
}

/** The rendered pieces with the variable each came from, for checks that must name the culprit. */
export function renderParts(text: string, scope: Scope): { text: string; variable?: string }[] {
  return parseTemplate(text).map((part) => {
    if (part.kind === 'text') return { text: part.text };
    if (part.kind === 'invalid') throw invalidTemplate(part.expression, part.source);
    const found = lookupVariable(scope, part.path);
    if (!found.found) throw new TemplateError(part.path);
    return { text: toText(found.value), variable: part.path };
  });
}

export const invalidTemplate = (expression: string, source: string) =>
  new TemplateError(expression, `invalid template "${source}"`, 'invalid_template');
