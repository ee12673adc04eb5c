import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./env.ts";

function fakeEnv(values: Record<string, string>) {
  return { get: (name: string) => values[name] };
}

Deno.test("loadConfig names the missing database URL", () => {
  assert.throws(() => loadConfig(fakeEnv({})), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /SUPABASE_DB_URL/);
    return true;
  });
});

Deno.test("loadConfig treats blank keys as absent and applies local defaults", () => {
  const config = loadConfig(fakeEnv({ SUPABASE_DB_URL: "postgres://x", OPENAI_API_KEY: "  " }));
  assert.equal(config.databaseUrl, "postgres://x");
  assert.equal(config.openaiApiKey, undefined);
  assert.equal(config.supabaseUrl, "http://127.0.0.1:54321");
});
