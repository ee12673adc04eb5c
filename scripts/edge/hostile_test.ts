/**
 * Every function as an attacker reaches it: its real process, sent bodies no client would send
 * (nested 100,000 levels, far over the limit without a length, invalid UTF-8, NUL characters, the
 * wrong content type, arrays and nested arrays where values are expected). Each is refused with a
 * 4xx and a short JSON reason, or (workers, health) answered without the body being read; none is
 * a 500, and no answer carries a stack, a file path or SQL.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { LOCAL_JWT_SECRET } from "../../supabase/functions/_shared/env.ts";
import { edgeFunctions } from "../../supabase/functions/_shared/placement.ts";
import {
  createTestUser,
  deleteTestUser,
  testDatabaseUrl,
  withSql,
} from "../../supabase/functions/_shared/testing.ts";
import { type EdgeProcess, startEdgeFunction, startRecordedProviders } from "./harness.ts";

const USER_FUNCTIONS = ["search", "generate-script", "billing-checkout"];
const WORKERS = ["plot", "mint", "pipeline-script", "pipeline-images", "delete-account"];

async function userToken(userId: string): Promise<string> {
  return await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime("1h")
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
}

/** `[[[...]]]` nested `depth` times. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

/** `bytes` in 16 KiB chunks with no Content-Length (sent chunked). */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + 16_384));
      at += 16_384;
    },
  });
}

const encode = (text: string) => new TextEncoder().encode(text);

interface Answer {
  status: number;
  text: string;
}

async function send(fn: EdgeProcess, init: RequestInit): Promise<Answer> {
  const res = await fetch(fn.url, { method: "POST", ...init });
  return { status: res.status, text: await res.text() };
}

