/**
 * Rewards under concurrency: twenty events at once award each badge exactly once; twenty attempts at
 * one quiz at once have one first attempt, the only one that can earn XP.
 */
import assert from "node:assert/strict";
import { asUser, createSql } from "./db.ts";
import { createTestBook, createTestUser, deleteTestUser, testDatabaseUrl, withSql } from "./testing.ts";

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

Deno.test("twenty attempts at one quiz at once: one first attempt, and only its result counts", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "quiz-race");
    const pools = Array.from({ length: 20 }, () => createSql(testDatabaseUrl(), { max: 1 }));
    try {
      const { chapterIds: [chapterId] } = await createTestBook(sql, userId, [
        { title: "Lenses", content: "The Fresnel lens bends light into a narrow beam." },
      ]);
      const key = [2, 0, 3, 1, 2];
      await sql`update public.chapters set ai_content = ${
        sql.json({
          kind: "learning",
          quiz: key.map((answer, i) => ({
            question: `q${i + 1}`,
            options: ["a", "b", "c", "d"],
            answer_index: answer,
            explanation: `e${i + 1}`,
          })),
        })
      } where id = ${chapterId}`;
      await Promise.all(pools.map((p) => p`select 1`));
      // Nineteen guesses and the right answers, all at once: a brute force in parallel.
      const guesses = pools.map((_, i) => i === 19 ? key : key.map((_, q) => (i + q) % 4));
      const replies = await Promise.all(pools.map((p, i) =>
        asUser(p, userId, async (tx) => {
          const [{ reply }] = await tx<
            { reply: { first_attempt: boolean; passed: boolean; xp_awarded: number } }[]
          >`
            select public.submit_quiz(${chapterId}, ${sql.json(guesses[i])}) as reply`;
          return reply;
        })
      ));
      const first = replies.filter((r) => r.first_attempt);
      assert.equal(first.length, 1, "exactly one attempt is the first");
      const others = replies.filter((r) => !r.first_attempt);
      assert.ok(others.every((r) => r.xp_awarded === 0), "the others earn nothing");
      const [progress] = await sql`
        select quizzes_completed, total_xp from public.user_progress where user_id = ${userId}`;
      assert.equal(
        progress.quizzes_completed,
        first[0].passed ? 1 : 0,
        "the first attempt's result, and no other",
      );
      assert.equal(progress.total_xp, first[0].xp_awarded);
      const [{ attempts }] = await sql`
        select count(*)::int as attempts from public.quiz_attempts where user_id = ${userId}`;
      assert.equal(attempts, 20, "every attempt is graded and recorded");
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await deleteTestUser(sql, userId);
    }
  });
});
