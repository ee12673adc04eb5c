/** Plot worker: a new plot overview version with its characters, saved in one transaction. */
import type { WorkerRun } from "../_shared/serve_worker.ts";
import type { Json, Sql, Tables } from "../_shared/db.ts";
import {
  consumeQueue,
  type ConsumerSummary,
  type QueueMessage,
  retryOrFail,
  wakeChannelOf,
} from "../_shared/queue.ts";
import { CONTENT_CALL_BOUND, type ContentProviders } from "../_shared/providers/content.ts";
import { recordUsage, reservedCall } from "../_shared/usage.ts";

/** Characters of a book's text a plot is made from (about 65,000 words). */
export const PLOT_INPUT_CHARS = 400_000;

export async function generatePlot(
  sql: Sql,
  content: ContentProviders,
  msg: QueueMessage<{ book_id: string }>,
) {
  const started = performance.now();
  const [book] = await sql<Pick<Tables<"books">, "id" | "user_id" | "title" | "genre" | "book_type">[]>`
    select id, user_id, title, genre, book_type from public.books where id = ${msg.message.book_id}`;
  if (!book) {
    await sql`select pgmq.delete('plot', ${msg.msg_id}::bigint)`;
    return;
  }
  // The book's first PLOT_INPUT_CHARS only: a book at the upload limit (50 MiB) does not fit in an
  // Edge Function's 256 MB, and the hosted prompt reads its first 12,000 words anyway.
  const chapters = await sql<{ title: string; content: string }[]>`
    select title, left(content, (${PLOT_INPUT_CHARS}::bigint - before)::integer) as content
    from (select chapter_number, title, content,
            coalesce(sum(length(content)) over (order by chapter_number
              rows between unbounded preceding and 1 preceding), 0) as before
          from public.chapters where book_id = ${book.id}) c
    where before < ${PLOT_INPUT_CHARS}::bigint
    order by chapter_number`;
  const reservation = {
    key: `plot:${msg.msg_id}:${msg.read_ct}`,
    userId: book.user_id,
    model: content.model,
    quantity: CONTENT_CALL_BOUND.plot,
  };
  const { overview, characters, usage } = await reservedCall(sql, reservation, () =>
    content.plot({
      title: book.title,
      genre: book.genre,
      bookType: book.book_type,
      chapters: [...chapters],
    }));
  await sql.begin(async (tx) => {
    await recordUsage(
      tx as unknown as Sql,
      book.user_id,
      `plot:${msg.msg_id}:${msg.read_ct}`,
      [usage],
      performance.now() - started,
    );
    await tx`select private.save_plot_overview(${msg.msg_id}, ${book.id},
      ${sql.json({ ...overview, model: usage.model } as unknown as Json)}, ${
      sql.json(characters as unknown as Json)
    })`;
  });
}

export async function runPlot(
  sql: Sql,
  content: ContentProviders,
  options: Partial<WorkerRun> = {},
): Promise<ConsumerSummary> {
  return await consumeQueue<{ book_id: string }>(sql, {
    queue: "plot",
    wakeChannel: wakeChannelOf("plot"),
    concurrency: 1,
    leaseSeconds: 60,
    timeoutSeconds: 300,
    ...options, // the run's budget, polling, heartbeat and stop signals
    process: async (msg) => {
      await generatePlot(sql, content, msg);
      return "completed";
    },
    fail: (msg, error, retryable) =>
      retryOrFail(sql, "plot", msg, retryable, 5, () =>
        sql.begin(async (tx) => {
          await tx`update public.books set metadata = metadata || ${sql.json({ plot_error: error })}
                   where id = ${msg.message.book_id}`;
          await tx`select pgmq.archive('plot', ${msg.msg_id}::bigint)`;
        })),
  });
}
