import assert from "node:assert/strict";
import { withSql } from "../testing.ts";
import { MODELS } from "./models.ts";

Deno.test("every model the providers use has a price", async () => {
  await withSql(async (sql) => {
    const priced = new Set((await sql`select model from private.model_prices`).map((r) => r.model));
    const missing = Object.values(MODELS).filter((model) => !priced.has(model));
    assert.deepEqual(missing, [], "add these to private.model_prices in the usage migration");
  });
});
