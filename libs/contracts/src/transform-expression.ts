import jsonata from 'jsonata';

/** Transformation expressions longer than this are refused at write. */
export const MAX_EXPRESSION_LENGTH = 10_000;

/**
 * Why an expression is not valid JSONata (with the position), or null. Parsing is linear in
 * the text and evaluates nothing, so the API does it in-process when a subscription is written.
 */
export function expressionProblem(expression: string): string | null {
  if (expression.length > MAX_EXPRESSION_LENGTH) return `must be at most ${MAX_EXPRESSION_LENGTH} characters`;
  try {
    jsonata(expression);
    return null;
  } catch (err) {
    return `is not valid JSONata: ${describeJsonataError(err)}`;
  }
}

/** `S0202 at 12: Expected ")", got "]"` from JSONata's error object (which is not an Error). */
export function describeJsonataError(err: unknown): string {
  const e = err as { code?: string; message?: string; position?: number };
  const where = typeof e.position === 'number' ? ` at ${e.position}` : '';
  return `${e.code ?? 'error'}${where}: ${e.message ?? String(err)}`;
}
