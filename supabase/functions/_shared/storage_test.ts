import assert from "node:assert/strict";
import { PermanentError } from "./errors.ts";
import { readAll, safeObjectName } from "./storage.ts";

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

Deno.test("a download is read into one buffer of its announced length; a wrong or missing length still gives every byte", async () => {
  const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
  const stream = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 7_000) controller.enqueue(bytes.slice(at, at + 7_000));
        controller.close();
      },
    });
  for (const announced of [bytes.length, bytes.length + 500, bytes.length - 30_000, NaN]) {
    const read = await readAll(stream(), announced);
    assert.deepEqual(read, bytes, `announced ${announced}`);
  }
  const exact = await readAll(stream(), bytes.length);
  assert.equal(exact.buffer.byteLength, bytes.length, "one buffer, no slack");
});
