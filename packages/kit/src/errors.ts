/**
 * A problem the caller can fix: a bad input, a failed gate, a registry in an unexpected state.
 * Reported as a plain message. Anything else that escapes an action is a bug and is reported with its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Builds the one-line message for a bad input: which input, what was wrong, what would be right. */
export function inputProblem(input: string, problem: string): string {
  return `Input "${input}": ${problem}`;
}
