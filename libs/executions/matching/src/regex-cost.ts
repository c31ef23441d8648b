/**
 * An estimate of how much work V8's linear-time engine does per input character for a pattern.
 *
 * The engine simulates an NFA (no backtracking), so matching costs O(program size × input
 * length) — linear in the input, but with a large constant: measured on Node 20, about 0.2 µs
 * per unit of this estimate per character in the worst case (e.g. a 500-character alternation
 * over a 64 KiB body took ~30 s). The engine reports no size, so we estimate it from the
 * pattern: one unit per literal or assertion, a character class per range it compiles to
 * (`.` ≈ 4, `\s` ≈ 10), counted repetition multiplies its operand, `*`/`?` add a fork, `+` copies
 * the operand once, each alternative adds a fork. It over-counts rather than under-counts;
 * only relative size matters, as it is divided into a work budget (linear-regex-engine.ts).
 *
 * Call it on patterns the engine already accepted: it does not validate syntax.
 */
export function estimateRegexCost(pattern: string): number {
  let i = 0;
  const n = pattern.length;

  const alternation = (): number => {
    let total = sequence();
    while (pattern[i] === '|') {
      i++;
      total += sequence() + 1;
    }
    return total;
  };

  const sequence = (): number => {
    let total = 0;
    while (i < n && pattern[i] !== '|' && pattern[i] !== ')') total += quantified(atom());
    return total;
  };

  const atom = (): number => {
    const c = pattern[i];
    if (c === '(') {
      i++;
      if (pattern[i] === '?') {
        i++;
        if (pattern[i] === '<' && pattern[i + 1] !== '=' && pattern[i + 1] !== '!') {
          while (i < n && pattern[i] !== '>') i++;
        }
        i++;
      }
      const inner = alternation();
      if (pattern[i] === ')') i++;
      return inner + 1;
    }
    if (c === '[') return characterClass();
    if (c === '\\') return escape(false);
    i++;
    return c === '.' ? 4 : 1;
  };

  const quantified = (operand: number): number => {
    const c = pattern[i];
    let cost = operand;
    if (c === '*' || c === '?') {
      i++;
      cost = operand + 1;
    } else if (c === '+') {
      i++;
      cost = 2 * operand + 1;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (!m) return operand; // a literal `{`: the next atom reads it
      i += m[0].length;
      const min = Math.min(Number(m[1]), 1e6);
      const max = m[2] === undefined ? min : m[3] ? Math.min(Number(m[3]), 1e6) : undefined;
      cost = max === undefined ? operand * (min + 1) + 1 : Math.max(operand * max + (max - min), 1);
    } else {
      return operand;
    }
    if (pattern[i] === '?') i++; // lazy: same program size
    return cost;
  };

  const CLASS_ESCAPE_COST: Record<string, number> = { d: 1, D: 2, w: 4, W: 5, s: 10, S: 11 };

  const escape = (inClass: boolean): number => {
    const e = pattern[i + 1];
    i += 2;
    if (e === undefined) return 1;
    if (e in CLASS_ESCAPE_COST) return CLASS_ESCAPE_COST[e];
    if (e === 'x') i += hexRun(2);
    else if (e === 'u') i += hexRun(4); // no `u` flag: `\u{…}` is `u` then literal braces
    else if (e === 'c' && !inClass) i += 1;
    return 1;
  };

  const hexRun = (max: number): number => {
    let k = 0;
    while (k < max && /[0-9A-Fa-f]/.test(pattern[i + k] ?? '')) k++;
    return k;
  };

  const characterClass = (): number => {
    i++;
    let cost = 0;
    if (pattern[i] === '^') {
      i++;
      cost++;
    }
    while (i < n && pattern[i] !== ']') {
      cost += pattern[i] === '\\' ? escape(true) : (i++, 1);
      if (pattern[i] === '-' && pattern[i + 1] !== ']' && i + 1 < n) {
        i++;
        if (pattern[i] === '\\') escape(true);
        else i++;
      }
    }
    i++;
    return Math.max(cost, 1);
  };

  let total = 0;
  while (i < n) {
    total += alternation();
    if (pattern[i] === ')') i++;
  }
  return Math.max(total, 1);
}
