import { renderParts } from './render-text';
import type { Scope } from './scope';
import { TemplateError } from './template-error';
import { parseTemplate, type TemplatePart } from './template-syntax';

/**
 * Templates never touch `secret://` references (docs/jobs.md, docs/secrets.md).
 *
 * The shell replaces `secret://name` in header values with the secret's value at send time. If
 * rendered text could produce a reference, anyone who controls template data (a webhook caller
 * controls `trigger.*`) could make a job send any secret of the workspace to its target. So:
 *
 * - a reference written in the template (`Bearer secret://API_TOKEN`) is literal text: it is
 *   copied verbatim and the secret is substituted later;
 * - at create time, a template directly after `secret:`, `secret:/`, `secret://` or a partial
 *   name (`secret://{{x}}`, `secret://api_{{env}}`), or directly before `://`, is a problem:
 *   "templates cannot build secret:// references";
 * - at render time, the references in a rendered header value must be exactly the literal ones,
 *   same names in the same order; otherwise rendering fails with a TemplateError (this also
 *   catches a value that itself contains `secret://…`, or pieces that join into one).
 *
 * Only header values are substituted by the shell, so only they get the render-time check; the
 * create-time check applies to every templated string (a built reference is meaningless elsewhere).
 */

/**
 * Mirrors SECRET_REFERENCE in @trigrun/secrets (the send-time substitution), which a domain lib
 * may not import. Keep the two in step: the guard is only as good as this copy.
 */
const SECRET_REFERENCE = /secret:\/\/([A-Za-z0-9_.-]{1,128})/g;
const ENDS_INSIDE_REFERENCE = /secret:\/{0,2}[A-Za-z0-9_.-]*$/;
const STARTS_LIKE_SCHEME_TAIL = /^:\/\//;
const LINE_BREAK = /[\r\n\0]/;

export const SECRET_REFERENCE_PROBLEM = 'templates cannot build secret:// references';

export const secretReferencesIn = (text: string): string[] => [...text.matchAll(SECRET_REFERENCE)].map((m) => m[1]);

/** Create-time: does a template sit where it would build or extend a reference? */
export function buildsSecretReference(parts: readonly TemplatePart[]): boolean {
  return parts.some((part, i) => {
    if (part.kind === 'text') return false;
    const before = parts[i - 1];
    const after = parts[i + 1];
    return (
      (before?.kind === 'text' && ENDS_INSIDE_REFERENCE.test(before.text)) ||
      (after?.kind === 'text' && STARTS_LIKE_SCHEME_TAIL.test(after.text))
    );
  });
}

export function renderHeaderValue(headerName: string, value: string, scope: Scope): string {
  if (!value.includes('{{')) return value;
  if (buildsSecretReference(parseTemplate(value))) {
    const culprit = parseTemplate(value).find((p) => p.kind !== 'text');
    throw secretReferenceError(culprit && culprit.kind === 'variable' ? culprit.path : value, headerName);
  }
  const parts = renderParts(value, scope);
  const rendered = parts.map((p) => p.text).join('');
  const literal = secretReferencesIn(value);
  const produced = secretReferencesIn(rendered);
  if (literal.length !== produced.length || literal.some((name, i) => name !== produced[i])) {
    const culprit = parts.find((p) => p.variable && p.text.includes('secret:')) ?? parts.find((p) => p.variable);
    throw secretReferenceError(culprit!.variable!, headerName);
  }
  const broken = parts.find((p) => p.variable && LINE_BREAK.test(p.text));
  if (broken) {
    throw new TemplateError(
      broken.variable!,
      `template variable "${broken.variable}" renders a line break into header "${headerName}"`,
      'header_line_break',
    );
  }
  return rendered;
}

const secretReferenceError = (variable: string, headerName: string) =>
  new TemplateError(
    variable,
    `template variable "${variable}" would build a secret:// reference in header "${headerName}"; ${SECRET_REFERENCE_PROBLEM}`,
    'secret_reference',
  );
