import assert from "node:assert/strict";
import { PermanentError } from "./errors.ts";
import { safeObjectName } from "./storage.ts";

Deno.test("object names that would leave their folder are refused, in every spelling", () => {
  const owner = "0b8e8f5e-3c1e-4a52-9a0e-4f1d2c3b4a5d";
  assert.equal(
    safeObjectName(`${owner}/books/My Novel (2nd ed.).epub`),
    `${owner}/books/My Novel (2nd ed.).epub`,
  );
  for (
    const bad of [
      `${owner}/../other/secret.txt`,
      `${owner}/%2e%2e/other/secret.txt`,
      `${owner}/%2E%2E%2Fother/secret.txt`,
      `${owner}/./secret.txt`,
      `/${owner}/secret.txt`,
      `${owner}\\..\\other\\secret.txt`,
      `${owner}//secret.txt`,
      `${owner}/secret\u0000.txt`,
      "",
    ]
  ) {
    assert.throws(() => safeObjectName(bad), PermanentError, bad);
  }
});
