import {
  DEFAULT_WORKFLOW_DURATION_SECONDS,
  type ApprovalDecision,
  type AttemptRecord,
  type ExecutionError,
  type ExecutionEventData,
  type ExecutionVariables,
  type HttpStepSpec,
  type JobSnapshot,
  type NewExecutionEvent,
  type RequestSpec,
  type RetryPolicy,
  type StepSpec,
  type WaitingReason,
  jsonText,
  storableValue,
} from '@trigrun/execution-contracts';
import { renderOutputTemplateOver } from '@trigrun/response-matching';
import { TemplateError, renderRequest, renderString } from '@trigrun/templating';
import type { Decision, Ignore, IgnoreCode, ParkToken } from './execution.decider';
import { extractFrom } from './extraction';
import { assertNever, attemptError, backoffMs, shouldRetry } from './retry';

/**
 * The step-driven half of the execution decider (`workflow`, `webhook_trigger`; README, "The API").
 *
 *   started ──StartStep──▶ step running ──(http) RecordAttempt*──▶ StepCompleted ──▶ next step … ──Finish──▶ succeeded
 *                              │                                └─▶ StepFailed ──▶ failed
 *                              └─(wait_for_webhook | approval)──▶ ExecutionParked ──ResumeStep | DecideApproval | Wake(timeout)──▶
 *                                                                 ExecutionResumed ──▶ StepCompleted | StepFailed
 *   any time past the deadline: Wake ──▶ StepFailed(timed_out) + ExecutionFailed(workflow_timeout)
 *
 * One decision may append several events (an attempt and the step's end, a resume and the step's
 * end). The shell appends them one by one, so it can stop in between: every such intermediate
 * state has a repair action (`settle`) that derives the missing events from what was recorded,
 * so the outcome never depends on where a crash fell.
 *
 * A request job is a plan of one step, its `request` block (RequestStep): the step starts with
 * the execution (no StepStarted), its attempts are recorded with `step_id: null` and their
 * `output` is the rendered response_output_template, and its end is the execution's end (no
 * StepCompleted or StepFailed, no deadline). It goes through the same attempt rule
 * (`recordAttempt`) and the same send rule (`nextSend`) as an http step, so the event stream of a
 * request job stays what docs/events.md describes while there is one attempt path.
 */

/**
 * Response bodies kept in the AttemptRecorded event (and read again by `settle`), in characters of
 * the text or of its JSON: larger ones keep a preview only (extraction at the time still reads all).
 */
export const MAX_RECORDED_OUTPUT_LENGTH = 256 * 1024;

/**
 * A request job's one step: its request block with the job's retry policy. It has no id (its
 * events carry `step_id: null`) and no events of its own.
 */
export interface RequestStep extends RequestSpec {
  readonly type: 'request';
  readonly id: null;
  readonly retry_policy: RetryPolicy;
}
/** A step of an execution's plan: one of the job's steps, or a request job's request. */
export type PlanStep = StepSpec | RequestStep;
/** The steps that send HTTP requests: both go through recordAttempt and nextSend. */
export type SendingStep = HttpStepSpec | RequestStep;
/** A request as rendered when its step started: sent as is by every attempt, never rendered again. */
export interface RenderedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export const requestStepOf = (job: JobSnapshot): RequestStep => ({ ...job.request!, type: 'request', id: null, retry_policy: job.retry_policy });
const isSending = (spec: PlanStep): spec is SendingStep => spec.type === 'http' || spec.type === 'request';

export interface ActiveStep {
  readonly spec: PlanStep;
  readonly index: number;
  readonly input: unknown;
  readonly attempts: readonly AttemptRecord[];
  readonly nextAttemptAt: string | null;
  /** The recorded output of the last attempt (http). */
  readonly output: unknown;
  readonly parked: { readonly reason: WaitingReason; readonly tokenHash: string; readonly expiresAt: string } | null;
  readonly resumed: ExecutionEventData['ExecutionResumed'] | null;
}

export interface WorkflowProgress {
  readonly startedAt: string;
  readonly variables: ExecutionVariables;
  readonly context: Readonly<Record<string, unknown>>;
  /** started_at + max_workflow_duration_seconds; null for a request job, which has none. */
  readonly deadline: string | null;
  /** Index of the next step to start (when `step` is null). */
  readonly next: number;
  readonly step: ActiveStep | null;
  /** The last completed step's `extract_to_context` values, until the next step starts: the shell persists them first. */
  readonly pendingContext: Readonly<Record<string, string>> | null;
  /** Output of the last completed step: the source of `$.path` leaves in response_output_template. */
  readonly lastOutput: unknown;
  /** A step failed and the execution's failure is not recorded yet. */
  readonly failure: ExecutionError | null;
}

