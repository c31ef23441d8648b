/**
 * Which of HTML and JSON a client prefers, from its `Accept` header: the higher q-value wins,
 * then the more specific match (`text/html` over `text/*` over `*\/*`), then the range listed
 * first. So a browser gets HTML, `Accept: application/json` gets JSON, and `*\/*` or no header
 * leaves the choice to the endpoint.
 */
export type Preference = 'html' | 'json' | 'either';

interface Match {
  readonly q: number;
  readonly specificity: number;
  readonly index: number;
}

export function preferenceOf(accept: string | undefined): Preference {
  if (!accept?.trim()) return 'either';
  const ranges = accept.split(',').map((part, index) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    return { range, q: Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0, index };
  });
  const html = bestMatch(ranges, 'text/html');
  const json = bestMatch(ranges, 'application/json');
  const order = compare(html, json);
  return order > 0 ? 'html' : order < 0 ? 'json' : 'either';
}

function bestMatch(ranges: ReadonlyArray<{ range: string; q: number; index: number }>, mediaType: string): Match | null {
  const [type] = mediaType.split('/');
  let best: Match | null = null;
  for (const { range, q, index } of ranges) {
    const specificity = range === mediaType ? 2 : range === `${type}/*` ? 1 : range === '*/*' ? 0 : -1;
    // The most specific range that matches decides the q-value (RFC 9110 §12.5.1).
    if (specificity >= 0 && (best === null || specificity > best.specificity)) best = { q, specificity, index };
  }
  return best && best.q > 0 ? best : null;
}

/** > 0 when `a` is preferred, < 0 when `b` is, 0 when neither. */
function compare(a: Match | null, b: Match | null): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  return a.q - b.q || a.specificity - b.specificity || b.index - a.index;
}
