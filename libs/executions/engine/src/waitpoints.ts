import { type ApprovalDecision, type ExecutionEvent, storableText, storableValue } from '@trigrun/execution-contracts';
import { type ExecutionIdentity, contextOf, parkedStepOf } from '@trigrun/execution-domain';
import { type ExecutionStore, type LoadedExecution, UnstorableEventError } from './execution-store';
import { executionIdOfToken, hashParkToken, sameTokenHash } from './park-tokens';

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

/** What the review page shows (SPEC §7). */
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
 * The public side of parking (SPEC §7): resume calls and approval decisions, verified against the
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
    const found = await this.find(token, 'webhook');
    if (found.kind !== 'found') return found.kind === 'used' ? { kind: 'already_completed', executionId: found.executionId } : { kind: 'not_found' };
    const now = this.now();
    let result;
    try {
      result = await this.store.execute(found.identity, () => ({ type: 'ResumeStep', tokenHash: found.hash, payload, now: now.toISOString() }), {
        now: this.now,
        loaded: found.loaded,
      });
    } catch (error) {
      if (error instanceof UnstorableEventError) return { kind: 'unstorable', reason: error.message };
      throw error;
    }
    if (!('ignored' in result)) return { kind: 'resumed', executionId: found.identity.executionId };
    return result.code === 'expired' || result.code === 'unknown_token' ? { kind: 'not_found' } : { kind: 'already_completed', executionId: found.identity.executionId };
  }

  async decide(token: string, input: DecisionInput): Promise<DecisionOutcome> {
    const found = await this.find(token, 'approval');
    if (found.kind === 'missing') return { kind: 'not_found' };
    if (found.kind === 'used') return { kind: 'conflict', executionId: found.executionId, first: decisionOf(found.loaded.events, found.stepId) };
    const now = this.now().toISOString();
    const text = (v: string | null | undefined) => (v === null || v === undefined ? null : storableText(v));
    const decision: ApprovalDecision = { decision: input.decision, comment: text(input.comment), decided_by: text(input.decidedBy), decided_at: now };
    const result = await this.store.execute(found.identity, () => ({ type: 'DecideApproval', tokenHash: found.hash, decision, now }), {
      now: this.now,
      loaded: found.loaded,
    });
    if (!('ignored' in result)) return { kind: 'decided', executionId: found.identity.executionId, decision };
    if (result.code === 'expired' || result.code === 'unknown_token') return { kind: 'not_found' };
    return { kind: 'conflict', executionId: found.identity.executionId, first: decisionOf(result.loaded.events, found.stepId) };
  }

  /** The review page's data; null for an unknown token. A GET never decides anything. */
  async describe(token: string): Promise<ApprovalView | null> {
    const found = await this.find(token, 'approval');
    if (found.kind === 'missing') return null;
    const { loaded, stepId } = found;
    const queued = loaded.events[0];
    if (!queued || queued.type !== 'ExecutionQueued') return null;
    const parked = [...loaded.events].reverse().find((e) => e.type === 'ExecutionParked' && e.data.step_id === stepId);
    if (!parked || parked.type !== 'ExecutionParked') return null;
    const started = loaded.events.find((e) => e.type === 'ExecutionStarted');
    const decision = decisionOf(loaded.events, stepId);
    return {
      executionId: queued.execution_id,
      jobId: queued.job_id,
      jobName: queued.data.job.name,
      stepId,
      message: parked.data.message ?? '',
      context: contextOf(loaded.state),
      startedAt: started?.occurred_at ?? null,
      expiresAt: parked.data.expires_at,
      state: found.kind === 'found' ? 'pending' : 'decided',
      decision,
    };
  }

  /**
   * Finds the parked step a token belongs to. `used`: the token was issued for a step of this
   * execution that has since ended (a second resume, a late decision); `missing`: anything else.
   */
  private async find(
    token: string,
    reason: 'webhook' | 'approval',
  ): Promise<
    | { kind: 'found'; identity: ExecutionIdentity; loaded: LoadedExecution; hash: string; stepId: string }
    | { kind: 'used'; executionId: string; loaded: LoadedExecution; stepId: string }
    | { kind: 'missing' }
  > {
    const executionId = executionIdOfToken(token);
    if (!executionId) return { kind: 'missing' };
    const loaded = await this.store.load(executionId);
    const first = loaded.events[0];
    if (!first) return { kind: 'missing' };
    const hash = hashParkToken(token);
    const issued = loaded.events.find((e) => e.type === 'ExecutionParked' && e.data.reason === reason && sameTokenHash(e.data.token_hash, hash));
    if (!issued || issued.type !== 'ExecutionParked') return { kind: 'missing' };
    const stepId = issued.data.step_id;
    const parked = parkedStepOf(loaded.state);
    if (parked && parked.stepId === stepId && sameTokenHash(parked.tokenHash, hash)) {
      if (Date.parse(parked.expiresAt) <= this.now().getTime()) return { kind: 'missing' };
      return { kind: 'found', identity: { executionId, jobId: first.job_id, workspaceId: first.workspace_id }, loaded, hash, stepId };
    }
    // The token was issued but its step is over: expired steps answer 404, ended ones "already completed".
    const resumed = loaded.events.some((e) => e.type === 'ExecutionResumed' && e.data.step_id === stepId && e.data.via !== 'timeout');
    return resumed ? { kind: 'used', executionId, loaded, stepId } : { kind: 'missing' };
  }
}

function decisionOf(events: readonly ExecutionEvent[], stepId: string): ApprovalDecision | null {
  for (const e of events) if (e.type === 'ExecutionResumed' && e.data.step_id === stepId && e.data.decision) return e.data.decision;
  return null;
}
