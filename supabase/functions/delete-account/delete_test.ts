/**
 * The delete-account worker against the local database and a Storage folder: an account with more
 * files than a round removes, an Auth that fails once, and a file stored after the account went.
 */
import assert from "node:assert/strict";
import type { AuthAdmin } from "../_shared/auth_admin.ts";
import type { Sql } from "../_shared/db.ts";
import { errorForStatus } from "../_shared/errors.ts";
import { LocalStorage } from "../_shared/storage.ts";
import { asUser, createTestUser, deleteTestUser, withSql } from "../_shared/testing.ts";
import { FILES_PER_ROUND, QUEUE, runAccountDeletions } from "./delete.ts";

/**
 * Auth's admin API as it behaves: the auth user goes (and every row with it). For `userId`, the
 * calls are counted and the first `failures` answer 503 (a deletion earlier tests left is served too).
 */
function authAdmin(sql: Sql, userId: string, failures = 0): AuthAdmin & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async deleteUser(id) {
      if (id === userId) {
        calls.push(id);
        if (calls.length <= failures) throw errorForStatus("Auth's admin API", 503, "unavailable");
      }
      await deleteTestUser(sql, id);
    },
  };
}

async function workOf(sql: Sql, deletionId: string) {
  const [work] = await sql<{ step: string; attempts: number; last_error: string | null }[]>`
    select step, attempts, last_error from private.account_deletion_work where deletion_id = ${deletionId}`;
  return work;
}

async function filesUnder(sql: Sql, userId: string): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    select count(*)::int as n from storage.objects where name like ${`${userId}/%`}`;
  return n;
}

/** Makes the deletion's waiting messages visible now (a backoff or the last sweep's hour, passed). */
async function due(sql: Sql, deletionId: string) {
  await sql.unsafe(`update pgmq.q_${QUEUE} set vt = clock_timestamp() where message ->> 'deletion_id' = $1`, [
    deletionId,
  ]);
  await sql`update private.account_deletion_work set sweep_at = clock_timestamp() where deletion_id = ${deletionId}`;
}

Deno.test("delete-account: files in rounds of a thousand, then the auth user; a failed round is tried again; a late file is swept", async () => {
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-delete-account-" });
    const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
    const owner = await createTestUser(sql, "deleted");
    const other = await createTestUser(sql, "kept");
    try {
      // More files than two rounds remove, in the three buckets; one of another user's.
      const total = 2 * FILES_PER_ROUND + 7;
      for (let i = 0; i < total; i++) {
        const bucket = ["books", "covers", "media"][i % 3];
        await storage.put(bucket, `${owner}/file-${i}.png`, new Uint8Array([i % 256]), "image/png");
      }
      await storage.put("books", `${other}/kept.txt`, new TextEncoder().encode("kept"), "text/plain");
      const [{ id: deletionId }] = await asUser(sql, owner, (tx) => tx`select (public.delete_account()).id`);

      // Auth refuses once: the round is recorded as failed and tried again after the backoff.
      const auth = authAdmin(sql, owner, 1);
      const first = await runAccountDeletions({ sql, storage, auth }, { pollSeconds: 0 });
      assert.equal(await filesUnder(sql, owner), 0, "every file went, in rounds");
      assert.equal(auth.calls.length, 1);
      assert.ok(first.retried >= 1, JSON.stringify(first));
      const failed = await workOf(sql, deletionId);
      assert.deepEqual([failed.step, failed.attempts], ["files", 1]);
      assert.match(failed.last_error ?? "", /HTTP 503/);
      const [{ waiting }] = await sql<{ waiting: boolean }[]>`
        select bool_and(vt > clock_timestamp()) as waiting from pgmq.q_delete_account
        where message ->> 'deletion_id' = ${deletionId}`;
      assert.equal(waiting, true, "the next round waits for the backoff");

      await due(sql, deletionId);
      await runAccountDeletions({ sql, storage, auth }, { pollSeconds: 0 });
      assert.deepEqual(auth.calls, [owner, owner], "the auth user is deleted on the next round");
      const [audit] = await sql<{ status: string; files: number; file_bytes: string }[]>`
        select status::text, files, file_bytes from public.account_deletions where id = ${deletionId}`;
      assert.deepEqual([audit.status, audit.files, Number(audit.file_bytes)], ["completed", total, total]);
      assert.equal((await workOf(sql, deletionId)).step, "sweep");
      for (const bucket of ["books", "covers", "media"]) {
        assert.deepEqual(
          [...Deno.readDirSync(`${dir}/${bucket}/${owner}`)],
          [],
          `no bytes left in ${bucket}`,
        );
      }
      assert.equal(await filesUnder(sql, other), 1, "another user's file stays");

      // A unit that was in flight stores a file after all; the last sweep takes it, and the id goes.
      await storage.put("media", `${owner}/generations/late/final.mp4`, new Uint8Array([1]), "video/mp4");
      await due(sql, deletionId);
      await runAccountDeletions({ sql, storage, auth }, { pollSeconds: 0 });
      assert.equal(await filesUnder(sql, owner), 0, "the late file is swept");
      assert.equal(await workOf(sql, deletionId), undefined, "the work row, and the account id, are gone");
      assert.equal(auth.calls.length, 2, "the sweep does not call Auth");
    } finally {
      await deleteTestUser(sql, owner);
      await deleteTestUser(sql, other);
      await sql`delete from storage.objects where name like ${`${owner}/%`} or name like ${`${other}/%`}`;
      await Deno.remove(dir, { recursive: true });
    }
  });
});
