import { type ApprovalDecision, type ExecutionEvent, type ExecutionEventOf, storableText, storableValue } from '@trigrun/execution-contracts';
import { type ExecutionIdentity, type IgnoreCode, contextOf, decide, isIgnore } from '@trigrun/execution-domain';
import { type ExecutionStore, type LoadedExecution, UnstorableEventError } from '@trigrun/execution-store';
import { executionIdOfToken, hashParkToken, sameTokenHash } from '@trigrun/execution-store';

/**
 * A resume payload becomes part of an event (and JetStream's default message limit is 1 MB), so
 * it is capped below the public body limit; larger payloads answer 413 and change nothing.
 */
export const MAX_RESUME_PAYLOAD_BYTES = 512 * 1024;

export type ResumeOutcome =
  | { readonly kind: 'resumed'; readonly executionId: string }
  | { readonly kind: 'too_large' }
  /** The payload made storable still cannot be recorded (it grew past a message's size): nothing changed. */
  | { readonly kind: 'unstorable'; readonly reason: string }
  | { readonly kind: 'already_completed'; readonly executionId: string }
  | { readonly kind: 'not_found' };

export type DecisionOutcome =
  | { readonly kind: 'decided'; readonly executionId: string; readonly decision: ApprovalDecision }
  /** The step was already decided by a person: `first` says how. (A step ended by its timeout is expired: not_found.) */
  | { readonly kind: 'conflict'; readonly executionId: string; readonly first: ApprovalDecision | null }
  | { readonly kind: 'not_found' };

/** What the review page shows (docs/workflows.md). */
export interface ApprovalView {
  readonly executionId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly stepId: string;
  readonly message: string;
  /** The execution's context so far. */
  readonly context: Readonly<Record<string, unknown>>;
  readonly startedAt: string | null;
  readonly expiresAt: string;
  /** `pending` while a decision is possible; otherwise the decision that ended the step. */
  readonly state: 'pending' | 'decided';
  readonly decision: ApprovalDecision | null;
}

export interface DecisionInput {
  readonly decision: 'approved' | 'rejected';
  readonly comment?: string | null;
  readonly decidedBy?: string | null;
}

/**
 * The public side of parking (docs/workflows.md): resume calls and approval decisions, verified against the
 * token's hash in constant time, applied through the decider like any other command. The append's
 * expected sequence makes two racing calls produce one continuation; the loser reloads and is told
 * the step is already completed. An accepted call is answered only after its event is stored, so
 * it survives a restart of whatever acts on it next.
 */
export class Waitpoints {
  constructor(
    private readonly store: ExecutionStore,
    private readonly now: () => Date,
  ) {}

  /**
   * `payload` is third-party data: it is recorded in its storable form (docs/third-party-data.md),
   * so NUL and lone surrogates arrive as U+FFFD and what nests below MAX_STORED_JSON_DEPTH as its
   * JSON text, whoever the caller (trigger-ingest's body parsers already keep a too-deep body
   * whole as its own text).
   */
  async resume(token: string, rawPayload: unknown): Promise<ResumeOutcome> {
    const payload = storableValue(rawPayload ?? null);
    if (Buffer.byteLength(JSON.stringify(payload), 'utf8') > MAX_RESUME_PAYLOAD_BYTES) return { kind: 'too_large' };
    const issued = await this.find(token, 'webhook');
    if (!issued) return { kind: 'not_found' };
    let result;
    try {
      result = await this.store.execute(issued.identity, () => ({ type: 'ResumeStep', tokenHash: issued.hash, payload, now: this.now().toISOString() }), {
        now: this.now,
        loaded: issued.loaded,
      });
    } catch (error) {
      if (error instanceof UnstorableEventError) return { kind: 'unstorable', reason: error.message };
      throw error;
    }
    if (!('ignored' in result)) return { kind: 'resumed', executionId: issued.identity.executionId };
    return refusedAsUsed(result, issued.stepId) ? { kind: 'already_completed', executionId: issued.identity.executionId } : { kind: 'not_found' };
  }

