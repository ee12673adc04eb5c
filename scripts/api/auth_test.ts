/** The local Auth, tried through the official client as an app uses it. */
import assert from "node:assert/strict";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { decodeJwt, SignJWT } from "jose";
import { ANON_KEY, jwtSecret, SERVICE_ROLE_KEY } from "./context.ts";
import { startApi } from "./server.ts";

Deno.test("local Auth: sign-up, sign-in, user, refresh and sign-out as supabase-js expects", async (t) => {
  const api = await startApi({ port: 0, storageDir: await Deno.makeTempDir({ prefix: "litinkai-auth-" }) });
  const run = crypto.randomUUID().slice(0, 8);
  const email = `auth-test-${run}@test.local`;
  const password = "correct horse 1";
  const client = (): SupabaseClient =>
    createClient(api.url, ANON_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
  try {
    const app = client();
    const { data: signedUp, error: signUpError } = await app.auth.signUp({
      email,
      password,
      options: { data: { full_name: "Ada Test" } },
    });
    assert.equal(signUpError, null);
    assert.ok(signedUp.session, "the local stack autoconfirms and signs the user in");
    const userId = signedUp.user!.id;

    await t.step("sign-up: a confirmed user, a session with Supabase's claims, a profile", async () => {
      const user = signedUp.user!;
      assert.equal(user.email, email);
      assert.ok(user.email_confirmed_at);
      assert.deepEqual(user.app_metadata, { provider: "email", providers: ["email"] });
      assert.equal(user.user_metadata.full_name, "Ada Test");
      assert.equal(user.identities?.[0]?.provider, "email");
      const session = signedUp.session!;
      assert.equal(session.token_type, "bearer");
      assert.equal(session.expires_in, 3600);
      const claims = decodeJwt(session.access_token);
      assert.equal(claims.iss, `${api.url}/auth/v1`);
      assert.deepEqual(
        [claims.sub, claims.aud, claims.role, claims.email, claims.aal, claims.is_anonymous],
        [userId, "authenticated", "authenticated", email, "aal1", false],
      );
      assert.equal((claims.amr as { method: string }[])[0].method, "password");
      assert.equal(claims.exp! - claims.iat!, 3600);
      const [profile] = await api.ctx.sql`select display_name from public.profiles where id = ${userId}`;
      assert.equal(profile.display_name, "Ada Test", "the accounts trigger read the sign-up metadata");
    });

    await t.step("sign-up refuses a taken email, a weak password and a malformed email", async () => {
      const again = await client().auth.signUp({ email: email.toUpperCase(), password });
      assert.deepEqual([again.error?.status, again.error?.code], [422, "user_already_exists"]);
      const weak = await client().auth.signUp({ email: `weak-${run}@test.local`, password: "abc" });
      assert.deepEqual([weak.error?.status, weak.error?.code, weak.error?.name], [
        422,
        "weak_password",
        "AuthWeakPasswordError",
      ]);
      const malformed = await client().auth.signUp({ email: "not-an-email", password });
      assert.deepEqual([malformed.error?.status, malformed.error?.code], [400, "validation_failed"]);
    });

    await t.step("sign-in: the right password opens a session, a wrong one is refused", async () => {
      const wrong = await client().auth.signInWithPassword({ email, password: "wrong password" });
      assert.deepEqual([wrong.error?.status, wrong.error?.code], [400, "invalid_credentials"]);
      const unknown = await client().auth.signInWithPassword({ email: `nobody-${run}@test.local`, password });
      assert.equal(unknown.error?.code, "invalid_credentials");
      const { data, error } = await client().auth.signInWithPassword({ email, password });
      assert.equal(error, null);
      assert.equal(data.user?.id, userId);
      assert.ok(data.user?.last_sign_in_at);
    });

    await t.step("getUser and updateUser (metadata, password)", async () => {
      const { data, error } = await app.auth.getUser();
      assert.equal(error, null);
      assert.equal(data.user?.id, userId);
      const updated = await app.auth.updateUser({ data: { theme: "dark", full_name: null } });
      assert.equal(updated.error, null);
      assert.equal(updated.data.user?.user_metadata.theme, "dark");
      assert.equal(updated.data.user?.user_metadata.full_name, undefined, "null removes a key");
      const same = await app.auth.updateUser({ password });
      assert.equal(same.error?.code, "same_password");
      const other = client();
      await other.auth.signInWithPassword({ email, password });
      assert.equal((await app.auth.updateUser({ password: `${password}!` })).error, null);
      const signedIn = await client().auth.signInWithPassword({ email, password: `${password}!` });
      assert.equal(signedIn.error, null, "the new password signs in");
      assert.equal((await app.auth.getUser()).error, null, "the session that changed it stays");
      assert.equal((await other.auth.getUser()).error?.name, "AuthSessionMissingError", "other sessions end");
    });

    await t.step("refresh rotates the token; a used one is refused after the reuse interval", async () => {
      const { data } = await client().auth.signInWithPassword({ email, password: `${password}!` });
      const first = data.session!.refresh_token;
      const refresh = (refreshToken: string) => client().auth.refreshSession({ refresh_token: refreshToken });
      const second = (await refresh(first)).data.session!.refresh_token;
      assert.notEqual(second, first);
      assert.equal(
        (await refresh(first)).data.session?.refresh_token,
        second,
        "retrying the parent of the active token answers the active token",
      );
      const third = (await refresh(second)).data.session!.refresh_token;
      await api.ctx.sql`
        update auth.refresh_tokens set updated_at = now() - interval '1 minute' where token = ${first}`;
      const reused = await refresh(first);
      assert.deepEqual([reused.error?.status, reused.error?.code], [400, "refresh_token_already_used"]);
      const revoked = await api.ctx.sql`select revoked from auth.refresh_tokens where token = ${third}`;
      assert.equal(revoked[0].revoked, true, "reuse revokes the whole session's tokens");
      const unknown = await refresh("nosuchtoken0");
      assert.equal(unknown.error?.code, "refresh_token_not_found");
    });

    await t.step(
      "sign-out ends the sessions: their refresh tokens and access tokens stop working",
      async () => {
        const session = (await app.auth.getSession()).data.session!;
        assert.equal((await app.auth.signOut()).error, null);
        const refreshed = await client().auth.refreshSession({ refresh_token: session.refresh_token });
        assert.equal(refreshed.error?.code, "refresh_token_not_found");
        const stale = await client().auth.getUser(session.access_token);
        assert.equal(stale.error?.name, "AuthSessionMissingError");
        const [{ count }] = await api.ctx
          .sql`select count(*)::int from auth.sessions where user_id = ${userId}`;
        assert.equal(count, 0, "global sign-out ends every session");
      },
    );

    await t.step("the admin API deletes a user for the service role only, as GoTrue answers", async () => {
      const doomed = client();
      const { data } = await doomed.auth.signUp({ email: `doomed-${run}@test.local`, password });
      const doomedId = data.user!.id;
      const token = data.session!.access_token;
      const asUser = createClient(api.url, ANON_KEY, {
        auth: { persistSession: false, autoRefreshToken: false },
        global: { headers: { Authorization: `Bearer ${token}` } },
      });
      for (const [caller, label] of [[client(), "anon"], [asUser, "a user"]] as const) {
        const refused = await caller.auth.admin.deleteUser(doomedId);
        assert.deepEqual([refused.error?.status, refused.error?.code], [403, "not_admin"], label);
      }
      const service = createClient(api.url, SERVICE_ROLE_KEY, {
        auth: { persistSession: false, autoRefreshToken: false },
      });
      const malformed = await fetch(`${api.url}/auth/v1/admin/users/not-a-uuid`, {
        method: "DELETE",
        headers: { apikey: SERVICE_ROLE_KEY, Authorization: `Bearer ${SERVICE_ROLE_KEY}` },
      });
      assert.deepEqual([malformed.status, (await malformed.json()).error_code], [400, "validation_failed"]);
      const soft = await service.auth.admin.deleteUser(doomedId, true);
      assert.equal(soft.error?.status, 501, "soft deletion is not part of the local Auth");
      const deleted = await service.auth.admin.deleteUser(doomedId);
      assert.equal(deleted.error, null);
      assert.equal(deleted.data.user?.id, doomedId, "supabase-js answers with the user it read first");
      const [{ users, sessions, profiles }] = await api.ctx.sql`
        select (select count(*)::int from auth.users where id = ${doomedId}) as users,
               (select count(*)::int from auth.sessions where user_id = ${doomedId}) as sessions,
               (select count(*)::int from public.profiles where id = ${doomedId}) as profiles`;
      assert.deepEqual(
        [users, sessions, profiles],
        [0, 0, 0],
        "the user, its sessions and its rows are gone",
      );
      const again = await service.auth.admin.deleteUser(doomedId);
      assert.deepEqual([again.error?.status, again.error?.code], [404, "user_not_found"]);
      const stale = await client().auth.getUser(token);
      assert.deepEqual([stale.error?.status, stale.error?.code], [403, "user_not_found"]);
      const signIn = await client().auth.signInWithPassword({ email: `doomed-${run}@test.local`, password });
      assert.equal(signIn.error?.code, "invalid_credentials");
    });

    await t.step("expired, forged and missing tokens", async () => {
      const expired = await new SignJWT({ sub: userId, role: "authenticated", aud: "authenticated" })
        .setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("-1m").sign(jwtSecret);
      const late = await client().auth.getUser(expired);
      assert.deepEqual([late.error?.status, late.error?.code], [403, "bad_jwt"]);
      const forged = await client().auth.getUser(`${expired}x`);
      assert.equal(forged.error?.code, "bad_jwt");
      const anon = await client().auth.getUser(ANON_KEY);
      assert.equal(anon.error?.code, "bad_jwt", "the anon key names no user");
      const noKey = await fetch(`${api.url}/auth/v1/settings`);
      assert.equal(noKey.status, 401, "the gateway wants an API key");
      await noKey.body?.cancel();
      const settings = await fetch(`${api.url}/auth/v1/settings`, { headers: { apikey: ANON_KEY } });
      assert.equal((await settings.json()).mailer_autoconfirm, true);
      const oversized = await fetch(`${api.url}/auth/v1/token?grant_type=password`, {
        method: "POST",
        headers: { apikey: ANON_KEY, "Content-Type": "application/json" },
        body: JSON.stringify({ email: "a@b.c", password: "x".repeat(2 * 1024 * 1024) }),
      });
      assert.equal(oversized.status, 413, "a body past the cap is refused on its Content-Length");
      await oversized.body?.cancel();
    });
  } finally {
    await api.ctx.sql`delete from auth.users where email like ${`%-${run}@test.local`}`;
    await Deno.remove(api.ctx.storageDir, { recursive: true });
    await api.close();
  }
});
