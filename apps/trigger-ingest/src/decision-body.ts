import { ApiError, type FieldProblem } from '@trigrun/nest';
import { COMMENT_MAX_LENGTH, DECIDED_BY_MAX_LENGTH } from '@trigrun/review-page';

export interface DecisionBody {
  readonly comment: string | null;
  readonly decidedBy: string | null;
}

const LIMITS = { comment: COMMENT_MAX_LENGTH, decided_by: DECIDED_BY_MAX_LENGTH } as const;

/**
 * `{comment?, decided_by?}` from a JSON or form body (docs/workflows.md). Both are optional strings; an
 * empty body, `null` or an empty field (what a form sends for a blank input) means "not given".
 * Lengths count characters (code points), so what the page's `maxlength` lets through passes.
 */
export function decisionBodyOf(body: unknown): DecisionBody {
  if (body === undefined || body === null || body === '') return { comment: null, decidedBy: null };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw ApiError.validation([{ field: 'body', message: 'must be an object with optional comment and decided_by' }]);
  }
  const fields = body as Record<string, unknown>;
  const problems: FieldProblem[] = Object.keys(fields)
    .filter((key) => !Object.hasOwn(LIMITS, key))
    .map((key) => ({ field: key, message: 'is not allowed' }));
  const read = (key: keyof typeof LIMITS): string | null => {
    const value = fields[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') {
      problems.push({ field: key, message: 'must be a string' });
      return null;
    }
    const text = value.trim();
    if (Array.from(text).length > LIMITS[key]) problems.push({ field: key, message: `must be at most ${LIMITS[key]} characters` });
    return text === '' ? null : text;
  };
  const comment = read('comment');
  const decidedBy = read('decided_by');
  if (problems.length > 0) throw ApiError.validation(problems);
  return { comment, decidedBy };
}
