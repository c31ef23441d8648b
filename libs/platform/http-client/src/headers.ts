/**
 * Lower-cases names, drops `host` (it must name the host that passed the address check; node:http
 * derives it from the URL) and supplies a default user agent. When the caller repeats a name in
 * different cases, the last one wins rather than sending both.
 */
export function normaliseRequestHeaders(headers: Readonly<Record<string, string>> | undefined, userAgent: string): Record<string, string> {
  const byName = new Map<string, string>([['user-agent', userAgent]]);
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower !== 'host') byName.set(lower, value);
  }
  // Object.fromEntries defines own properties, so a header called __proto__ cannot reach the prototype.
  return Object.fromEntries(byName);
}

/**
 * Response headers from node's raw pairs, not `res.headers`: node keeps only the first value of some
 * repeated headers and returns set-cookie as an array, while callers want one string per name.
 */
export function joinResponseHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const byName = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const previous = byName.get(name);
    byName.set(name, previous === undefined ? rawHeaders[i + 1] : `${previous}, ${rawHeaders[i + 1]}`);
  }
  return Object.fromEntries(byName);
}