/** What no answer may carry: a stack frame, a file path or URL of the server, SQL or the database's own words. */
function leaks(text: string): string[] {
  const found: string[] = [];
  if (/\bat .+:\d+:\d+/.test(text)) found.push("a stack frame");
  if (/file:\/\/|\/(?:work|tmp|home|root|var|usr)\//.test(text)) found.push("a file path");
  if (/\b(?:select|insert|update|delete)\b.+\b(?:from|into|set|where)\b/i.test(text)) found.push("SQL");
  if (/byte sequence|relation "|violates|syntax error|stack size/i.test(text)) {
    found.push("an internal message");
  }
  return found;
}

/** What went otherwise than expected, all of it, so that one run shows every hole. */
const problems: string[] = [];

function refused(answer: Answer, status: number, what: string) {
  let error: unknown;
  try {
    error = JSON.parse(answer.text).error;
  } catch {
    // not JSON: said below
  }
  const found = leaks(answer.text);
  if (answer.status !== status || typeof error !== "string" || found.length > 0) {
    problems.push(
      `${what}: ${answer.status} ${answer.text.slice(0, 200)}${found.length ? ` (${found})` : ""}`,
    );
  }
}

Deno.test("hostile bodies: every function refuses them with a 4xx and a short reason, never a 500", async () => {
  // The test's list stays the placement's: a new Edge function must be added here.
  assert.deepEqual(
    edgeFunctions({ get: (name: string) => (name === "MODELSLAB_API_KEY" ? "set" : Deno.env.get(name)) })
      .map((p) => p.name).sort(),
    [...USER_FUNCTIONS, ...WORKERS, "billing-portal", "health", "stripe-webhook"].sort(),
  );
  const storageDir = await Deno.makeTempDir({ prefix: "hostile-" });
  const providers = startRecordedProviders();
  const env = {
    SUPABASE_DB_URL: testDatabaseUrl(),
    SUPABASE_URL: "http://127.0.0.1:54321",
    STRIPE_WEBHOOK_SECRET: "whsec_hostile",
    ...providers.env,
  };
  const started: EdgeProcess[] = [];
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "hostile");
    try {
      const names = [...USER_FUNCTIONS, ...WORKERS, "billing-portal", "health", "stripe-webhook"];
      const fns = Object.fromEntries(
        await Promise.all(names.map(async (name) => {
          const fn = await startEdgeFunction(name, env, storageDir);
          started.push(fn);
          return [name, fn] as const;
        })),
      );
      const auth = { Authorization: `Bearer ${await userToken(userId)}` };
      const json = { ...auth, "Content-Type": "application/json" };

      // The portal reads no body: this user has no Stripe customer yet, whatever is sent.
      refused(await send(fns["billing-portal"], { headers: auth, body: nested(30_000) }), 409, "portal");

      for (const name of USER_FUNCTIONS) {
        const fn = fns[name];
        // 100,000 levels: 200 kB, refused as too large while it streams in.
        refused(
          await send(fn, { headers: auth, body: chunked(encode(nested(100_000))) }),
          413,
          `${name} deep`,
        );
        // Far over the limit, no Content-Length.
        refused(
          await send(fn, { headers: auth, body: chunked(new Uint8Array(4 * 1024 * 1024).fill(0x20)) }),
          413,
          `${name} 4 MiB chunked`,
        );
        // A request each function would take, with one value replaced: nested 30,000 levels (inside
        // the limit), holding invalid UTF-8, a NUL character or half a surrogate pair.
        const fields = {
          query: "lighthouse",
          tier: "standard",
          style: "cinematic",
          chapter_id: crypto.randomUUID(),
        };
        const withField = (field: string, raw: string) =>
          JSON.stringify({ ...fields, [field]: "RAW" }).replace('"RAW"', raw);
        for (const field of [...Object.keys(fields), "match_count"]) {
          refused(
            await send(fn, { headers: json, body: withField(field, nested(30_000)) }),
            400,
            `${name} ${field} nested 30,000 levels`,
          );
          const [before, after] = withField(field, '"X"').split('"X"');
          refused(
            await send(fn, {
              headers: json,
              body: new Uint8Array([...encode(`${before}"`), 0xff, 0xfe, ...encode(`"${after}`)]),
            }),
            400,
            `${name} invalid UTF-8 in ${field}`,
          );
          refused(
            await send(fn, { headers: json, body: withField(field, String.raw`"standard\u0000"`) }),
            400,
            `${name} NUL in ${field}`,
          );
          refused(
            await send(fn, { headers: json, body: withField(field, String.raw`"x\ud800"`) }),
            400,
            `${name} unpaired surrogate in ${field}`,
          );
        }
        refused(await send(fn, { headers: json, body: "[]" }), 400, `${name} an array`);
        refused(
          await send(fn, {
            headers: { ...auth, "Content-Type": "application/x-www-form-urlencoded" },
            body: "tier=standard&query=x",
          }),
          400,
          `${name} a form`,
        );
        const form = new FormData();
        form.set("tier", "standard");
        refused(await send(fn, { headers: auth, body: form }), 400, `${name} multipart`);
      }

      // Arrays where a string is expected are not coerced into one.
      refused(
        await send(fns["billing-checkout"], { headers: json, body: '{"tier": ["standard"]}' }),
        400,
        "checkout tier as an array",
      );
      refused(
        await send(fns.search, { headers: json, body: '{"query": "lighthouse", "match_count": [5]}' }),
        400,
        "search match_count as an array",
      );

      // Workers answer 401 without reading what an unauthenticated caller sends; health ignores it.
      for (const name of WORKERS) {
        const answer = await send(fns[name], { body: chunked(encode(nested(100_000))) });
        refused(answer, 401, `${name} deep`);
      }
      const health = await send(fns.health, { body: chunked(encode(nested(100_000))) });
      assert.deepEqual([health.status, JSON.parse(health.text)], [200, { ok: true }]);
      // The webhook: unsigned is refused before reading, a forged signature after at most its limit.
      refused(
        await send(fns["stripe-webhook"], { body: chunked(encode(nested(100_000))) }),
        400,
        "webhook unsigned",
      );
      refused(
        await send(fns["stripe-webhook"], {
          headers: { "Stripe-Signature": `t=${Math.floor(Date.now() / 1000)},v1=00` },
          body: chunked(encode(nested(100_000))),
        }),
        400,
        "webhook forged",
      );
      refused(
        await send(fns["stripe-webhook"], {
          headers: { "Stripe-Signature": "t=1,v1=00" },
          body: new Uint8Array([0x7b, 0xff, 0x7d]),
        }),
        400,
        "webhook invalid UTF-8",
      );
      for (const fn of started) assert.ok(fn.alive(), `${fn.name} is still running`);
      assert.deepEqual(problems, []);
    } finally {
      await Promise.all(started.map((fn) => fn.stop()));
      await providers.close();
      await deleteTestUser(sql, userId);
      await Deno.remove(storageDir, { recursive: true });
    }
  });
});
