import { documentOf, escapeHtml, safeUrl, time, truncate } from './html';

/** A recorded decision on an approval step. */
export interface ReviewDecision {
  readonly decision: 'approved' | 'rejected';
  readonly comment: string | null;
  readonly decidedBy: string | null;
  readonly decidedAt: string;
}

/** What the review page of an approval step shows (docs/workflows.md). */
export interface ReviewPageModel {
  /** The step's rendered message, shown most prominently. */
  readonly message: string;
  readonly jobName: string;
  readonly executionId: string;
  readonly stepId: string;
  readonly startedAt: string | null;
  readonly expiresAt: string;
  /** The execution's context so far: values came from third-party responses, so nothing here is trusted. */
  readonly context: Readonly<Record<string, unknown>>;
  /** `pending`: the form is shown; `decided`: the decision is shown instead of it. */
  readonly state: 'pending' | 'decided';
  readonly decision: ReviewDecision | null;
  /** Absolute URLs the Approve and Reject buttons post to. */
  readonly approveUrl: string;
  readonly rejectUrl: string;
}

/** What the page answering a form post shows. */
export type DecisionResultModel =
  | { readonly kind: 'decided'; readonly executionId: string; readonly decision: ReviewDecision }
  /** The step had already been decided; `first` is that decision, when it is known. */
  | { readonly kind: 'conflict'; readonly executionId: string; readonly first: ReviewDecision | null };

/**
 * Headers every review and result page is served with: no script may run, nothing may be
 * loaded, forms may post only back to this origin, and the page is never framed, cached or
 * leaked through a Referer (its URL is the credential).
 */
export const REVIEW_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export const COMMENT_MAX_LENGTH = 2000;
export const DECIDED_BY_MAX_LENGTH = 200;

const VALUE_MAX_LENGTH = 500;
const KEY_MAX_LENGTH = 200;
const MESSAGE_MAX_LENGTH = 10_000;
const CONTEXT_MAX_ROWS = 200;

export function renderReviewPage(view: ReviewPageModel): string {
  const body = [
    '<h1>Approval requested</h1>',
    `<p class="message">${escapeHtml(truncate(view.message, MESSAGE_MAX_LENGTH)) || '<span class="empty">(no message)</span>'}</p>`,
    '<dl class="facts">',
    `<dt>Job</dt><dd>${escapeHtml(view.jobName)}</dd>`,
    `<dt>Execution</dt><dd><code>${escapeHtml(view.executionId)}</code></dd>`,
    `<dt>Step</dt><dd><code>${escapeHtml(view.stepId)}</code></dd>`,
    `<dt>Started</dt><dd>${view.startedAt ? time(view.startedAt) : '<span class="empty">not started</span>'}</dd>`,
    `<dt>Expires</dt><dd>${time(view.expiresAt)}</dd>`,
    '</dl>',
    '<h2>Context so far</h2>',
    contextTable(view.context),
    view.state === 'pending' ? decisionForm(view) : decidedBlock(view.decision),
  ].join('\n');
  return documentOf(view.state === 'pending' ? 'Approval requested' : 'Approval decided', body);
}

export function renderDecisionResult(result: DecisionResultModel): string {
  if (result.kind === 'decided') {
    const { decision } = result.decision;
    const next = decision === 'approved' ? 'The workflow continues.' : 'The execution ends as failed (approval rejected).';
    const body = [
      `<h1>${decision === 'approved' ? 'Approved' : 'Rejected'}</h1>`,
      `<p class="message">Your decision was recorded. ${next}</p>`,
      `<dl class="facts"><dt>Execution</dt><dd><code>${escapeHtml(result.executionId)}</code></dd></dl>`,
      decisionOutcome(result.decision),
    ].join('\n');
    return documentOf(decision === 'approved' ? 'Approved' : 'Rejected', body);
  }
  const body = [
    '<h1>Already decided</h1>',
    '<p class="message">This step had already been decided. Your decision was not recorded.</p>',
    `<dl class="facts"><dt>Execution</dt><dd><code>${escapeHtml(result.executionId)}</code></dd></dl>`,
    result.first ? decisionOutcome(result.first) : '<div class="outcome neutral"><p>The step has ended.</p></div>',
  ].join('\n');
  return documentOf('Already decided', body);
}