const event = <T extends keyof ExecutionEventData>(type: T, data: ExecutionEventData[T]) => ({ type, data }) as NewExecutionEvent;

export const workflowDeadline = (startedAt: string, durationSeconds: number | undefined): string =>
  new Date(Date.parse(startedAt) + (durationSeconds ?? DEFAULT_WORKFLOW_DURATION_SECONDS) * 1000).toISOString();

export function startProgress(startedAt: string, data: ExecutionEventData['ExecutionStarted'], durationSeconds: number | undefined): WorkflowProgress {
  return {
    startedAt,
    variables: data.variables,
    context: { ...(data.context ?? {}) },
    deadline: workflowDeadline(startedAt, durationSeconds),
    next: 0,
    step: null,
    pendingContext: null,
    lastOutput: null,
    failure: null,
  };
}

/**
 * The progress of a request job from its ExecutionStarted: its one step is running from the start,
 * its request rendered here, once, with the execution variables only and without preserveTypes
 * (README, "The API": templates render once per execution). A template that cannot be rendered is
 * the execution's failure (template_error), which the decision that started it records next.
 * Nothing of it is recorded (ExecutionStarted stays what docs/events.md says): folding the history
 * again renders the same request, as it is a function of the recorded variables alone.
 */
export function startRequestProgress(startedAt: string, data: ExecutionEventData['ExecutionStarted'], job: JobSnapshot): WorkflowProgress {
  const base = { startedAt, variables: data.variables, context: {}, deadline: null, next: 1, pendingContext: null, lastOutput: null };
  const spec = requestStepOf(job);
  try {
    const input = renderRequest({ ...job.request!, headers: { ...job.request!.headers } }, { ...data.variables });
    return { ...base, failure: null, step: { spec, index: 0, input, attempts: [], nextAttemptAt: null, output: null, parked: null, resumed: null } };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { ...base, step: null, failure: { code: 'template_error', message: error.message } };
  }
}

/** Folds a step event into the progress; events of another step than the active one change nothing. */
export function evolveProgress(p: WorkflowProgress, steps: readonly StepSpec[], e: NewExecutionEvent): WorkflowProgress {
  switch (e.type) {
    case 'StepStarted': {
      const spec: StepSpec | undefined = steps[e.data.index];
      if (!spec || spec.id !== e.data.step_id) return p;
      const step: ActiveStep = { spec, index: e.data.index, input: e.data.input, attempts: [], nextAttemptAt: null, output: null, parked: null, resumed: null };
      return { ...p, step, pendingContext: null };
    }
    case 'AttemptRecorded': {
      if (!p.step || p.step.spec.id !== e.data.step_id) return p;
      return { ...p, step: { ...p.step, attempts: [...p.step.attempts, e.data.attempt], nextAttemptAt: e.data.next_attempt_at, output: e.data.output ?? null } };
    }
    case 'ExecutionParked': {
      if (!p.step || p.step.spec.id !== e.data.step_id) return p;
      return { ...p, step: { ...p.step, parked: { reason: e.data.reason, tokenHash: e.data.token_hash, expiresAt: e.data.expires_at } } };
    }
    case 'ExecutionResumed': {
      if (!p.step || p.step.spec.id !== e.data.step_id) return p;
      return { ...p, step: { ...p.step, parked: null, resumed: e.data } };
    }
    case 'StepCompleted': {
      if (!p.step || p.step.spec.id !== e.data.step_id) return p;
      const updates = Object.keys(e.data.context_updates).length > 0 ? e.data.context_updates : null;
      return { ...p, context: { ...p.context, ...e.data.extracted }, next: p.step.index + 1, step: null, pendingContext: updates, lastOutput: e.data.output };
    }
    case 'StepFailed': {
      if (!p.step || p.step.spec.id !== e.data.step_id) return p;
      return { ...p, step: null, failure: e.data.error };
    }
    default:
      return p;
  }
}

