import assert from "node:assert/strict";
import { authSettings, ConfigError, loadConfig, LOCAL_JWT_SECRET } from "./env.ts";

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

Deno.test("the local stack's well-known JWT secret is used only with an explicit loopback SUPABASE_URL", () => {
  assert.equal(authSettings(fakeEnv({})).jwtSecret, undefined);
  assert.equal(authSettings(fakeEnv({ SUPABASE_URL: "https://abc.supabase.co" })).jwtSecret, undefined);
  assert.equal(authSettings(fakeEnv({ SUPABASE_URL: "http://127.0.0.1:54321" })).jwtSecret, LOCAL_JWT_SECRET);
  assert.equal(
    authSettings(fakeEnv({ SUPABASE_URL: "https://abc.supabase.co", SUPABASE_JWT_SECRET: "s".repeat(40) }))
      .jwtSecret,
    "s".repeat(40),
  );
});
