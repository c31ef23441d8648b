import type { AttemptRecord, ExecutionVariables, RequestSpec } from '@trigrun/execution-contracts';
import type { GuardedHttpClient, OutboundRequest, OutboundResult } from '@trigrun/http-client';
import { type ResponseMatcher, evaluateMatcher, renderOutputTemplate } from '@trigrun/response-matching';
import { TemplateError, renderRequest } from '@trigrun/templating';
import { type Redactor, attemptRecordOf, outboundRequestOf, redactedResult } from './attempt';

/** Secret values by name, decrypted at send time and never written anywhere. */
export interface SecretResolver {
  resolve(workspaceId: string, names: string[]): Promise<ReadonlyMap<string, string>>;
}

/** The `secret://` helpers of @trigrun/secrets, passed in so this lib stays free of its Nest/ORM parts. */
export interface SecretReferences {
  secretNamesIn(headers: Record<string, string>): string[];
  substituteSecrets(headers: Record<string, string>, lookup: ReadonlyMap<string, string>): { headers: Record<string, string>; missing: string[] };
  /** The one redaction step (docs/secrets.md) for everything a send that used `values` yields. */
  secretRedactor(values: readonly string[]): Redactor;
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
 * header values, send through the guarded client (sendWithSecrets: what comes back is already
 * redacted), evaluate the response matcher, and render the output template of a success.
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
  const sent = await sendWithSecrets(deps, {
    workspaceId: input.workspaceId,
    storedHeaders: input.request.headers,
    renderedHeaders: rendered.headers,
    outbound: (headers) => ({ ...outboundRequestOf({ ...rendered, headers }, input.executionId), signal: input.signal }),
  });
  let attempt = attemptRecordOf(input.number, sent.startedAt, sent.result, input.request.success_statuses);
  let output: unknown = null;
  if (sent.result.kind === 'response') {
    const body = sent.result.body.toString('utf8');
    attempt = withMatcher(attempt, input.request.response_matcher, sent.result, body);
    if (attempt.status === 'SUCCESS' && input.outputTemplate !== undefined && input.outputTemplate !== null) {
      // Redacted again once rendered: a `$.path` leaf reads the parsed body, where a JSON string
      // may spell a secret with \u escapes that the text did not show.
      output = sent.redact.value(renderOutputTemplate(input.outputTemplate, body, scope));
    }
  }
  return { kind: 'attempt', attempt: recordedAttempt(attempt, sent), output };
}

/** A send's response, already redacted, and the redactor for whatever is derived from it later. */
export interface SentRequest {
  readonly startedAt: Date;
  readonly result: OutboundResult;
  readonly redact: Redactor;
  /** `secret://` names with no secret in the workspace, sent as literal text. */
  readonly missing: readonly string[];
}

/**
 * The only place where the engine holds secret values: it resolves the `secret://` names of the
 * stored headers, substitutes them into the rendered ones, sends, and redacts the response before
 * returning it. The unredacted response never leaves this function; the values leave it only
 * inside the redactor. The names come from the stored headers, never from rendered values: a
 * rendered value that happens to read "secret://x" must not pull a secret in.
 */
export async function sendWithSecrets(
  deps: { http: GuardedHttpClient; secrets: SecretResolver; references: SecretReferences; now: () => Date },
  input: {
    workspaceId: string;
    storedHeaders: Readonly<Record<string, string>>;
    renderedHeaders: Readonly<Record<string, string>>;
    /** The request to send, given the headers with secrets substituted. */
    outbound: (headers: Record<string, string>) => OutboundRequest;
  },
): Promise<SentRequest> {
  const names = deps.references.secretNamesIn(input.storedHeaders as Record<string, string>);
  const values = names.length > 0 ? await deps.secrets.resolve(input.workspaceId, names) : new Map<string, string>();
  const { headers, missing } = deps.references.substituteSecrets(input.renderedHeaders as Record<string, string>, values);
  const redact = deps.references.secretRedactor([...values.values()]);
  const startedAt = deps.now();
  const result = await deps.http.send(input.outbound(headers));
  return { startedAt, result: redactedResult(result, redact), redact, missing };
}

/** A successful attempt whose response breaks a matcher rule becomes MATCH_FAILED, naming the rule. */
export function withMatcher(attempt: AttemptRecord, matcher: unknown, result: { status: number; headers: Record<string, string> }, body: string): AttemptRecord {
  if (attempt.status !== 'SUCCESS' || !matcher) return attempt;
  const match = evaluateMatcher(matcher as ResponseMatcher, { status: result.status, headers: result.headers, body });
  return match.ok ? attempt : { ...attempt, status: 'MATCH_FAILED', errorClass: 'MatchFailed', errorMessage: `response matcher failed: ${match.rule}` };
}

/**
 * The attempt as recorded: its preview and headers came from the redacted response; its error
 * message is redacted once more, as a matcher rule quotes values it parsed from the body (where a
 * secret may be spelled with \u escapes). The missing secrets are listed.
 */
export function recordedAttempt(attempt: AttemptRecord, sent: Pick<SentRequest, 'redact' | 'missing'>): AttemptRecord {
  const recorded = attempt.errorMessage === null ? attempt : { ...attempt, errorMessage: sent.redact.text(attempt.errorMessage) };
  return sent.missing.length > 0 ? { ...recorded, missingSecrets: [...sent.missing] } : recorded;
}