/** What a step-driven execution asks of the shell. */
export type WorkflowAction =
  | { readonly type: 'start_step'; readonly step: StepSpec; readonly index: number; readonly persistContext: Readonly<Record<string, string>> | null }
  /** One attempt of an http step or of a request job's request (`step.id` null), rendered already. */
  | { readonly type: 'send'; readonly step: SendingStep; readonly attemptNumber: number; readonly request: RenderedRequest; readonly timeoutMs: number }
  | { readonly type: 'wait'; readonly until: string }
  | { readonly type: 'park'; readonly until: string }
  | { readonly type: 'settle' }
  | { readonly type: 'wake' }
  | { readonly type: 'finish'; readonly persistContext: Readonly<Record<string, string>> | null };

export function nextWorkflowAction(p: WorkflowProgress, steps: readonly StepSpec[], now: string): WorkflowAction {
  if (p.failure) return { type: 'settle' };
  const step = p.step;
  // An outcome already recorded (or all steps done) is written out even past the deadline: what
  // happened before the deadline must not depend on when a crash let the shell write it down.
  if (step && (step.resumed || (isSending(step.spec) && step.attempts.length > 0 && step.nextAttemptAt === null))) return { type: 'settle' };
  if (!step && p.next >= steps.length) return { type: 'finish', persistContext: p.pendingContext };
  if (p.deadline !== null && Date.parse(now) >= Date.parse(p.deadline)) return { type: 'wake' };
  if (!step) {
    if (p.next < steps.length) return { type: 'start_step', step: steps[p.next], index: p.next, persistContext: p.pendingContext };
    return { type: 'finish', persistContext: p.pendingContext };
  }
  switch (step.spec.type) {
    case 'http':
    case 'request': {
      const send = nextSend(p, step, now);
      return send === 'settled' ? { type: 'settle' } : send;
    }
    case 'wait_for_webhook':
    case 'approval':
      if (step.resumed) return { type: 'settle' };
      if (!step.parked) return { type: 'start_step', step: step.spec, index: step.index, persistContext: null };
      return { type: 'park', until: earliest(step.parked.expiresAt, p.deadline) };
    default:
      return assertNever(step.spec);
  }
}

/**
 * The send rule of a sending step (an http step, or a request job's request): the next attempt,
 * a wait for its retry, or 'settled' once an attempt was recorded with no retry to follow.
 */
export function nextSend(
  p: WorkflowProgress,
  step: ActiveStep,
  now: string,
): 'settled' | Extract<WorkflowAction, { type: 'send' | 'wait' }> {
  if (step.attempts.length > 0 && step.nextAttemptAt === null) return 'settled';
  if (step.nextAttemptAt !== null && Date.parse(step.nextAttemptAt) > Date.parse(now)) {
    return { type: 'wait', until: earliest(step.nextAttemptAt, p.deadline) };
  }
  const spec = step.spec as SendingStep;
  // An attempt never outlives the workflow: its timeout is cut to what is left.
  const limit = spec.timeout_seconds * 1000;
  const timeoutMs = p.deadline === null ? limit : Math.max(1, Math.min(limit, Date.parse(p.deadline) - Date.parse(now)));
  return { type: 'send', step: spec, attemptNumber: step.attempts.length + 1, request: step.input as RenderedRequest, timeoutMs };
}

/** The earlier of two times; no deadline (null) is never the earlier. */
const earliest = (a: string, b: string | null) => (b === null || Date.parse(a) <= Date.parse(b) ? a : b);

const ignore = (reason: string, code?: IgnoreCode): Ignore => ({ ignore: true, reason, ...(code ? { code } : {}) });

interface StepContext {
  readonly steps: readonly StepSpec[];
  readonly triggerInput: unknown;
  readonly outputTemplate: unknown;
}

/**
 * The one output-template rule: `response_output_template` rendered over a step's result (`body`:
 * the parsed JSON, or null when it is not JSON), in the form events store. A request job renders it
 * when its successful attempt is recorded, over the whole body (of any depth: the result is made
 * storable), with the execution variables; a workflow when it finishes, over the last step's
 * output (stored already), with context and trigger too. The body comes redacted from the shell
 * (docs/secrets.md) and a `$.path` leaf copies a part of it, so the rendering holds no secret the
 * body did not.
 */
export function renderOutput(template: unknown, body: { value: unknown } | null, scope: Record<string, unknown>): unknown {
  return renderOutputTemplateOver(template, body, scope);
}

const scopeOf = (p: WorkflowProgress, c: StepContext) => ({ ...p.variables, context: p.context, trigger: c.triggerInput ?? {} });

