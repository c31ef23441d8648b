export { TemplateError, type TemplateErrorKind, type TemplateProblem } from './template-error';
export { type Scope, lookupVariable } from './scope';
export { parseTemplate, exactTemplatePath, hasTemplate, isVariablePath, MAX_PATH_LENGTH, type TemplatePart } from './template-syntax';
export { renderString } from './render-text';
export { renderJson, renderRequest, type RenderOptions, type RenderableRequest } from './render';
export {
  templateVariables,
  checkTemplates,
  checkRequestTemplates,
  isAllowedVariable,
  type AllowedVariables,
  EXECUTION_VARIABLES,
  REQUEST_JOB_VARIABLES,
  WORKFLOW_VARIABLES,
  MAX_TEMPLATE_DEPTH,
} from './check-templates';
export { SECRET_REFERENCE_PROBLEM, secretReferencesIn } from './secret-references';
export { jsonPath, parseJsonPath, JsonPathSyntaxError, MAX_JSON_PATH_LENGTH, type JsonPathSegment, type ParsedJsonPath } from './json-path';
export { type Lookup, FORBIDDEN_SEGMENTS, isPlainObject } from './own-property';
