/**
 * Account deletion from the outside, with supabase-js against the local API as a frontend does it:
 * the preview and the request as the owner, another user, anon and a superadmin; the delete-account
 * worker removing files through the Storage API and the auth user through Auth's admin API, as on
 * hosted Supabase; two units of the owner's videos in flight through it all, whose late completions
 * leave nothing in the deleted account's folders, fail nothing and keep their calls' cost.
 */
import assert from "node:assert/strict";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { GoTrueAdmin } from "../../supabase/functions/_shared/auth_admin.ts";
import type { Database } from "../../supabase/functions/_shared/db.ts";
import { forRunningGenerations, mediaPath } from "../../supabase/functions/_shared/pipeline/deps.ts";
import { runWorker, type StepHandler } from "../../supabase/functions/_shared/pipeline/worker.ts";
import { SupabaseStorage } from "../../supabase/functions/_shared/storage.ts";
import { SAMPLE_CHAPTER } from "../../supabase/functions/_shared/testing.ts";
import { runAccountDeletions } from "../../supabase/functions/delete-account/delete.ts";
import { ANON_KEY, SERVICE_ROLE_KEY } from "./context.ts";
import { waitFor } from "../functions/runner_testing.ts";
import { startApi } from "./server.ts";

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("account deletion through supabase-js: preview, who may ask, files and auth user gone, work in flight stopped", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "litinkai-account-deletion-" });
  const api = startApi({ port: 0, storageDir: dir });
  const sql = api.ctx.sql;
  const run = crypto.randomUUID().slice(0, 8);
  const client = (): SupabaseClient<Database> =>
    createClient<Database>(api.url, ANON_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
  const signedUp = async (label: string) => {
    const user = client();
    const { data, error } = await user.auth.signUp({
      email: `${label}-${run}@test.local`,
      password: "deletion-pw-1",
    });
    assert.equal(error, null);
    return { client: user, id: data.user!.id, email: `${label}-${run}@test.local` };
  };
  const owner = await signedUp("deletion-owner");
  const other = await signedUp("deletion-other");
  const admin = await signedUp("deletion-admin");
  const victim = await signedUp("deletion-victim");
  await sql`insert into public.user_roles (user_id, role_name) values (${admin.id}, 'superadmin')`;
  const anon = client();

  // The deletion worker as production runs it: the Storage API and Auth's admin API, with the service role.
  const hostedStorage = new SupabaseStorage(api.url, SERVICE_ROLE_KEY);
  const deletionWorker = () =>
    runAccountDeletions({ sql, storage: hostedStorage, auth: new GoTrueAdmin(api.url, SERVICE_ROLE_KEY) }, {
      pollSeconds: 0,
    });
  const filesOf = async (userId: string) =>
    (await sql<
      { name: string }[]
    >`select name from storage.objects where name like ${`${userId}/%`} order by name`)
      .map((r) => r.name);

  // The owner's library: an uploaded book and cover, two chapters, a video of each being made.
  await owner.client.storage.from("books").upload(`${owner.id}/novel.txt`, text(SAMPLE_CHAPTER), {
    contentType: "text/plain",
  });
  await owner.client.storage.from("covers").upload(`${owner.id}/cover.png`, text("not really a png"), {
    contentType: "image/png",
  });
  const { data: book } = await owner.client.from("books")
    .insert({ user_id: owner.id, title: "The Keeper", file_url: `${owner.id}/novel.txt` }).select().single();
  const { data: chapters } = await owner.client.from("chapters").insert([
    { book_id: book!.id, chapter_number: 1, title: "Harbour", content: SAMPLE_CHAPTER },
    { book_id: book!.id, chapter_number: 2, title: "Lamp room", content: SAMPLE_CHAPTER },
  ]).select("id");
  const generations: string[] = [];
  for (const chapter of chapters!) {
    const { data, error } = await owner.client.rpc("start_video_generation", { chapter_id: chapter.id });
    assert.equal(error, null);
    generations.push(data!);
  }
  await other.client.storage.from("books").upload(`${other.id}/mine.txt`, text("mine"), {
    contentType: "text/plain",
  });
  await victim.client.storage.from("covers").upload(`${victim.id}/face.png`, text("png"), {
    contentType: "image/png",
  });

  // Both script units begin and wait, their paid calls under way. When let go, the first writes its
  // output through the pipeline's storage; the second as if its write had slipped past that check.
  const letGo = Promise.withResolvers<void>();
  const started: string[] = [];
  const guarded = forRunningGenerations(hostedStorage, sql);
  const handler: StepHandler = async (context) => {
    started.push(context.generation_id);
    await letGo.promise;
    const storage = context.generation_id === generations[0] ? guarded : hostedStorage;
    await storage.put(
      "media",
      mediaPath(context.user_id, context.generation_id, "script.png"),
      text("x"),
      "image/png",
    );
    return {
      outputs: {},
      usage: [{ model: "gpt-4o-mini", operation: "script", input_tokens: 1000, output_tokens: 500 }],
    };
  };
  const inFlight = runWorker(sql, { step: "script", handler, concurrency: 2, pollSeconds: 0 });
  let deletionId = "";
  try {
    await waitFor("both units to begin", 20_000, () => started.length === generations.length || undefined);

    await t.step("the owner sees what deleting the account would remove", async () => {
      const { data, error } = await owner.client.rpc("account_deletion_preview").single();
      assert.equal(error, null);
      assert.deepEqual(
        [
          data!.user_id,
          data!.books,
          data!.chapters,
          data!.generations,
          data!.generations_running,
          data!.files,
          data!.nfts,
        ],
        [owner.id, 1, 2, 2, 2, 2, 0],
      );
      assert.equal(data!.file_bytes, SAMPLE_CHAPTER.length + "not really a png".length);
      assert.deepEqual([data!.subscription_renews, data!.deletion_id], [false, null]);
    });

    await t.step("another user and anon may neither look nor delete", async () => {
      for (const [caller, label] of [[other.client, "another user"], [anon, "anon"]] as const) {
        const preview = await caller.rpc("account_deletion_preview", { target_user: owner.id });
        assert.equal(preview.error?.code, "42501", `${label}: ${preview.error?.message}`);
        const deletion = await caller.rpc("delete_account", { target_user: owner.id, reason: "other" });
        assert.equal(deletion.error?.code, "42501", `${label}: ${deletion.error?.message}`);
      }
      const self = await anon.rpc("delete_account");
      assert.equal(self.error?.code, "42501", "anon has no account to delete");
      assert.equal((await filesOf(owner.id)).length, 2, "nothing was touched");
    });

    await t.step("the owner deletes the account: its videos stop, its uploads end", async () => {
      const { data, error } = await owner.client.rpc("delete_account");
      assert.equal(error, null);
      deletionId = data!.id;
      assert.deepEqual(
        [data!.requested_by, data!.reason, data!.status, data!.books, data!.generations_stopped, data!.files],
        ["user", "user_request", "in_progress", 1, 2, 2],
      );
      const { data: stopped } = await owner.client.from("video_generations").select("status");
      assert.deepEqual(stopped!.map((g) => g.status), ["canceled", "canceled"]);
      const upload = await owner.client.storage.from("covers").upload(`${owner.id}/new.png`, text("x"), {
        contentType: "image/png",
      });
      assert.equal((upload.error as { statusCode?: string } | null)?.statusCode, "403");
    });

    await t.step("the worker removes its files through Storage and its user through Auth", async () => {
      const summary = await deletionWorker();
      assert.equal(summary.failed + summary.retried, 0, JSON.stringify(summary));
      assert.deepEqual(await filesOf(owner.id), []);
      for (const bucket of ["books", "covers"]) {
        assert.deepEqual(
          [...Deno.readDirSync(`${dir}/${bucket}/${owner.id}`)],
          [],
          `no bytes left in ${bucket}`,
        );
      }
      const [{ users, rows }] = await sql`
        select (select count(*)::int from auth.users where id = ${owner.id}) as users,
               (select count(*)::int from public.books where user_id = ${owner.id})
             + (select count(*)::int from public.video_generations where user_id = ${owner.id}) as rows`;
      assert.deepEqual([users, rows], [0, 0]);
      const stale = await owner.client.auth.getUser();
      assert.equal(stale.error?.code, "user_not_found", "the owner's session is over");
      const signIn = await client().auth.signInWithPassword({
        email: owner.email,
        password: "deletion-pw-1",
      });
      assert.equal(signIn.error?.code, "invalid_credentials");
      const { data: audit } = await admin.client.from("account_deletions").select().eq("id", deletionId)
        .single();
      assert.equal(audit!.status, "completed");
      assert.deepEqual(await filesOf(other.id), [`${other.id}/mine.txt`], "another user's file stays");
    });

    await t.step(
      "the units in flight complete late: stale, no failure, their cost kept, their files swept",
      async () => {
        letGo.resolve();
        const summary = await inFlight;
        assert.deepEqual(
          [summary.stale, summary.failed, summary.retried],
          [2, 0, 0],
          JSON.stringify(summary),
        );
        // The checked write never happened; the one that slipped past it is swept by the next round.
        assert.deepEqual(await filesOf(owner.id), [
          `${owner.id}/generations/${generations[1]}/script.png`,
        ]);
        await deletionWorker();
        assert.deepEqual(await filesOf(owner.id), []);
        const { data: audit } = await admin.client.from("account_deletions").select().eq("id", deletionId)
          .single();
        assert.equal(audit!.late_calls, 2, "both calls were paid for and are kept, anonymised");
        assert.ok(audit!.late_cost_usd > 0);
        const [{ kept }] = await sql`
        select count(*)::int as kept from private.deleted_account_usage where deletion_id = ${deletionId}`;
        assert.equal(kept, 2);
      },
    );

    await t.step("a superadmin deletes another user's account, saying why, and reads the audit", async () => {
      const refused = await admin.client.rpc("delete_account", { target_user: victim.id });
      assert.equal(refused.error?.code, "22023", "a reason is needed");
      const { data, error } = await admin.client.rpc("delete_account", {
        target_user: victim.id,
        reason: "terms_violation",
      });
      assert.equal(error, null);
      assert.deepEqual([data!.requested_by, data!.reason, data!.files], ["superadmin", "terms_violation", 1]);
      await deletionWorker();
      assert.deepEqual(await filesOf(victim.id), []);
      const { data: audit } = await admin.client.from("account_deletions").select()
        .in("id", [deletionId, data!.id]).order("created_at");
      assert.deepEqual(audit!.map((a) => [a.requested_by, a.status]), [["user", "completed"], [
        "superadmin",
        "completed",
      ]]);
      const written = JSON.stringify(audit);
      for (const personal of [owner.id, owner.email, victim.id, victim.email, admin.id]) {
        assert.ok(!written.includes(personal), "the audit names no one");
      }
      for (const [caller, label] of [[other.client, "another user"], [anon, "anon"]] as const) {
        const { data: seen } = await caller.from("account_deletions").select();
        assert.deepEqual(seen ?? [], [], `${label} reads no audit`);
      }
    });
  } finally {
    letGo.resolve();
    await inFlight.catch(() => {});
    await sql`delete from auth.users where email like ${`%-${run}@test.local`}`;
    await deletionWorker().catch(() => {});
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
});
