/**
 * The local Storage, tried from the outside through the official client: anon, another user, the
 * owner and the service role; uploads, downloads, signed and public URLs, listing, removal, limits.
 */
import assert from "node:assert/strict";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { SignJWT } from "jose";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { ANON_KEY, jwtSecret, SERVICE_ROLE_KEY } from "./context.ts";
import { startApi } from "./server.ts";
import { storage } from "./storage.ts";

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("local Storage: upload, read, sign, list and remove under the storage policies", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-storage-" });
  const api = await startApi({ port: 0, storageDir: dir });
  const run = crypto.randomUUID().slice(0, 8);
  const client = (key = ANON_KEY): SupabaseClient =>
    createClient(api.url, key, { auth: { persistSession: false, autoRefreshToken: false } });
  const signedUpClient = async (label: string) => {
    const user = client();
    const { data, error } = await user.auth.signUp({
      email: `${label}-${run}@test.local`,
      password: "storage-pw-1",
    });
    assert.equal(error, null);
    return { client: user, id: data.user!.id };
  };
  const anon = client();
  const service = client(SERVICE_ROLE_KEY);
  const owner = await signedUpClient("storage-owner");
  const other = await signedUpClient("storage-other");
  // Two buckets of the test's own: tiny limits, one public (the service role writes them).
  const [limited, open] = [`test-limited-${run}`, `test-public-${run}`];
  await api.ctx.sql`
    insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
    values (${limited}, ${limited}, false, 8, array['text/plain', 'image/*']),
           (${open}, ${open}, true, null, null)`;
  const book = `${owner.id}/drafts/chapter 1.txt`;
  const rowsNamed = async (bucket: string, name: string) =>
    await api.ctx.sql`
      select owner, owner_id, metadata from storage.objects where bucket_id = ${bucket} and name = ${name}`;
  const leftovers = () => [...Deno.readDirSync(`${dir}/.uploads`)].length;
  try {
    await t.step("the owner uploads into their folder; the row and the bytes are recorded", async () => {
      const { data, error } = await owner.client.storage.from("books").upload(book, text("Once upon"), {
        contentType: "text/plain",
      });
      assert.equal(error, null);
      assert.deepEqual([data?.path, data?.fullPath], [book, `books/${book}`]);
      const [row] = await rowsNamed("books", book);
      assert.deepEqual([row.owner, row.owner_id], [owner.id, owner.id]);
      assert.deepEqual([row.metadata.size, row.metadata.mimetype], [9, "text/plain"]);
      assert.equal(await Deno.readTextFile(`${dir}/books/${book}`), "Once upon");
      const blob = await owner.client.storage.from("books").upload(
        `${owner.id}/drafts/notes.md`,
        new Blob(["# Notes"], { type: "text/markdown" }),
      );
      assert.equal(blob.error, null, "a Blob goes as a multipart form");
      assert.equal(
        (await rowsNamed("books", `${owner.id}/drafts/notes.md`))[0].metadata.mimetype,
        "text/markdown",
      );
    });

    await t.step(
      "uploads outside the caller's folder are refused, leaving neither row nor bytes",
      async () => {
        const elsewhere = `${other.id}/planted.txt`;
        for (const uploader of [owner.client, anon]) {
          const { error } = await uploader.storage.from("books").upload(elsewhere, text("x"), {
            contentType: "text/plain",
          });
          assert.deepEqual(
            [
              (error as { status?: number })?.status,
              (error as { statusCode?: string })?.statusCode,
              error?.message,
            ],
            [400, "403", "new row violates row-level security policy"],
          );
        }
        assert.equal((await rowsNamed("books", elsewhere)).length, 0);
        await assert.rejects(Deno.stat(`${dir}/books/${elsewhere}`), Deno.errors.NotFound);
        assert.equal(leftovers(), 0, "no temporary file stays behind");
      },
    );

    await t.step("a taken name needs upsert; upsert and update replace the bytes", async () => {
      const taken = await owner.client.storage.from("books").upload(book, text("again"), {
        contentType: "text/plain",
      });
      assert.equal((taken.error as { statusCode?: string })?.statusCode, "409");
      const upserted = await owner.client.storage.from("books").upload(book, text("Upserted"), {
        contentType: "text/plain",
        upsert: true,
      });
      assert.equal(upserted.error, null);
      assert.equal(await Deno.readTextFile(`${dir}/books/${book}`), "Upserted");
      const updated = await owner.client.storage.from("books").update(book, text("Updated"), {
        contentType: "text/plain",
      });
      assert.equal(updated.error, null);
      assert.equal((await rowsNamed("books", book))[0].metadata.size, 7);
      const hijack = await other.client.storage.from("books").upload(book, text("mine"), {
        contentType: "text/plain",
        upsert: true,
      });
      assert.equal(
        (hijack.error as { statusCode?: string })?.statusCode,
        "403",
        "nobody else may replace it",
      );
      assert.equal(await Deno.readTextFile(`${dir}/books/${book}`), "Updated");
    });

    await t.step("the bucket's size and mime type limits", async () => {
      const bucket = service.storage.from(limited);
      assert.equal(
        (await bucket.upload("ok.txt", text("8 bytes!"), { contentType: "text/plain" })).error,
        null,
      );
      const big = await bucket.upload("big.txt", text("9 bytes!!"), { contentType: "text/plain" });
      assert.deepEqual([(big.error as { statusCode?: string })?.statusCode, big.error?.message], [
        "413",
        "The object exceeded the maximum allowed size",
      ]);
      const gif = await bucket.upload("a.gif", text("GIF89a"), { contentType: "image/gif" });
      assert.equal(gif.error, null, "image/* allows any image");
      const pdf = await bucket.upload("a.pdf", text("%PDF"), { contentType: "application/pdf" });
      assert.equal((pdf.error as { statusCode?: string })?.statusCode, "415");
      assert.equal(
        (await rowsNamed(limited, "big.txt")).length + (await rowsNamed(limited, "a.pdf")).length,
        0,
      );
      assert.equal(leftovers(), 0);
    });

    await t.step("an oversized upload is refused before it is read whole", async () => {
      // Content-Length says too much: refused before a byte of the body is sent.
      const connection = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(api.url).port) });
      await connection.write(text(
        `POST /storage/v1/object/${limited}/huge.txt HTTP/1.1\r\nHost: localhost\r\n` +
          `Authorization: Bearer ${SERVICE_ROLE_KEY}\r\nContent-Type: text/plain\r\n` +
          `Content-Length: 1000000000\r\nConnection: close\r\n\r\n`,
      ));
      // The server waits for the body it refused: read the answer, then hang up.
      let answer = "";
      for await (const chunk of connection.readable) {
        answer += new TextDecoder().decode(chunk);
        if (/\r\n\r\n\{.*\}$/s.test(answer)) break;
      }
      assert.match(answer, /^HTTP\/1\.1 400/);
      assert.match(answer, /"statusCode":"413"/);

      // No Content-Length: the stream is cut off at the limit, raw or as a multipart form.
      const total = 64 * 1024 * 1024;
      const streamedUpload = async (contentType: string, head = "") => {
        let sent = 0, answered = false;
        const chunk = new Uint8Array(64 * 1024).fill(97);
        const body = new ReadableStream<Uint8Array>({
          start: (controller) => controller.enqueue(text(head)),
          pull: (controller) => {
            if (answered || sent >= total) return controller.close();
            controller.enqueue(chunk);
            sent += chunk.length;
          },
        });
        const res = await fetch(`${api.url}/storage/v1/object/${limited}/streamed.txt`, {
          method: "POST",
          headers: { Authorization: `Bearer ${SERVICE_ROLE_KEY}`, "Content-Type": contentType },
          body,
        });
        answered = true;
        return { statusCode: (await res.json()).statusCode, sent };
      };
      for (
        const [contentType, head] of [
          ["text/plain", ""],
          [
            "multipart/form-data; boundary=XyZ",
            '--XyZ\r\nContent-Disposition: form-data; name=""; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\n',
          ],
        ]
      ) {
        const { statusCode, sent } = await streamedUpload(contentType, head);
        assert.equal(statusCode, "413", contentType);
        assert.ok(sent < total / 2, `${contentType}: ${sent} bytes were read before the refusal`);
      }
      assert.equal((await rowsNamed(limited, "streamed.txt")).length, 0);
      assert.equal(leftovers(), 0);
    });

    await t.step("names the local layout cannot hold are refused with 400 or 409", async () => {
      const books = owner.client.storage.from("books");
      const upload = async (name: string) => {
        const { error } = await books.upload(name, text("x"), { contentType: "text/plain" });
        return (error as { statusCode?: string } | null)?.statusCode;
      };
      // (storage-js strips a trailing slash; sent as is, Storage refuses it.)
      const folder = await fetch(`${api.url}/storage/v1/object/books/${owner.id}/folder/`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SERVICE_ROLE_KEY}`, "Content-Type": "text/plain" },
        body: "x",
      });
      assert.deepEqual(
        [folder.status, (await folder.json()).code],
        [400, "InvalidKey"],
        "a name is not a folder",
      );
      assert.equal(await upload(`${owner.id}/clash`), undefined);
      assert.equal(await upload(`${owner.id}/clash/inner.txt`), "409", "an object is not a folder here");
      assert.equal(await upload(`${owner.id}/nest/inner.txt`), undefined);
      assert.equal(await upload(`${owner.id}/nest`), "409", "a folder is not an object here");
      assert.equal((await rowsNamed("books", `${owner.id}/clash/inner.txt`)).length, 0);
      assert.equal((await rowsNamed("books", `${owner.id}/nest`)).length, 0);
      assert.equal(leftovers(), 0);
      await books.remove([`${owner.id}/clash`, `${owner.id}/nest/inner.txt`]);
    });

    await t.step("a write that fails leaves no row", async () => {
      // A directory where the file should go makes the rename fail after the insert.
      await Deno.mkdir(`${dir}/${limited}/blocked.txt/inside`, { recursive: true });
      const { error } = await service.storage.from(limited).upload("blocked.txt", text("x"), {
        contentType: "text/plain",
      });
      assert.ok(error);
      assert.equal((await rowsNamed(limited, "blocked.txt")).length, 0);
      assert.equal(leftovers(), 0);
    });

    await t.step(
      "downloads: the owner and the service role read, anon and other users see nothing",
      async () => {
        for (const reader of [owner.client, service]) {
          const { data, error } = await reader.storage.from("books").download(book);
          assert.equal(error, null);
          assert.equal(await data!.text(), "Updated");
          assert.equal(data!.type, "text/plain");
        }
        for (const reader of [other.client, anon]) {
          const { error } = await reader.storage.from("books").download(book);
          assert.equal((error as { statusCode?: string })?.statusCode, "404");
        }
        const path = book.split("/").map(encodeURIComponent).join("/");
        const noToken = await fetch(`${api.url}/storage/v1/object/authenticated/books/${path}`);
        assert.equal((await noToken.json()).statusCode, "403", "the authenticated route wants a token");
        const anonymous = await fetch(`${api.url}/storage/v1/object/books/${path}`);
        assert.equal((await anonymous.json()).statusCode, "404", "no token reads as anon");
        const expired = await new SignJWT({ sub: owner.id, role: "authenticated" })
          .setProtectedHeader({ alg: "HS256" }).setExpirationTime(Math.floor(Date.now() / 1000) - 10)
          .sign(jwtSecret);
        for (
          const [token, message] of [[`${SERVICE_ROLE_KEY}x`, "invalid signature"], [expired, "jwt expired"]]
        ) {
          const refused = await fetch(`${api.url}/storage/v1/object/books/${path}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          assert.equal(refused.status, 400);
          assert.deepEqual(
            (({ statusCode, message }) => ({ statusCode, message }))(await refused.json()),
            { statusCode: "403", message },
            "a bad token is refused, not read as anon",
          );
        }
        const head = await fetch(`${api.url}/storage/v1/object/books/${path}`, {
          method: "HEAD",
          headers: { Authorization: `Bearer ${SERVICE_ROLE_KEY}` },
        });
        assert.deepEqual([head.status, head.headers.get("Content-Length")], [200, "7"]);
      },
    );

    await t.step("signed URLs: for readers only, their own object only, until they expire", async () => {
      const { data, error } = await owner.client.storage.from("books").createSignedUrl(book, 60);
      assert.equal(error, null);
      const signed = await fetch(data!.signedUrl);
      assert.deepEqual([signed.status, await signed.text()], [200, "Updated"], "no token needed");
      const refused = await other.client.storage.from("books").createSignedUrl(book, 60);
      assert.equal((refused.error as { statusCode?: string })?.statusCode, "404");
      const elsewhere = await fetch(data!.signedUrl.replace("chapter%201", "chapter%202"));
      assert.equal((await elsewhere.json()).error, "InvalidSignature");
      const expiredToken = await new SignJWT({ url: `books/${book}` }).setProtectedHeader({ alg: "HS256" })
        .setIssuedAt().setExpirationTime("-1s").sign(jwtSecret);
      const expired = await fetch(data!.signedUrl.replace(/token=.*/, `token=${expiredToken}`));
      assert.equal((await expired.json()).error, "InvalidJWT");
      // Tampered with: another object's name under the same signature, no algorithm, no expiry (a
      // URL for ever), or the user's own access token in place of the URL's.
      const [head, , signature] = new URL(data!.signedUrl).searchParams.get("token")!.split(".");
      const encoded = (value: object) =>
        btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const otherName = `${owner.id}/drafts/notes.md`;
      const forever = await new SignJWT({ url: `books/${book}` }).setProtectedHeader({ alg: "HS256" }).sign(
        jwtSecret,
      );
      const session = (await owner.client.auth.getSession()).data.session!;
      for (
        const [label, name, token] of [
          [
            "another object's name",
            otherName,
            `${head}.${encoded({ url: `books/${otherName}`, exp: 9999999999 })}.${signature}`,
          ],
          [
            "no algorithm",
            book,
            `${encoded({ alg: "none" })}.${encoded({ url: `books/${book}`, exp: 9999999999 })}.`,
          ],
          ["no expiry", book, forever],
          ["an access token", book, session.access_token],
        ]
      ) {
        const path = name.split("/").map(encodeURIComponent).join("/");
        const res = await fetch(`${api.url}/storage/v1/object/sign/books/${path}?token=${token}`);
        const body = await res.json();
        assert.equal(res.status, 400, label);
        assert.match(body.error, /^Invalid(JWT|Signature)$/, label);
      }
      // An expiry that is no number of seconds is the caller's mistake, not a 500.
      for (const expiresIn of [1e21, 0.5, -1]) {
        const odd = await owner.client.storage.from("books").createSignedUrl(book, expiresIn);
        assert.equal((odd.error as { statusCode?: string })?.statusCode, "400", String(expiresIn));
      }
      const many = await owner.client.storage.from("books").createSignedUrls([
        book,
        `${owner.id}/missing.txt`,
      ], 60);
      assert.deepEqual(many.data?.map((entry) => entry.error === null), [true, false]);
    });

    await t.step("public URLs serve public buckets only", async () => {
      assert.equal(
        (await service.storage.from(open).upload("badge.svg", text("<svg/>"), {
          contentType: "image/svg+xml",
        })).error,
        null,
      );
      const publicUrl = anon.storage.from(open).getPublicUrl("badge.svg").data.publicUrl;
      const served = await fetch(publicUrl);
      assert.deepEqual([served.status, served.headers.get("Content-Type"), await served.text()], [
        200,
        "image/svg+xml",
        "<svg/>",
      ]);
      const privateUrl = anon.storage.from("books").getPublicUrl(book).data.publicUrl;
      assert.equal((await (await fetch(privateUrl)).json()).error, "Bucket not found");
    });

    await t.step("list: one folder level, search, paging and sorting, under the policies", async () => {
      await owner.client.storage.from("books").upload(`${owner.id}/cover.txt`, text("c"), {
        contentType: "text/plain",
      });
      const { data, error } = await owner.client.storage.from("books").list(owner.id);
      assert.equal(error, null);
      assert.deepEqual(data?.map((entry) => [entry.name, entry.id === null]), [["cover.txt", false], [
        "drafts",
        true,
      ]]);
      const drafts = await owner.client.storage.from("books").list(`${owner.id}/drafts`, {
        search: "CHAP",
        limit: 10,
      });
      assert.deepEqual(drafts.data?.map((entry) => entry.name), ["chapter 1.txt"]);
      const paged = await owner.client.storage.from("books").list(`${owner.id}/drafts`, {
        limit: 1,
        offset: 1,
        sortBy: { column: "name", order: "desc" },
      });
      assert.deepEqual(paged.data?.map((entry) => entry.name), ["chapter 1.txt"]);
      const badSort = await fetch(`${api.url}/storage/v1/object/list/books`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SERVICE_ROLE_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify({ prefix: owner.id, sortBy: { column: "name", order: 1 } }),
      });
      assert.deepEqual([badSort.status, (await badSort.json()).statusCode], [400, "400"]);
      for (const stranger of [other.client, anon]) {
        assert.deepEqual((await stranger.storage.from("books").list(owner.id)).data, []);
      }
    });

    await t.step("remove deletes what the caller may delete, rows and bytes", async () => {
      const notMine = await other.client.storage.from("books").remove([book]);
      assert.deepEqual(notMine.data, []);
      assert.equal((await rowsNamed("books", book)).length, 1);
      const { data, error } = await owner.client.storage.from("books").remove([
        book,
        `${owner.id}/cover.txt`,
      ]);
      assert.equal(error, null);
      assert.equal(data?.length, 2);
      assert.equal((await rowsNamed("books", book)).length, 0);
      await assert.rejects(Deno.stat(`${dir}/books/${book}`), Deno.errors.NotFound);
    });

    await t.step(
      "objects the backend stores with LocalStorage are served, and its signed URLs work",
      async () => {
        const backend = new LocalStorage(api.ctx.sql, dir, api.url);
        const clip = `${owner.id}/clips/scene 1.mp4`;
        const stored = await backend.put("media", clip, new Uint8Array([1, 2, 3]), "video/mp4");
        const { data } = await owner.client.storage.from("media").download(clip);
        assert.deepEqual([data?.type, [...new Uint8Array(await data!.arrayBuffer())]], ["video/mp4", [
          1,
          2,
          3,
        ]]);
        const bySignedUrl = await fetch(await backend.signedUrl("media", clip, 60));
        assert.deepEqual([bySignedUrl.status, (await bySignedUrl.arrayBuffer()).byteLength], [200, 3]);
        const byUrl = await fetch(stored.url, { headers: { Authorization: `Bearer ${ANON_KEY}` } });
        assert.equal((await byUrl.json()).statusCode, "404", "its plain URL needs a reader's token");
      },
    );

    await t.step("names that climb out of their folder are refused", async () => {
      const auth = { headers: { Authorization: `Bearer ${SERVICE_ROLE_KEY}` } };
      // (A URL parser resolves %2e%2e itself; what arrives encoded twice, or a backslash, is refused.)
      for (const path of [`${owner.id}/%252e%252e/${other.id}/x.txt`, `${owner.id}%5C..%5Cx.txt`]) {
        const res = await fetch(`${api.url}/storage/v1/object/books/${path}`, auth);
        assert.equal((await res.json()).error, "InvalidKey");
      }
      assert.equal(
        await storage(new Request(`${api.url}/storage/v1/elsewhere`), api.ctx),
        null,
        "not a Storage path",
      );
    });

    await t.step("buckets: the service role sees them, users see none", async () => {
      const { data } = await service.storage.getBucket("books");
      assert.deepEqual([data?.id, data?.public, data?.file_size_limit], ["books", false, 52428800]);
      assert.ok((await service.storage.listBuckets()).data?.some((bucket) => bucket.id === "covers"));
      assert.deepEqual((await owner.client.storage.listBuckets()).data, []);
    });
  } finally {
    await api.ctx.sql`
      delete from storage.objects
      where bucket_id in (${limited}, ${open}) or owner_id in (${owner.id}, ${other.id})`;
    await api.ctx.sql`delete from storage.buckets where id in (${limited}, ${open})`;
    await api.ctx.sql`delete from auth.users where id in (${owner.id}, ${other.id})`;
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("media: a generation's files are the pipeline's, their owner only reads them", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-storage-media-" });
  const api = await startApi({ port: 0, storageDir: dir });
  const run = crypto.randomUUID().slice(0, 8);
  const client = (key = ANON_KEY): SupabaseClient =>
    createClient(api.url, key, { auth: { persistSession: false, autoRefreshToken: false } });
  const signedUpClient = async (label: string) => {
    const user = client();
    const { data, error } = await user.auth.signUp({
      email: `${label}-${run}@test.local`,
      password: "media-pw-1",
    });
    assert.equal(error, null);
    return { client: user, id: data.user!.id };
  };
  const anon = client();
  const service = client(SERVICE_ROLE_KEY);
  const owner = await signedUpClient("media-owner");
  const other = await signedUpClient("media-other");
  const scene = `${owner.id}/generations/${crypto.randomUUID()}/scene-1`;
  const audio = `${scene}/audio.wav`;
  const image = `${scene}/image.png`;
  const backend = new LocalStorage(api.ctx.sql, dir, api.url);
  const bytesOf = async (name: string) => [...await Deno.readFile(`${dir}/media/${name}`)];
  const statusOf = (error: unknown) => (error as { statusCode?: string } | null)?.statusCode;
  try {
    await backend.put("media", audio, new Uint8Array([1, 2, 3]), "audio/wav");
    await backend.put("media", image, new Uint8Array([4, 5, 6]), "image/png");

    await t.step("the owner reads their generation's files", async () => {
      const { data, error } = await owner.client.storage.from("media").download(audio);
      assert.equal(error, null);
      assert.deepEqual([...new Uint8Array(await data!.arrayBuffer())], [1, 2, 3]);
      const listed = await owner.client.storage.from("media").list(scene);
      assert.deepEqual(listed.data?.map((entry) => entry.name), ["audio.wav", "image.png"]);
    });

    await t.step("the owner cannot replace, add or delete a generation's files", async () => {
      const media = owner.client.storage.from("media");
      const long = new Uint8Array(64).fill(7);
      const upserted = await media.upload(audio, long, { contentType: "audio/wav", upsert: true });
      assert.equal(statusOf(upserted.error), "403", "upsert over the pipeline's audio");
      const updated = await media.update(image, long, { contentType: "image/png" });
      assert.equal(statusOf(updated.error), "403", "update of the pipeline's image");
      for (const name of [`${scene}/clip.mp4`, `${owner.id}/generations/${crypto.randomUUID()}/final.mp4`]) {
        const added = await media.upload(name, long, { contentType: "video/mp4" });
        assert.equal(statusOf(added.error), "403", `a new file at ${name}`);
        assert.equal((await api.ctx.sql`select 1 from storage.objects where name = ${name}`).length, 0);
      }
      const removed = await media.remove([audio, image]);
      assert.deepEqual(removed.data, [], "nothing is deleted");
      assert.deepEqual(await bytesOf(audio), [1, 2, 3]);
      assert.deepEqual(await bytesOf(image), [4, 5, 6]);
    });

    await t.step("outside generations the owner's media folder stays theirs to write", async () => {
      const own = `${owner.id}/uploads/reference.png`;
      const media = owner.client.storage.from("media");
      assert.equal((await media.upload(own, new Uint8Array([8]), { contentType: "image/png" })).error, null);
      assert.equal(
        (await media.upload(own, new Uint8Array([9]), { contentType: "image/png", upsert: true })).error,
        null,
      );
      assert.equal((await media.remove([own])).data?.length, 1);
    });

    await t.step("another user and anon neither read nor write a generation's files", async () => {
      for (const stranger of [other.client, anon]) {
        const media = stranger.storage.from("media");
        assert.equal(statusOf((await media.download(audio)).error), "404");
        const planted = await media.upload(audio, new Uint8Array([0]), {
          contentType: "audio/wav",
          upsert: true,
        });
        assert.equal(statusOf(planted.error), "403");
        assert.deepEqual((await media.remove([audio])).data, []);
      }
      assert.deepEqual(await bytesOf(audio), [1, 2, 3]);
    });

    await t.step("the service role writes, replaces and deletes them", async () => {
      const media = service.storage.from("media");
      const replaced = await media.upload(audio, new Uint8Array([3, 2, 1]), {
        contentType: "audio/wav",
        upsert: true,
      });
      assert.equal(replaced.error, null);
      assert.deepEqual(await bytesOf(audio), [3, 2, 1]);
      assert.equal((await media.remove([audio, image])).data?.length, 2);
      await assert.rejects(Deno.stat(`${dir}/media/${audio}`), Deno.errors.NotFound);
    });
  } finally {
    await api.ctx
      .sql`delete from storage.objects where bucket_id = 'media' and owner_id in (${owner.id}, ${other.id})`;
    await api.ctx.sql`delete from auth.users where id in (${owner.id}, ${other.id})`;
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
});
