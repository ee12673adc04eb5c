import assert from "node:assert/strict";
import { handle, readJson, uuidField } from "./http.ts";
import { asUser, createTestUser, deleteTestUser, withSql } from "./testing.ts";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("http://localhost/functions/v1/x", { method: "POST", body, headers });

Deno.test("JSON bodies: objects only, bounded in size; errors are 400/413 with a message, never 500", async () => {
  const echo = handle(async (req) => Response.json(await readJson(req)));
  const answer = async (req: Request) => {
    const res = await echo(req);
    return { status: res.status, body: await res.json() };
  };
  assert.deepEqual(await answer(post('{"a": 1}')), { status: 200, body: { a: 1 } });
  for (const body of ["null", "[1]", '"text"', "3"]) {
    assert.deepEqual(await answer(post(body)), {
      status: 400,
      body: { error: "the request body must be a JSON object", code: "bad_request" },
    }, body);
  }
  assert.equal((await answer(post(null))).status, 400);
  assert.equal((await answer(post("{"))).body.error, "the request body must be JSON");
  const big = await answer(post(JSON.stringify({ pad: "x".repeat(70_000) })));
  assert.deepEqual(big, {
    status: 413,
    body: { error: "the request body is limited to 65536 bytes", code: "payload_too_large" },
  });
  // A declared length over the limit is refused before reading; a lying one is cut off while reading.
  assert.equal((await answer(post("{}", { "Content-Length": "10000000" }))).status, 413);
  let sent = 0;
  const endless = new ReadableStream({
    pull(controller) {
      sent += 16_384;
      controller.enqueue(new Uint8Array(16_384).fill(32));
    },
  });
  assert.equal((await answer(post(endless))).status, 413);
  assert.ok(sent < 200_000, `stopped reading after ${sent} bytes`);
});

Deno.test("uuid fields: a malformed id is a 400 naming the field", () => {
  assert.equal(
    uuidField("0b6a4a5e-8d2f-4c53-9a43-5b1f1d2a9c10", "chapter_id"),
    "0b6a4a5e-8d2f-4c53-9a43-5b1f1d2a9c10",
  );
  assert.equal(uuidField(undefined, "book_id", true), null);
  for (
    const bad of ["------------------------------------", "x", 7, null, "0b6a4a5e-8d2f-4c53-9a43-5b1f1d2a9c1"]
  ) {
    assert.throws(
      () => uuidField(bad, "chapter_id"),
      (e: { status?: number; message?: string }) =>
        e.status === 400 && e.message === '"chapter_id" must be a uuid',
    );
  }
});

Deno.test("the database's rate limit reaches the client as 429 with its message", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "rate-limited");
    try {
      await sql`update private.rate_limits set max_calls = 1 where action = 'script'`;
      const take = handle(async () => {
        await asUser(sql, userId, (tx) => tx`select private.take_rate_limit('script')`);
        return Response.json({ ok: true });
      });
      assert.equal((await take(post("{}"))).status, 200);
      const refused = await take(post("{}"));
      assert.equal(refused.status, 429);
      assert.match(
        (await refused.json()).error,
        /too many script requests: at most 1 per 3600 s; try again in \d+ s/,
      );
    } finally {
      await sql`update private.rate_limits set max_calls = 30 where action = 'script'`;
      await deleteTestUser(sql, userId);
    }
  });
});

Deno.test("a 500 tells the caller a reference only; what went wrong, SQL and paths included, goes to the log", async () => {
  await withSql(async (sql) => {
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      for (
        const fail of [
          () => sql`select secret from public.no_such_table where owner = 'someone else'`,
          () => Deno.readTextFile("/nonexistent/litinkai/secret.txt"),
        ]
      ) {
        const res = await handle(async () => {
          await fail();
          return Response.json({ ok: true });
        })(post("{}"));
        assert.equal(res.status, 500);
        const body = await res.json();
        assert.deepEqual(Object.keys(body).sort(), ["code", "error", "reference"]);
        assert.equal(body.code, "internal_error");
        assert.equal(body.error, `something went wrong on our side; it was logged as ${body.reference}`);
        const line = logged.at(-1)!.map(String).join(" ");
        assert.ok(line.includes(body.reference), "the log names the reference");
        assert.match(line, /no_such_table|\/nonexistent\/litinkai\/secret\.txt/, "and says what happened");
      }
    } finally {
      console.error = original;
    }
  });
});

Deno.test("JSON bodies: nesting, NUL characters, unpaired surrogates and invalid UTF-8 are 400s", async () => {
  const echo = handle(async (req) => Response.json(await readJson(req)));
  const answer = async (body: BodyInit) => {
    const res = await echo(post(body));
    return { status: res.status, error: (await res.json()).error };
  };
  const nested = (depth: number) => `{"a": ${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
  assert.equal((await answer(nested(32))).status, 200, "32 levels are allowed");
  assert.deepEqual(await answer(nested(33)), {
    status: 400,
    error: "the request body is nested more than 32 levels deep",
  });
  assert.equal((await answer(nested(30_000))).status, 400);
  assert.deepEqual(await answer(String.raw`{"a": ["x\u0000"]}`), {
    status: 400,
    error: "the request body must not contain NUL characters",
  });
  assert.equal((await answer(String.raw`{"a\u0000": 1}`)).status, 400, "in a key too");
  assert.deepEqual(await answer(String.raw`{"a": "\udc00"}`), {
    status: 400,
    error: "the request body must not contain unpaired surrogates",
  });
  assert.equal((await answer(String.raw`{"a": "\ud83d\ude00"}`)).status, 200, "a pair is a character");
  assert.deepEqual(await answer(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d])), {
    status: 400,
    error: "the request body must be UTF-8 text",
  });
});
