/**
 * The few HTML primitives the pages are built from. Everything interpolated into markup goes
 * through `escapeHtml`: the context shown on the review page comes from third-party responses.
 */
const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Safe in text and in quoted attribute values (all attributes here are double-quoted). */
export const escapeHtml = (value: string): string => value.replace(/[&<>"'`]/g, (c) => ENTITIES[c]);

/** Cuts on a code point boundary, so a surrogate pair is never split. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const points = Array.from(value);
  return points.length <= max ? value : `${points.slice(0, max).join('')}…`;
}

/**
 * URLs for `formaction`: only absolute http(s) URLs or a same-site path. Anything else
 * (`javascript:`, `data:`, protocol-relative) becomes an action that goes nowhere.
 */
export function safeUrl(value: string): string {
  return /^https?:\/\/[^\s]+$/i.test(value) || /^\/(?!\/)[^\s]*$/.test(value) ? value : 'about:blank';
}

/** `2026-03-15T10:00:00.000Z` → `2026-03-15 10:00:00 UTC`; anything that is not such a timestamp is shown as it is. */
export function formatTimestamp(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

export const time = (iso: string): string => `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatTimestamp(iso))}</time>`;

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #f5f6f8; --card: #fff; --line: #dde1e8;
  --ok: #1f7a3d; --ok-bg: #e7f5ec; --no: #b42318; --no-bg: #fdecea; --accent: #2d5bd7; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ee; --muted: #a3abba; --bg: #14171c; --card: #1c2027; --line: #2e3440;
  --ok: #5cc585; --ok-bg: #15291d; --no: #f0857b; --no-bg: #2f1917; --accent: #7c9cf0; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 2rem 1rem; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 46rem; margin: 0 auto; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.5rem 1.75rem; }
h1 { font-size: 1.1rem; font-weight: 600; margin: 0 0 1rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
h2 { font-size: 1rem; margin: 1.75rem 0 .5rem; }
.message { font-size: 1.35rem; line-height: 1.4; font-weight: 600; margin: 0 0 1.25rem; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font: .9rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-top: 1px solid var(--line); overflow-wrap: anywhere; }
th { width: 30%; font-weight: 500; color: var(--muted); }
td pre { margin: 0; white-space: pre-wrap; }
.empty, .note { color: var(--muted); }
form { margin-top: 1.75rem; }
label { display: block; font-weight: 500; margin: .75rem 0 .25rem; }
textarea, input[type=text] { width: 100%; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
.actions { display: flex; gap: .75rem; margin-top: 1.25rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.4rem; border-radius: 6px; border: 1px solid transparent; cursor: pointer; color: #fff; }
button.approve { background: var(--ok); }
button.reject { background: var(--no); }
.outcome { padding: 1rem 1.25rem; border-radius: 8px; margin: 1.25rem 0 0; }
.outcome.approved { background: var(--ok-bg); border: 1px solid var(--ok); }
.outcome.rejected { background: var(--no-bg); border: 1px solid var(--no); }
.outcome.neutral { border: 1px solid var(--line); }
.outcome p { margin: .25rem 0; }
.outcome blockquote { margin: .5rem 0 0; padding-left: .75rem; border-left: 3px solid var(--line); white-space: pre-wrap; overflow-wrap: anywhere; }
footer { max-width: 46rem; margin: 1rem auto 0; color: var(--muted); font-size: .85rem; text-align: center; }
`;

/**
 * A complete, standalone HTML5 document: inline CSS, no script, no external resource, so it works
 * under the strict policy in `REVIEW_PAGE_HEADERS` and in any browser. `body` is trusted markup
 * built by this lib from escaped values.
 */
export function documentOf(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)} · TrigRun</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<main>${body}</main>`,
    '<footer>TrigRun</footer>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