  async decide(token: string, input: DecisionInput): Promise<DecisionOutcome> {
    const issued = await this.find(token, 'approval');
    if (!issued) return { kind: 'not_found' };
    const now = this.now().toISOString();
    const text = (v: string | null | undefined) => (v === null || v === undefined ? null : storableText(v));
    const decision: ApprovalDecision = { decision: input.decision, comment: text(input.comment), decided_by: text(input.decidedBy), decided_at: now };
    const result = await this.store.execute(issued.identity, () => ({ type: 'DecideApproval', tokenHash: issued.hash, decision, now }), {
      now: this.now,
      loaded: issued.loaded,
    });
    if (!('ignored' in result)) return { kind: 'decided', executionId: issued.identity.executionId, decision };
    if (!refusedAsUsed(result, issued.stepId)) return { kind: 'not_found' };
    return { kind: 'conflict', executionId: issued.identity.executionId, first: decisionOf(result.loaded.events, issued.stepId) };
  }

  /** The review page's data; null for an unknown token. A GET never decides anything. */
  async describe(token: string): Promise<ApprovalView | null> {
    const issued = await this.find(token, 'approval');
    if (!issued) return null;
    const { loaded, stepId, parked } = issued;
    const queued = loaded.events[0];
    if (!queued || queued.type !== 'ExecutionQueued') return null;
    // Pending when the decider would take a decision now: it alone says what "waiting" means.
    const now = this.now().toISOString();
    const probe: ApprovalDecision = { decision: 'approved', comment: null, decided_by: null, decided_at: now };
    const pending = !isIgnore(decide({ type: 'DecideApproval', tokenHash: issued.hash, decision: probe, now }, loaded.state));
    if (!pending && !decidedByPerson(loaded.events, stepId)) return null;
    const started = loaded.events.find((e) => e.type === 'ExecutionStarted');
    return {
      executionId: queued.execution_id,
      jobId: queued.job_id,
      jobName: queued.data.job.name,
      stepId,
      message: parked.data.message ?? '',
      context: contextOf(loaded.state),
      startedAt: started?.occurred_at ?? null,
      expiresAt: parked.data.expires_at,
      state: pending ? 'pending' : 'decided',
      decision: decisionOf(loaded.events, stepId),
    };
  }

  /**
   * The execution a token was issued for, and the step it was issued to: null when the token is
   * malformed, or names an execution that never issued it (for this kind of step). Whether the
   * step still waits, and whether the token is still good, is the decider's to say.
   */
  private async find(token: string, reason: 'webhook' | 'approval'): Promise<Issued | null> {
    const executionId = executionIdOfToken(token);
    if (!executionId) return null;
    const loaded = await this.store.load(executionId);
    const first = loaded.events[0];
    if (!first) return null;
    const hash = hashParkToken(token);
    const parked = loaded.events.find(
      (e): e is ExecutionEventOf<'ExecutionParked'> => e.type === 'ExecutionParked' && e.data.reason === reason && sameTokenHash(e.data.token_hash, hash),
    );
    if (!parked) return null;
    return { identity: { executionId, jobId: first.job_id, workspaceId: first.workspace_id }, loaded, hash, stepId: parked.data.step_id, parked };
  }
}

interface Issued {
  readonly identity: ExecutionIdentity;
  readonly loaded: LoadedExecution;
  readonly hash: string;
  readonly stepId: string;
  readonly parked: ExecutionEventOf<'ExecutionParked'>;
}

/**
 * Whether a refused resume or decision met a step that a caller already ended (answered "already
 * completed" / 409), rather than one that expired or timed out (answered 404, as an unknown
 * link is).
 */
function refusedAsUsed(result: { code?: IgnoreCode; loaded: LoadedExecution }, stepId: string): boolean {
  if (result.code === 'expired' || result.code === 'unknown_token') return false;
  return decidedByPerson(result.loaded.events, stepId);
}

/** The step's wait was ended by a resume call or a decision, not by its timeout. */
const decidedByPerson = (events: readonly ExecutionEvent[], stepId: string): boolean =>
  events.some((e) => e.type === 'ExecutionResumed' && e.data.step_id === stepId && e.data.via !== 'timeout');

function decisionOf(events: readonly ExecutionEvent[], stepId: string): ApprovalDecision | null {
  for (const e of events) if (e.type === 'ExecutionResumed' && e.data.step_id === stepId && e.data.decision) return e.data.decision;
  return null;
}
