import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { localServiceRoleToken } from "./auth.ts";
import { LOCAL_JWT_SECRET } from "./env.ts";
import { workerHandler } from "./serve_worker.ts";

async function token(claims: Record<string, unknown>): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h")
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
}

Deno.test("queue workers answer only the service role, and only with counts", async () => {
  let runs = 0;
  const handler = workerHandler("ingest", () => {
    runs++;
    // What a worker knows about the messages it handled is not for the caller.
    return Promise.resolve({
      read: 2,
      completed: 1,
      retried: 0,
      failed: 1,
      stale: 0,
      released: 0,
      failures: [{ book_id: "00000000-0000-4000-8000-000000000001", error: "secret.txt is not a book" }],
    });
  });
  const call = (authorization?: string) =>
    handler(
      new Request("http://localhost/functions/v1/ingest", {
        method: "POST",
        headers: authorization ? { Authorization: authorization } : {},
      }),
    );

  const anonymous = await call();
  assert.equal(anonymous.status, 401);
  const anonKey = await call(`Bearer ${await token({ role: "anon" })}`);
  assert.equal(anonKey.status, 403);
  const user = await call(`Bearer ${await token({ role: "authenticated", sub: crypto.randomUUID() })}`);
  assert.equal(user.status, 403);
  const forged = await call(`Bearer ${await localServiceRoleToken()}x`);
  assert.equal(forged.status, 401);
  assert.equal(runs, 0, "nothing ran for them");

  const service = await call(`Bearer ${await localServiceRoleToken()}`);
  assert.equal(service.status, 200);
  assert.deepEqual(await service.json(), {
    read: 2,
    completed: 1,
    retried: 0,
    failed: 1,
    stale: 0,
    released: 0,
  });
  assert.equal(runs, 1);
});
