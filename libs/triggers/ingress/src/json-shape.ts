/** What is wrong with the shape of a parsed JSON value, if anything. */
export type ShapeProblem = { readonly kind: 'too_deep' } | { readonly kind: 'too_many_members' };

/**
 * Depth and size of a parsed JSON value against the limits, in one pass with its own stack (no
 * recursion, so no depth can overflow it), stopping at the first limit crossed.
 *
 * Depth counts containers: a scalar is 0, `[]` and `{}` are 1, `{"a":[1]}` is 2 (as
 * MAX_STORED_JSON_DEPTH counts). Members are every object key and every array element, at any
 * level: `{"a":[1,2]}` has 3.
 */
export function shapeProblem(root: unknown, maxDepth: number, maxMembers: number): ShapeProblem | undefined {
  let members = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    const level = depth + 1;
    if (level > maxDepth) return { kind: 'too_deep' };
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
    members += children.length;
    if (members > maxMembers) return { kind: 'too_many_members' };
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: level });
  }
  return undefined;
}
