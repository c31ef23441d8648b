import type { AttemptRecord, ExecutionVariables, RequestSpec } from '@trigrun/execution-contracts';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type ResponseMatcher, evaluateMatcher, renderOutputTemplate } from '@trigrun/response-matching';
import { TemplateError, renderRequest } from '@trigrun/templating';
import { attemptRecordOf, outboundRequestOf } from './attempt';

/** Secret values by name, decrypted at send time and never written anywhere. */
export interface SecretResolver {
  resolve(workspaceId: string, names: string[]): Promise<ReadonlyMap<string, string>>;
}

/** The `secret://` helpers of @trigrun/secrets, passed in so this lib stays free of its Nest/ORM parts. */
export interface SecretReferences {
  secretNamesIn(headers: Record<string, string>): string[];
  substituteSecrets(headers: Record<string, string>, lookup: ReadonlyMap<string, string>): { headers: Record<string, string>; missing: string[] };
  redactSecrets(text: string, values: readonly string[]): string;
}

export type AttemptResult =
  | { readonly kind: 'attempt'; readonly attempt: AttemptRecord; readonly output: unknown }
  | { readonly kind: 'template_error'; readonly message: string };

export interface AttemptInput {
  readonly workspaceId: string;
  readonly executionId: string;
  readonly number: number;
  readonly request: RequestSpec;
  readonly variables: ExecutionVariables;
  readonly outputTemplate?: unknown;
  readonly signal?: AbortSignal;
}

/**
 * One attempt of a request, SPEC §4, §5, §9 and §14 in order: render templates with the
 * execution's fixed variables (so every retry sends the same values), substitute secrets into
 * header values, send through the guarded client, redact secret values from what is recorded,
 * evaluate the response matcher, and render the output template of a success.
 */
export async function performAttempt(
  deps: { http: GuardedHttpClient; secrets: SecretResolver; references: SecretReferences; now: () => Date },
  input: AttemptInput,
): Promise<AttemptResult> {
  const scope = { ...input.variables };
  let rendered: RequestSpec;
  try {
    rendered = renderRequest({ ...input.request, headers: { ...input.request.headers } }, scope);
  } catch (error) {
    if (error instanceof TemplateError) return { kind: 'template_error', message: error.message };
    throw error;
  }
  // Secret names come from the stored headers, never from rendered values: a rendered value
  // that happens to read "secret://x" must not pull a secret in.
  const names = deps.references.secretNamesIn(input.request.headers as Record<string, string>);
  const values = names.length > 0 ? await deps.secrets.resolve(input.workspaceId, names) : new Map<string, string>();
  const { headers, missing } = deps.references.substituteSecrets(rendered.headers as Record<string, string>, values);
  const secretValues = [...values.values()];

  const startedAt = deps.now();
  const result = await deps.http.send({ ...outboundRequestOf({ ...rendered, headers }, input.executionId), signal: input.signal });
  let attempt = attemptRecordOf(input.number, startedAt, result, input.request.success_statuses);
  let output: unknown = null;
  if (result.kind === 'response') {
    const body = result.body.toString('utf8');
    if (attempt.status === 'SUCCESS' && input.request.response_matcher) {
      const match = evaluateMatcher(input.request.response_matcher as ResponseMatcher, { status: result.status, headers: result.headers, body });
      if (!match.ok) attempt = { ...attempt, status: 'MATCH_FAILED', errorClass: 'MatchFailed', errorMessage: `response matcher failed: ${match.rule}` };
    }
    if (attempt.status === 'SUCCESS' && input.outputTemplate !== undefined && input.outputTemplate !== null) {
      output = renderOutputTemplate(input.outputTemplate, body, scope);
    }
  }
  if (secretValues.length > 0) attempt = redactAttempt(attempt, secretValues, deps.references);
  if (missing.length > 0) attempt = { ...attempt, missingSecrets: missing };
  return { kind: 'attempt', attempt, output };
}

/** A target that echoes a secret back must not put it into a record. */
function redactAttempt(attempt: AttemptRecord, values: readonly string[], refs: SecretReferences): AttemptRecord {
  const redact = (text: string) => refs.redactSecrets(text, values);
  return {
    ...attempt,
    bodyPreview: attempt.bodyPreview === null ? null : redact(attempt.bodyPreview),
    responseHeaders: Object.fromEntries(Object.entries(attempt.responseHeaders).map(([k, v]) => [k, redact(v)])),
    errorMessage: attempt.errorMessage === null ? null : redact(attempt.errorMessage),
  };
}
