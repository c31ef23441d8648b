/**
 * `secret://name` references in outbound header values (the redaction of what comes back is in
 * secret-redaction.ts). Pure: the caller loads the values (SecretsService.resolve).
 */

/** Secret names: letters, digits, `_`, `.` and `-`, 1 to 128 characters. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * A reference inside a header value. The name is the longest run of name characters after the
 * scheme, so `secret://api.key.` names `api.key.` (a `.` belongs to names). Global: use it only
 * with `matchAll`/`replace`, which do not share `lastIndex` state between calls.
 */
export const SECRET_REFERENCE = /secret:\/\/([A-Za-z0-9_.-]{1,128})/g;

/**
 * Names referenced in header values (header names are never read), unique, in order of first use.
 * Call it on the stored, unrendered headers: rendered values can carry trigger input, and a
 * reference smuggled in that way must not widen the set of secrets resolved.
 */
export function secretNamesIn(headers: Readonly<Record<string, string>>): string[] {
  const names = new Set<string>();
  for (const value of Object.values(headers)) {
    for (const match of value.matchAll(SECRET_REFERENCE)) names.add(match[1]);
  }
  return [...names];
}

/**
 * Replaces each `secret://name` in header values with the secret's value. An unknown name leaves
 * the literal reference in place (docs/secrets.md) and is listed in `missing`, so the caller can note it
 * without failing the request. Header names are copied as they are.
 */
export function substituteSecrets(
  headers: Readonly<Record<string, string>>,
  lookup: ReadonlyMap<string, string>,
): { headers: Record<string, string>; missing: string[] } {
  const missing = new Set<string>();
  // fromEntries defines own properties: a header named `__proto__` stays a header.
  const substituted = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      // A replacer function: the secret's text is inserted as is, `$&` and friends included.
      value.replace(SECRET_REFERENCE, (reference, secretName: string) => {
        const secret = lookup.get(secretName);
        if (secret === undefined) {
          missing.add(secretName);
          return reference;
        }
        return secret;
      }),
    ]),
  );
  return { headers: substituted, missing: [...missing] };
}
