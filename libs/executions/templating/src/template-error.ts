/** Why a template could not be rendered. Stable: the shell maps every kind to `template_error`. */
export type TemplateErrorKind = 'unknown_variable' | 'invalid_template' | 'secret_reference' | 'header_line_break';

/**
 * A template that cannot be rendered. `variable` names the culprit (the path, or the raw
 * expression for an invalid template) so the failed step can say which one (docs/jobs.md).
 */
export class TemplateError extends Error {
  readonly code = 'template_error';

  constructor(
    readonly variable: string,
    message = `unknown template variable "${variable}"`,
    readonly kind: TemplateErrorKind = 'unknown_variable',
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** A create-time problem, shaped like the API's `details.fields` entries. */
export interface TemplateProblem {
  readonly field: string;
  readonly message: string;
}
