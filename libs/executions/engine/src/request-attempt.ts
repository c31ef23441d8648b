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
  const { headers, missing, secretValues } = await withSecrets(deps, input.workspaceId, input.request.headers, rendered.headers);

  const startedAt = deps.now();
  const result = await deps.http.send({ ...outboundRequestOf({ ...rendered, headers }, input.executionId), signal: input.signal });
  let attempt = attemptRecordOf(input.number, startedAt, result, input.request.success_statuses);
  let output: unknown = null;
  if (result.kind === 'response') {
    const body = result.body.toString('utf8');
    attempt = withMatcher(attempt, input.request.response_matcher, result, body);
    if (attempt.status === 'SUCCESS' && input.outputTemplate !== undefined && input.outputTemplate !== null) {
      output = renderOutputTemplate(input.outputTemplate, body, scope);
    }
  }
  return { kind: 'attempt', attempt: withSecretsAccounted(attempt, secretValues, missing, deps.references), output };
}

/**
 * `secret://` references substituted into rendered header values. The names come from the stored
 * headers, never from rendered values: a rendered value that happens to read "secret://x" must
 * not pull a secret in.
 */
export async function withSecrets(
  deps: { secrets: SecretResolver; references: SecretReferences },
  workspaceId: string,
  storedHeaders: Readonly<Record<string, string>>,
  renderedHeaders: Readonly<Record<string, string>>,
): Promise<{ headers: Record<string, string>; missing: string[]; secretValues: string[] }> {
  const names = deps.references.secretNamesIn(storedHeaders as Record<string, string>);
  const values = names.length > 0 ? await deps.secrets.resolve(workspaceId, names) : new Map<string, string>();
  const { headers, missing } = deps.references.substituteSecrets(renderedHeaders as Record<string, string>, values);
  return { headers, missing, secretValues: [...values.values()] };
}

/** A successful attempt whose response breaks a matcher rule becomes MATCH_FAILED, naming the rule. */
export function withMatcher(attempt: AttemptRecord, matcher: unknown, result: { status: number; headers: Record<string, string> }, body: string): AttemptRecord {
  if (attempt.status !== 'SUCCESS' || !matcher) return attempt;
  const match = evaluateMatcher(matcher as ResponseMatcher, { status: result.status, headers: result.headers, body });
  return match.ok ? attempt : { ...attempt, status: 'MATCH_FAILED', errorClass: 'MatchFailed', errorMessage: `response matcher failed: ${match.rule}` };
}

/** What is recorded of an attempt that used secrets: their values redacted (a target may echo them), the missing ones listed. */
export function withSecretsAccounted(attempt: AttemptRecord, secretValues: readonly string[], missing: readonly string[], refs: SecretReferences): AttemptRecord {
  let recorded = attempt;
  if (secretValues.length > 0) {
    const redact = (text: string) => refs.redactSecrets(text, secretValues);
    recorded = {
      ...recorded,
      bodyPreview: recorded.bodyPreview === null ? null : redact(recorded.bodyPreview),
      responseHeaders: Object.fromEntries(Object.entries(recorded.responseHeaders).map(([k, v]) => [k, redact(v)])),
      errorMessage: recorded.errorMessage === null ? null : redact(recorded.errorMessage),
    };
  }
  return missing.length > 0 ? { ...recorded, missingSecrets: [...missing] } : recorded;
}
