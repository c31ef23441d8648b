import type { AttemptRecord } from '@trigrun/execution-contracts';
import type { RenderedRequest, SendingStep } from '@trigrun/execution-domain';
import type { GuardedHttpClient, OutboundRequest, OutboundResult } from '@trigrun/http-client';
import { type ResponseMatcher, evaluateMatcher } from '@trigrun/response-matching';
import { type Redactor, attemptRecordOf, outboundRequestOf, redactedResult } from './attempt';
import { responseBodiesOf, stepHeadersOf } from './step-attempt';

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

export interface AttemptResult {
  /** The attempt as recorded: classified, matched, redacted. */
  readonly attempt: AttemptRecord;
  /** What the decider reads of the body (responseBodiesOf): redacted, for http steps and request jobs alike. */
  readonly responseBody: unknown;
  readonly parsedBody?: unknown;
}

export interface AttemptInput {
  readonly workspaceId: string;
  readonly executionId: string;
  /**
   * The step the attempt belongs to: an http step of a workflow, or a request job's request. Its
   * stored headers name the secrets to resolve; its success_statuses and response_matcher judge
   * the answer.
   */
  readonly step: SendingStep;
  readonly number: number;
  /** The request as the decider rendered it when the step started: sent as is, never rendered again. */
  readonly request: RenderedRequest;
  /** The step's timeout, cut by the decider to what a workflow's deadline leaves. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * One attempt of a step, for workflows and request jobs alike, in order: substitute secrets into
 * the rendered header values (the names come from the stored headers, never from rendered text),
 * add the platform's headers, send through the guarded client (sendWithSecrets: what comes back is
 * already redacted), evaluate the response matcher, and hand the decider the redacted body. The
 * request arrives rendered: the decider rendered it once, from the execution's fixed variables, so
 * every retry sends the same values (README, "The API": templates render once per execution); the output template is the decider's too.
 */
export async function performAttempt(
  deps: { http: GuardedHttpClient; secrets: SecretResolver; references: SecretReferences; now: () => Date },
  input: AttemptInput,
): Promise<AttemptResult> {
  const { step, request } = input;
  const sent = await sendWithSecrets(deps, {
    workspaceId: input.workspaceId,
    storedHeaders: step.headers,
    renderedHeaders: request.headers,
    outbound: (headers) => ({
      ...outboundRequestOf(
        {
          url: request.url,
          method: step.method,
          headers: { ...headers, ...stepHeadersOf(step, input.executionId) },
          body: request.body,
          timeout_seconds: step.timeout_seconds,
          success_statuses: step.success_statuses,
        },
        input.executionId,
      ),
      timeoutMs: input.timeoutMs,
      signal: input.signal,
    }),
  });
  let attempt = attemptRecordOf(input.number, sent.startedAt, sent.result, step.success_statuses);
  let bodies: Pick<AttemptResult, 'responseBody' | 'parsedBody'> = { responseBody: null };
  if (sent.result.kind === 'response') {
    const text = sent.result.body.toString('utf8');
    attempt = withMatcher(attempt, step.response_matcher, sent.result, text);
    bodies = responseBodiesOf(step, text, attempt.status === 'SUCCESS', sent.redact);
  }
  return { attempt: recordedAttempt(attempt, sent), ...bodies };
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