/** StartStep: renders the next step once (its input is recorded, so retries and repairs send the same), and parks the parking kinds. */
export function startStep(p: WorkflowProgress, c: StepContext, now: string, token: ParkToken | undefined): Decision {
  if (p.failure) return ignore('the execution is failing');
  if (p.deadline !== null && Date.parse(now) >= Date.parse(p.deadline)) return timeoutWorkflow(p);
  const resuming = p.step && !p.step.parked && !p.step.resumed && !isSending(p.step.spec) ? p.step : null;
  if (p.step && !resuming) return ignore(`step ${p.step.spec.id ?? 'request'} is in progress`);
  const index = resuming ? resuming.index : p.next;
  const spec = c.steps[index];
  if (!spec) return ignore('no step left to start');
  const started = (input: unknown) => (resuming ? [] : [event('StepStarted', { step_id: spec.id, type: spec.type, index, input })]);
  const scope = scopeOf(p, c);
  try {
    switch (spec.type) {
      case 'http': {
        const rendered = renderRequest({ url: spec.url, headers: { ...spec.headers }, body: spec.body }, scope, { preserveTypes: true });
        const input = { method: spec.method, url: rendered.url, headers: rendered.headers, ...(rendered.body !== undefined ? { body: rendered.body } : {}) };
        return started(input);
      }
      case 'wait_for_webhook':
      case 'approval': {
        if (!token) return ignore('a parking step needs a token');
        const message = spec.type === 'approval' ? renderString(spec.message, scope) : undefined;
        const expiresAt =
          spec.timeout_seconds === null ? p.deadline! : earliest(new Date(Date.parse(now) + spec.timeout_seconds * 1000).toISOString(), p.deadline);
        return [
          ...started(message === undefined ? null : { message }),
          event('ExecutionParked', {
            step_id: spec.id,
            reason: spec.type === 'approval' ? 'approval' : 'webhook',
            token_hash: token.hash,
            token_sealed: token.sealed,
            expires_at: expiresAt,
            ...(message !== undefined ? { message } : {}),
          }),
        ];
      }
      default:
        return assertNever(spec);
    }
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const failure: ExecutionError = { code: 'template_error', message: `step ${spec.id}: ${error.message}` };
    return [...started(null), event('StepFailed', { step_id: spec.id, status: 'failed', error: failure }), event('ExecutionFailed', { error: failure })];
  }
}

/**
 * RecordAttempt on a sending step: the one attempt rule of http steps and request jobs. A retry
 * is due `backoffMs` after `now` when the policy retries; a workflow's deadline cuts retries that
 * would come after it. `responseBody` (http steps) is the redacted body as it is recorded and
 * extracted; `parsedBody` (request jobs) the whole redacted body parsed as JSON, which the output
 * template reads.
 */
export function recordAttempt(
  p: WorkflowProgress,
  c: StepContext,
  cmd: { attempt: AttemptRecord; now: string; jitter: number; responseBody?: unknown; parsedBody?: unknown },
  apply: (events: readonly NewExecutionEvent[]) => WorkflowProgress,
): Decision {
  const step = p.step;
  if (!step || !isSending(step.spec)) return ignore('no http step is running');
  const spec = step.spec;
  const expected = step.attempts.length + 1;
  if (cmd.attempt.number !== expected) return ignore(`attempt ${cmd.attempt.number} is not the expected ${expected}`);
  if (step.nextAttemptAt === null && step.attempts.length > 0) return ignore(spec.type === 'request' ? 'the outcome is already settled' : 'the step is already settled');
  const pastDeadline = p.deadline !== null && Date.parse(cmd.now) >= Date.parse(p.deadline);
  let nextAttemptAt: string | null = null;
  if (!pastDeadline && shouldRetry(cmd.attempt, spec.retry_policy)) {
    const at = Date.parse(cmd.now) + backoffMs(cmd.attempt.number, cmd.jitter);
    // A retry due after the deadline would never run: the attempt settles the step instead.
    if (p.deadline === null || at < Date.parse(p.deadline)) nextAttemptAt = new Date(at).toISOString();
  }
  if (spec.type === 'request') {
    const template = c.outputTemplate;
    const output =
      cmd.attempt.status === 'SUCCESS' && template !== undefined && template !== null
        ? storableValue(renderOutput(template, cmd.parsedBody === undefined ? null : { value: cmd.parsedBody }, { ...p.variables }))
        : null;
    const recorded = event('AttemptRecorded', { step_id: null, attempt: cmd.attempt, next_attempt_at: nextAttemptAt, ...(output !== null ? { output } : {}) });
    return nextAttemptAt !== null ? [recorded] : [recorded, outcomeOf(cmd.attempt, output)];
  }
  const body = cmd.attempt.status === 'SUCCESS' ? (cmd.responseBody ?? null) : null;
  const recorded = event('AttemptRecorded', { step_id: spec.id, attempt: cmd.attempt, next_attempt_at: nextAttemptAt, output: recordable(body) });
  if (nextAttemptAt !== null) return [recorded];
  if (pastDeadline) return [recorded, ...timeoutWorkflow(apply([recorded]))];
  // Extraction reads the whole body here; a repair (`settle`) can only read what was recorded.
  return [recorded, ...settle(apply([recorded]), c, body)];
}

