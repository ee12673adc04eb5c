import assert from "node:assert/strict";
import { PermanentError } from "./errors.ts";
import { LocalStorage, ObjectTooLargeError, readAll, safeObjectName, SupabaseStorage } from "./storage.ts";
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

Deno.test("remove takes the objects' bytes and rows, locally and through Supabase Storage in batches of 1,000", async () => {
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-storage-remove-" });
    const folder = crypto.randomUUID();
    try {
      const local = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      for (const name of ["a.txt", "b/c.txt"]) {
        await local.put("books", `${folder}/${name}`, new TextEncoder().encode(name), "text/plain");
      }
      await local.remove("books", [`${folder}/a.txt`, `${folder}/b/c.txt`, `${folder}/never.txt`]);
      const [{ rows }] = await sql`
        select count(*)::int as rows from storage.objects where bucket_id = 'books' and name like ${`${folder}/%`}`;
      assert.equal(rows, 0, "no row is left, and a name that was not there is no error");
      await assert.rejects(Deno.stat(`${dir}/books/${folder}/a.txt`), Deno.errors.NotFound);
      await assert.rejects(local.remove("books", [`${folder}/../x`]), PermanentError);
    } finally {
      await sql`delete from storage.objects where bucket_id = 'books' and name like ${`${folder}/%`}`;
      await Deno.remove(dir, { recursive: true });
    }
  });

  const requests: { method: string; path: string; auth: string | null; prefixes: string[] }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const { prefixes } = await req.json();
    requests.push({
      method: req.method,
      path: new URL(req.url).pathname,
      auth: req.headers.get("Authorization"),
      prefixes,
    });
    return prefixes.includes("u/refused.txt")
      ? Response.json({ statusCode: "403", message: "denied" }, { status: 400 })
      : Response.json(prefixes.map((name: string) => ({ name })));
  });
  try {
    const hosted = new SupabaseStorage(`http://127.0.0.1:${server.addr.port}`, "service-key");
    const names = Array.from({ length: 2500 }, (_, i) => `u/${i}.png`);
    await hosted.remove("media", names);
    assert.deepEqual(requests.map((r) => [r.method, r.path, r.auth, r.prefixes.length]), [
      ["DELETE", "/storage/v1/object/media", "Bearer service-key", 1000],
      ["DELETE", "/storage/v1/object/media", "Bearer service-key", 1000],
      ["DELETE", "/storage/v1/object/media", "Bearer service-key", 500],
    ]);
    assert.deepEqual(requests.flatMap((r) => r.prefixes), names);
    await assert.rejects(
      hosted.remove("media", ["u/refused.txt"]),
      /Storage \(removing from media\) answered HTTP 400/,
    );
  } finally {
    await server.shutdown();
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
