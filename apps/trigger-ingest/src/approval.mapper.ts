import type { ApprovalDecision } from '@trigrun/execution-contracts';
import { parkLinks } from '@trigrun/execution-store';
import type { ApprovalView } from '@trigrun/execution-waitpoints';
import type { ReviewDecision, ReviewPageModel } from '@trigrun/review-page';

/** The URLs a review page's buttons post to, under the install's public base URL (parkLinks: the one spelling). */
export function approvalUrls(publicUrl: string, token: string): { approveUrl: string; rejectUrl: string } {
  const { approveUrl, rejectUrl } = parkLinks(publicUrl, token);
  return { approveUrl, rejectUrl };
}

/** `GET /v1/approvals/:token` with `Accept: application/json`. */
export function toApprovalJson(view: ApprovalView) {
  return {
    execution_id: view.executionId,
    job_id: view.jobId,
    job_name: view.jobName,
    step_id: view.stepId,
    message: view.message,
    context: view.context,
    started_at: view.startedAt,
    expires_at: view.expiresAt,
    state: view.state,
    decision: view.decision,
  };
}

export function toReviewPage(view: ApprovalView, urls: { approveUrl: string; rejectUrl: string }): ReviewPageModel {
  return {
    message: view.message,
    jobName: view.jobName,
    executionId: view.executionId,
    stepId: view.stepId,
    startedAt: view.startedAt,
    expiresAt: view.expiresAt,
    context: view.context,
    state: view.state,
    decision: view.decision ? toReviewDecision(view.decision) : null,
    ...urls,
  };
}

export const toReviewDecision = (d: ApprovalDecision): ReviewDecision => ({
  decision: d.decision,
  comment: d.comment,
  decidedBy: d.decided_by,
  decidedAt: d.decided_at,
});

/** The 409's message names the first decision: `This step was already approved by alice at 2026-…`. */
export function conflictMessage(first: ApprovalDecision | null): string {
  if (!first) return 'This step has already ended';
  return `This step was already ${first.decision}${first.decided_by ? ` by ${first.decided_by}` : ''} at ${first.decided_at}`;
}