/**
 * FinishExecution of a request job: its end is its step's end. The failure of its start (a
 * template error), or the outcome of the attempt that settled it, when the shell stopped before
 * writing it.
 */
export function finishRequest(p: WorkflowProgress): Decision {
  if (p.failure) return [event('ExecutionFailed', { error: p.failure })];
  const step = p.step;
  const last = step?.attempts.at(-1);
  if (!step || !last || step.nextAttemptAt !== null) return ignore('the outcome is not settled yet');
  return [outcomeOf(last, step.output)];
}

/** What a request job's settling attempt stands for: its output is the final output. */
function outcomeOf(attempt: AttemptRecord, output: unknown): NewExecutionEvent {
  if (attempt.status === 'SUCCESS') return event('ExecutionSucceeded', { final_output: output ?? null });
  return event('ExecutionFailed', { error: attemptError(attempt) });
}

/** Bodies above the cap are not kept in the event (the attempt's bodyPreview still shows their start). */
function recordable(body: unknown): unknown {
  if (body === null || body === undefined) return null;
  // jsonText, not JSON.stringify: it cannot overflow the stack on a deep value (docs/third-party-data.md).
  const size = typeof body === 'string' ? body.length : jsonText(body).length;
  return size <= MAX_RECORDED_OUTPUT_LENGTH ? body : null;
}

/**
 * The events that end the active step (and, for a failure, the execution), derived from what is
 * recorded: the last attempt of an http step, or the resume/decision/timeout of a parked one.
 * `source` overrides the recorded http output (the full body, when the caller still has it).
 */
export function settle(p: WorkflowProgress, c: StepContext, source?: unknown): readonly NewExecutionEvent[] {
  if (p.failure) return [event('ExecutionFailed', { error: p.failure })];
  const step = p.step;
  if (!step || step.spec.type === 'request') return [];
  const spec = step.spec;
  const completed = (output: unknown, from: unknown) => {
    const { values, contextUpdates } = extractFrom(spec, from);
    return [event('StepCompleted', { step_id: spec.id, output, extracted: values, context_updates: contextUpdates })];
  };
  const failed = (status: 'failed' | 'rejected' | 'timed_out', error: ExecutionError) => [
    event('StepFailed', { step_id: spec.id, status, error }),
    event('ExecutionFailed', { error }),
  ];
  switch (spec.type) {
    case 'http': {
      const last = step.attempts.at(-1);
      if (!last || step.nextAttemptAt !== null) return [];
      if (last.status === 'SUCCESS') return completed(step.output, source === undefined ? step.output : source);
      return failed('failed', stepAttemptError(spec.id, last));
    }
    case 'wait_for_webhook': {
      const r = step.resumed;
      if (!r) return [];
      if (r.via === 'timeout') {
        if (spec.on_timeout === 'continue') return completed(null, null);
        return failed('timed_out', { code: 'step_timeout', message: `step ${spec.id} received no webhook before it timed out` });
      }
      return completed(r.payload, r.payload);
    }
    case 'approval': {
      const d = step.resumed?.decision;
      if (!d) return [];
      if (d.decision === 'approved') return completed(d, d);
      const timedOut = step.resumed?.via === 'timeout';
      return failed(timedOut ? 'timed_out' : 'rejected', {
        code: 'approval_rejected',
        message: timedOut
          ? `step ${spec.id} was not decided before it timed out (on_timeout: reject)`
          : `step ${spec.id} was rejected${d.decided_by ? ` by ${d.decided_by}` : ''}${d.comment ? `: ${d.comment}` : ''}`,
      });
    }
    default:
      return assertNever(spec);
  }
}

