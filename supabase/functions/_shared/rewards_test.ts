/** Rewards under concurrency: twenty events at once award each badge exactly once. */
import assert from "node:assert/strict";
import { createSql } from "./db.ts";
import { createTestUser, deleteTestUser, withSql } from "./testing.ts";

Deno.test("twenty concurrent events: each badge once, every event's XP once", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "rewards-race");
    const url = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
    const pools = Array.from({ length: 20 }, () => createSql(url, { max: 1 }));
    try {
      // Each connection ready first, so the events really arrive together.
      await Promise.all(pools.map((p) => p`select 1`));
      const gains = await Promise.all(
        pools.map((p, i) =>
          p<{
            xp: number;
          }[]>`select private.record_progress_event(${userId}, 'book_ready', ${`race-${i}`}) as xp`
        ),
      );
      // And the same twenty again: replays.
      const replays = await Promise.all(
        pools.map((p, i) =>
          p<{
            xp: number;
          }[]>`select private.record_progress_event(${userId}, 'book_ready', ${`race-${i}`}) as xp`
        ),
      );
      assert.ok(replays.every(([r]) => r.xp === 0), "a replay gives nothing");
      const badges = await sql`
        select b.name, count(*)::int as n from public.user_badges u join public.badges b on b.id = u.badge_id
        where u.user_id = ${userId} group by b.name order by b.name`;
      assert.deepEqual(badges.map((b) => [b.name, b.n]), [["Centurion", 1], ["First Book", 1], [
        "Librarian",
        1,
      ]]);
      const [progress] = await sql`
        select books_uploaded, total_xp, level from public.user_progress where user_id = ${userId}`;
      assert.equal(progress.books_uploaded, 20);
      assert.equal(progress.total_xp, 20 * 50 + 10 + 100);
      assert.equal(gains.reduce((n, [g]) => n + g.xp, 0), progress.total_xp, "what the calls report adds up");
      assert.equal(progress.level, 5, "1,110 XP is level 5");
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await deleteTestUser(sql, userId);
    }
  });
});
