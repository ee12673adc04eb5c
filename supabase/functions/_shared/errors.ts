/** Errors a pipeline step can raise, classified for the worker harness. */

/** Worth trying again later: timeouts, rate limits, server errors, a busy tool. */
export class RetryableError extends Error {
  override name = "RetryableError";
}

/** Trying again will not help: bad input, a refusal, a missing prerequisite. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** A provider answered with an HTTP error status, later worth retrying: it did no work, billed nothing. */
export class RetryableRefusal extends RetryableError {
  readonly unbilled = true;
}

/** A provider answered with an HTTP error status no retry will change: it did no work, billed nothing. */
export class PermanentRefusal extends PermanentError {
  readonly unbilled = true;
}

/** Classifies an HTTP status from a provider the way the failure model prescribes. */
export function errorForStatus(provider: string, status: number, detail: string): Error {
  const message = `${provider} answered HTTP ${status}: ${detail.slice(0, 300)}`;
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
    return new RetryableRefusal(message);
  }
  return new PermanentRefusal(message);
}

/**
 * Whether a failed call provably cost nothing: the provider refused it with an error status. Any
 * other failure (a timeout, an answer refused by our checks, a crash after the answer) may have been
 * billed, so its reservation keeps counting.
 */
export function wasUnbilled(error: unknown): boolean {
  return (error as { unbilled?: unknown } | null)?.unbilled === true;
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

/** SQLSTATEs our own SQL raises on purpose, with a message written for the user. */
const OWN_SQLSTATE = /^(?:LT\d{3}|P0001|P0002)$/;

/**
 * What a failure may tell the user whose work it was (it is recorded where they read it): a message
 * written for people (PermanentError, RetryableError, a refusal of our SQL). Anything else (a bug, a
 * file the worker could not read, the database's own words about a statement) is logged whole and
 * named by a reference.
 */
export function failureMessage(error: unknown): string {
  if (error instanceof PermanentError || error instanceof RetryableError) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === "string" && OWN_SQLSTATE.test(code)) return error.message;
  const reference = crypto.randomUUID();
  console.error(`internal error ${reference}:`, error);
  return `an internal error stopped this step; it was logged as ${reference}`;
}
