/** Errors a pipeline step can raise, classified for the worker harness. */

/** Worth trying again later: timeouts, rate limits, server errors, a busy tool. */
export class RetryableError extends Error {
  override name = "RetryableError";
}

/** Trying again will not help: bad input, a refusal, a missing prerequisite. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** Classifies an HTTP status from a provider the way the failure model prescribes. */
export function errorForStatus(provider: string, status: number, detail: string): Error {
  const message = `${provider} answered HTTP ${status}: ${detail.slice(0, 300)}`;
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
    return new RetryableError(message);
  }
  return new PermanentError(message);
}

/** SQLSTATE classes that no retry can fix: bad data, constraint and rule violations, broken SQL. */
const PERMANENT_SQLSTATE_CLASSES = ["22", "23", "42", "P0"];
/** Refusals no retry can change: the billing period's model budget is spent (LT010), the account is
 * being deleted (LT012). */
const PERMANENT_SQLSTATES = ["LT010", "LT012"];

export function isRetryable(error: unknown): boolean {
  if (error instanceof PermanentError) return false;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && PERMANENT_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return false;
  if (typeof code === "string" && PERMANENT_SQLSTATES.includes(code)) return false;
  return true; // unknown errors (network, crashes, deadlocks) are retried until the attempt limit
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