/** An http step's failure: the attempt's error, naming the step. */
function stepAttemptError(stepId: string, attempt: AttemptRecord): ExecutionError {
  const error = attemptError(attempt);
  return { ...error, message: `step ${stepId}: ${error.message}` };
}

/** ResumeStep (the resume URL) and DecideApproval (the review page), both checked against the parked token. */
export function resumeStep(
  p: WorkflowProgress,
  c: StepContext,
  cmd: { tokenHash: string; now: string } & ({ via: 'resume'; payload: unknown } | { via: 'approval'; decision: ApprovalDecision }),
  apply: (events: readonly NewExecutionEvent[]) => WorkflowProgress,
): Decision {
  const step = p.step;
  const reason: WaitingReason = cmd.via === 'resume' ? 'webhook' : 'approval';
  if (!step || step.spec.id === null || !step.parked || step.parked.tokenHash !== cmd.tokenHash) {
    return ignore('the token does not belong to the waiting step', cmd.via === 'resume' ? 'already_completed' : 'already_decided');
  }
  if (step.parked.reason !== reason) return ignore(`the waiting step is not waiting for ${reason}`, 'unknown_token');
  if (Date.parse(cmd.now) >= Date.parse(step.parked.expiresAt)) return ignore('the waiting step has expired', 'expired');
  const resumed =
    cmd.via === 'resume'
      ? event('ExecutionResumed', { step_id: step.spec.id, via: 'resume', payload: cmd.payload ?? null })
      : event('ExecutionResumed', { step_id: step.spec.id, via: 'approval', payload: cmd.decision, decision: cmd.decision });
  return [resumed, ...settle(apply([resumed]), c)];
}

/** Wake: the workflow's deadline first, then the parked step's own timeout. */
export function wake(p: WorkflowProgress, c: StepContext, now: string, apply: (events: readonly NewExecutionEvent[]) => WorkflowProgress): Decision {
  if (p.failure) return ignore('the execution is already failing', 'not_due');
  if (p.deadline !== null && Date.parse(now) >= Date.parse(p.deadline)) return timeoutWorkflow(p);
  const step = p.step;
  if (!step || step.spec.id === null || !step.parked) return ignore('nothing is waiting', 'not_due');
  if (Date.parse(now) < Date.parse(step.parked.expiresAt)) return ignore('the wait has not expired', 'not_due');
  const resumed =
    step.spec.type === 'approval'
      ? (() => {
          const decision: ApprovalDecision = {
            decision: step.spec.on_timeout === 'approve' ? 'approved' : 'rejected',
            comment: null,
            decided_by: 'timeout',
            decided_at: now,
          };
          return event('ExecutionResumed', { step_id: step.spec.id, via: 'timeout', payload: decision, decision });
        })()
      : event('ExecutionResumed', { step_id: step.spec.id, via: 'timeout', payload: null });
  return [resumed, ...settle(apply([resumed]), c)];
}

export function timeoutWorkflow(p: WorkflowProgress): readonly NewExecutionEvent[] {
  const limit = Math.round((Date.parse(p.deadline!) - Date.parse(p.startedAt)) / 1000);
  const error: ExecutionError = { code: 'workflow_timeout', message: `the workflow did not finish within ${limit} s (max_workflow_duration_seconds)` };
  const stepId = p.step?.spec.id ?? null;
  return [...(stepId !== null ? [event('StepFailed', { step_id: stepId, status: 'timed_out', error })] : []), event('ExecutionFailed', { error })];
}

/** FinishExecution: every step done. final_output = the rendered response_output_template, or the final context. */
export function finish(p: WorkflowProgress, c: StepContext): Decision {
  if (p.failure || p.step || p.next < c.steps.length) return ignore('steps remain');
  const scope = scopeOf(p, c);
  let finalOutput: unknown = p.context;
  if (c.outputTemplate !== undefined && c.outputTemplate !== null) {
    try {
      finalOutput = renderOutput(c.outputTemplate, { value: p.lastOutput ?? null }, scope);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return [event('ExecutionFailed', { error: { code: 'template_error', message: `response_output_template: ${error.message}` } })];
    }
  }
  return [event('ExecutionSucceeded', { final_output: finalOutput })];
}

export type { StepContext };
