/** The local API's gateway: what a request nobody expected to fail tells its caller. */
import assert from "node:assert/strict";
import { startApi } from "./server.ts";

Deno.test("an unexpected error is a 500 with a reference; its message, paths included, goes to the log", async () => {
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-api-" });
  const api = startApi({
    port: 0,
    storageDir,
    fallback: () => Deno.readTextFile("/nonexistent/litinkai/secret.txt").then(() => null),
  });
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  try {
    const res = await fetch(`${api.url}/functions/v1/anything`, { method: "POST" });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!text.includes("nonexistent"), text);
    const { message } = JSON.parse(text);
    const reference = message.match(/^something went wrong on our side; it was logged as ([0-9a-f-]{36})$/)
      ?.[1];
    assert.ok(reference, message);
    const line = logged.find((l) => l.includes(reference));
    assert.ok(line, "the log names the reference");
    assert.match(line, /\/nonexistent\/litinkai\/secret\.txt/);
  } finally {
    console.error = original;
    await api.close();
    await Deno.remove(storageDir, { recursive: true });
  }
});
