import { escapeHtml, formatTimestamp, safeUrl, truncate } from './html';
import {
  REVIEW_PAGE_HEADERS,
  type ReviewPageModel,
  renderDecisionResult,
  renderErrorPage,
  renderNotFoundPage,
  renderReviewPage,
} from './review-page';

const APPROVE = 'https://trigrun.example/v1/approvals/exec_01JQ0000000000000000000000.secret/approve';
const REJECT = 'https://trigrun.example/v1/approvals/exec_01JQ0000000000000000000000.secret/reject';

const pending: ReviewPageModel = {
  message: 'Deploy build 42 to production?',
  jobName: 'Release pipeline',
  executionId: 'exec_01JQ0000000000000000000000',
  stepId: 'ship_it',
  startedAt: '2026-03-15T10:00:00.000Z',
  expiresAt: '2026-03-15T12:00:00.000Z',
  context: { build: '42', passed: true, count: 3, nothing: null, commit: { sha: 'abc123', files: ['a.ts'] } },
  state: 'pending',
  decision: null,
  approveUrl: APPROVE,
  rejectUrl: REJECT,
};

const decided: ReviewPageModel = {
  ...pending,
  state: 'decided',
  decision: { decision: 'approved', comment: 'Looks good', decidedBy: 'alice', decidedAt: '2026-03-15T10:30:00.000Z' },
};

/** Every start tag of the document, e.g. `<button type="submit" ...>`. */
const tagsOf = (html: string) => html.match(/<[a-zA-Z][^>]*>/g) ?? [];
const ALLOWED_TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'main', 'footer', 'h1', 'h2', 'p', 'span', 'dl', 'dt', 'dd', 'code', 'pre',
  'table', 'tbody', 'tr', 'th', 'td', 'time', 'form', 'label', 'textarea', 'input', 'button', 'div', 'strong', 'blockquote',
]);

/**
 * The page's markup is only what the renderer wrote: known tags whose attributes are all
 * `name` or `name="value"` (so no value broke out of its quotes), no event handler, no script URL
 * where a URL is expected.
 */
function expectInert(html: string) {
  for (const tag of tagsOf(html)) {
    const [, name, rest] = /^<([a-zA-Z][\w-]*)(.*)>$/s.exec(tag)!;
    expect(ALLOWED_TAGS).toContain(name.toLowerCase());
    const attributes = [...rest.matchAll(/\s+([a-z-]+)(?:="([^"]*)")?/g)];
    expect(attributes.map((a) => a[0]).join('')).toBe(rest);
    for (const [, attribute, value = ''] of attributes) {
      expect(attribute).not.toMatch(/^on|^src$|^href$|^style$/);
      // The only URL-valued attributes are form actions: http(s), a path, or nowhere.
      if (/action$/.test(attribute)) expect(value).toMatch(/^(https?:\/\/|\/[^/]|about:blank$)/);
    }
  }
  expect(html).not.toMatch(/<script/i);
  expect(html.match(/<\/textarea>/g)?.length ?? 0).toBeLessThanOrEqual(1);
}

describe('escapeHtml', () => {
  it.each`
    input                            | output
    ${'&'}                           | ${'&amp;'}
    ${'<b>'}                         | ${'&lt;b&gt;'}
    ${'"quoted"'}                    | ${'&quot;quoted&quot;'}
    ${"it's"}                        | ${'it&#39;s'}
    ${'`cmd`'}                       | ${'&#96;cmd&#96;'}
    ${'&lt; already'}                | ${'&amp;lt; already'}
    ${'plain text, 100% ok'}         | ${'plain text, 100% ok'}
  `('$input → $output', ({ input, output }) => {
    expect(escapeHtml(input)).toBe(output);
  });
});

describe('helpers', () => {
  it('truncates on code points and marks the cut with an ellipsis', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('abc…');
    expect(truncate('😀😀😀', 2)).toBe('😀😀…');
    expect(truncate('😀😀', 2)).toBe('😀😀');
  });

  it('formats ISO timestamps in UTC and leaves anything else alone', () => {
    expect(formatTimestamp('2026-03-15T10:00:00.000Z')).toBe('2026-03-15 10:00:00 UTC');
    expect(formatTimestamp('2026-03-15T10:00:00Z')).toBe('2026-03-15 10:00:00 UTC');
    expect(formatTimestamp('soon')).toBe('soon');
  });

  it.each`
    url                                        | safe
    ${APPROVE}                                 | ${APPROVE}
    ${'http://127.0.0.1:3000/v1/approvals/x'}  | ${'http://127.0.0.1:3000/v1/approvals/x'}
    ${'/v1/approvals/x/approve'}               | ${'/v1/approvals/x/approve'}
    ${'javascript:alert(1)'}                   | ${'about:blank'}
    ${' JavaScript:alert(1)'}                  | ${'about:blank'}
    ${'data:text/html,<script>'}               | ${'about:blank'}
    ${'//evil.example/approve'}                | ${'about:blank'}
  `('only http(s) and same-site URLs are used as form actions: $url', ({ url, safe }) => {
    expect(safeUrl(url)).toBe(safe);
  });
});

