/** Generations for the pipeline benchmarks: a user with one-line chapters, starts, and the wait for the end. */
import { asUser, type Sql } from "../../../supabase/functions/_shared/db.ts";

/** A user without a video limit and a book of `count` one-line chapters. */
export async function benchChapters(
  sql: Sql,
  count: number,
): Promise<{ userId: string; chapterIds: string[] }> {
  const [{ id: userId }] =
    await sql`insert into auth.users (email) values (${`bench-${crypto.randomUUID()}@bench.local`}) returning id`;
  await sql`update public.user_subscriptions set video_count_limit = 100000 where user_id = ${userId}`;
  const [{ id: bookId }] =
    await sql`insert into public.books (user_id, title) values (${userId}, 'Bench') returning id`;
  const chapters = await sql`
    insert into public.chapters (book_id, chapter_number, title, content)
    select ${bookId}, n, 'C' || n, 'Ada works.' from generate_series(1, ${count}) n returning id`;
  return { userId, chapterIds: chapters.map((c) => c.id as string) };
}

/** One generation per chapter, each started in its own request, as clients start them. */
export async function startGenerations(sql: Sql, userId: string, chapterIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const id of chapterIds) {
    ids.push(
      await asUser(
        sql,
        userId,
        async (tx) => (await tx`select public.start_video_generation(${id}) as id`)[0].id,
      ),
    );
  }
  return ids;
}

/** Waits until every generation has completed. */
export async function waitUntilCompleted(sql: Sql, ids: string[], pollMs = 10): Promise<void> {
  for (;;) {
    const [{ remaining }] = await sql`
      select count(*)::int as remaining from public.video_generations where id = any(${ids}) and status <> 'completed'`;
    if (remaining === 0) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
