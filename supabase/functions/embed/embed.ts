/** Embed worker: a chapter's passages embedded and saved with the hash of the content they came from. */
import type { Json, Sql } from "../_shared/db.ts";
import {
  consumeQueue,
  type ConsumerSummary,
  type QueueMessage,
  retryOrFail,
  wakeChannelOf,
} from "../_shared/queue.ts";
import { type EmbeddingProvider, splitIntoPassages, vectorLiteral } from "../_shared/providers/embeddings.ts";
import { recordUsage } from "../_shared/usage.ts";

interface ChapterRow {
  id: string;
  user_id: string;
  content: string;
  content_hash: string;
}

export async function embedChapter(
  sql: Sql,
  embedder: EmbeddingProvider,
  msg: QueueMessage<{ chapter_id: string }>,
): Promise<void> {
  const started = performance.now();
  const [chapter] = await sql<ChapterRow[]>`
    select c.id, b.user_id, c.content, encode(sha256(convert_to(c.content, 'UTF8')), 'hex') as content_hash
    from public.chapters c join public.books b on b.id = c.book_id where c.id = ${msg.message.chapter_id}`;
  if (!chapter) {
    await sql`select pgmq.delete('embed', ${msg.msg_id}::bigint)`; // the chapter was deleted
    return;
  }
  const passages = splitIntoPassages(chapter.content);
  const { vectors, usage } = await embedder.embed(passages);
  const rows = passages.map((content, i) => ({
    passage_index: i,
    content,
    embedding: vectorLiteral(vectors[i]),
  }));
  await sql.begin(async (tx) => {
    await recordUsage(
      tx as unknown as Sql,
      chapter.user_id,
      `embed:${msg.msg_id}`,
      [usage],
      performance.now() - started,
    );
    await tx`select private.save_chapter_embeddings(${msg.msg_id}, ${chapter.id}, ${chapter.content_hash},
      ${embedder.model}, ${sql.json(rows as Json)})`;
  });
}

export async function runEmbed(
  sql: Sql,
  embedder: EmbeddingProvider,
  options: { budgetMs?: number; pollSeconds?: number; onPoll?: () => Promise<unknown> } = {},
): Promise<ConsumerSummary> {
  return await consumeQueue<{ chapter_id: string }>(sql, {
    queue: "embed",
    wakeChannel: wakeChannelOf("embed"),
    concurrency: 4,
    leaseSeconds: 30,
    timeoutSeconds: 120,
    budgetMs: options.budgetMs,
    pollSeconds: options.pollSeconds,
    onPoll: options.onPoll,
    process: async (msg) => {
      await embedChapter(sql, embedder, msg);
      return "completed";
    },
    fail: (msg, error, retryable) =>
      retryOrFail(sql, "embed", msg, retryable, 5, async () => {
        console.error(`embedding chapter ${msg.message.chapter_id} failed: ${error}`);
        await sql`select pgmq.archive('embed', ${msg.msg_id}::bigint)`;
      }),
  });
}
