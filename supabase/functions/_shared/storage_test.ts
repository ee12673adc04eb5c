import assert from "node:assert/strict";
import { PermanentError } from "./errors.ts";
import { LocalStorage, ObjectTooLargeError, safeObjectName, SupabaseStorage } from "./storage.ts";
import { withSql } from "./testing.ts";

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

Deno.test("get stops at maxBytes: a larger object is refused, locally and from Supabase Storage, declared or streamed", async () => {
  const megabyte = new Uint8Array(1024 * 1024).fill(1);
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-storage-get-" });
    const path = `${crypto.randomUUID()}/big.wav`;
    try {
      const local = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      await local.put("media", path, megabyte, "audio/wav");
      assert.equal((await local.get("media", path, megabyte.length)).length, megabyte.length);
      await assert.rejects(local.get("media", path, megabyte.length - 1), (error) => {
        assert.ok(error instanceof ObjectTooLargeError && error instanceof PermanentError);
        assert.deepEqual([error.size, error.maxBytes], [megabyte.length, megabyte.length - 1]);
        return true;
      });
    } finally {
      await sql`delete from storage.objects where bucket_id = 'media' and name = ${path}`;
      await Deno.remove(dir, { recursive: true });
    }
  });

  // Supabase Storage's answer with its length declared, and streamed without one.
  let served = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    if (req.url.endsWith("/declared.wav")) return new Response(megabyte);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (served >= 64) return controller.close();
        served++;
        controller.enqueue(megabyte);
      },
    });
    return new Response(body);
  });
  try {
    const hosted = new SupabaseStorage(`http://127.0.0.1:${server.addr.port}`, "service-key");
    await assert.rejects(hosted.get("media", "u/declared.wav", 1000), ObjectTooLargeError);
    await assert.rejects(hosted.get("media", "u/streamed.wav", 2 * megabyte.length), ObjectTooLargeError);
    assert.ok(served < 64, `stopped reading after ${served} of 64 MB`);
    assert.equal(
      (await hosted.get("media", "u/declared.wav")).length,
      megabyte.length,
      "no limit: all of it",
    );
  } finally {
    await server.shutdown();
  }
});