/** Unknown, expired and ended-by-timeout links all look the same: nothing tells which. */
export function renderNotFoundPage(): string {
  return renderErrorPage({
    title: 'Link not found',
    message: 'This approval link is unknown or has expired. Nothing was decided.',
  });
}

/** A page for a request the server refused (e.g. a comment that is too long), in the same look. */
export function renderErrorPage(error: { readonly title: string; readonly message: string }): string {
  return documentOf(error.title, [`<h1>${escapeHtml(error.title)}</h1>`, `<p class="message">${escapeHtml(error.message)}</p>`].join('\n'));
}

function contextTable(context: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(context);
  if (entries.length === 0) return '<p class="empty">No context yet.</p>';
  const rows = entries
    .slice(0, CONTEXT_MAX_ROWS)
    .map(([key, value]) => `<tr><th scope="row"><code>${escapeHtml(truncate(key, KEY_MAX_LENGTH))}</code></th><td>${contextValue(value)}</td></tr>`);
  const more = entries.length > CONTEXT_MAX_ROWS ? `<p class="note">…and ${entries.length - CONTEXT_MAX_ROWS} more entries.</p>` : '';
  return `<table>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>${more}`;
}

/** Strings as they are; everything else as JSON (objects pretty-printed); all cut to ~500 characters. */
function contextValue(value: unknown): string {
  if (typeof value === 'string') return escapeHtml(truncate(value, VALUE_MAX_LENGTH));
  const structured = typeof value === 'object' && value !== null;
  const text = truncate(jsonOf(value, structured), VALUE_MAX_LENGTH);
  return structured ? `<pre>${escapeHtml(text)}</pre>` : `<code>${escapeHtml(text)}</code>`;
}

function jsonOf(value: unknown, pretty: boolean): string {
  try {
    return JSON.stringify(value, null, pretty ? 2 : undefined) ?? String(value);
  } catch {
    return String(value);
  }
}

function decisionForm(view: ReviewPageModel): string {
  return [
    '<form method="post" enctype="application/x-www-form-urlencoded">',
    // Implicit submission (Enter in the name field) uses the form's first submit button; a
    // disabled one makes it do nothing, so a decision always takes a deliberate click.
    '<button type="submit" disabled hidden aria-hidden="true" tabindex="-1"></button>',
    `<label for="comment">Comment <span class="empty">(optional)</span></label>`,
    `<textarea id="comment" name="comment" rows="4" maxlength="${COMMENT_MAX_LENGTH}"></textarea>`,
    `<label for="decided_by">Your name <span class="empty">(optional)</span></label>`,
    `<input id="decided_by" name="decided_by" type="text" maxlength="${DECIDED_BY_MAX_LENGTH}" autocomplete="name">`,
    '<div class="actions">',
    `<button type="submit" class="approve" formaction="${escapeHtml(safeUrl(view.approveUrl))}">Approve</button>`,
    `<button type="submit" class="reject" formaction="${escapeHtml(safeUrl(view.rejectUrl))}">Reject</button>`,
    '</div>',
    '</form>',
  ].join('\n');
}

function decidedBlock(decision: ReviewDecision | null): string {
  return decision ? decisionOutcome(decision) : '<div class="outcome neutral"><p>This step has already been decided.</p></div>';
}

function decisionOutcome(d: ReviewDecision): string {
  const who = d.decidedBy ? ` by <strong>${escapeHtml(d.decidedBy)}</strong>` : '';
  const comment = d.comment ? `<blockquote>${escapeHtml(d.comment)}</blockquote>` : '';
  const [kind, label] = d.decision === 'approved' ? ['approved', 'Approved'] : ['rejected', 'Rejected'];
  return `<div class="outcome ${kind}"><p><strong>${label}</strong>${who} at ${time(d.decidedAt)}.</p>${comment}</div>`;
}
