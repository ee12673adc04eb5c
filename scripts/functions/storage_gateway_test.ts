/** The local gateway's Storage reads, tried from the outside: no token, anon, another user, the owner, the service role, signed URLs. */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { localServiceRoleToken } from "../../supabase/functions/_shared/auth.ts";
import { LOCAL_JWT_SECRET } from "../../supabase/functions/_shared/env.ts";
import { LocalStorage, signLocalObjectToken } from "../../supabase/functions/_shared/storage.ts";
import { createTestUser, deleteTestUser, withSql } from "../../supabase/functions/_shared/testing.ts";
import { serveStorage } from "./storage_gateway.ts";

const sign = (claims: Record<string, unknown>, expires = "1h") =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expires)
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));

Deno.test("the local gateway serves Storage objects only with a token and under the storage policies", async () => {
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-gateway-" });
    const owner = await createTestUser(sql, "gateway-owner");
    const other = await createTestUser(sql, "gateway-other");
    try {
      const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      const stored = await storage.put(
        "media",
        `${owner}/clips/scene 1.mp4`,
        new Uint8Array([1, 2, 3]),
        "video/mp4",
      );
      const get = async (url: string, token?: string) => {
        const res = await serveStorage(
          new Request(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} }),
          sql,
          dir,
        );
        assert.ok(res, `${url} is a storage path`);
        return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
      };
      const userToken = (sub: string) => sign({ sub, role: "authenticated", aud: "authenticated" });

      assert.equal((await get(stored.url)).status, 401, "no token");
      assert.equal(
        (await get(stored.url, await sign({ role: "anon" }))).status,
        404,
        "the anon key sees nothing",
      );
      assert.equal((await get(stored.url, await userToken(other))).status, 404, "another user sees nothing");
      assert.equal((await get(stored.url, `${await userToken(owner)}x`)).status, 401, "a forged token");
      assert.equal(
        (await get(stored.url, await sign({ sub: owner, role: "authenticated" }, "-1m"))).status,
        401,
      );
      const mine = await get(stored.url, await userToken(owner));
      assert.deepEqual([mine.status, [...mine.body]], [200, [1, 2, 3]], "the owner reads it");
      assert.equal(
        (await get(stored.url, await localServiceRoleToken())).status,
        200,
        "the service role reads it",
      );
      const publicUrl = stored.url.replace("/object/media/", "/object/public/media/");
      assert.equal((await get(publicUrl)).status, 400, "the media bucket is not public");

      const signed = await storage.signedUrl("media", `${owner}/clips/scene 1.mp4`, 60);
      assert.equal((await get(signed)).status, 200, "a signed URL needs no token");
      const elsewhere = signed.replace("scene%201.mp4", "scene%202.mp4");
      assert.equal((await get(elsewhere)).status, 400, "a signed URL is for its own object only");
      const expired = signed.replace(
        /token=.*/,
        `token=${await signLocalObjectToken("media", `${owner}/clips/scene 1.mp4`, 1)}`,
      );
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await get(expired)).status, 400, "an expired signed URL is refused");
      // (A URL parser resolves %2e%2e itself; what reaches the gateway encoded twice, or a backslash, is refused.)
      const climbing = `http://127.0.0.1:54321/storage/v1/object/media/${owner}/%252e%252e/${other}/x.mp4`;
      assert.equal(
        (await get(
          `http://127.0.0.1:54321/storage/v1/object/media/${owner}%5C..%5Cx.mp4`,
          await localServiceRoleToken(),
        )).status,
        400,
      );
      assert.equal(
        (await get(climbing, await localServiceRoleToken())).status,
        400,
        "a name that climbs is refused",
      );
      assert.equal(
        await serveStorage(new Request("http://127.0.0.1:54321/functions/v1/health"), sql, dir),
        null,
      );
    } finally {
      await deleteTestUser(sql, owner);
      await deleteTestUser(sql, other);
      await Deno.remove(dir, { recursive: true });
    }
  });
});
