import assert from "node:assert/strict";
import { errorForStatus, isRetryable, PermanentError, RetryableError } from "./errors.ts";

Deno.test("provider HTTP statuses are classified as the failure model prescribes", () => {
  for (const status of [408, 429, 500, 502, 503]) {
    assert.ok(errorForStatus("p", status, "") instanceof RetryableError);
  }
  for (const status of [400, 401, 403, 404, 422]) {
    assert.ok(errorForStatus("p", status, "") instanceof PermanentError);
  }
});

Deno.test("database errors: broken SQL and constraint violations are permanent, deadlocks are not", () => {
  const pgError = (code: string) => Object.assign(new Error("db"), { code });
  assert.equal(isRetryable(pgError("42702")), false);
  assert.equal(isRetryable(pgError("23505")), false);
  assert.equal(isRetryable(pgError("40P01")), true);
  assert.equal(isRetryable(pgError("LT012")), false, "an account being deleted starts nothing, ever");
  assert.equal(isRetryable(new Error("connection reset")), true);
  assert.equal(isRetryable(new PermanentError("refused")), false);
});