describe('renderReviewPage', () => {
  it('is a complete standalone HTML5 document without any script', () => {
    const html = renderReviewPage(pending);
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
    expectInert(html);
  });

  it('shows the message, the job, the execution, the step, both times and the context', () => {
    const html = renderReviewPage(pending);
    expect(html).toContain('<p class="message">Deploy build 42 to production?</p>');
    expect(html).toContain('<dd>Release pipeline</dd>');
    expect(html).toContain('<code>exec_01JQ0000000000000000000000</code>');
    expect(html).toContain('<code>ship_it</code>');
    expect(html).toContain('<time datetime="2026-03-15T10:00:00.000Z">2026-03-15 10:00:00 UTC</time>');
    expect(html).toContain('<dt>Expires</dt><dd><time datetime="2026-03-15T12:00:00.000Z">2026-03-15 12:00:00 UTC</time>');
    expect(html).toContain('<th scope="row"><code>build</code></th><td>42</td>');
    expect(html).toContain('<th scope="row"><code>passed</code></th><td><code>true</code></td>');
    expect(html).toContain('<th scope="row"><code>count</code></th><td><code>3</code></td>');
    expect(html).toContain('<th scope="row"><code>nothing</code></th><td><code>null</code></td>');
    expect(html).toContain(`<pre>${escapeHtml(JSON.stringify(pending.context.commit, null, 2))}</pre>`);
  });

  it('says so when there is no context yet or the execution has not started', () => {
    const html = renderReviewPage({ ...pending, context: {}, startedAt: null });
    expect(html).toContain('No context yet.');
    expect(html).toContain('not started');
  });

  it('cuts long context values to about 500 characters with an ellipsis', () => {
    const html = renderReviewPage({ ...pending, context: { long: 'x'.repeat(5000), nested: { blob: 'y'.repeat(5000) } } });
    expect(html).toContain(`<td>${'x'.repeat(500)}…</td>`);
    expect(html).not.toContain('x'.repeat(501));
    expect(html).toMatch(/y{400,}…<\/pre>/);
    expect(html).not.toContain('y'.repeat(500));
  });

  it('while pending, offers one form: a comment, a name, and Approve and Reject posting to their own URLs', () => {
    const html = renderReviewPage(pending);
    expect(html.match(/<form\b/g)).toHaveLength(1);
    expect(html).toContain('<form method="post" enctype="application/x-www-form-urlencoded">');
    expect(html).toContain('<textarea id="comment" name="comment" rows="4" maxlength="2000"></textarea>');
    expect(html).toContain('name="decided_by"');
    expect(html).toContain(`<button type="submit" class="approve" formaction="${APPROVE}">Approve</button>`);
    expect(html).toContain(`<button type="submit" class="reject" formaction="${REJECT}">Reject</button>`);
    // Pressing Enter must not approve: the form's default button is a disabled one.
    expect(tagsOf(html).find((t) => t.startsWith('<button'))).toBe('<button type="submit" disabled hidden aria-hidden="true" tabindex="-1">');
  });

  it('once decided, shows who decided, when and why instead of the buttons', () => {
    const html = renderReviewPage(decided);
    expect(html).not.toContain('<form');
    expect(html).not.toContain('<button');
    expect(html).not.toContain('formaction');
    expect(html).toContain('<strong>Approved</strong> by <strong>alice</strong> at <time datetime="2026-03-15T10:30:00.000Z">');
    expect(html).toContain('<blockquote>Looks good</blockquote>');
  });

  it('shows a rejection by nobody in particular, without a comment', () => {
    const html = renderReviewPage({ ...decided, decision: { decision: 'rejected', comment: null, decidedBy: null, decidedAt: '2026-03-15T10:30:00.000Z' } });
    expect(html).toContain('<div class="outcome rejected"><p><strong>Rejected</strong> at <time');
    expect(html).not.toContain('<blockquote>');
  });

  it('shows a decided step whose decision is not known without offering a form', () => {
    const html = renderReviewPage({ ...decided, decision: null });
    expect(html).toContain('This step has already been decided.');
    expect(html).not.toContain('<form');
  });

  describe('hostile values come out inert', () => {
    const attacks = [
      '<script>alert(1)</script>',
      '"><script>alert(1)</script>',
      '" onmouseover="alert(1)',
      "' onfocus='alert(1)' autofocus='",
      '</textarea><script>alert(1)</script><textarea>',
      'javascript:alert(1)',
      '<img src=x onerror=alert(1)>',
      '`${alert(1)}`',
      '</style><script>alert(1)</script>',
      '<!--',
      ']]><svg onload=alert(1)>',
    ];

    it.each(attacks)('in every field of a pending page: %s', (attack) => {
      const html = renderReviewPage({
        ...pending,
        message: attack,
        jobName: attack,
        executionId: attack,
        stepId: attack,
        startedAt: attack,
        expiresAt: attack,
        context: { [attack]: attack, nested: { [attack]: [attack] }, list: [attack] },
        approveUrl: attack,
        rejectUrl: `${APPROVE}${attack}`,
      });
      expectInert(html);
      expect(html).toContain(`<p class="message">${escapeHtml(attack)}</p>`);
      if (/[<>"'`]/.test(attack)) expect(html).not.toContain(attack);
    });

    it.each(attacks)('in a decision shown on the page and on the result pages: %s', (attack) => {
      const decision = { decision: 'approved' as const, comment: attack, decidedBy: attack, decidedAt: attack };
      for (const html of [
        renderReviewPage({ ...decided, decision }),
        renderDecisionResult({ kind: 'decided', executionId: attack, decision }),
        renderDecisionResult({ kind: 'conflict', executionId: attack, first: decision }),
        renderErrorPage({ title: attack, message: attack }),
      ]) {
        expectInert(html);
        expect(html).toContain(escapeHtml(attack));
      }
    });

    it('keeps a javascript: URL out of the form actions', () => {
      const html = renderReviewPage({ ...pending, approveUrl: 'javascript:alert(1)', rejectUrl: 'JAVASCRIPT:alert(1)' });
      expect(html).toContain('formaction="about:blank">Approve');
      expect(html).toContain('formaction="about:blank">Reject');
    });

    it('a decision value that is not approved/rejected cannot reach an attribute', () => {
      const decision = { decision: '"><script>alert(1)</script>' as 'approved', comment: null, decidedBy: null, decidedAt: '2026-03-15T10:30:00.000Z' };
      expectInert(renderReviewPage({ ...decided, decision }));
    });
  });
});

describe('renderDecisionResult', () => {
  const decision = { decision: 'approved' as const, comment: 'ok', decidedBy: 'bob', decidedAt: '2026-03-15T11:00:00.000Z' };

  it('confirms an approval', () => {
    const html = renderDecisionResult({ kind: 'decided', executionId: pending.executionId, decision });
    expect(html).toContain('<h1>Approved</h1>');
    expect(html).toContain('The workflow continues.');
    expect(html).toContain('<strong>Approved</strong> by <strong>bob</strong>');
    expect(html).toContain(pending.executionId);
    expect(html).not.toContain('<form');
    expectInert(html);
  });

  it('confirms a rejection', () => {
    const html = renderDecisionResult({ kind: 'decided', executionId: pending.executionId, decision: { ...decision, decision: 'rejected' } });
    expect(html).toContain('<h1>Rejected</h1>');
    expect(html).toContain('approval rejected');
  });

  it('names the first decision when the step was already decided', () => {
    const html = renderDecisionResult({ kind: 'conflict', executionId: pending.executionId, first: { ...decision, decidedBy: 'alice' } });
    expect(html).toContain('<h1>Already decided</h1>');
    expect(html).toContain('Your decision was not recorded.');
    expect(html).toContain('<strong>Approved</strong> by <strong>alice</strong> at <time datetime="2026-03-15T11:00:00.000Z">');
  });

  it('still answers when the first decision is not known', () => {
    const html = renderDecisionResult({ kind: 'conflict', executionId: pending.executionId, first: null });
    expect(html).toContain('The step has ended.');
  });
});

describe('the other pages', () => {
  it('a not-found page tells nothing about why', () => {
    const html = renderNotFoundPage();
    expect(html).toContain('unknown or has expired');
    expect(html).toContain('<meta name="robots" content="noindex">');
    expectInert(html);
  });
});

describe('REVIEW_PAGE_HEADERS', () => {
  it('forbid scripts, framing, caching and referrers', () => {
    expect(REVIEW_PAGE_HEADERS).toEqual({
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
  });
});
